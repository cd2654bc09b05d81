"""Applicability domain of a trained model: how far a structure's atomic environments
lie from the environments the model was trained on.

An environment is the invariant part of an atom's features after the message-passing
layers (:meth:`~hts_z2.model.network.HamiltonianNet.node_features`, first ``channels``
columns): what the on-site heads and the radial inputs of the pair heads see. The
distance of an atom is the Euclidean distance to the nearest training atom of the same
element; a structure's is the largest over its atoms. An element the reference lacks is
infinitely far. The threshold is a quantile of the same distance measured for each
training compound against all the others (leave one parent compound out): beyond it a
structure is farther from the training data than most training compounds are from each
other, and its Hamiltonian error is expected to be larger (measured in
``benchmarks/domain_distance.py``).

The reference lives in ``domain.npz`` next to the weights and names the weights sha256 it
was computed with; a reference of other weights is not used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where used: `hts-z2 --version` loads this module
    from hts_z2.schemas.caution import Caution
    from hts_z2.schemas.result import DomainDoc

DOMAIN_FILE = "domain.npz"
DEFAULT_QUANTILE = 0.75

log = logging.getLogger(__name__)


class DomainError(ValueError):
    """A domain reference is malformed or belongs to other weights."""


@dataclass(frozen=True)
class DomainReference:
    """Training environments of one model, by element.

    Attributes
    ----------
    features : Z -> [M_Z, C] float32 environments of the training atoms of element Z.
    threshold : structure distance above which a structure is outside the domain.
    quantile : the quantile of the leave-one-parent-out distances that set ``threshold``.
    weights_sha256 : the weights the environments were computed with.
    summary : how the reference was built (samples, parents, distance percentiles).
    """

    features: dict[int, np.ndarray]
    threshold: float
    quantile: float
    weights_sha256: str
    summary: dict = field(default_factory=dict)

    @property
    def elements(self) -> frozenset[int]:
        return frozenset(self.features)

    @property
    def channels(self) -> int:
        return next(iter(self.features.values())).shape[1]


def nearest_distances(
    features: np.ndarray, numbers: np.ndarray, reference: dict[int, np.ndarray]
) -> np.ndarray:
    """Distance of every atom to the nearest reference atom of its element.

    Parameters
    ----------
    features : [N, C] environments of the atoms.
    numbers : [N] atomic numbers.
    reference : Z -> [M_Z, C] reference environments.

    Returns
    -------
    [N] float64 distances; ``inf`` for an element without reference atoms.
    """
    features = np.asarray(features, dtype=np.float64)
    numbers = np.asarray(numbers)
    out = np.full(len(numbers), np.inf)
    for z in np.unique(numbers):
        ref = reference.get(int(z))
        if ref is None or len(ref) == 0:
            continue
        rows = np.flatnonzero(numbers == z)
        diff = features[rows, None, :] - np.asarray(ref, dtype=np.float64)[None, :, :]
        out[rows] = np.sqrt(np.min(np.einsum("amc,amc->am", diff, diff), axis=1))
    return out


def structure_distance(distances: np.ndarray) -> float:
    """A structure's distance: the largest of its atoms' (``inf`` if any is)."""
    return float(np.max(distances)) if len(distances) else float("inf")


def element_distances(numbers: np.ndarray, distances: np.ndarray) -> dict[int, float]:
    """Z -> the largest distance among that element's atoms.

    Parameters
    ----------
    numbers, distances : [N] atomic numbers and their atoms' distances.
    """
    numbers = np.asarray(numbers)
    return {int(z): float(np.max(distances[numbers == z])) for z in np.unique(numbers)}


def leave_parent_out(
    features: Sequence[np.ndarray], numbers: Sequence[np.ndarray], parents: Sequence[str]
) -> np.ndarray:
    """Each sample's structure distance to the samples of all other parent compounds.

    Parameters
    ----------
    features : per sample [N_s, C] environments.
    numbers : per sample [N_s] atomic numbers.
    parents : per sample the parent compound (strains, rattles and substitutions of one
        compound share it).

    Returns
    -------
    [n_samples] distances (``inf`` where an element occurs in no other parent).
    """
    out = np.empty(len(features))
    for parent in sorted(set(parents)):
        others = [k for k, p in enumerate(parents) if p != parent]
        reference = group_by_element([features[k] for k in others], [numbers[k] for k in others])
        for k in (k for k, p in enumerate(parents) if p == parent):
            out[k] = structure_distance(nearest_distances(features[k], numbers[k], reference))
    return out


def group_by_element(
    features: Sequence[np.ndarray], numbers: Sequence[np.ndarray]
) -> dict[int, np.ndarray]:
    """Z -> [M_Z, C] float32: the environments of all samples stacked by element."""
    if not features:
        return {}
    f = np.concatenate([np.asarray(x, dtype=np.float32) for x in features])
    z = np.concatenate([np.asarray(x) for x in numbers])
    return {int(e): f[z == e] for e in np.unique(z)}


def build_reference(
    features: Sequence[np.ndarray],
    numbers: Sequence[np.ndarray],
    parents: Sequence[str],
    weights_sha256: str,
    quantile: float = DEFAULT_QUANTILE,
) -> DomainReference:
    """The reference of a model's training samples, with its threshold.

    Raises
    ------
    DomainError
        Fewer than two parent compounds, or none whose elements all occur elsewhere.
    """
    if len(set(parents)) < 2:
        raise DomainError("a domain reference needs training samples of two parents or more")
    loo = leave_parent_out(features, numbers, parents)
    finite = loo[np.isfinite(loo)]
    if not len(finite):
        raise DomainError("no training compound shares all its elements with another")
    pct = {f"p{q}": float(np.percentile(finite, q)) for q in (25, 50, 75, 90)}
    unique = {p for p, d in zip(parents, loo, strict=True) if np.isinf(d)}
    summary = {
        "samples": len(features),
        "parents": len(set(parents)),
        "parents_with_unique_elements": len(unique),
        "leave_parent_out": pct,
    }
    return DomainReference(
        group_by_element(features, numbers),
        float(np.quantile(finite, quantile)),
        quantile,
        weights_sha256,
        summary,
    )


def save_reference(ref: DomainReference, directory: str | Path) -> Path:
    """Write ``directory/domain.npz`` (float32 environments, JSON metadata)."""
    meta = {
        "threshold": ref.threshold,
        "quantile": ref.quantile,
        "weights_sha256": ref.weights_sha256,
        "summary": ref.summary,
    }
    arrays = {f"Z{z}": np.asarray(f, dtype=np.float32) for z, f in sorted(ref.features.items())}
    path = Path(directory) / DOMAIN_FILE
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def read_reference(path: str | Path) -> DomainReference:
    """Read a ``domain.npz``. Raises :class:`DomainError` when it is malformed."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            features = {int(k[1:]): data[k] for k in data.files if k.startswith("Z")}
        ref = DomainReference(
            features,
            float(meta["threshold"]),
            float(meta["quantile"]),
            str(meta["weights_sha256"]),
            dict(meta.get("summary", {})),
        )
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise DomainError(f"{path}: not a domain reference ({err})") from None
    widths = {f.shape[1] for f in features.values() if f.ndim == 2}
    if not features or len(widths) != 1 or any(f.ndim != 2 for f in features.values()):
        raise DomainError(f"{path}: environments must be [M, C] arrays of one width")
    return ref


def load_reference(directory: str | Path, weights_sha256: str) -> DomainReference | None:
    """The reference in a model directory, or None when there is none or it is unusable
    (a warning says why: malformed, or computed with other weights)."""
    path = Path(directory) / DOMAIN_FILE
    if not path.is_file():
        return None
    try:
        ref = read_reference(path)
    except DomainError as err:
        log.warning("%s; structures get no domain distance", err)
        return None
    if ref.weights_sha256 != weights_sha256:
        log.warning(
            "%s was computed with weights %s, not these (%s); structures get no domain "
            "distance (rebuild it with `hts-z2 domain`)",
            path,
            ref.weights_sha256[:12],
            weights_sha256[:12],
        )
        return None
    return ref


def domain_doc(atoms: tuple[np.ndarray, np.ndarray] | None, ref: DomainReference | None
               ) -> DomainDoc | None:
    """What a result reports of its domain, from ``atoms`` = (atomic numbers [N], atom
    distances [N]); None without a measurement or a reference. Its caution is
    :meth:`~hts_z2.schemas.caution.Caution.outside_domain` of ``distance`` and
    ``threshold``."""
    from pymatgen.core import Element

    from hts_z2.schemas.result import DomainDoc

    if atoms is None or ref is None:
        return None
    distance = structure_distance(atoms[1])
    return DomainDoc(
        distance=distance,
        by_element={
            Element.from_Z(z).symbol: d if np.isfinite(d) else None
            for z, d in element_distances(*atoms).items()
        },
        threshold=ref.threshold,
        in_domain=bool(distance <= ref.threshold),
    )


def domain_caution(doc: DomainDoc | None) -> Caution | None:
    """The caution of a structure outside the domain (None inside it or unmeasured)."""
    from hts_z2.schemas.caution import Caution

    if doc is None:
        return None
    distance = float("inf") if doc.distance is None else doc.distance
    return Caution.outside_domain(distance, doc.threshold)
