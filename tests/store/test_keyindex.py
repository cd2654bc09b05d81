"""The embedded store's key index: lookups without reading the documents, inserts by key,
and an index rebuilt whenever it may disagree with the documents."""

import pytest

from hts_z2.store import ModelRef, ResultDoc, open_store
from hts_z2.store import results as results_module
from hts_z2.store.keyindex import INDEX_NAME, KeyIndex

MODEL = ModelRef(name="toy", sha256="ab" * 32)


def doc(mid, status="done", **kw):
    return ResultDoc(material_id=mid, source="demo", model=MODEL, status=status, **kw)


def no_scans(monkeypatch):
    def scan(*args, **kwargs):
        raise AssertionError("the documents were scanned")

    monkeypatch.setattr(results_module, "_of_model", scan)


def test_lookups_come_from_the_index_and_new_results_are_inserted_by_key(tmp_path, monkeypatch):
    with open_store(tmp_path / "s") as store:
        assert store.keys is not None and (tmp_path / "s" / INDEX_NAME).is_file()
        no_scans(monkeypatch)
        assert store.upsert([doc("a"), doc("b", status="failed", reason="x")]) == 2
        assert store.existing(MODEL.sha256, ["a", "b", "c"]) == {"a": "done", "b": "failed"}
        assert store.upsert([doc("b")]) == 1  # failed -> done replaces, through the index
        assert store.upsert([doc("a", status="skipped", reason="y")]) == 0
        assert store.existing(MODEL.sha256, ["a", "b"]) == {"a": "done", "b": "done"}
        raw = list(store.collection.find({}, {"_id": 1, "material_id": 1}))
    assert sorted(d["_id"] for d in raw) == [f"{MODEL.sha256}/a", f"{MODEL.sha256}/b"]
    with open_store(tmp_path / "s") as store:
        assert store.count() == 2 and store.duplicates() == 0


def test_an_index_left_dirty_or_missing_is_rebuilt_from_the_documents(tmp_path):
    path = tmp_path / "s"
    with open_store(path) as store:
        store.upsert([doc("a"), doc("b", status="skipped", reason="r")])
    index = KeyIndex(path)  # a write killed between the document and its index row
    index.set_meta("clean", "0")
    index.db.execute("DELETE FROM results")
    index.close()
    with open_store(path) as store:
        assert store.existing(MODEL.sha256, ["a", "b"]) == {"a": "done", "b": "skipped"}
        assert store.upsert([doc("a", status="failed", reason="z")]) == 0  # never worse
    (path / INDEX_NAME).unlink()  # a store written before the index existed
    with open_store(path) as store:
        assert store.keys.count() == 2 and store.upsert([doc("c")]) == 1
        assert store.count() == 3 and store.duplicates() == 0


def test_a_failed_write_leaves_the_index_dirty(tmp_path, monkeypatch):
    path = tmp_path / "s"
    monkeypatch.setattr(results_module, "WRITE_RETRIES", ())
    with open_store(path) as store:
        def broken(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(results_module.driver, "insert_or_replace", broken)
        with pytest.raises(results_module.StoreFaultError, match="disk full"):
            store.upsert([doc("a")])
        assert not store.keys.usable  # rebuilt at the next opening
    monkeypatch.undo()
    with open_store(path) as store:
        assert store.keys.usable and store.existing(MODEL.sha256, ["a"]) == {}


def test_a_write_the_index_cannot_follow_falls_back_to_scanning(tmp_path):
    path = tmp_path / "s"
    with open_store(path) as store:
        store.upsert([doc("a")])
        store.replace({"material_id": "x"}, {"material_id": "x", "status": "done"})
        assert store.keys is None
        assert store.existing(MODEL.sha256, ["a"]) == {"a": "done"}
    with open_store(path) as store:  # rebuilt: the odd document has no model, not indexed
        assert store.keys.usable and store.keys.count() == 1
