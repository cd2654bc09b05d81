"""Z2 speed: FHS vs Z2Pack, and FHS vs the bare eigendecomposition floor.

Model: a 2x2x4 supercell of the Wilson–Dirac STI (m = -2, (1;000)), i.e. 32 spatial
orbitals, plus a seeded random time-reversal-symmetric perturbation that lifts the folding
degeneracies (``--size 2`` doubles to 64 spatial orbitals = 128 spinful bands).
Ratios are measured in one run; absolute times depend on the machine.

    python benchmarks/bench_z2.py [--size 1|2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.hamiltonian.supercell import supercell
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.hamiltonian.timereversal import conjugate_by_theta
from hts_z2.topology import z2_invariants
from hts_z2.topology.planes import PLANES, half_plane_grid


def tr_symmetric_noise(tb: TightBinding, strength: float, seed: int) -> TightBinding:
    """Add random Hermitian, TR-symmetric terms on the existing R-vectors."""
    rng = np.random.default_rng(seed)
    n = tb.n_bands
    X = strength * (rng.normal(size=tb.H.shape) + 1j * rng.normal(size=tb.H.shape))
    X = 0.5 * (X + conjugate_by_theta(X))  # T X* T^-1 = X
    X = 0.5 * (X + np.conj(np.swapaxes(X[tb._minus], 1, 2)))  # X(-R) = X(R)^H
    assert X.shape[1] == n
    return tb.replace(H=tb.H + X)


def benchmark_model(size: int) -> TightBinding:
    P = np.diag([2, 2, 4]) if size == 1 else np.diag([2, 4, 4])
    return tr_symmetric_noise(supercell(wilson_dirac(-2.0), P), 0.02, seed=0)


def timed(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def z2pack_planes(tb: TightBinding) -> tuple[tuple[int, ...], int]:
    """Z2Pack (default convergence settings) on the same Hamiltonian: (planes, k-points)."""
    import z2pack

    logging.getLogger("z2pack").setLevel(logging.WARNING)
    count = [0]

    def ham(k):
        count[0] += 1
        return tb.hk(np.array([k]))[0]

    system = z2pack.hm.System(ham, bands=tb.n_occ, dim=3)
    planes = []
    for fixed, value in PLANES:
        a, b = (fixed + 1) % 3, (fixed + 2) % 3

        def surface(s, t, fixed=fixed, value=value, a=a, b=b):
            k = [0.0, 0.0, 0.0]
            k[fixed], k[b], k[a] = value, s / 2, t
            return k

        planes.append(z2pack.invariant.z2(z2pack.surface.run(system=system, surface=surface)))
    return tuple(planes), count[0]


def floor_time(tb: TightBinding, grids: list[tuple[int, int]], repeat: int) -> float:
    """Bloch sums + eigendecomposition (with vectors) of the k-points FHS evaluated."""
    k = np.concatenate([half_plane_grid(*PLANES[p], n).reshape(-1, 3) for p, n in grids])

    def run():
        for s in range(0, len(k), 1024):
            tb.eigh(k[s : s + 1024], vectors=True)

    return timed(run, repeat)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2, choices=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tb = benchmark_model(args.size)
    print(f"model: {tb.n_bands} spinful bands ({tb.n_bands // 2} orbitals), n_occ={tb.n_occ}")
    t_fhs, res = timed(lambda: z2_invariants(tb), args.repeat)
    print(f"FHS      : {res.label}  planes={res.planes}  grid={res.grid}  {t_fhs:.3f} s")
    # every plane evaluated the n_start grid, then each refinement level it needed
    grids = []
    for p, pr in enumerate(res.plane_results):
        n = 8
        while n <= pr.grid[0]:
            grids.append((p, n))
            n *= 2
    n_k = sum((n * (n // 2 + 1)) for _, n in grids)
    t_floor = floor_time(tb, grids, args.repeat)
    print(f"floor    : Bloch sum + eigh of the same {n_k} k-points  {t_floor:.3f} s")
    t0 = time.perf_counter()
    planes_zp, n_zp = z2pack_planes(tb)
    t_zp = time.perf_counter() - t0
    print(f"Z2Pack   : planes={planes_zp}  {n_zp} k-points  {t_zp:.3f} s")
    same = planes_zp == res.planes
    print(f"same answer: {same}")
    print(f"ratio Z2Pack / FHS   = {t_zp / t_fhs:6.1f}x   (target >= 20x)")
    print(f"ratio FHS / floor    = {t_fhs / t_floor:6.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()
