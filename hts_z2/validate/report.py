"""Validation reports: JSON, a rich terminal table, Markdown and HTML."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hts_z2.validate.compare import Entry, Summary
from hts_z2.validate.reference import CLASSES


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def _flag(x: bool | None) -> str:
    return {True: "yes", False: "no", None: "n/a"}[x]


def entry_dict(e: Entry, plot: Path | None = None) -> dict:
    """JSON form of one entry."""
    ref, ours, match = e.reference, e.ours, e.match
    return {
        "reference": ref.key,
        "key_kind": ref.key_kind,
        "tool": ref.tool,
        "source": ref.source,
        "material_id": None if match.doc is None else match.doc.get("material_id"),
        "matched_by": match.how,
        "status": "ok" if e.ok else "error",
        "errors": e.errors,
        "warnings": e.warnings,
        "reference_label": ref.label,
        "reference_class": e.reference_class,
        "reference_indices": ref.indices,
        "reference_planes": None if ref.planes is None else list(ref.planes),
        "reference_converged": ref.converged,
        "ours": None
        if ours is None
        else {
            "status": ours.status,
            "label": ours.label,
            "class": e.our_class,
            "planes": None if ours.planes is None else list(ours.planes),
            "gap": ours.gap,
            "min_plane_gap": ours.min_plane_gap,
            "converged": ours.converged,
            "model": ours.model,
            "label_in_reference_cell": e.ours_label_in_reference_cell,
        },
        "cell": {
            "relation": match.cell,
            "transform": None if match.transform is None else match.transform.tolist(),
        },
        "agree_nu0": e.agree_nu0,
        "agree_full": e.agree_full,
        "plot": None if plot is None else str(plot),
    }


def to_json(entries: list[Entry], summary: Summary, plots: dict[int, Path] | None = None) -> dict:
    """The whole report as a JSON-serializable dict."""
    plots = plots or {}
    return {
        "n_reference": summary.n_reference,
        "n_matched": summary.n_matched,
        "n_compared": summary.n_compared,
        "n_agree_full": summary.n_agree_full,
        "n_agree_nu0": summary.n_agree_nu0,
        "agreement_full": summary.agreement("full"),
        "agreement_nu0": summary.agreement("nu0"),
        "n_cautioned": summary.n_cautioned,
        "n_agree_full_cautioned": summary.n_agree_full_cautioned,
        "classes": list(CLASSES),
        "confusion": summary.confusion,
        "entries": [entry_dict(e, plots.get(i)) for i, e in enumerate(entries)],
    }


def _row(e: Entry) -> list[str]:
    ours = e.ours
    note = "; ".join(e.errors) if e.errors else "; ".join(e.warnings)
    moved = e.ours_label_in_reference_cell
    if (not e.errors and e.match.cell == "transformed" and ours is not None and moved
            and moved != ours.label):
        note = "; ".join(x for x in (f"ours in the reference's cell: {moved} (weak indices "
                                     "follow the lattice vectors)", note) if x)
    return [
        e.reference.key,
        e.reference.tool,
        e.reference.label,
        "-" if ours is None else ours.label,
        "-" if ours is None else _num(ours.gap),
        "-" if ours is None else _num(ours.min_plane_gap),
        "-" if ours is None else _flag(ours.converged),
        e.match.cell,
        "ERROR" if e.errors else _flag(e.agree_nu0),
        "ERROR" if e.errors else _flag(e.agree_full),
        note,
    ]


HEADER = [
    "reference",
    "tool",
    "reference Z2",
    "ours",
    "gap (eV)",
    "min plane gap",
    "converged",
    "cell",
    "nu0 agrees",
    "full agrees",
    "notes",
]


def _summary_lines(summary: Summary) -> list[str]:
    lines = [
        f"references: {summary.n_reference}, matched: {summary.n_matched}, "
        f"compared: {summary.n_compared}",
        f"agree on nu0: {summary.n_agree_nu0} ({summary.agreement('nu0'):.0%}), "
        f"on (nu0;nu1nu2nu3): {summary.n_agree_full} ({summary.agreement('full'):.0%})",
    ]
    if summary.n_cautioned:
        rest = summary.n_compared - summary.n_cautioned
        lines.append(
            f"with a caution (gap below the model's band error, or environments outside its "
            f"training domain): {summary.n_cautioned} "
            f"compared, {summary.n_agree_full_cautioned} agree on (nu0;nu1nu2nu3); without: "
            f"{rest} compared, {summary.n_agree_full - summary.n_agree_full_cautioned} agree"
        )
    return lines


def print_table(entries: list[Entry], summary: Summary, console: Console) -> None:
    """Per-material table, confusion matrix and summary on the terminal."""
    table = Table(title="Z2 validation: stored results vs reference")
    for name in HEADER:
        table.add_column(name, overflow="fold")
    for e in entries:
        table.add_row(*_row(e), style="red" if e.errors else None)
    console.print(table)
    confusion = Table(title="Confusion matrix (rows: reference, columns: ours)")
    confusion.add_column("")
    for c in CLASSES:
        confusion.add_column(c)
    for r in CLASSES:
        confusion.add_row(r, *(str(summary.confusion[r][c]) for c in CLASSES))
    console.print(confusion)
    for line in _summary_lines(summary):
        console.print(line)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(
    entries: list[Entry], summary: Summary, plots: dict[int, Path] | None = None
) -> str:
    """Markdown report; plots are linked relative to where the report is written."""
    plots = plots or {}
    out = ["# Z2 validation", "", *[f"- {line}" for line in _summary_lines(summary)], ""]
    out += ["## Confusion matrix (rows: reference, columns: ours)", ""]
    out += ["| | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    for r in CLASSES:
        out.append(f"| {r} | " + " | ".join(str(summary.confusion[r][c]) for c in CLASSES) + " |")
    out += ["", "## Materials", "", "| " + " | ".join(HEADER) + " |"]
    out.append("|---" * len(HEADER) + "|")
    out += ["| " + " | ".join(_md_escape(c) for c in _row(e)) + " |" for e in entries]
    if plots:
        out += ["", "## Wannier charge centres", ""]
        for i, path in plots.items():
            out += [
                f"### {entries[i].reference.key}",
                "",
                f"![WCC {entries[i].reference.key}]({path.as_posix()})",
                "",
            ]
    return "\n".join(out) + "\n"


def to_html(entries: list[Entry], summary: Summary, plots: dict[int, Path] | None = None) -> str:
    """Self-contained HTML report (plots embedded as PNG data)."""
    plots = plots or {}
    esc = html.escape
    rows = "".join(
        "<tr"
        + (' class="error"' if e.errors else "")
        + ">"
        + "".join(f"<td>{esc(c)}</td>" for c in _row(e))
        + "</tr>"
        for e in entries
    )
    confusion = "".join(
        f"<tr><th>{r}</th>"
        + "".join(f"<td>{summary.confusion[r][c]}</td>" for c in CLASSES)
        + "</tr>"
        for r in CLASSES
    )
    images = ""
    for i, path in plots.items():
        data = base64.b64encode(Path(path).read_bytes()).decode()
        images += (
            f"<h3>{esc(entries[i].reference.key)}</h3><img src='data:image/png;base64,{data}'>"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Z2 validation</title>"
        "<style>td,th{border:1px solid #ccc;padding:2px 6px}table{border-collapse:collapse}"
        ".error{color:#b00}</style></head><body><h1>Z2 validation</h1>"
        + "".join(f"<p>{esc(line)}</p>" for line in _summary_lines(summary))
        + "<h2>Confusion matrix (rows: reference, columns: ours)</h2><table><tr><th></th>"
        + "".join(f"<th>{c}</th>" for c in CLASSES)
        + f"</tr>{confusion}</table>"
        + "<h2>Materials</h2><table><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in HEADER)
        + f"</tr>{rows}</table>{images}</body></html>\n"
    )
