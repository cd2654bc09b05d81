"""``hts-z2 train``: the two-stage training subflow with progress bars; resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import Progress

from hts_z2.cli.console import progress_columns
from hts_z2.training.cutoffs import CANDIDATE_CUTOFFS

if TYPE_CHECKING:
    from hts_z2.training.trainer import EpochReport, TrainSettings

console = Console()
CUTOFFS_HELP = "candidate overlap cutoffs of the calibration (repeatable; default: " + (
    ", ".join(f"{c:g}" for c in CANDIDATE_CUTOFFS) + ")"
)


def train(
    dataset: Path = typer.Argument(
        None, help="dataset directory (default: the embedded training dataset)"
    ),
    name: str = typer.Option("my-hts-z2-model", help="model name (directory under --models)"),
    models: Path = typer.Option(None, help="models directory (default: the repository's models/)"),
    work: Path = typer.Option(Path("train-work"), help="work directory (checkpoints; resume)"),
    minutes1: float = typer.Option(60.0, help="time budget of stage 1 (minutes)"),
    minutes2: float = typer.Option(20.0, help="time budget of stage 2 (minutes)"),
    epochs1: int = typer.Option(200, help="most epochs of stage 1"),
    epochs2: int = typer.Option(50, help="most epochs of stage 2"),
    batch_size: int = typer.Option(4, help="structures per optimizer step"),
    channels: int = typer.Option(32, help="scalar channels of the network"),
    layers: int = typer.Option(2, help="orbital-convolution layers"),
    r_cut: float = typer.Option(10.0, help="pair cutoff of predicted blocks (Å)"),
    tensor_product: str = typer.Option("reduced", help="reduced (Eq. 8) or full"),
    overlap_cutoff: float = typer.Option(
        1e-3, help="overlap eigenvalues dropped in the stage-2 band loss (0: exact solve)"
    ),
    seed: int = typer.Option(0, help="seed of the split and the initialization"),
    weight_rms: float = typer.Option(
        1.0, help="weight of the RMS H0/S terms (they weigh in the large hoppings)"
    ),
    band_lambda: float = typer.Option(
        1e-2, help="weight of the stage-2 band-energy MAE (eV) in the objective (paper: 1e-2)"
    ),
    init_from: Path = typer.Option(
        None, help="start from this model directory's weights (fine-tune / continue)"
    ),
    extra_train: list[Path] = typer.Option(
        None,
        help="further dataset directory whose samples are used for training only; val and "
        "test stay the main dataset's split (repeatable)",
    ),
    extra_val: list[Path] = typer.Option(
        None,
        help="further dataset directory whose compounds join the validation split only "
        "(learning-rate schedule, early stop, overlap cutoff); test stays the main "
        "dataset's (repeatable)",
    ),
    overlap: str = typer.Option(
        "basis",
        help="basis: exact S from the radial functions of the basis (needs GPAW to export "
        "them); predicted: learn S with the network",
    ),
    solve_basis: str = typer.Option(
        "full",
        help="basis the bands and Z2 are solved in: full (the dataset's) or szp (its "
        "single-zeta and polarization shells: a well-conditioned overlap, no truncation)",
    ),
    calibrate_by: str = typer.Option(
        "labels",
        help="choose the overlap cutoff by validation labels (gap + Z2 agreement, then band "
        "MAE) or by band MAE alone ('band', faster)",
    ),
    cutoffs: list[float] = typer.Option(
        None,
        help=CUTOFFS_HELP,
    ),
    skip_z2: bool = typer.Option(False, help="skip the Z2 agreement in the evaluation"),
    device: str = typer.Option(
        "cpu",
        help="torch device of the two training stages: cpu, cuda[:N] or auto (the overlap "
        "calibration and the test evaluation run on the CPU)",
    ),
    overwrite: bool = typer.Option(
        False, help="replace a model already registered under --models/--name"
    ),
) -> None:
    """Train (stage 1: Hamiltonian loss; stage 2: + band loss), choose the overlap cutoff
    on the validation split, evaluate on the test split, register."""
    from hts_z2.model.device import torch_device
    from hts_z2.model.predictor import models_dir
    from hts_z2.reference.dataset import embedded_dataset_path
    from hts_z2.training.run import check_model_target, prepare, run_stage
    from hts_z2.training.trainer import TrainSettings

    dataset = dataset or embedded_dataset_path()
    models = models or models_dir()
    settings = TrainSettings(
        max_minutes_stage1=minutes1,
        max_minutes_stage2=minutes2,
        max_epochs_stage1=epochs1,
        max_epochs_stage2=epochs2,
        batch_size=batch_size,
        seed=seed,
        weight_rms=weight_rms,
        band_lambda=band_lambda,
        device=device,
    )
    arch = {
        "channels": channels,
        "n_layers": layers,
        "r_cut": r_cut,
        "tensor_product": tensor_product,
        "overlap_cutoff": overlap_cutoff,
        "overlap": overlap,
    }
    check_criterion(calibrate_by)
    check_cutoffs(cutoffs)
    try:
        torch_device(device)
        if not Path(work).exists():
            check_model_target(Path(models) / name, overwrite)
        split_file = prepare(
            dataset,
            work,
            arch,
            seed,
            init_from,
            extra_train=extra_train,
            solve_basis=solve_basis,
            extra_val=extra_val,
        )
    except (FileExistsError, FileNotFoundError, ValueError, RuntimeError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    record = json.loads(split_file.read_text())
    split = record["split"]
    console.print(f"dataset {dataset}: {split_summary(record)}  (work dir {work})")
    for stage in (1, 2):
        with Progress(*progress_columns(), console=console) as bar:
            task = bar.add_task(f"stage {stage}", total=None, info="")

            def on_step(step: int, total: int, task=task, bar=bar) -> None:
                bar.update(task, completed=step, total=total)

            def on_epoch(r: EpochReport, task=task, bar=bar) -> None:
                bar.update(
                    task,
                    description=f"stage {r.stage} epoch {r.epoch}",
                    info=f"train {r.train:.4f}  val {r.val:.4f}  lr {r.lr:.1e}",
                )
                bar.console.log(
                    f"stage {r.stage} epoch {r.epoch}: train {r.train:.4f} val {r.val:.4f} "
                    f"lr {r.lr:.1e} ({r.seconds:.0f} s)"
                )

            run_stage(work, stage, settings, on_epoch, on_step)
    finish(work, split, name, models, settings, calibrate_by, skip_z2, overwrite, cutoffs)


def split_summary(record: dict) -> str:
    """``train N (incl. M training-only), val N (incl. M validation-only), test N``."""

    def part(name: str, key: str, kind: str) -> str:
        entries = record.get(key, [])
        inside = sum(e["samples"] for e in entries if "dataset" in e)
        recorded = sum(e["samples"] for e in entries if "dataset" not in e)
        text = f"{name} {len(record['split'][name])}"
        if inside:
            text += f" (incl. {inside} {kind})"
        if recorded:  # a registered model names its training-only data by sha256 alone
            text += f" + {recorded} {kind} the model was trained on"
        return text

    return ", ".join(
        (
            part("train", "extra_train", "training-only"),
            part("val", "extra_val", "validation-only"),
            f"test {len(record['split']['test'])}",
        )
    )


def check_cutoffs(cutoffs: list[float] | None) -> None:
    """Exit with a clear error for a candidate overlap cutoff outside [0, 1)."""
    bad = [c for c in cutoffs or [] if not 0.0 <= c < 1.0]
    if bad:
        console.print(
            f"[red]error:[/red] --cutoffs must lie in [0, 1) (overlap eigenvalues); got {bad}"
        )
        raise typer.Exit(2)


def check_criterion(criterion: str) -> None:
    """Exit with a clear error for an unknown ``--calibrate-by``."""
    from hts_z2.training.calibrate import CRITERIA

    if criterion not in CRITERIA:
        console.print(f"[red]error:[/red] --calibrate-by must be one of {', '.join(CRITERIA)}")
        raise typer.Exit(2)


def finish(
    work: Path,
    split: dict,
    name: str,
    models: Path,
    settings: TrainSettings,
    criterion: str,
    skip_z2: bool,
    overwrite: bool,
    cutoffs: list[float] | None = None,
) -> None:
    """Calibrate the overlap cutoff (validation), evaluate (test), register, with bars."""
    from hts_z2.training.run import register, run_calibration, run_evaluation

    passes = 2 if criterion == "labels" else 1
    with Progress(*progress_columns(), console=console) as bar:
        task = bar.add_task(
            f"overlap cutoff (validation, by {criterion})",
            total=passes * len(split["val"]),
            info="",
        )
        cal = run_calibration(
            work,
            candidates=tuple(sorted(cutoffs)) if cutoffs else CANDIDATE_CUTOFFS,
            on_progress=lambda sid: bar.update(task, advance=1, info=sid),
            criterion=criterion,
        )
    console.print(
        "validation by overlap cutoff: "
        + ", ".join(
            f"{s['cutoff']:g}: "
            + ("n/a" if s["band_mae_meV"] is None else f"{s['band_mae_meV']:.0f} meV")
            + f" ({s['n_solved']}/{s['n_total']} solved"
            + ("" if s.get("labels_agree") is None else f", {s['labels_agree']} labels agree")
            + ")"
            for s in cal["scores"]
        )
        + f"  -> {cal['overlap_cutoff']:g}"
    )
    with Progress(*progress_columns(), console=console) as bar:
        task = bar.add_task("evaluate (test split)", total=len(split["test"]), info="")
        metrics = run_evaluation(
            work, not skip_z2, lambda sid: bar.update(task, advance=1, info=sid)
        )
    try:
        target = register(work, name, models, settings, overwrite)
    except FileExistsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    console.print(
        f"test: H0 MAE {metrics.h0_mae_meV:.1f} meV "
        f"({metrics.h0_mae_large_meV or float('nan'):.0f} meV where |H| > 0.5 eV), "
        f"SOC MAE {metrics.soc_mae_meV:.2f} meV, "
        f"S MAE {metrics.s_mae:.4f}, band MAE "
        + ("n/a" if metrics.band_mae_meV is None else f"{metrics.band_mae_meV:.1f} meV")
        + f", Z2 agreement {metrics.z2_agree}/{metrics.z2_total} with the LCAO reference, "
        f"{metrics.z2_agree_record}/{metrics.z2_total_record} with the label of record"
    )
    console.print(f"model registered in {target}")
    from hts_z2.cli.domain import domain_after_register
    from hts_z2.training.run import SPLIT_FILE

    console.print(domain_after_register(target, json.loads((work / SPLIT_FILE).read_text())))


def recalibrate(
    model: Path = typer.Argument(..., help="registered model directory (or name under --models)"),
    name: str = typer.Option(..., help="name of the re-calibrated model"),
    dataset: Path = typer.Option(
        None, help="the model's training dataset (default: the embedded one)"
    ),
    models: Path = typer.Option(None, help="models directory (default: the repository's models/)"),
    work: Path = typer.Option(Path("recalibrate-work"), help="work directory (resumes)"),
    extra_val: list[Path] = typer.Option(
        None,
        help="further dataset directory whose compounds join the validation split only "
        "(learning-rate schedule, early stop, overlap cutoff); test stays the main "
        "dataset's (repeatable)",
    ),
    cutoffs: list[float] = typer.Option(
        None,
        help=CUTOFFS_HELP,
    ),
    calibrate_by: str = typer.Option(
        "labels", help="labels (gap + Z2 agreement, then band MAE) or band (band MAE alone)"
    ),
    skip_z2: bool = typer.Option(False, help="skip the Z2 agreement in the evaluation"),
    overwrite: bool = typer.Option(False, help="replace a model registered under --name"),
) -> None:
    """Choose a registered model's overlap cutoff anew on its validation split, without
    training: re-evaluate on its test split and register the same weights under a new
    name (their file records the new cutoff, so the new model has its own sha256)."""
    from hts_z2.model.predictor import models_dir
    from hts_z2.reference.dataset import embedded_dataset_path
    from hts_z2.training.run import check_model_target, prepare_recalibration

    check_criterion(calibrate_by)
    check_cutoffs(cutoffs)
    models = models or models_dir()
    source = model if model.is_dir() else Path(models) / model
    try:
        if not Path(work).exists():
            check_model_target(Path(models) / name, overwrite)
        split_file = prepare_recalibration(
            source, dataset or embedded_dataset_path(), work, extra_val
        )
    except (FileExistsError, FileNotFoundError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    from hts_z2.training.trainer import TrainSettings

    record = json.loads(split_file.read_text())
    settings = TrainSettings(**record["recalibrated_from"]["settings"])
    console.print(
        f"re-calibrating {source} (sha256 {record['recalibrated_from']['sha256'][:12]}) "
        f"by {calibrate_by}; work dir {work}"
    )
    console.print(split_summary(record))
    finish(work, record["split"], name, models, settings, calibrate_by, skip_z2, overwrite, cutoffs)
