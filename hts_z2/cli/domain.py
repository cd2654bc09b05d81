"""``hts-z2 domain``: build a model's applicability-domain reference (``domain.npz``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress

from hts_z2.cli.console import fail, get_console, progress_columns
from hts_z2.model.domain import DEFAULT_QUANTILE, DomainReference, save_reference

if TYPE_CHECKING:
    from hts_z2.schemas.training import SplitRecord

console = get_console()


def write_domain(
    model_dir: Path,
    dataset: Path | None,
    extra_train: list[Path] | None,
    quantile: float = DEFAULT_QUANTILE,
) -> DomainReference:
    """Build and save the reference of the model in ``model_dir`` from its training
    samples, with a progress bar. Raises ``ValueError`` when the data is not the model's."""
    from hts_z2.model.predictor import load_model
    from hts_z2.training.domain import build_domain, training_samples

    model = load_model(model_dir)
    samples = training_samples(model.config.training, dataset, extra_train)
    with Progress(*progress_columns(), console=console) as bar:
        task = bar.add_task("training environments", total=len(samples), info="")
        ref = build_domain(
            model, samples, quantile, on_progress=lambda n: bar.update(task, advance=n)
        )
    store_reference(ref, model_dir)
    return ref


def store_reference(ref: DomainReference, model_dir: Path) -> None:
    """Save ``domain.npz`` and describe it in the model card (when there is one)."""
    save_reference(ref, model_dir)
    card = Path(model_dir) / "card.md"
    if card.is_file():
        card.write_text(card_with_domain(card.read_text(), ref))


CARD_SECTION = "## Training domain"


def card_with_domain(card: str, ref: DomainReference) -> str:
    """``card`` (a model card in Markdown) with its training-domain section written anew
    at the end."""
    head = card.split(f"\n{CARD_SECTION}\n")[0].rstrip("\n")
    return (
        f"{head}\n\n{CARD_SECTION}\n"
        f"`domain.npz`: the learned environments of the training atoms. {describe(ref)}. "
        "Screening stores each structure's `domain_distance` (nearest training environment "
        "of the same element, largest over its atoms) and adds a caution beyond the "
        "threshold: its Hamiltonian error is expected to be larger (see docs/model.md).\n"
    )


def domain_after_register(target: Path, record: SplitRecord) -> str:
    """Give a just-registered model its domain reference; returns what was done.

    Built from the run's data (``split.json`` record: main dataset and training-only
    dataset paths); for a recalibrated model whose training-only data the record does not
    locate, the source model's reference is carried over (the environments do not depend
    on the overlap cutoff, the only thing a recalibration changes)."""
    from hts_z2.model.checkpoint import WEIGHTS, file_sha256
    from hts_z2.model.domain import load_reference

    extra = [Path(e.dataset) for e in record.extra_train if e.dataset is not None]
    try:
        ref = write_domain(target, Path(record.dataset), extra)
        return f"domain reference: {describe(ref)}"
    except (FileNotFoundError, KeyError, ValueError) as err:
        problem = str(err)
    source = record.recalibrated_from.model if record.recalibrated_from else None
    if source:
        old = load_reference(source, file_sha256(Path(source) / WEIGHTS))
        if old is not None:
            ref = replace(old, weights_sha256=file_sha256(target / WEIGHTS))
            store_reference(ref, target)
            return f"domain reference carried over from {source}: {describe(ref)}"
    return (
        f"no domain reference written ({problem}); build it with "
        f"`hts-z2 domain {target} --extra-train DIR`"
    )


def describe(ref: DomainReference) -> str:
    """One paragraph on a reference: size, threshold, spread of training distances."""
    s = ref.summary
    pct = s.get("leave_parent_out", {})
    spread = ", ".join(f"{k} {v:.2f}" for k, v in pct.items())
    return (
        f"{s.get('samples')} training samples of {s.get('parents')} parent compounds, "
        f"{len(ref.elements)} elements; leave-one-parent-out distances {spread}; "
        f"threshold {ref.threshold:.2f} (quantile {ref.quantile:g})"
    )


def domain(
    model: str = typer.Argument(..., help="model directory or name under models/"),
    dataset: Path = typer.Option(
        None, help="the model's training dataset (default: the embedded one)"
    ),
    extra_train: list[Path] = typer.Option(
        None, help="training-only dataset directory the model was trained with (repeatable)"
    ),
    quantile: float = typer.Option(
        DEFAULT_QUANTILE,
        help="quantile of the training compounds' leave-one-parent-out distances that "
        "sets the threshold",
    ),
) -> None:
    """Store the environments of a model's training atoms next to its weights, so that
    screening and `hts-z2 predict` report how far each structure lies from them."""
    from hts_z2.model.predictor import models_dir

    target = Path(model) if Path(model).is_dir() else models_dir() / model
    if not (0.0 < quantile <= 1.0):
        fail("--quantile must lie in (0, 1]")
    try:
        ref = write_domain(target, dataset, extra_train, quantile)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    console.print(f"{target}/domain.npz: {describe(ref)}")
