"""The result store against a real MongoDB wire-protocol server (mongoeco)."""

import socket
import time

import pytest
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from hts_z2.store import ModelRef, ResultDoc, StoreUnavailableError, open_store
from hts_z2.store.uri import database_from_uri, mask

MODEL = ModelRef(name="toy", sha256="ab" * 32)


def docs(n, status="done"):
    return [
        ResultDoc(
            material_id=f"m{i}", source="demo", model=MODEL, status=status,
            label="STI (1;000)" if i == 0 else "trivial (0;000)", elements=["Bi", "Se"],
        )
        for i in range(n)
    ]


def test_round_trip_and_unique_index(mongo_uri):
    with open_store(mongo_uri) as store:
        assert store.is_mongo
        store.upsert(docs(3))
        got = list(store.find({"label": {"$regex": "^STI"}}))
        assert [d["material_id"] for d in got] == ["m0"]
        assert got[0]["model"] == MODEL.model_dump()
        indexes = store.collection.index_information()
        assert indexes["material_model"]["unique"]
    client = MongoClient(mongo_uri)
    coll = client[database_from_uri(mongo_uri)]["z2_results"]
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"material_id": "m0", "model": {"sha256": MODEL.sha256}})
    client.close()


def test_upsert_twice_no_duplicates(mongo_uri):
    with open_store(mongo_uri) as store:
        store.upsert(docs(3))
        assert store.upsert(docs(3, status="failed")) == 0  # never replaces a result
        assert store.existing(MODEL.sha256, ["m0", "m9"]) == {"m0": "done"}
        assert store.upsert(docs(3, status="failed"), recompute=True) == 3
        assert store.count() == 3
        assert store.duplicates() == 0
        assert store.existing(MODEL.sha256, ["m0", "m9"]) == {"m0": "failed"}
        other = docs(1)[0].model_copy(update={"model": ModelRef(name="x", sha256="cd" * 32)})
        store.upsert([other])
        assert store.count() == 4
        assert store.stats()["status"] == {"failed": 3, "done": 1}


def test_maggma_mongostore_round_trip(mongo_uri):
    from maggma.stores import MongoStore

    store = MongoStore(
        database=database_from_uri(mongo_uri), collection_name="maggma_rt", uri=mongo_uri,
        key="material_id",
    )
    store.connect()
    store.update([{"material_id": "a", "x": 1}, {"material_id": "b", "x": 2}])
    store.update([{"material_id": "a", "x": 3}])
    assert store.count() == 2
    assert store.query_one({"material_id": "a"})["x"] == 3
    store.close()


def test_unreachable_database_clear_error_after_bounded_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = f"mongodb://user:s3cret@127.0.0.1:{port}/db"
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailableError) as info:
        open_store(uri, retries=2, retry_delay=0.05, timeout_ms=200)
    assert time.monotonic() - t0 < 10
    message = str(info.value)
    assert "after 2 attempt(s)" in message
    assert "s3cret" not in message and "user:***@" in message


def test_mask():
    assert mask("mongodb://a:b@h/x") == "mongodb://a:***@h/x"
    assert mask("mongodb+srv://a:p%40ss@h") == "mongodb+srv://a:***@h"
    assert mask("mongodb://h:27017/x") == "mongodb://h:27017/x"
    assert mask("cannot reach mongodb://u:p@ss@h:1/x?w=1 now") == \
        "cannot reach mongodb://u:***@h:1/x?w=1 now"  # an unescaped @ in the password
    masked = mask("mongodb://h/x?tls=true&tlsCertificateKeyFilePassword=k3y&authSource=a")
    assert "k3y" not in masked and "tlsCertificateKeyFilePassword=***&authSource=a" in masked
    assert mask("mongodb://u@h/x") == "mongodb://u@h/x"  # no password, nothing to hide
    assert mask("'mongodb://a:b@h'") == "'mongodb://a:***@h'"
