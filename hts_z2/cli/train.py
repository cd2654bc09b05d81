"""``hts-z2 train``: the two-stage training subflow with progress bars; resumable."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hts_z2.training.trainer import EpochReport, TrainSettings

console = Console()


def train(
    dataset: Path = typer.Argument(
        None, help="dataset directory (default: the embedded training dataset)"
    ),
    name: str = typer.Option("hts-z2-soc-v3", help="model name (directory under --models)"),
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
    init_from: Path = typer.Option(
        None, help="start from this model directory's weights (fine-tune / continue)"
    ),
    overlap: str = typer.Option(
        "basis",
        help="basis: exact S from the radial functions of the basis (needs GPAW to export "
        "them); predicted: learn S with the network",
    ),
    skip_z2: bool = typer.Option(False, help="skip the Z2 agreement in the evaluation"),
    overwrite: bool = typer.Option(
        False, help="replace a model already registered under --models/--name"
    ),
) -> None:
    """Train (stage 1: Hamiltonian loss; stage 2: + band loss), choose the overlap cutoff
    on the validation split, evaluate on the test split, register."""
    from hts_z2.model.predictor import models_dir
    from hts_z2.reference.dataset import embedded_dataset_path
    from hts_z2.training.run import (
        check_model_target,
        prepare,
        register,
        run_calibration,
        run_evaluation,
        run_stage,
    )

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
    )
    arch = {
        "channels": channels,
        "n_layers": layers,
        "r_cut": r_cut,
        "tensor_product": tensor_product,
        "overlap_cutoff": overlap_cutoff,
        "overlap": overlap,
    }
    try:
        if not Path(work).exists():
            check_model_target(Path(models) / name, overwrite)
        split_file = prepare(dataset, work, arch, seed, init_from)
    except (FileExistsError, FileNotFoundError, ValueError, RuntimeError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    split = json.loads(split_file.read_text())["split"]
    console.print(
        f"dataset {dataset}: train {len(split['train'])}, val {len(split['val'])}, "
        f"test {len(split['test'])}  (work dir {work})"
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
    )
    for stage in (1, 2):
        with Progress(*columns, console=console) as bar:
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
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("overlap cutoff (validation)", total=len(split["val"]), info="")
        cal = run_calibration(work, on_progress=lambda sid: bar.update(task, advance=1, info=sid))
    console.print(
        "validation band MAE by overlap cutoff: "
        + ", ".join(
            f"{s['cutoff']:g}: "
            + ("n/a" if s["band_mae_meV"] is None else f"{s['band_mae_meV']:.0f} meV")
            + f" ({s['n_solved']}/{s['n_total']})"
            for s in cal["scores"]
        )
        + f"  -> {cal['overlap_cutoff']:g}"
    )
    with Progress(*columns, console=console) as bar:
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
        + f", Z2 agreement {metrics.z2_agree}/{metrics.z2_total}"
    )
    console.print(f"model registered in {target}")
