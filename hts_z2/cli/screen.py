"""``hts-z2 screen`` and ``hts-z2 submit``: run a screening campaign here or on a cluster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from hts_z2.cli.console import fail, get_console

if TYPE_CHECKING:
    from hts_z2.schemas.result import ResultDoc

console = get_console()


CAUTION_NOTE = "caution*"
CAUTION_CAPTION = (
    "* the gap (for a metal: the band overlap) is below the model's validation band error, "
    "or the atomic environments lie beyond the model's training domain (domain: distance "
    "to the training data); the result's caution field says which. The label may not hold "
    "within the model's accuracy: confirm with DFT"
)


def candidates_table(docs: list[ResultDoc], title: str = "candidates") -> Table:
    """Rich table of result documents, sorted by label then indirect gap."""
    table = Table(title=title, title_justify="left")
    columns = ("material", "formula", "label", "gap (eV)", "direct (eV)", "Z2 planes",
               "domain", "first principles", "note")  # fmt: skip
    for col in columns:
        table.add_column(col, overflow="fold")
    for d in sort_docs(docs):
        z2 = d.shown_z2
        table.add_row(
            d.material_id,
            d.formula or "",
            str(d.label or ""),
            _num(d.gap.indirect if d.gap else None),
            _num(d.gap.direct if d.gap else None),
            "".join(map(str, z2.planes)) if z2 and z2.planes else "",
            _num(d.domain.distance if d.domain else None, 2),
            confirmation_cell(d),
            "; ".join(x for x in (d.reason, manifold_note(d), caution_note(d)) if x),
        )
    captions = []
    if any(d.cautions for d in docs):
        captions.append(CAUTION_CAPTION)
    if any(d.confirmation and d.confirmation.pbe_sensitive for d in docs):
        captions.append(PBE_CAPTION)
    table.caption = "\n".join(captions) or None
    return table


PBE_CAPTION = (
    "PBE-sensitive: the band inversion (or gap) that decides the first-principles label is "
    "below 0.3 eV; PBE itself may get it wrong (docs/label_of_record.md)"
)


def confirmation_cell(doc: ResultDoc) -> str:
    """What the first-principles check says: its label, verdict and flags."""
    c = doc.confirmation
    if c is None:
        return "not checked"
    if c.status != "done":
        return f"{c.status}: {c.reason or ''}"[:80]
    text = f"{c.label} ({c.verdict})"
    if c.pbe_sensitive:
        text += ", PBE-sensitive"
    return text


def topological_groups(docs: list[ResultDoc]) -> dict[str, list[ResultDoc]]:
    """Model TIs split by their first-principles check, plus the TIs the model missed.

    Keys: ``confirmed``, ``pbe_sensitive`` (confirmed by PBE, but the deciding inversion is
    below the PBE-sensitivity threshold: experiment may differ), ``awaiting`` (no finished
    check), ``rejected`` (trivial, metal or semimetal from first principles, or another TI),
    ``missed`` (first principles finds a TI where the model did not).
    """
    groups: dict[str, list[ResultDoc]] = {"confirmed": [], "pbe_sensitive": [],
                                          "awaiting": [], "rejected": [], "missed": []}
    for d in docs:
        c = d.confirmation
        verdict = c.verdict if c is not None and c.status == "done" else None
        if d.label is not None and d.label.topological:
            if verdict == "confirmed":
                groups["pbe_sensitive" if c.pbe_sensitive else "confirmed"].append(d)
            elif verdict in ("rejected", "disagrees"):
                groups["rejected"].append(d)
            else:
                groups["awaiting"].append(d)
        elif verdict == "disagrees" and c.label is not None and c.label.topological:
            groups["missed"].append(d)
    return groups


def caution_note(doc: ResultDoc) -> str | None:
    """The table's marker for a result with a caution."""
    return CAUTION_NOTE if doc.cautions else None


def manifold_note(doc: ResultDoc) -> str | None:
    """``occupied bands: <label>`` for a near-insulating metal with a ``z2_manifold``."""
    return f"occupied bands: {doc.z2_manifold.label}" if doc.z2_manifold else None


def sort_docs(docs: list[ResultDoc]) -> list[ResultDoc]:
    """Order by label (topological first), then indirect gap."""

    def key(d: ResultDoc) -> tuple:
        label = d.label.sort_key if d.label is not None else (99, "")
        gap = d.gap.indirect if d.gap is not None else float("inf")
        return (label, gap, d.material_id)

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
    max_sites: int = typer.Option(24, help="skip cells with more sites"),
    heavy_z: int = typer.Option(70, help="require an element with Z above this"),
    z2_max_gap: float = typer.Option(None, help="compute Z2 only up to this gap (eV)"),
    kspacing: float = typer.Option(
        0.15, help="band-gap grid spacing (1/Å, 2π included); larger is coarser and faster"
    ),
    model_form: str = typer.Option(
        "sparse", help="predicted Hamiltonian between network and Z2: sparse (atom-pair "
        "blocks, a few MiB) | dense (H(R), S(R) lists, ~100 MiB); the same bands"
    ),
    bands_device: str = typer.Option(
        None, help="torch device for gap and Z2 (cpu, cuda[:N]; default: numpy on the CPU)"
    ),
    workers: int = typer.Option(
        None, help="structures whose gap and Z2 run at once (default: the CPUs available)"
    ),
    limit: int = typer.Option(None, help="read at most this many structures"),
    show: str = typer.Option("candidates", help="candidates | all | none: rows to print"),
    confirm: str = typer.Option(
        "candidates", help="first-principles confirmation: none | candidates (model TIs, "
        "small-gap and undefined results) | all"
    ),
    confirm_budget: int = typer.Option(
        None, help="at most this many new first-principles runs (cached results are free)"
    ),
    confirm_hours: float = typer.Option(None, help="stop starting new runs after these hours"),
    recompute: bool = typer.Option(
        False, "--recompute", help="screen again what this model already has results for and "
        "replace them (otherwise stored results are kept, never replaced by worse ones)"
    ),
) -> None:
    """Screen structures: filter -> ML Hamiltonian -> gap -> Z2 -> result store, then
    confirm the candidates from first principles (plane-wave PBE+SOC, cached)."""
    from hts_z2.flows.campaign import CampaignSpec, run_spec
    from hts_z2.flows.screening import resolve_model
    from hts_z2.model.device import torch_device
    from hts_z2.store import StoreUnavailableError, open_store
    from hts_z2.structures.sources import SourceSpec
    from hts_z2.structures.sources.gnome import GnomeError
    from hts_z2.structures.sources.mp import MPError

    kind = _source(source, paths or [])
    try:
        torch_device(device)
        if bands_device is not None:
            torch_device(bands_device)
        spec = CampaignSpec(
            source=SourceSpec(kind=kind, paths=list(paths or []), limit=limit),
            db=db, model=model, campaign=campaign, chunk_size=chunk_size,
            candidate_filter={"heavy_z": heavy_z, "max_sites": max_sites},
            settings={"batch_size": batch_size, "device": device, "z2_max_gap": z2_max_gap,
                      "kspacing": kspacing, "recompute": recompute,
                      "model_form": model_form, "workers": workers,
                      "bands_device": bands_device},
            confirmation={"mode": confirm, "max_structures": confirm_budget,
                          "max_cpu_hours": confirm_hours},
        )
        store = open_store(db)
        resolved = resolve_model(model)
    except (ValueError, StoreUnavailableError, RuntimeError, OSError) as err:
        fail(f"{err}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), TimeRemainingColumn())
    total = _expected_total(spec.source)
    started = time.perf_counter()
    tally = {"done": 0, "skipped": 0, "failed": 0}
    read_ids: list[str] = []
    with store, Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"screening {kind}", total=total, counts="")

        def on_progress(step) -> None:
            for key in tally:
                tally[key] += getattr(step, key)
            done = sum(tally.values())
            counts = f"done {tally['done']} skipped {tally['skipped']} failed {tally['failed']}"
            progress.update(task, completed=done, counts=counts)
            if not console.is_terminal:  # a log file: one plain line per step
                of = f"/{total}" if total else ""
                typer.echo(f"screened {done}{of}: {counts} "
                           f"({time.perf_counter() - started:.0f} s)")

        def on_confirm(material_id: str, verdict: str) -> None:
            progress.console.print(f"  first principles: {material_id}: {verdict}")

        try:
            counts = run_spec(spec, store, resolved, on_progress, on_confirm=on_confirm,
                              read_ids=read_ids)
        except (GnomeError, MPError, KeyError) as err:
            fail(f"{err}")
        except StoreUnavailableError as err:
            stored = _count_or_unknown(store, resolved.sha256)
            fail(f"{err}\nThe campaign stopped; {stored} result(s) of this model are stored "
                 "and kept. Run the same command again to resume: finished materials are not "
                 "screened twice.", code=3)
        progress.update(task, total=counts.read, completed=counts.read)
        where = {"model.sha256": resolved.sha256}
        if campaign:
            where["campaign"] = campaign
        where["material_id"] = {"$in": sorted(set(read_ids))}  # this run's, not the store's
        if show != "none":
            from hts_z2.schemas.result import ResultDoc

            docs = [ResultDoc.from_stored(d)
                    for d in store.find(dict(where), projection={"structure": 0})]
            out = wide_console()
            if show == "all":
                out.print(candidates_table(docs, title=f"{kind}: {resolved.name}"))
            else:
                print_candidates(out, docs, f"{kind}: {resolved.name}")
        _print_reasons(store, where)
    backfilled = f", {counts.backfilled} given a domain distance" if counts.backfilled else ""
    console.print(
        f"read {counts.read} = done {counts.done} (already stored {counts.existing}"
        f"{backfilled}) + skipped {counts.skipped} + failed {counts.failed}  -> {store.location}"
    )
    if counts.kept:
        console.print(
            f"kept {counts.kept} earlier result(s) of materials this run rejected or could not "
            "read (--recompute replaces them)"
        )
    if counts.seconds:
        split = ", ".join(f"{k} {v:.2f}s" for k, v in counts.seconds.items())
        console.print(f"time by stage: {split}")
    if counts.failed and not counts.done:
        console.print("[red]every structure this run read failed or was skipped[/red]")
        raise typer.Exit(1)


def _expected_total(spec) -> int | None:
    """Structures the source will yield, when that is cheap to know (demo, files)."""
    try:
        if spec.kind == "demo":
            from hts_z2.structures.embedded import load_embedded

            n = len(spec.paths) if spec.paths else len(load_embedded())
        elif spec.kind == "files":
            from hts_z2.structures.sources.local import expand_paths

            n = sum(1 for _ in expand_paths(spec.paths))
        else:
            return None
    except Exception:
        return None
    return min(n, spec.limit) if spec.limit else n


def _count_or_unknown(store, model_sha256: str) -> str:
    try:
        return str(store.count({"model.sha256": model_sha256}))
    except Exception:
        return "an unknown number of"


def wide_console() -> Console:
    """The console for tables: the terminal's width, or wide enough for whole columns when
    the output goes to a file or a pipe."""
    return console if console.is_terminal else Console(width=220)


GROUP_TITLES = {
    "confirmed": "topological insulators confirmed from first principles",
    "pbe_sensitive": "confirmed by PBE+SOC, but PBE-sensitive (deciding inversion < 0.3 eV): "
                     "experiment may differ",
    "awaiting": "topological-insulator candidates awaiting confirmation (model only)",
    "rejected": "model topological insulators rejected by first principles",
    "missed": "topological insulators from first principles that the model missed",
}


def print_candidates(out: Console, docs: list[ResultDoc], title: str) -> None:
    """Candidates grouped by their first-principles check, then the other candidates."""
    candidates = [d for d in docs if is_candidate(d)]
    groups = topological_groups(docs)
    shown = set()
    for key, rows in groups.items():
        if rows:
            out.print(candidates_table(rows, title=f"{title}: {GROUP_TITLES[key]}"))
            shown |= {d.material_id for d in rows}
    rest = [d for d in candidates if d.material_id not in shown]
    if rest:
        out.print(candidates_table(rest, title=f"{title}: other insulators and near-insulators"))
    counts = ", ".join(f"{len(v)} {k.replace('pbe_sensitive', 'PBE-sensitive')}"
                       for k, v in groups.items())
    out.print(f"model topological insulators: {counts}")


def is_candidate(doc: ResultDoc) -> bool:
    """A done insulator, or a metal within the model's error of an insulator whose
    occupied bands are topological."""
    if doc.status != "done":
        return False
    manifold = doc.z2_manifold.label if doc.z2_manifold else None
    return doc.label != "metal" or (manifold is not None and manifold.topological)


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
    dry_run: bool = typer.Option(
        False, "--dry-run", help="print the workflow it would submit; contact nothing"
    ),
) -> None:
    """Submit a campaign YAML to FireWorks, jobflow-remote, or run it locally with jobflow."""
    from hts_z2.flows.submit import (
        SubmitError,
        describe_campaign,
        load_campaign,
        submit_campaign,
    )

    try:
        campaign = load_campaign(spec)
        if dry_run:
            typer.echo(describe_campaign(campaign, engine))
            return
        result = submit_campaign(campaign, engine=engine, launchpad_file=launchpad)
    except (SubmitError, ValueError, OSError) as err:
        fail(f"{err}")
    console.print(result)
