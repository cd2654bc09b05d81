"""Training samples inherit their parent's label of record; LCAO labels that disagree with
it are marked; a card's recorded predictions are re-scored against it."""

from pathlib import Path

from hts_z2.reference.planewave.settings import METHOD
from hts_z2.schemas.dft import DftResult
from hts_z2.training.record_labels import label_class, parent_of, same_class, sample_records
from hts_z2.training.rescore import card_rows, section, with_record

CARD = Path(__file__).resolve().parents[2] / "models" / "hts-z2-soc-v5.1" / "card.md"


def record(formula, label, sensitive=False):
    return DftResult(material_id="p", formula=formula, fingerprint="0" * 24, method=METHOD,
                     settings_key="k", label=label, pbe_sensitive=sensitive)


RESULTS = {
    "Bi2Se3-R-3m": record("Bi2Se3", "STI (1;000)"),
    "HgTe-F-43m": record("HgTe", "semimetal"),
    "CsPbI3-Pm-3m": record("CsPbI3", "STI (1;111)", sensitive=True),
}


def test_parent_and_label_classes():
    assert parent_of("Bi2Se3-R-3m/rattle-s0.05-0") == "Bi2Se3-R-3m"
    assert parent_of("Bi2Se3-R-3m") == "Bi2Se3-R-3m"
    assert label_class("semimetal") == label_class("metal") == "gapless"
    assert same_class("metal", "semimetal") and not same_class("metal", "STI (1;000)")
    assert same_class(None, "metal") is None


def test_samples_inherit_the_parent_label_when_they_keep_its_composition():
    formulas = {
        "Bi2Se3-R-3m": "Bi2Se3",
        "Bi2Se3-R-3m/strain+0.02": "Bi2Se3",
        "Bi2Se3-R-3m/sub-Se>Te": "Bi2Te3",
        "HgTe-F-43m": "HgTe",
        "CsPbI3-Pm-3m": "CsPbI3",
        "NaBi-P4mmm": "NaBi",
    }
    lcao = {
        "Bi2Se3-R-3m": "metal",  # the dzp teacher got Bi2Se3 wrong
        "Bi2Se3-R-3m/strain+0.02": "STI (1;000)",
        "Bi2Se3-R-3m/sub-Se>Te": "STI (1;000)",
        "HgTe-F-43m": "metal",
        "CsPbI3-Pm-3m": "STI (1;111)",
        "NaBi-P4mmm": "metal",
    }
    got = sample_records(formulas, lcao, RESULTS)
    assert got["Bi2Se3-R-3m"].label == "STI (1;000)" and got["Bi2Se3-R-3m"].lcao_disagrees
    assert got["Bi2Se3-R-3m/strain+0.02"].lcao_disagrees is False
    assert got["Bi2Se3-R-3m/sub-Se>Te"].label is None  # another compound
    assert got["Bi2Se3-R-3m/sub-Se>Te"].lcao_disagrees is None
    assert got["HgTe-F-43m"].lcao_disagrees is False  # metal = semimetal
    assert got["CsPbI3-Pm-3m"].pbe_sensitive is True
    assert got["NaBi-P4mmm"].label is None and got["NaBi-P4mmm"].parent == "NaBi-P4mmm"


def test_committed_results_give_the_embedded_parents_a_label():
    got = sample_records({"PbTe-Fm-3m": "TePb", "PbTe-Fm-3m/rattle-s0.05-0": "TePb"},
                         {"PbTe-Fm-3m": "trivial (0;000)"})
    assert got["PbTe-Fm-3m"].label == "trivial (0;000)"
    assert got["PbTe-Fm-3m/rattle-s0.05-0"].label == "trivial (0;000)"


def test_shipped_card_rows_are_rescored():
    rows = card_rows(CARD.read_text())
    assert sum(r.split == "test" for r in rows) == 32
    assert sum(r.split == "val" for r in rows) == 34
    scored = with_record(rows, RESULTS)
    bi2se3 = next(r for r in scored if r.sample_id == "Bi2Se3-R-3m")
    assert (bi2se3.reference, bi2se3.predicted, bi2se3.record) == ("metal", "STI (1;000)",
                                                                   "STI (1;000)")
    assert next(r for r in scored if r.sample_id == "Bi2Se3-R-3m/sub-Bi>Sb").record is None
    text = section(scored)
    # Bi2Se3 family in the test split: parent + 3 rattles + 2 strains have a record
    assert "test: the model agrees with the label of record on **4 / 6**" in text
    assert "the LCAO reference it learned from on 1 / 6" in text
