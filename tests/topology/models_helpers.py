"""Shared helpers of the topology tests: the known-phase table and exact model transforms.

Real-space blocks are handled as dicts ``{R: [n, n] block}`` so that products of Bloch
sums can be formed exactly: with ``X(k) = sum_R X(R) exp(2 pi i k.R)``,
``(X Y)(k)`` has blocks ``sum_{R1 + R2 = R} X(R1) Y(R2)`` and ``X(k)^H`` has blocks
``X(-R)^H``.
"""

from __future__ import annotations

import numpy as np

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, kane_mele, wilson_dirac
from hts_z2.hamiltonian.soc import spin_rotation
from hts_z2.hamiltonian.tightbinding import TightBinding

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=np.complex128)

KNOWN = {
    "wilson_dirac(m=2)": (lambda: wilson_dirac(2.0), (0, 1, 0, 1, 0, 1), "STI (1;111)"),
    "wilson_dirac(m=0)": (lambda: wilson_dirac(0.0), (1, 1, 1, 1, 1, 1), "WTI (0;111)"),
    "wilson_dirac(m=-2)": (lambda: wilson_dirac(-2.0), (1, 0, 1, 0, 1, 0), "STI (1;000)"),
    "wilson_dirac(m=4)": (lambda: wilson_dirac(4.0), (0, 0, 0, 0, 0, 0), "trivial (0;000)"),
    "wilson_dirac(m=-4)": (lambda: wilson_dirac(-4.0), (0, 0, 0, 0, 0, 0), "trivial (0;000)"),
    "fu_kane_mele(dt=+0.4)": (lambda: fu_kane_mele(0.4), (0, 1, 0, 1, 0, 1), "STI (1;111)"),
    "fu_kane_mele(dt=-0.4)": (lambda: fu_kane_mele(-0.4), (1, 1, 1, 1, 1, 1), "WTI (0;111)"),
    "kane_mele()": (lambda: kane_mele(), (0, 0, 0, 0, 1, 1), "WTI (0;001)"),
    "kane_mele(lam_v=0.5)": (lambda: kane_mele(lam_v=0.5), (0, 0, 0, 0, 0, 0), "trivial (0;000)"),
}
"""name -> (factory, six plane values, label) of the models whose phases are known."""


def indices_of(label: str) -> tuple[int, tuple[int, int, int]]:
    """``(nu0, nu)`` written in a label such as ``"STI (1;011)"``."""
    nu0, nu = label[label.index("(") + 1 : label.index(")")].split(";")
    return int(nu0), tuple(int(c) for c in nu)


TRICLINIC = np.array([[4.0, 0.0, 0.0], [1.3, 3.7, 0.0], [0.7, -0.9, 4.4]])


def planes_from_indices(nu0: int, nu: tuple[int, int, int]) -> tuple[int, ...]:
    """The six plane values implied by ``(nu0; nu)``: Z2(k_i=1/2) = nu_i, Z2(k_i=0) = nu0 + nu_i."""
    out = []
    for n in nu:
        out += [(nu0 + n) % 2, n]
    return tuple(out)


def to_dict(R: np.ndarray, M: np.ndarray) -> dict[tuple[int, int, int], np.ndarray]:
    return {tuple(int(x) for x in r): m for r, m in zip(R, M, strict=True)}


def adjoint(X: dict) -> dict:
    """Blocks of ``X(k)^H``."""
    return {tuple(-x for x in R): m.conj().T for R, m in X.items()}


def convolve(X: dict, Y: dict) -> dict:
    """Blocks of ``X(k) Y(k)``."""
    out: dict = {}
    for R1, a in X.items():
        for R2, b in Y.items():
            R = tuple(x + y for x, y in zip(R1, R2, strict=True))
            out[R] = out.get(R, 0) + a @ b
    return out


def to_arrays(*blocks: dict) -> tuple[np.ndarray, ...]:
    """Common sorted ``R`` [n_R, 3] and one [n_R, n, n] stack per dict (missing R -> 0)."""
    keys = sorted(set().union(*blocks))
    n = next(iter(blocks[0].values())).shape[0]
    zero = np.zeros((n, n), dtype=np.complex128)
    stacks = [
        np.array([np.asarray(b.get(k, zero), dtype=np.complex128) for k in keys]) for b in blocks
    ]
    return (np.array(keys, dtype=int), *stacks)


def random_basis_change(n_spatial: int, rng: np.random.Generator, eps: float = 0.08) -> dict:
    """Real, spin-independent, short-range ``A(R) (x) I2`` with ``A(k)`` close to 1.

    ``A(0) = 1 + eps * (random symmetric)``, ``A(+-e_i) = eps * random`` (independent).
    """
    sym = rng.normal(size=(n_spatial, n_spatial))
    blocks = {(0, 0, 0): np.eye(n_spatial) + eps * (sym + sym.T) / 2}
    for i in range(3):
        for sign in (1, -1):
            R = [0, 0, 0]
            R[i] = sign
            blocks[tuple(R)] = eps * rng.normal(size=(n_spatial, n_spatial))
    return {R: np.kron(a, np.eye(2)) for R, a in blocks.items()}


def nonorthogonal(tb: TightBinding, rng: np.random.Generator, eps: float = 0.08) -> TightBinding:
    """The same bands in the non-orthogonal basis ``|chi_k> A(k)``.

    ``H'(k) = A(k)^H H(k) A(k)``, ``S'(k) = A(k)^H S(k) A(k)`` as exact real-space blocks,
    so ``H' c = E S' c`` has the eigenvalues of ``(H, S)`` at every k.
    """
    A = random_basis_change(tb.n_bands // 2, rng, eps)
    Ah = adjoint(A)
    H = convolve(convolve(Ah, to_dict(tb.R, tb.H)), A)
    S0 = {(0, 0, 0): np.eye(tb.n_bands)} if tb.S is None else to_dict(tb.R, tb.S)
    S = convolve(convolve(Ah, S0), A)
    R, Hs, Ss = to_arrays(H, S)
    return tb.replace(R=R, H=Hs, S=Ss)


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def rotated(tb: TightBinding, rng: np.random.Generator) -> TightBinding:
    """``M(R) -> U M(R) U^H`` with ``U = O (x) D``: real orbital mixing and a global SU(2)."""
    U = np.kron(random_orthogonal(tb.n_bands // 2, rng), spin_rotation(rng.normal(size=3)))
    S = None if tb.S is None else U @ tb.S @ U.conj().T
    return tb.replace(H=U @ tb.H @ U.conj().T, S=S)


def with_terms(
    tb: TightBinding, terms: list[tuple[tuple[int, int, int], np.ndarray]]
) -> TightBinding:
    """Add ``block`` at ``R`` and ``block^H`` at ``-R`` for every term (orthogonal models)."""
    H = to_dict(tb.R, tb.H)
    for R, block in terms:
        mR = tuple(-x for x in R)
        H[R] = H.get(R, 0) + block
        H[mR] = H.get(mR, 0) + block.conj().T
    R, Hs = to_arrays(H)
    return tb.replace(R=R, H=Hs)


def tr_perturbation(
    n_spatial: int, rng: np.random.Generator, strength: float = 0.05
) -> list[tuple[tuple[int, int, int], np.ndarray]]:
    """Random time-reversal-symmetric terms: real spin-independent blocks on-site and on
    hoppings, plus SOC-like ``i lambda X (x) (sigma . v)`` (``X`` real) on hoppings."""

    def real(scale: float) -> np.ndarray:
        return scale * rng.normal(size=(n_spatial, n_spatial))

    def soc(scale: float) -> np.ndarray:
        v = rng.normal(size=3)
        return 1j * np.kron(real(scale), np.einsum("a,ast->st", v / np.linalg.norm(v), PAULI))

    terms = [((0, 0, 0), np.kron(real(strength) + real(strength).T, np.eye(2)) / 2)]
    for R in [(1, 0, 0), (0, 1, 1), (1, -1, 0)]:
        terms.append((R, np.kron(real(strength), np.eye(2)) + soc(strength)))
    return terms


def assert_phase(res, label: str, planes: tuple[int, ...] | None = None) -> None:
    """A converged, defined result with the given label, indices and plane values."""
    nu0, nu = indices_of(label)
    assert res.reason is None, res.reason
    assert res.converged is True
    assert res.label == label
    assert res.nu0 == nu0
    assert res.nu == nu
    assert res.planes == (planes_from_indices(nu0, nu) if planes is None else planes)
    assert res.min_plane_gap > 0
    assert all(
        p.converged and p.z2 == z for p, z in zip(res.plane_results, res.planes, strict=True)
    )
