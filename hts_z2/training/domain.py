"""Build a model's applicability-domain reference from the samples it was trained on
(:mod:`hts_z2.model.domain`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hts_z2.model.domain import DEFAULT_QUANTILE, DomainReference, build_reference
from hts_z2.model.predictor import HamiltonianModel
from hts_z2.schemas.training import TrainingRecord
from hts_z2.training.dataset import embedded_split, group_of, load_dataset


def training_samples(
    training: TrainingRecord | None,
    dataset: str | Path | None = None,
    extra_train: list[str | Path] | None = None,
) -> list:
    """The samples behind a registered model's weights: the training part of its split of
    ``dataset`` (default: the embedded one), and the training-only datasets
    ``extra_train``. ``training`` is the model's training record (``ModelConfig.training``).

    Raises
    ------
    ValueError
        ``dataset`` is not the model's, or ``extra_train`` does not match the
        training-only datasets its record names (by sha256), one missing or one too many.
    """
    split, by_id = embedded_split(training, dataset)
    samples = [by_id[i] for i in split["train"]]
    wanted = {e.dataset_sha256 for e in training.extra_train} if training else set()
    given = set()
    for root in extra_train or []:
        extra = load_dataset(root)
        if extra.sha256 not in wanted:
            raise ValueError(
                f"{root} (sha256 {extra.sha256[:12]}) is not a training dataset of this model"
            )
        given.add(extra.sha256)
        samples += extra.samples
    missing = sorted(wanted - given)
    if missing:
        short = ", ".join(m[:12] for m in missing)
        raise ValueError(
            f"the model was also trained on datasets with sha256 {short}: pass them with "
            "--extra-train (hts_z2/data/extra for the shipped models)"
        )
    return samples


def sample_environments(
    model: HamiltonianModel,
    samples: list,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = 16,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per sample the environments [N_s, channels] under ``model``'s weights and the
    atomic numbers [N_s]. ``on_progress(n)`` is called after each batch of ``n`` samples."""
    features, numbers = [], []
    for k in range(0, len(samples), batch_size):
        chunk = samples[k : k + batch_size]
        graphs = model.environment_graphs([(s.lattice, s.positions, s.numbers) for s in chunk])
        features += model.environments(graphs, batch_size)
        numbers += [g.numbers for g in graphs]
        if on_progress is not None:
            on_progress(len(chunk))
    return features, numbers


def build_domain(
    model: HamiltonianModel,
    samples: list,
    quantile: float = DEFAULT_QUANTILE,
    on_progress: Callable[[int], None] | None = None,
) -> DomainReference:
    """The environments of ``samples`` under ``model``'s weights, with the threshold at
    ``quantile`` of the training compounds' leave-one-parent-out distances."""
    features, numbers = sample_environments(model, samples, on_progress)
    parents = [group_of(s.sample_id) for s in samples]
    return build_reference(features, numbers, parents, model.sha256, quantile)
