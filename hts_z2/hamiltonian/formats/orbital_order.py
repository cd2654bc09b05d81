"""Real-orbital orders of other codes, as signed permutations into the project's order.

The project orders a shell by ``m = -l..l`` of the standard real spherical harmonics
(Condon-Shortley phase folded out, z polar axis, all with + sign):

- l=1: y, z, x
- l=2: xy, yz, 3z^2-r^2, xz, x^2-y^2
- l=3: y(3x^2-y^2), xyz, y(5z^2-r^2), z(5z^2-3r^2), x(5z^2-r^2), z(x^2-y^2), x(x^2-3y^2)

OpenMX (and DeepH data derived from it; DeepH's ABACUS/SIESTA preprocessors convert to the
same order) lists the same functions as

- l=1: px, py, pz                                        (m = 1, -1, 0)
- l=2: d3z^2-r^2, dx^2-y^2, dxy, dxz, dyz                (m = 0, 2, -2, 1, -1)
- l=3: fz^3, fxz^2, fyz^2, fz(x^2-y^2), fxyz, fx(x^2-3y^2), fy(3x^2-y^2)
                                                         (m = 0, 1, -1, 2, -2, 3, -3)

Assumption: every OpenMX function has the same (+) sign as ours, so the conversion is a
pure permutation (the one DeepH-E3 also uses between OpenMX and these real harmonics).
A convention is stored as (``perm``, ``sign``): our function ``k`` of a shell is
``sign[k] * file[perm[k]]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ORBITAL_CONVENTIONS = ("hts_z2", "openmx")

_OPENMX_M: dict[int, tuple[int, ...]] = {
    0: (0,),
    1: (1, -1, 0),
    2: (0, 2, -2, 1, -1),
    3: (0, 1, -1, 2, -2, 3, -3),
}
"""m of every OpenMX function of a shell, in OpenMX's order."""


def shell_permutation(l: int, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """Signed permutation of one shell from ``convention`` into the project's order.

    Returns
    -------
    perm : [2l+1] int, our function ``k`` (``m = k - l``) is file function ``perm[k]``.
    sign : [2l+1] float, +-1.
    """
    if convention not in ORBITAL_CONVENTIONS:
        raise ValueError(
            f"unknown orbital convention {convention!r}; use one of "
            f"{', '.join(ORBITAL_CONVENTIONS)}"
        )
    if convention == "hts_z2":
        return np.arange(2 * l + 1), np.ones(2 * l + 1)
    if l not in _OPENMX_M:
        raise ValueError(f"the OpenMX orbital order is known for l <= 3, not l = {l}")
    file_m = _OPENMX_M[l]
    perm = np.array([file_m.index(m) for m in range(-l, l + 1)], dtype=int)
    return perm, np.ones(2 * l + 1)


def basis_permutation(
    shells_per_atom: Sequence[Sequence[int]], convention: str
) -> tuple[np.ndarray, np.ndarray]:
    """Signed permutation of a whole spatial basis (atoms, then shells, then m).

    Returns
    -------
    perm, sign : [n] with ``M_ours = (sign sign^T) * M_file[perm][:, perm]``.
    """
    perm: list[np.ndarray] = []
    sign: list[np.ndarray] = []
    offset = 0
    for shells in shells_per_atom:
        for l in shells:
            p, s = shell_permutation(int(l), convention)
            perm.append(offset + p)
            sign.append(s)
            offset += 2 * int(l) + 1
    if not perm:
        return np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(perm), np.concatenate(sign)
