"""``hts-z2 screen`` and ``hts-z2 submit``: run a screening campaign here or on a cluster."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


CAUTION_NOTE = "caution*"
CAUTION_CAPTION = (
    "* the gap (for a metal: the band overlap) is below the model's validation band error, "
    "or the atomic environments lie beyond the model's training domain (domain: distance "
    "to the training data); the result's caution field says which. The label may not hold "
    "within the model's accuracy: confirm with DFT"
)


def candidates_table(docs: list[dict], title: str = "candidates") -> Table:
    """Rich table of result documents, sorted by label then indirect gap."""
    table = Table(title=title)
    columns = ("material", "formula", "label", "gap (eV)", "direct (eV)", "Z2 planes",
               "domain", "note")  # fmt: skip
    for col in columns:
        table.add_column(col)
    for d in sort_docs(docs):
        gap = d.get("gap") or {}
        z2 = d.get("z2") or d.get("z2_manifold") or {}
        planes = z2.get("planes")
        table.add_row(
            d["material_id"],
            d.get("formula") or "",
            d.get("label") or "",
            _num(gap.get("indirect")),
            _num(gap.get("direct")),
            "".join(map(str, planes)) if planes else "",
            _num(d.get("domain_distance"), 2),
            "; ".join(x for x in (d.get("reason"), manifold_note(d), caution_note(d)) if x),
        )
    if any(d.get("caution") for d in docs):
        table.caption = CAUTION_CAPTION
    return table


def caution_note(doc: dict) -> str | None:
    """The table's marker for a result with a caution."""
    return CAUTION_NOTE if doc.get("caution") else None


def manifold_note(doc: dict) -> str | None:
    """``occupied bands: <label>`` for a near-insulating metal with a ``z2_manifold``."""
    manifold = doc.get("z2_manifold")
    return f"occupied bands: {manifold['label']}" if manifold else None


def sort_docs(docs: list[dict]) -> list[dict]:
    """Order by label (topological first), then indirect gap."""

    def key(d: dict) -> tuple:
        label = d.get("label") or "~"
        rank = 0 if label.startswith("STI") else 1 if label.startswith("WTI") else 2
        gap = (d.get("gap") or {}).get("indirect")
        return (rank, label, gap if gap is not None else float("inf"), d["material_id"])

    return sorted(docs, key=key)


def _num(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _source(kind: str | None, paths: list[str]) -> str:
    if kind:
        return kind
    return "files" if paths else "demo"


def screen(
    paths: list[str] = typer.Argument(
        None, help="structure files/dirs (files), a GNoME release dir (gnome), demo ids (demo)"
    ),
    source: str = typer.Option(None, help="demo | gnome | mp | files (default: files if PATHS)"),
    db: str = typer.Option(None, "--db", help="mongodb:// URI or store directory ($HTS_Z2_DB)"),
    campaign: str = typer.Option(None, help="campaign name stored with every result"),
    model: str = typer.Option(None, help="model name or path (default: the shipped model)"),
    chunk_size: int = typer.Option(16, help="structures per inference chunk"),
    batch_size: int = typer.Option(8, help="structures per model batch"),
    device: str = typer.Option("cpu", help="torch device for inference: cpu, cuda[:N], auto"),
    max_sites: int = typer.Option(24, help="skip cells with more sites (memory: dense H)"),
    heavy_z: int = typer.Option(70, help="require an element with Z above this"),
    z2_max_gap: float = typer.Option(None, help="compute Z2 only up to this gap (eV)"),
    kspacing: float = typer.Option(
        0.15, help="band-gap grid spacing (1/Å, 2π included); larger is coarser and faster"
    ),
    limit: int = typer.Option(None, help="read at most this many structures"),
    show: str = typer.Option("candidates", help="candidates | all | none: rows to print"),
) -> None:
    """Screen structures: filter -> ML Hamiltonian -> gap -> Z2 -> result store."""
    from hts_z2.flows.screening import ScreeningSettings, resolve_model, run_campaign
    from hts_z2.model.device import torch_device
    from hts_z2.store import StoreUnavailableError, open_store
    from hts_z2.structures.filter import CandidateFilter
    from hts_z2.structures.sources import SourceSpec
    from hts_z2.structures.sources.gnome import GnomeError
    from hts_z2.structures.sources.mp import MPError

    kind = _source(source, paths or [])
    try:
        spec = SourceSpec(kind=kind, paths=list(paths or []), limit=limit)
        torch_device(device)
        store = open_store(db)
        resolved = resolve_model(model)
    except (ValueError, StoreUnavailableError, RuntimeError, OSError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    settings = ScreeningSettings(
        batch_size=batch_size, device=device, z2_max_gap=z2_max_gap, kspacing=kspacing
    )
    candidate_filter = CandidateFilter(heavy_z=heavy_z, max_sites=max_sites)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[counts]}"), TimeElapsedColumn())
    with store, Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"screening {kind}", total=None, counts="")

        def on_progress(step) -> None:
            done = progress.tasks[0].completed + step.done + step.skipped + step.failed
            progress.update(task, completed=done, counts="")

        try:
            counts = run_campaign(spec, resolved, store, candidate_filter, settings, campaign,
                                  chunk_size, on_progress)
        except (GnomeError, MPError, KeyError) as err:
            console.print(f"[red]error:[/red] {err}")
            raise typer.Exit(2) from None
        progress.update(task, total=counts.read, completed=counts.read)
        where = {"model.sha256": resolved.sha256}
        if campaign:
            where["campaign"] = campaign
        if show != "none":
            crit = dict(where)
            docs = list(store.find(crit, projection={"structure": 0}))
            if show == "candidates":
                docs = [d for d in docs if is_candidate(d)]
            console.print(candidates_table(docs, title=f"{kind}: {resolved.name}"))
        _print_reasons(store, where)
    backfilled = f", {counts.backfilled} given a domain distance" if counts.backfilled else ""
    console.print(
        f"read {counts.read} = done {counts.done} (already stored {counts.existing}"
        f"{backfilled}) + skipped {counts.skipped} + failed {counts.failed}  -> {store.location}"
    )
    if counts.seconds:
        split = ", ".join(f"{k} {v:.2f}s" for k, v in counts.seconds.items())
        console.print(f"time by stage: {split}")


def is_candidate(doc: dict) -> bool:
    """A done insulator, or a metal within the model's error of an insulator whose
    occupied bands are topological."""
    if doc.get("status") != "done":
        return False
    manifold = (doc.get("z2_manifold") or {}).get("label") or ""
    return doc.get("label") != "metal" or manifold.startswith(("STI", "WTI"))


def _print_reasons(store, where: dict, top: int = 6) -> None:
    """The most common reasons of skipped and failed structures (first line, shortened)."""
    from collections import Counter

    for status in ("skipped", "failed"):
        docs = store.find({**where, "status": status}, projection={"reason": 1})
        reasons = Counter(
            (str(d.get("reason") or "?").splitlines() or ["?"])[0][:90] for d in docs
        )
        for reason, n in reasons.most_common(top):
            console.print(f"  {status} x{n}: {reason}")


def submit(
    spec: Path = typer.Argument(..., exists=True, help="campaign YAML (see workflows/)"),
    engine: str = typer.Option(None, help="fireworks | jobflow-remote | local (default: YAML)"),
    launchpad: Path = typer.Option(None, help="FireWorks my_launchpad.yaml (default: YAML/env)"),
) -> None:
    """Submit a campaign YAML to FireWorks, jobflow-remote, or run it locally with jobflow."""
    from hts_z2.flows.submit import SubmitError, load_campaign, submit_campaign

    try:
        campaign = load_campaign(spec)
        result = submit_campaign(campaign, engine=engine, launchpad_file=launchpad)
    except (SubmitError, ValueError, OSError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    console.print(result)
