"""Padded orbital layout shared by all elements, and the Clebsch–Gordan maps from
equivariant features to orbital-pair blocks.

Every element's shells are placed into "slots" of a common layout (the most shells of
each ``l`` any element has), so a block between any two atoms is an ``[n_pad, n_pad]``
array; the real orbitals of an element are a fixed subset (``element_orbitals``).
A block between slots of angular momenta ``(l1, l2)`` is ``sum_L C^{l1 l2 L} f_L`` with
``f_L`` an irrep of parity ``(-1)^(l1+l2)`` (orbital parity), so the map is equivariant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from e3nn import o3

from hts_z2.hamiltonian.angular import angular_momentum


@dataclass(frozen=True)
class SlotLayout:
    """Slots (one per radial shell position) sorted by ``l``.

    Attributes
    ----------
    slot_l : angular momentum of every slot.
    """

    slot_l: tuple[int, ...]

    @classmethod
    def from_basis(cls, basis: dict[int, tuple[int, ...]]) -> SlotLayout:
        l_max = max(max(s) for s in basis.values())
        counts = [max(list(s).count(l) for s in basis.values()) for l in range(l_max + 1)]
        return cls(tuple(l for l, c in enumerate(counts) for _ in range(c)))

    @cached_property
    def slot_start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([2 * l + 1 for l in self.slot_l])])

    @property
    def n_pad(self) -> int:
        return int(self.slot_start[-1])

    def element_orbitals(self, shells: tuple[int, ...]) -> np.ndarray:
        """Padded index of each orbital of an element (in its own shell order): [n_orb]."""
        used: set[int] = set()
        out = []
        for l in shells:
            slot = next((s for s, ls in enumerate(self.slot_l) if ls == l and s not in used), None)
            if slot is None:
                raise ValueError(f"basis {shells} does not fit the slot layout {self.slot_l}")
            used.add(slot)
            out.extend(range(self.slot_start[slot], self.slot_start[slot + 1]))
        return np.array(out, dtype=np.int64)

    @cached_property
    def pair_terms(self) -> list[tuple[int, int, int]]:
        """(slot a, slot b, L) for every coupled irrep of every slot pair."""
        return [
            (a, b, L)
            for a, la in enumerate(self.slot_l)
            for b, lb in enumerate(self.slot_l)
            for L in range(abs(la - lb), la + lb + 1)
        ]

    @cached_property
    def block_irreps(self) -> o3.Irreps:
        """Grouped irreps whose components fill all pair blocks (``n_pad**2`` numbers)."""
        mul: dict[tuple[int, int], int] = {}
        for a, b, L in self.pair_terms:
            p = (-1) ** (self.slot_l[a] + self.slot_l[b])
            mul[(L, p)] = mul.get((L, p), 0) + 1
        return o3.Irreps([(m, (L, p)) for (L, p), m in sorted(mul.items())])

    @cached_property
    def block_map(self) -> torch.Tensor:
        """Linear map from ``block_irreps`` features to flat padded blocks.

        Returns
        -------
        [dim(block_irreps), n_pad * n_pad] float64 (Wigner 3j coefficients, scaled so a
        unit-norm irrep gives a unit-norm block).
        """
        n = self.n_pad
        irreps = self.block_irreps
        offsets = {}
        start = 0
        for m, ir in irreps:
            offsets[(ir.l, ir.p)] = [start, 0]
            start += m * ir.dim
        out = torch.zeros(irreps.dim, n * n, dtype=torch.float64)
        for a, b, L in self.pair_terms:
            la, lb = self.slot_l[a], self.slot_l[b]
            key = (L, (-1) ** (la + lb))
            base, used = offsets[key]
            offsets[key][1] += 1
            cols = base + used * (2 * L + 1) + np.arange(2 * L + 1)
            C = o3.wigner_3j(la, lb, L, dtype=torch.float64) * np.sqrt(2 * L + 1)
            rows = self.slot_start[a] + np.arange(2 * la + 1)
            cc = self.slot_start[b] + np.arange(2 * lb + 1)
            flat = (rows[:, None] * n + cc[None, :]).reshape(-1)
            out[np.asarray(cols)[:, None], flat[None, :]] = C.reshape(-1, 2 * L + 1).T
        return out

    @cached_property
    def xi_pairs(self) -> list[tuple[int, int]]:
        """Slot pairs of equal ``l >= 1``: the SOC strengths ``xi`` a model predicts."""
        return [
            (a, b)
            for a, la in enumerate(self.slot_l)
            for b, lb in enumerate(self.slot_l)
            if la == lb and la >= 1
        ]

    @cached_property
    def xi_transpose(self) -> torch.Tensor:
        """Index of ``(b, a)`` for every ``xi`` pair ``(a, b)``: [n_xi]."""
        where = {p: i for i, p in enumerate(self.xi_pairs)}
        return torch.tensor([where[(b, a)] for a, b in self.xi_pairs])

    @cached_property
    def xi_map(self) -> torch.Tensor:
        """``B_v = (xi / 2) Lam_v`` per pair (``L_v = i Lam_v``): [n_xi, 3, n_pad * n_pad]."""
        n = self.n_pad
        out = torch.zeros(len(self.xi_pairs), 3, n * n, dtype=torch.float64)
        for k, (a, b) in enumerate(self.xi_pairs):
            l = self.slot_l[a]
            lam = torch.tensor(angular_momentum(l).imag)
            rows = self.slot_start[a] + np.arange(2 * l + 1)
            cols = self.slot_start[b] + np.arange(2 * l + 1)
            flat = (rows[:, None] * n + cols[None, :]).reshape(-1)
            out[k][:, flat] = 0.5 * lam.reshape(3, -1)
        return out
