"""Score a registered model's recorded labels against the label of record.

A model card lists, per test and validation sample, the LCAO reference label and the label
the model predicted. This module re-scores those predictions against the plane-wave
PBE+SOC label of record of each sample's parent (rattles and strains share it,
substitutions are other compounds and have none) without recomputing anything, and writes
the result as a section of the card::

    python -m hts_z2.training.rescore models/hts-z2-soc-v5.1 [--write]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from hts_z2.training.record_labels import parent_of, same_class

SECTION = "## Labels against the label of record"


@dataclass(frozen=True)
class Scored:
    split: str
    sample_id: str
    reference: str
    predicted: str
    record: str | None


def card_rows(text: str) -> list[Scored]:
    """(split, sample, LCAO reference label, predicted label) rows of a card's tables."""
    rows, split = [], None
    for line in text.splitlines():
        if line.startswith("| test sample"):
            split = "test"
            continue
        if line.startswith("| validation sample"):
            split = "val"
            continue
        if split is None or line.startswith("|---"):
            continue
        if not line.startswith("|"):
            split = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        reference, predicted = (cells[-3], cells[-2]) if split == "test" and len(cells) >= 12 \
            else (cells[-2], cells[-1])
        rows.append(Scored(split, cells[0], reference, predicted, None))
    return rows


def with_record(rows: list[Scored], results: dict | None = None) -> list[Scored]:
    """Attach the parent's label of record (same composition only)."""
    if results is None:
        from hts_z2.reference.planewave.record import load_results

        results = load_results()
    out = []
    for r in rows:
        parent = results.get(parent_of(r.sample_id))
        label = None
        if parent is not None and parent.status == "done" and "/sub-" not in r.sample_id:
            label = None if parent.label is None else str(parent.label)
        out.append(Scored(r.split, r.sample_id, r.reference, r.predicted, label))
    return out


def section(rows: list[Scored]) -> str:
    """The card section: counts per split and every sample that has a label of record."""
    lines = [SECTION, "Predicted labels scored against the plane-wave PBE+SOC label of record of "
             "each sample's parent (`hts-z2 dft`, docs/label_of_record.md; rattles and "
             "strains share their parent's label, substitutions have none; metal and "
             "semimetal count as one class). Written by `python -m hts_z2.training.rescore`.",
             ""]
    for split, name in (("test", "test"), ("val", "validation")):
        scored = [r for r in rows if r.split == split and r.record is not None]
        if not scored:
            continue
        model = sum(bool(same_class(r.predicted, r.record)) for r in scored)
        lcao = sum(bool(same_class(r.reference, r.record)) for r in scored)
        lines.append(
            f"- {name}: the model agrees with the label of record on **{model} / "
            f"{len(scored)}** samples that have one; the LCAO reference it learned from on "
            f"{lcao} / {len(scored)}."
        )
    lines += ["", "| sample | label of record | LCAO reference | predicted |", "|---|---|---|---|"]
    for r in rows:
        if r.record is not None:
            lines.append(f"| {r.sample_id} | {r.record} | {r.reference} | {r.predicted} |")
    return "\n".join(lines) + "\n"


def rescore_card(model_dir: str | Path, write: bool = False) -> str:
    """The section for ``model_dir/card.md``; with ``write`` it replaces (or is appended
    as) the card's section of that name."""
    path = Path(model_dir) / "card.md"
    text = path.read_text()
    new = section(with_record(card_rows(text)))
    if write:
        if SECTION in text:
            head, _, rest = text.partition(SECTION)
            tail = rest.split("\n## ", 1)
            text = head + new + ("\n## " + tail[1] if len(tail) > 1 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + new
        path.write_text(text)
    return new


if __name__ == "__main__":
    args = sys.argv[1:]
    print(rescore_card(args[0], write="--write" in args))
