"""The result store reaches its database through public APIs only (maggma's ``Store``
methods, and the drivers' own clients in :mod:`hts_z2.store.driver`), and behaves the same
on the embedded montydb store and on a real MongoDB server (mongoeco)."""

import ast
from pathlib import Path

import pytest

from hts_z2.store import ModelRef, ResultDoc, open_store
from hts_z2.store import driver as driver_module

STORE = Path(__file__).resolve().parents[2] / "hts_z2" / "store"
MODEL = ModelRef(name="toy", sha256="ef" * 32)


def test_no_private_attribute_access_in_store():
    """No ``obj._name`` anywhere in ``hts_z2/store`` (dunders such as ``__name__`` aside)."""
    found = []
    for path in sorted(STORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not (
                    node.attr.startswith("__") and node.attr.endswith("__")):
                found.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert not found, "private attribute access:\n" + "\n".join(found)


def test_driver_refuses_a_store_it_cannot_reopen():
    from maggma.stores import MemoryStore

    with pytest.raises(TypeError, match="MemoryStore"):
        driver_module.open_driver(MemoryStore("x"))


@pytest.fixture(params=["monty", "mongo"])
def location(request, tmp_path):
    if request.param == "monty":
        return str(tmp_path / "store")
    return request.getfixturevalue("mongo_uri")


def doc(material_id, status="done", **extra):
    return ResultDoc(material_id=material_id, source="demo", model=MODEL, status=status,
                     **extra)


def test_reads_writes_and_close(location):
    store = open_store(location)
    with store:
        assert store.collection.name == "z2_results"
        assert store.upsert([doc("b", label="trivial (0;000)"), doc("a", label="STI (1;000)"),
                             doc("c", status="skipped", reason="too large")]) == 3
        assert store.upsert([doc("a", status="failed")]) == 0  # never replaces a result
        assert store.count() == 3 and store.count({"status": "done"}) == 2
        got = list(store.find(sort=[("material_id", -1)], limit=2,
                              projection={"material_id": 1, "label": 1}))
        assert got == [{"material_id": "c", "label": None},
                       {"material_id": "b", "label": "trivial (0;000)"}]
        assert [d["material_id"] for d in store.find({"status": "done"},
                                                     sort=[("material_id", 1)])] == ["a", "b"]
        assert store.lacking(MODEL.sha256, ["a", "b", "c"], "caution") == {"a", "b"}
        before = next(store.find({"material_id": "a"}))["last_updated"]
        store.set_fields(MODEL.sha256, "a", {"caution": "small gap"})
        (a,) = store.find({"material_id": "a"})
        assert a["caution"] == "small gap" and a["label"] == "STI (1;000)"
        assert a["last_updated"] >= before.replace(tzinfo=a["last_updated"].tzinfo)
        assert store.lacking(MODEL.sha256, ["a", "b"], "caution") == {"b"}
        assert store.count() == 3 and store.duplicates() == 0
    assert store.collection is None  # the driver's client is closed with the store
    with open_store(location) as again:  # what was written is there for a new client
        assert again.existing(MODEL.sha256, ["a", "b", "c", "d"]) == {
            "a": "done", "b": "done", "c": "skipped"}
