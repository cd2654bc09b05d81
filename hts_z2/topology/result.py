"""The Z2 result type shared by the FHS and Wilson-loop methods."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from hts_z2.hamiltonian.gap import BandGap
from hts_z2.topology.planes import PLANE_NAMES


@dataclass(frozen=True)
class PlaneResult:
    """Z2 of one time-reversal-invariant plane.

    Attributes
    ----------
    z2 : 0 or 1, or None when it could not be trusted.
    grid : (n_a, n_b) points of the half plane used for the reported value.
    min_gap : minimum direct gap over the k-points used (eV).
    converged : the value did not change under grid refinement and passed the method's
        quality checks.
    quality : method-specific diagnostics (e.g. largest plaquette flux, WCC gap distance).
    """

    z2: int | None
    grid: tuple[int, int]
    min_gap: float
    converged: bool
    quality: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Z2Result:
    """Strong and weak Z2 indices of a 3D insulator, or the reason they are undefined.

    ``planes`` are ordered (k1=0, k1=1/2, k2=0, k2=1/2, k3=0, k3=1/2);
    ``nu0 = Z2(k1=0) + Z2(k1=1/2) mod 2``; ``nu_i = Z2(k_i=1/2)``. Weak indices refer to
    the reciprocal basis of ``lattice``.
    """

    planes: tuple[int, ...] | None
    nu0: int | None
    nu: tuple[int, int, int] | None
    label: str
    min_plane_gap: float
    converged: bool
    method: str
    grid: tuple[int, int] | None
    reason: str | None = None
    lattice: tuple[tuple[float, ...], ...] | None = None
    plane_results: tuple[PlaneResult, ...] = ()
    plane_gap: BandGap | None = None
    """Band edges over every k-point of the planes (finer than a screening's band grid)."""

    @property
    def defined(self) -> bool:
        """True when the indices are trustworthy numbers."""
        return self.nu0 is not None

    @property
    def indices(self) -> str | None:
        """``"nu0;nu1nu2nu3"`` or None."""
        if self.nu0 is None or self.nu is None:
            return None
        return f"{self.nu0};{''.join(map(str, self.nu))}"

    def to_dict(self) -> dict:
        """JSON-serializable form (what the result store keeps)."""
        out = asdict(self)
        out["plane_results"] = [
            {"plane": name, **asdict(p)}
            for name, p in zip(PLANE_NAMES, self.plane_results, strict=False)
        ]
        return out


def label_from_planes(planes: tuple[int, ...]) -> tuple[int, tuple[int, int, int], str]:
    """(nu0, nu, label) from the six plane indices; raises if they are inconsistent."""
    strong = [(planes[2 * i] + planes[2 * i + 1]) % 2 for i in range(3)]
    if len(set(strong)) != 1:
        raise ValueError(
            "inconsistent planes: Z2(k_i=0) + Z2(k_i=1/2) differs between directions "
            f"({strong}); the grid is probably too coarse"
        )
    nu0 = strong[0]
    nu = (planes[1], planes[3], planes[5])
    kind = "STI" if nu0 else ("WTI" if any(nu) else "trivial")
    return nu0, nu, f"{kind} ({nu0};{''.join(map(str, nu))})"


def undefined(
    method: str,
    reason: str,
    label: str = "undefined",
    min_gap: float = float("nan"),
    lattice: np.ndarray | None = None,
    plane_results: tuple[PlaneResult, ...] = (),
    grid: tuple[int, int] | None = None,
    plane_gap: BandGap | None = None,
) -> Z2Result:
    """A result that carries no indices, only the reason."""
    return Z2Result(
        planes=None,
        nu0=None,
        nu=None,
        label=label,
        min_plane_gap=min_gap,
        converged=False,
        method=method,
        grid=grid,
        reason=reason,
        lattice=None if lattice is None else tuple(map(tuple, np.asarray(lattice).tolist())),
        plane_results=plane_results,
        plane_gap=plane_gap,
    )
