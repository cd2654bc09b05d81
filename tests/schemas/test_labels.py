"""Z2Label: parse, format, compare, and its use as a pydantic field."""

import pytest
from pydantic import BaseModel

from hts_z2.schemas.labels import Label, Z2Label, is_topological, label_class


@pytest.mark.parametrize(
    "text",
    ["STI (1;000)", "STI (1;111)", "WTI (0;001)", "WTI (0;110)", "trivial (0;000)",
     "insulator", "metal", "semimetal", "undefined"],
)
def test_every_label_round_trips_through_its_text(text):
    assert str(Z2Label.parse(text)) == text
    assert Z2Label.parse(f"  {text} ") == Z2Label.parse(text)


@pytest.mark.parametrize(
    "text",
    ["STI (0;000)", "WTI (0;000)", "trivial (1;000)", "trivial (0;001)", "STI (1;00)",
     "STI(1;000)", "TI", "", "sti (1;000)", "metal (0;000)"],
)
def test_inconsistent_or_malformed_labels_are_refused(text):
    with pytest.raises(ValueError, match=r"Z2 label|indices"):
        Z2Label.parse(text)


def test_indices_decide_the_kind():
    assert Z2Label.from_indices(1, (0, 0, 0)).kind == "STI"
    assert Z2Label.from_indices(0, [1, 0, 0]).kind == "WTI"
    assert Z2Label.from_indices(0, (0, 0, 0)) == "trivial (0;000)"
    with pytest.raises(ValueError):
        Z2Label("STI", 0, (0, 0, 0))
    with pytest.raises(ValueError):
        Z2Label("metal", 0, (0, 0, 0))
    with pytest.raises(ValueError):
        Z2Label.from_indices(2, (0, 0, 0))


def test_classes_treat_metals_and_semimetals_alike():
    assert label_class("semimetal") == label_class("metal") == "gapless"
    assert label_class("STI (1;000)") == "STI (1;000)" and label_class(None) is None
    assert Z2Label.parse("STI (1;000)").same_class("STI (1;000)")
    assert not Z2Label.parse("STI (1;000)").same_class("STI (1;111)")
    assert Z2Label.parse("metal").same_class(None) is None
    assert is_topological("WTI (0;001)") and not is_topological("trivial (0;000)")
    assert not is_topological(None) and not is_topological("metal")


def test_labels_hash_and_sort_topological_first():
    labels = {Z2Label.parse("STI (1;000)"), Z2Label.parse("STI (1;000)"), Z2Label.parse("metal")}
    assert len(labels) == 2
    order = sorted(Z2Label.parse(t) for t in ("undefined", "metal", "insulator", "STI (1;000)",
                                              "trivial (0;000)", "WTI (0;100)"))
    assert [o.kind for o in order] == ["STI", "WTI", "trivial", "insulator", "metal",
                                       "undefined"]


def test_a_label_field_validates_text_and_serializes_to_text():
    class Doc(BaseModel):
        label: Label | None = None

    doc = Doc(label="STI (1;000)")
    assert isinstance(doc.label, Z2Label) and doc.label.nu0 == 1
    assert doc.model_dump() == {"label": "STI (1;000)"}
    assert doc.model_dump_json() == '{"label":"STI (1;000)"}'
    assert Doc.model_validate_json(doc.model_dump_json()) == doc
    assert Doc(label=None).label is None
    with pytest.raises(ValueError, match="not a Z2 label"):
        Doc(label="STI")
    schema = Doc.model_json_schema()
    assert "STI (1;000)" in str(schema)
