"""The label of record of training samples: the plane-wave PBE+SOC label of their parent.

A training sample ``"<parent>/<variant>"`` (or a parent itself) inherits the committed
plane-wave label of its parent compound when it keeps the parent's composition (the
parent, its strains and rattles). Element substitutions are other compounds: they get
none. A sample whose LCAO-dzp reference label (the training target's own label) disagrees
with its label of record is marked, so that its labels can be weighed accordingly.

Labels compare by class: ``semimetal`` and ``metal`` are both gapless (the LCAO reference
calls every gapless structure ``metal``), Z2 labels compare as strings.
"""

from __future__ import annotations

from hts_z2.schemas.training import LabelOfRecord

GAPLESS = ("semimetal", "metal")


def parent_of(sample_id: str) -> str:
    """The parent compound id of a sample id (``"Bi2Se3-R-3m/rattle-s0.05-0"`` ->
    ``"Bi2Se3-R-3m"``)."""
    return sample_id.split("/", 1)[0]


def label_class(label: str | None) -> str | None:
    """``"gapless"`` for metals and semimetals, the label itself for Z2 labels."""
    if label is None:
        return None
    return "gapless" if label.split(" ")[0] in GAPLESS else label


def _text(label: object) -> str | None:
    """A label as its text (a stored result's label may be a ``Z2Label`` value)."""
    return None if label is None else str(label)


def same_class(a: str | None, b: str | None) -> bool | None:
    """Whether two labels agree by class (None when either is missing)."""
    if a is None or b is None:
        return None
    return label_class(a) == label_class(b)


SampleRecord = LabelOfRecord
"""A sample's label of record and how its own reference label compares (the document
``split.json`` stores per sample)."""


def sample_records(
    formulas: dict[str, str], lcao: dict[str, str], results: dict | None = None
) -> dict[str, LabelOfRecord]:
    """Label of record of each sample.

    Parameters
    ----------
    formulas : sample id -> reduced formula of the sample.
    lcao : sample id -> its LCAO reference label (``?`` when unknown).
    results : parent id -> :class:`~hts_z2.schemas.dft.DftResult` (default: the committed
        label of record of the embedded set).
    """
    if results is None:
        from hts_z2.reference.planewave.record import load_results

        results = load_results()
    out = {}
    for sid, formula in formulas.items():
        parent = parent_of(sid)
        result = results.get(parent)
        label = sensitive = None
        if result is not None and result.status == "done" and result.formula == formula:
            label, sensitive = _text(result.label), result.pbe_sensitive
        own = lcao.get(sid)
        own = None if own in (None, "?") else own
        disagrees = same_class(own, label)
        out[sid] = LabelOfRecord(
            parent=parent,
            label=label,
            pbe_sensitive=sensitive,
            lcao_label=own,
            lcao_disagrees=None if disagrees is None else not disagrees,
        )
    return out
