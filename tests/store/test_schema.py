"""The database/ files are generated from the code and must stay current."""

import json
from pathlib import Path

from hts_z2.store.results import INDEXES
from hts_z2.store.schema import COLLECTION, ModelRef, ResultDoc, Z2Doc, json_schema

DATABASE = Path(__file__).resolve().parents[2] / "database"


def test_schema_file_is_current():
    stored = json.loads((DATABASE / "z2_results.schema.json").read_text())
    assert stored == json.loads(json.dumps(json_schema()))


def test_index_file_is_current():
    stored = json.loads((DATABASE / "indexes.json").read_text())
    assert stored["collection"] == COLLECTION
    assert stored["indexes"] == [{"keys": dict(k), **o} for k, o in INDEXES]
    assert stored["indexes"][0] == {
        "keys": {"material_id": 1, "model.sha256": 1}, "unique": True, "name": "material_model"
    }


def test_nan_gap_becomes_null():
    doc = ResultDoc(material_id="a", source="demo", model=ModelRef(name="m", sha256="x"),
                    status="done", z2=Z2Doc(label="undefined", min_plane_gap=float("nan")))
    assert doc.z2.min_plane_gap is None
    assert doc.key() == {"material_id": "a", "model.sha256": "x"}


def test_dft_files_are_current():
    from hts_z2.schemas.dft import DFT_COLLECTION, dft_json_schema
    from hts_z2.store.dft import DFT_INDEXES

    stored = json.loads((DATABASE / "dft_results.schema.json").read_text())
    assert stored == json.loads(json.dumps(dft_json_schema()))
    indexes = json.loads((DATABASE / "dft_indexes.json").read_text())
    assert indexes["collection"] == DFT_COLLECTION
    assert indexes["indexes"] == [{"keys": dict(k), **o} for k, o in DFT_INDEXES]
