"""Architecture and basis description of a Hamiltonian model (``config.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hts_z2.schemas.training import TrainingRecord

OVERLAP_SOURCES = ("predicted", "basis")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model's network; stored as ``config.json``.

    Attributes
    ----------
    basis : element symbol-free map ``Z -> shell angular momenta`` (the LCAO basis order).
    valence : ``Z -> valence electrons`` represented in that basis (for ``n_occ``).
    r_cut : pair cutoff (Angstrom) of predicted off-site blocks; blocks vanish smoothly there.
    r_mp : message-passing cutoff (Angstrom).
    n_radial : Bessel radial functions.
    channels : scalar channels; vector/tensor channels are fractions of it.
    l_hidden : largest ``l`` of node features.
    sh_lmax : largest ``l`` of the bond spherical harmonics in the pair head.
    n_layers : orbital-convolution layers.
    tensor_product : "reduced" (Eq. 8: channel mixing, then one scalar per path and
        channel) or "full" (e3nn fully connected, one weight per path and channel pair).
    avg_neighbors : normalization of the aggregated messages.
    overlap_cutoff : predicted models solve ``H c = E S c`` canonically, dropping overlap
        directions with eigenvalue <= this (0: exact Cholesky solve); see
        :class:`~hts_z2.hamiltonian.tightbinding.TightBinding`.
    overlap : "predicted" (the network's S head) or "basis" (exact S from the radial
        functions of the basis, stored next to the weights as ``overlap_basis.npz``; the
        S head is then unused).
    solve_shells : ``Z -> indices into basis[Z]`` of the shells the solved Hamiltonian
        keeps (elements not listed keep all). The network predicts blocks of the whole
        basis; bands, gaps and Z2 come from the sub-basis (a smaller variational basis,
        e.g. the single-zeta and polarization shells of a dzp basis, whose overlap is far
        better conditioned). Empty: the whole basis.
    training : how the weights were made (:class:`~hts_z2.schemas.training.TrainingRecord`:
        data, split, settings, calibration, test metrics), None for a network not
        registered; descriptive only (not part of :meth:`inference_key`). A dict (the
        ``config.json`` form) is validated into the record, ``{}`` into None.
    """

    basis: dict[int, tuple[int, ...]]
    valence: dict[int, int]
    r_cut: float = 10.0
    r_mp: float = 6.0
    n_radial: int = 8
    channels: int = 32
    l_hidden: int = 2
    sh_lmax: int = 4
    n_layers: int = 2
    tensor_product: str = "reduced"
    avg_neighbors: float = 30.0
    overlap_cutoff: float = 0.0
    overlap: str = "predicted"
    solve_shells: dict[int, tuple[int, ...]] = field(default_factory=dict)
    training: TrainingRecord | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.training, TrainingRecord | None):
            record = TrainingRecord.model_validate(self.training) if self.training else None
            object.__setattr__(self, "training", record)
        if self.tensor_product not in ("reduced", "full"):
            raise ValueError(
                f"tensor_product must be 'reduced' or 'full', not {self.tensor_product!r}"
            )
        if self.overlap not in OVERLAP_SOURCES:
            raise ValueError(f"overlap must be one of {OVERLAP_SOURCES}, not {self.overlap!r}")
        if not self.basis:
            raise ValueError("a model needs a basis for at least one element")
        missing = set(self.basis) - set(self.valence)
        if missing:
            raise ValueError(f"no valence electron count for elements {sorted(missing)}")
        if self.r_mp > self.r_cut:
            raise ValueError("r_mp must not exceed r_cut")
        for z, keep in self.solve_shells.items():
            if z not in self.basis:
                raise ValueError(f"solve_shells names element Z={z} outside the basis")
            if not keep or any(not 0 <= j < len(self.basis[z]) for j in keep):
                raise ValueError(
                    f"solve_shells of Z={z} must be indices into its {len(self.basis[z])} "
                    f"shells, got {list(keep)}"
                )

    def kept_shells(self, z: int) -> tuple[int, ...]:
        """Indices into ``basis[z]`` of the shells the solved Hamiltonian keeps."""
        return tuple(self.solve_shells.get(int(z), range(len(self.basis[int(z)]))))

    def solved_shells(self, z: int) -> tuple[int, ...]:
        """Angular momenta of the kept shells of element ``z`` (its solved basis)."""
        return tuple(self.basis[int(z)][j] for j in self.kept_shells(z))

    @property
    def elements(self) -> tuple[int, ...]:
        return tuple(sorted(self.basis))

    def validated_band_error(self) -> float | None:
        """Validation band MAE near E_F (eV) at the model's overlap cutoff, from the
        calibration in its training record; None when the model was not calibrated.

        The error a predicted band edge typically carries: a gap below it can close, and a
        label can flip, within the model's own accuracy.
        """
        cal = self.training.overlap_calibration if self.training is not None else None
        score = cal.score_at(self.overlap_cutoff) if cal is not None else None
        if score is not None and score.band_mae_meV:
            return float(score.band_mae_meV) / 1e3
        return None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, training=None))
        d["training"] = {} if self.training is None else self.training.model_dump(mode="json")
        d["basis"] = {str(z): list(s) for z, s in self.basis.items()}
        d["valence"] = {str(z): int(v) for z, v in self.valence.items()}
        d["solve_shells"] = {str(z): list(s) for z, s in self.solve_shells.items()}
        if not d["solve_shells"]:  # models from before the option keep their identity
            del d["solve_shells"]
        return d

    def inference_key(self) -> str:
        """Canonical JSON of every field that changes predictions (all but ``training``,
        the descriptive record of how the weights were made)."""
        d = self.to_dict()
        d.pop("training")
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        d = dict(d)
        d["basis"] = {int(z): tuple(int(l) for l in s) for z, s in d["basis"].items()}
        d["valence"] = {int(z): int(v) for z, v in d["valence"].items()}
        d["solve_shells"] = {
            int(z): tuple(int(j) for j in s) for z, s in d.get("solve_shells", {}).items()
        }
        return cls(**d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))

    @classmethod
    def load(cls, path: str | Path) -> ModelConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))
