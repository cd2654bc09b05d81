"""Seeded structural variants (strain, rattle, substitution) for growing a training set.

All functions are pure: they return new ``Structure`` objects and never modify their input.
Randomness comes only from the seed or ``numpy.random.Generator`` passed in.

Lengths are in Å. Strains are dimensionless (0.02 = 2 %).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike
from pymatgen.analysis.molecule_structure_comparator import CovalentRadius
from pymatgen.core import Element, Lattice, Structure

__all__ = [
    "covalent_radius",
    "min_distance",
    "rattled",
    "strained",
    "substituted",
    "variant_set",
]

#: Default rattle guard: no pair may come closer than this fraction of the original minimum.
MIN_DISTANCE_RATIO = 0.85
#: Default isotropic strains of :func:`variant_set`.
STRAINS = (-0.02, 0.02)


class HasStructure(Protocol):
    """Anything with an ``id`` and a ``structure`` (e.g. ``EmbeddedEntry``)."""

    @property
    def id(self) -> str: ...

    @property
    def structure(self) -> Structure: ...


def min_distance(structure: Structure) -> float:
    """Shortest interatomic distance, periodic images included.

    For a one-atom cell this is the length of the shortest lattice vector.

    Parameters
    ----------
    structure : Structure
        Periodic structure.

    Returns
    -------
    float
        Minimum distance in Å (0.0 if two sites coincide).
    """
    cutoff = 3.0
    while True:
        distances = structure.get_neighbor_list(cutoff)[3]
        if distances.size:
            return float(distances.min())
        cutoff *= 2.0


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def strained(structure: Structure, strain: float | ArrayLike) -> Structure:
    """Apply a homogeneous strain to the lattice, keeping fractional coordinates.

    Parameters
    ----------
    structure : Structure
        Input structure (not modified).
    strain : float or array_like, shape [3, 3]
        Isotropic strain ``e`` (every length scales by ``1 + e``, the volume by
        ``(1 + e)**3``) or a symmetric Cartesian strain tensor ``eps``; lattice vectors
        (rows) are mapped as ``a -> (I + eps) a``.

    Returns
    -------
    Structure
        Strained copy.

    Raises
    ------
    ValueError
        If the tensor is not 3x3 and symmetric, or ``I + eps`` is not orientation-preserving.
    """
    eps = np.asarray(strain, dtype=float)
    if eps.ndim == 0:
        eps = float(eps) * np.eye(3)
    if eps.shape != (3, 3):
        raise ValueError(f"strain must be a scalar or a 3x3 tensor, got shape {eps.shape}")
    if not np.allclose(eps, eps.T, atol=1e-12):
        raise ValueError("strain tensor must be symmetric")
    deformation = np.eye(3) + eps
    if np.linalg.det(deformation) <= 0.0:
        raise ValueError("strain collapses or inverts the cell (det(I + eps) <= 0)")
    lattice = Lattice(structure.lattice.matrix @ deformation.T)
    return Structure(
        lattice,
        structure.species,
        structure.frac_coords,
        site_properties=structure.site_properties,
    )


def rattled(
    structure: Structure,
    sigma: float,
    seed: int | np.random.Generator,
    *,
    min_ratio: float = MIN_DISTANCE_RATIO,
    max_tries: int = 100,
) -> Structure:
    """Displace every atom by an independent Gaussian vector.

    A draw is rejected and redrawn when any pair of atoms (periodic images included) comes
    closer than ``min_ratio`` times the minimum distance of the input structure.

    Parameters
    ----------
    structure : Structure
        Input structure (not modified).
    sigma : float
        Standard deviation of each Cartesian displacement component, Å.
    seed : int or numpy.random.Generator
        Seed or generator; equal seeds give equal results.
    min_ratio : float, optional
        Distance guard as a fraction of the original minimum distance.
    max_tries : int, optional
        Draws attempted before giving up.

    Returns
    -------
    Structure
        Rattled copy with the same lattice.

    Raises
    ------
    ValueError
        If ``sigma`` is negative or ``max_tries`` is not positive.
    RuntimeError
        If no draw within ``max_tries`` satisfies the distance guard.
    """
    if sigma < 0.0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    if max_tries < 1:
        raise ValueError(f"max_tries must be positive, got {max_tries}")
    rng = _rng(seed)
    threshold = min_ratio * min_distance(structure)
    closest = 0.0
    for _ in range(max_tries):
        displacement = rng.normal(0.0, sigma, size=(len(structure), 3))
        candidate = Structure(
            structure.lattice,
            structure.species,
            structure.cart_coords + displacement,
            coords_are_cartesian=True,
            site_properties=structure.site_properties,
        )
        d_min = min_distance(candidate)
        if d_min >= threshold:
            return candidate
        closest = max(closest, d_min)
    raise RuntimeError(
        f"rattle with sigma={sigma} A failed {max_tries} times: best minimum distance "
        f"{closest:.3f} A < {threshold:.3f} A ({min_ratio} x original); lower sigma"
    )


def covalent_radius(symbol: str) -> float:
    """Single-bond covalent radius in Å (Cordero et al., Dalton Trans. 2008, 2832).

    Taken from pymatgen's ``CovalentRadius.radius`` table.
    """
    try:
        return float(CovalentRadius.radius[symbol])
    except KeyError:
        raise KeyError(f"no covalent radius tabulated for {symbol!r}") from None


def substituted(structure: Structure, mapping: Mapping[str, str]) -> Structure:
    """Replace elements and rescale the volume by the cube of the covalent-radius ratio.

    The lattice is scaled isotropically (fractional coordinates kept) so that
    ``V_new = V_old * (r_new / r_old)**3``, where ``r`` is the mean Cordero covalent radius
    over all sites (``covalent_radius``). For an elemental cell this is exactly the cube of
    the ratio of the two radii.

    Parameters
    ----------
    structure : Structure
        Input structure (not modified).
    mapping : mapping of str to str
        Element symbol -> replacement symbol, e.g. ``{"Se": "Te"}``.

    Returns
    -------
    Structure
        Substituted, rescaled copy.

    Raises
    ------
    ValueError
        If the mapping is empty, names an element absent from the structure, or an
        unknown element.
    """
    if not mapping:
        raise ValueError("substitution mapping is empty")
    present = {element.symbol for element in structure.composition}
    missing = sorted(set(mapping) - present)
    if missing:
        raise ValueError(f"elements {missing} not in {structure.composition.reduced_formula}")
    for symbol in mapping.values():
        if not Element.is_valid_symbol(symbol):
            raise ValueError(f"unknown element {symbol!r}")
    old = [site.specie.symbol for site in structure]
    new = [mapping.get(symbol, symbol) for symbol in old]
    ratio = np.mean([covalent_radius(s) for s in new]) / np.mean([covalent_radius(s) for s in old])
    lattice = Lattice(structure.lattice.matrix * ratio)
    return Structure(lattice, new, structure.frac_coords, site_properties=structure.site_properties)


def _sub_tag(mapping: Mapping[str, str]) -> str:
    return "sub-" + ",".join(f"{old}>{new}" for old, new in sorted(mapping.items()))


def variant_set(
    entries: Iterable[HasStructure],
    n_per_structure: int,
    seed: int,
    *,
    strains: Sequence[float] = STRAINS,
    sigma: float = 0.05,
    substitutions: Sequence[Mapping[str, str]] = (),
) -> list[tuple[str, Structure]]:
    """Deterministic set of strained, rattled and substituted variants.

    For every entry, in input order: one isotropic strain per value of ``strains``
    (id ``<id>/strain+0.02``), then ``n_per_structure`` rattles with ``sigma``
    (id ``<id>/rattle-s0.05-<k>``), then one substitution per mapping whose elements are all
    present (id ``<id>/sub-Se>Te``; several pairs joined by ``,`` in sorted order).
    The rattle ``k`` of an entry is seeded from ``(seed, crc32(id), k)``, so a variant does not
    change when other entries are added or removed.

    Parameters
    ----------
    entries : iterable of objects with ``id`` and ``structure``
        Parent structures, e.g. ``load_embedded()``.
    n_per_structure : int
        Rattled variants per entry (>= 0).
    seed : int
        Base seed.
    strains : sequence of float, optional
        Isotropic strains applied to every entry.
    sigma : float, optional
        Rattle amplitude, Å.
    substitutions : sequence of mappings, optional
        Element substitutions, e.g. ``[{"Se": "Te"}, {"Bi": "Sb"}]``.

    Returns
    -------
    list of (str, Structure)
        Variant ids and structures.

    Raises
    ------
    ValueError
        If ``n_per_structure`` is negative or two variants would share an id.
    """
    if n_per_structure < 0:
        raise ValueError(f"n_per_structure must be >= 0, got {n_per_structure}")
    variants: list[tuple[str, Structure]] = []
    for entry in entries:
        base, structure = entry.id, entry.structure
        for strain in strains:
            variants.append((f"{base}/strain{strain:+g}", strained(structure, strain)))
        for k in range(n_per_structure):
            rng = np.random.default_rng([seed, zlib.crc32(base.encode()), k])
            variants.append((f"{base}/rattle-s{sigma:g}-{k}", rattled(structure, sigma, rng)))
        present = {element.symbol for element in structure.composition}
        for mapping in substitutions:
            if mapping and set(mapping) <= present:
                variants.append((f"{base}/{_sub_tag(mapping)}", substituted(structure, mapping)))
    ids = [variant_id for variant_id, _ in variants]
    if len(set(ids)) != len(ids):
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate variant ids: {duplicated[:5]}")
    return variants
