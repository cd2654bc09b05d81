"""``hts-z2 validate``: compare stored Z2 results with Wilson-loop reference results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

from hts_z2.cli.console import fail, get_console
from hts_z2.validate import ResultsError, compare, load_references, load_results
from hts_z2.validate.compare import Entry
from hts_z2.validate.report import print_table, to_html, to_json, to_markdown

FORMATS = ("table", "json", "md", "html")


def _for_model(docs: list[dict], model: str | None) -> list[dict]:
    if model is None:
        return docs
    out = []
    for d in docs:
        m = d.get("model") or {}
        if m.get("name") == model or str(m.get("sha256", "")).startswith(model):
            out.append(d)
    return out


def _plots(entries: list[Entry], directory: Path, hamiltonians: Path | None) -> dict[int, Path]:
    """Write one WCC plot per entry that has reference WCCs or a Hamiltonian of ours."""
    from hts_z2.hamiltonian.formats import read_hamiltonian
    from hts_z2.validate.plots import find_hamiltonian, our_wcc, plot_material

    out = {}
    for i, e in enumerate(entries):
        ours = None
        if hamiltonians is not None and e.ours is not None:
            path = find_hamiltonian(hamiltonians, e.ours.material_id)
            if path is not None:
                try:
                    ours = our_wcc(read_hamiltonian(path))
                except ValueError as err:
                    e.warnings.append(f"{path}: Hamiltonian not usable for the plot ({err})")
        if ours is None and not e.reference.wcc:
            continue
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in e.reference.key)
        out[i] = plot_material(e, directory / f"{i:03d}_{name}.png", ours)
    return out


def validate(
    references: list[Path] = typer.Argument(
        None,
        help="reference tables (.csv/.json), material directories (Z2Pack, WannierTools or "
        "pyatb output) or directories of material directories",
        show_default=False,
    ),
    confirmations: bool = typer.Option(
        False, "--confirmations", help="also use the stored first-principles confirmations "
        "of the results as references (plane-wave label of record)"
    ),
    db: str = typer.Option(
        None, "--db", help="result store URI or directory (default: the embedded store)"
    ),
    results: Path = typer.Option(
        None, "--results", help="JSON list of result documents, instead of the store"
    ),
    model: str = typer.Option(
        None, "--model", help="compare only stored results of this model (name or sha256 prefix)"
    ),
    mapping: Path = typer.Option(
        None, "--mapping", help="mapping file: material directory name -> material id"
    ),
    fmt: str = typer.Option("table", "--format", help="table | json | md | html"),
    output: Path = typer.Option(None, "--output", "-o", help="write the report to this file"),
    plots: Path = typer.Option(
        None, "--plots", help="write per-material WCC plots (PNG) into this directory"
    ),
    hamiltonians: Path = typer.Option(
        None,
        "--hamiltonians",
        help="directory with <material_id> (DeepH) or <material_id>_hr.dat Hamiltonians: "
        "our WCCs are recomputed for the plots",
    ),
    min_agreement: float = typer.Option(
        None,
        "--min-agreement",
        min=0.0,
        max=1.0,
        help="exit with status 1 when the agreeing fraction of ALL reference entries is lower",
    ),
    agreement_on: str = typer.Option(
        "full", "--agreement-on", help="what --min-agreement counts: full | nu0"
    ),
) -> None:
    """Compare stored Z2 indices with first-principles Wilson-loop results, per material."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    if agreement_on not in ("full", "nu0"):
        raise typer.BadParameter("--agreement-on must be full or nu0")
    if not references and not confirmations:
        raise typer.BadParameter("give reference paths, --confirmations, or both")
    try:
        docs = _for_model(load_results(db, results), model)
    except ResultsError as err:
        fail(str(err), stderr=True)
    refs = load_references(references, mapping) if references else []
    if confirmations:
        from hts_z2.validate.confirmations import confirmation_references

        refs += confirmation_references(docs)
    entries, summary = compare(refs, docs)
    figures = {} if plots is None else _plots(entries, plots, hamiltonians)
    if fmt == "table" and output is None:
        print_table(entries, summary, Console(width=200))
    else:
        if output is not None and fmt == "md":
            figures = {i: Path(os.path.relpath(p, output.parent)) for i, p in figures.items()}
        text = {
            "json": lambda: json.dumps(to_json(entries, summary, figures), indent=2) + "\n",
            "md": lambda: to_markdown(entries, summary, figures),
            "html": lambda: to_html(entries, summary, figures),
            "table": lambda: to_markdown(entries, summary, figures),
        }[fmt]()
        if output is None:
            typer.echo(text, nl=False)
        else:
            try:
                output.parent.mkdir(parents=True, exist_ok=True)
                output.write_text(text)
            except OSError as err:
                fail(f"cannot write the report to {output}: {err}", stderr=True)
    fraction = summary.agreement(agreement_on)
    if min_agreement is not None and fraction < min_agreement:
        get_console(stderr=True).print(
            f"agreement ({agreement_on}) {fraction:.1%} is below --min-agreement "
            f"{min_agreement:.1%}"
        )
        raise typer.Exit(1)
