"""``hts-z2 dft``: the plane-wave PBE+SOC label of record of structures."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hts_z2.cli.console import fail, get_console


def _settings(**kwargs):
    from hts_z2.reference.planewave.settings import PlaneWaveSettings

    try:
        return PlaneWaveSettings(**kwargs)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


def _table(results, cached: set[int]) -> Table:
    t = Table(title="plane-wave PBE+SOC label of record", title_justify="left")
    for col in ("material", "formula", "label", "gap (eV)", "parity", "Wilson", "PBE-sens.",
                "time", "note"):
        t.add_column(col, overflow="fold")
    for i, r in enumerate(results):
        gap = "" if r.gap is None else f"{r.gap.indirect:.3f} / {r.gap.direct:.3f}"
        sens = "" if r.pbe_sensitive is None else ("yes" if r.pbe_sensitive else "no")
        note = r.reason or ""
        if r.z2_manifold is not None:
            note = f"occupied bands {r.z2_manifold.label}; " + note
        t.add_row(  # labels as text: rich renders strings, not label objects
            r.material_id,
            r.formula,
            str(r.label or r.status),
            gap,
            str(r.z2_parity.label) if r.z2_parity else "-",
            str(r.z2_wilson.label) if r.z2_wilson else "-",
            sens,
            "cached" if i in cached else f"{r.total_time:.0f} s",
            note.strip("; "),
        )
    return t


def dft(
    structures: list[str] = typer.Argument(
        ..., help="structure files (CIF, POSCAR, ...), embedded ids, or 'embedded' for all"
    ),
    json_out: bool = typer.Option(False, "--json", help="print a JSON list of the results"),
    db: str = typer.Option(
        None, "--db", help="result store (mongodb:// URI or directory; default $HTS_Z2_DB or "
        "the embedded store)"
    ),
    methods: str = typer.Option(
        "parity", help="parity (Fu–Kane parity with inversion, Wilson loops without), auto "
        "(also the Wilson-loop cross-check with inversion: 5-15x the cost), or wilson"
    ),
    ecut: float = typer.Option(350.0, help="plane-wave cutoff (eV)"),
    kpt_density: float = typer.Option(3.5, help="SCF k-points per 1/Å"),
    band_factor: float = typer.Option(
        2.0, help="scalar bands for spin–orbit coupling, as a multiple of the occupied ones"
    ),
    path_spacing: float = typer.Option(
        0.08, help="spacing of the high-symmetry path in the gap search (1/Å)"
    ),
    max_atoms: int = typer.Option(12, help="refuse larger cells"),
    recompute: bool = typer.Option(
        False, help="compute even when the store holds a finished result with these settings"
    ),
    log_dir: Path = typer.Option(None, help="write each SCF's GPAW log here"),
) -> None:
    """First-principles (GPAW plane waves, PBE, spin–orbit) gap and Z2 of structures.

    Centrosymmetric cells get Fu–Kane parities at the 8 TRIM cross-checked by Wilson loops
    on the six TRIM planes; other cells Wilson loops. Results are cached in the store by
    structure fingerprint, method and settings: nothing is computed twice.
    """
    from hts_z2.cli.reference import load_structures
    from hts_z2.reference.planewave.backend import planewave_topology
    from hts_z2.reference.planewave.settings import METHOD, TOPOLOGY_METHODS
    from hts_z2.store import StoreUnavailableError
    from hts_z2.store.dft import open_dft_store
    from hts_z2.structures.fingerprint import structure_fingerprint

    if methods not in TOPOLOGY_METHODS:
        raise typer.BadParameter(f"--methods must be one of {', '.join(TOPOLOGY_METHODS)}")
    settings = _settings(ecut=ecut, kpt_density=kpt_density, band_factor=band_factor,
                         path_spacing=path_spacing, max_atoms=max_atoms)
    try:
        entries = load_structures(structures, 0, 0)
    except (KeyError, ValueError, OSError) as err:
        fail(str(err), stderr=True)
    try:
        store = open_dft_store(db)
    except StoreUnavailableError as err:
        fail(str(err), stderr=True)
    err_console = get_console(stderr=True)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)

    results, cached = [], set()
    key = settings.key()
    with store:
        for i, (material_id, structure) in enumerate(entries):
            head = f"[{i + 1}/{len(entries)}] {material_id}"
            found = None
            if not recompute and structure.is_ordered:
                found = store.cached(structure_fingerprint(structure), METHOD, key, methods)
            if found is not None:
                err_console.print(f"{head}: cached ({found.label})")
                results.append(found)
                cached.add(i)
                continue
            t0 = time.perf_counter()
            with err_console.status(f"{head}: starting") as status:

                def stage(text: str, status=status, head=head, t0=t0) -> None:
                    line = f"{head}: {text} ({time.perf_counter() - t0:.0f} s)"
                    status.update(line)
                    if not err_console.is_terminal:  # a log file: one line per stage
                        err_console.print(line)

                txt = str(log_dir / f"{material_id.replace('/', '_')}.txt") if log_dir else None
                result = planewave_topology(structure, material_id, settings, methods,
                                            progress=stage, txt=txt)
            store.put(result)
            err_console.print(
                f"{head}: {result.label or result.status} "
                f"({result.total_time:.0f} s){': ' + result.reason if result.reason else ''}"
            )
            results.append(result)
    if json_out:
        payload = [r.model_dump(mode="json") for r in results]
        sys.stdout.write(json.dumps(payload, indent=1) + "\n")
    else:
        out = get_console()
        if not out.is_terminal:  # a log or a pipe: keep whole columns
            out = Console(width=220)
        out.print(_table(results, cached))
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)
