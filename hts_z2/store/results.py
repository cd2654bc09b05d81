"""The result store: idempotent upserts keyed by (material_id, model sha256), and queries.

The same class talks to a real MongoDB (maggma ``MongoStore``) and to the embedded,
file-backed montydb store (maggma ``MontyStore``); montydb lacks bulk writes, aggregation
and unique indexes, so writes are per-document upserts on the key and statistics are
computed client-side. Everything maggma's public API cannot express goes through
:mod:`hts_z2.store.driver`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hts_z2.store import driver
from hts_z2.store.keyindex import KeyIndex
from hts_z2.store.lock import file_lock
from hts_z2.store.schema import COLLECTION, ResultDoc
from hts_z2.store.uri import ENV_DB, database_from_uri, is_mongo_uri, mask, resolve_location

INDEXES: tuple[tuple[tuple[tuple[str, int], ...], dict[str, Any]], ...] = (
    ((("material_id", 1), ("model.sha256", 1)), {"unique": True, "name": "material_model"}),
    ((("status", 1),), {"name": "status"}),
    ((("label", 1), ("gap.indirect", 1)), {"name": "label_gap"}),
    ((("elements", 1),), {"name": "elements"}),
    ((("source", 1),), {"name": "source"}),
    ((("campaign", 1),), {"name": "campaign"}),
    ((("formula", 1),), {"name": "formula"}),
    ((("confirmation.verdict", 1),), {"name": "confirmation"}),
)
"""Index definitions (mirrored in ``database/indexes.json``)."""


STATUS_RANK = {"skipped": 0, "failed": 1, "done": 2}
"""How much a stored status is worth keeping: a result is replaced only by a better one."""


def replaces(new: str, old: str) -> bool:
    """Whether a document of status ``new`` may replace a stored one of status ``old``:
    a better status, or a new reason for the same unfinished one (never a ``done`` result:
    a re-run that wants new numbers says ``recompute``)."""
    rank_new, rank_old = STATUS_RANK.get(new, 0), STATUS_RANK.get(old, 0)
    return rank_new > rank_old or (rank_new == rank_old and old != "done")


LOCK_NAME = ".hts-z2.lock"
"""The embedded store's inter-process lock file (inside its directory)."""


WRITE_RETRIES = (0.5, 2.0, 5.0)
"""Pauses (s) between attempts of a failing write before the campaign stops."""


class StoreUnavailableError(RuntimeError):
    """The database could not be reached after the bounded retries."""


class StoreFaultError(StoreUnavailableError):
    """A read or write kept failing mid-run (read-only store, server gone): what was
    stored stays."""


class ResultStore:
    """Result documents in one collection of MongoDB or montydb.

    Reads go through the maggma store's public API (``query``); what that API cannot
    express (compound unique indexes, upserts on the dotted key, ``$set``, exact counts,
    ``ping``) goes to :attr:`collection`, the driver's collection on the same location,
    opened by :mod:`hts_z2.store.driver`.

    Parameters
    ----------
    store : maggma Store
        A ``MongoStore`` (with a URI) or ``MontyStore`` (not yet connected).
    location : str
        Where it points (for messages; passwords are masked).
    retries, retry_delay : connection attempts and the pause between them (s).
    indexes : index definitions of the collection (default :data:`INDEXES`).
    """

    def __init__(
        self,
        store: Any,
        location: str,
        retries: int = 3,
        retry_delay: float = 1.0,
        indexes: tuple = INDEXES,
    ):
        self.store = store
        self.location = mask(location)
        self.raw_location = location  # for opening sibling collections; never printed
        self.is_mongo = is_mongo_uri(location)
        self.indexes = indexes
        self.lock_file: Path | None = None if self.is_mongo else Path(location) / LOCK_NAME
        """The embedded store's inter-process lock file (None for MongoDB)."""
        self.collection: Any = None
        """The driver's (pymongo or montydb) collection, for what maggma cannot express
        (:mod:`hts_z2.store.driver`); set while connected."""
        self.keys: KeyIndex | None = None
        """The embedded store's side index of stored keys and statuses
        (:mod:`hts_z2.store.keyindex`); None for MongoDB (its own indexes answer) or
        when the index cannot be opened (then queries scan)."""
        _connect(self, retries, retry_delay)

    def exclusive(self) -> contextlib.AbstractContextManager[None]:
        """Hold the embedded store's inter-process lock (no-op for MongoDB, whose unique
        index and atomic upserts already serialize writers). montydb has neither: two
        campaigns writing one directory would otherwise race at its creation ("no such
        table") and insert the same key twice. A read-only store is read without it."""
        if self.lock_file is None:
            return contextlib.nullcontext()
        return file_lock(self.lock_file, optional=True)

    def ensure_indexes(self) -> None:
        """Create the collection's indexes (montydb ignores them)."""
        driver.create_indexes(self.collection, self.indexes)

    def upsert(self, docs: Iterable[ResultDoc], recompute: bool = False) -> int:
        """Insert or replace documents on their key; returns how many were written.

        A stored result is never replaced by a worse one (:func:`replaces`: ``done`` >
        ``failed`` > ``skipped``; a ``done`` result is kept, with its confirmation) unless
        ``recompute``. The check and the write are one step for concurrent writers.
        """
        docs = list(docs)
        with self.exclusive():
            stored: dict[tuple[str, str], str] = {}
            if not recompute:
                for sha in {d.model.sha256 for d in docs}:
                    ids = [d.material_id for d in docs if d.model.sha256 == sha]
                    stored.update({(sha, m): st for m, st in self.existing(sha, ids).items()})
            keep = [d for d in docs if (d.model.sha256, d.material_id) not in stored
                    or replaces(d.status, stored[(d.model.sha256, d.material_id)])]
            for doc in keep:
                self.replace(doc.key(), doc.to_mongo())
        return len(keep)

    def replace(self, key: dict[str, Any], data: dict[str, Any]) -> None:
        """Upsert one raw document on its key (callers hold :meth:`exclusive` when the
        check before it matters). A failing write is retried with backoff
        (:data:`WRITE_RETRIES`), then :class:`StoreFaultError` names the store.

        In the embedded store a result the key index does not know is inserted under an
        ``_id`` made of its key (montydb finds a document to replace by reading every
        document, an insert by its ``_id`` alone); a known one is replaced."""
        index = self.keys
        mid, sha = data.get("material_id"), (data.get("model") or {}).get("sha256")
        keyed = key == {"material_id": mid, "model.sha256": sha} and "status" in data
        if index is None or not keyed:
            if index is not None:  # a write the index cannot follow: rebuild it next time
                index.set_meta("clean", "0")
                self.keys = None
                index.close()
            _retrying(self, lambda: driver.replace_upsert(self.collection, key, data))
            return
        with _index_faults(self):
            new = not index.statuses(sha, [mid])
            with index.writing():
                if new:
                    doc = {**data, "_id": f"{sha}/{mid}"}
                    _retrying(self, lambda: driver.insert_or_replace(self.collection, key, doc))
                else:
                    _retrying(self, lambda: driver.replace_upsert(self.collection, key, data))
                index.put(mid, sha, data["status"])

    def existing(self, model_sha256: str, material_ids: Iterable[str]) -> dict[str, str]:
        """``{material_id: status}`` of the given ids already stored for this model (from
        the key index of the embedded store: no scan of the documents)."""
        if self.keys is not None:
            return self.keys.statuses(model_sha256, material_ids)
        docs = _of_model(self, model_sha256, material_ids, {},
                         {"material_id": 1, "status": 1})
        return {d["material_id"]: d["status"] for d in docs}

    def lacking(self, model_sha256: str, material_ids: Iterable[str], field: str) -> set[str]:
        """The ids among ``material_ids`` whose ``done`` document of this model has
        ``field`` null or absent (stored before it existed)."""
        return set(self.lacking_docs(model_sha256, material_ids, field))

    def lacking_docs(
        self, model_sha256: str, material_ids: Iterable[str], field: str,
        fields: Iterable[str] = (),
    ) -> dict[str, dict[str, Any]]:
        """The ``done`` documents of this model among ``material_ids`` whose ``field`` is
        null or absent (stored before it existed), by material id, projected on ``fields``
        (the id alone by default)."""
        where = {"status": "done", field: None}
        projection = {"material_id": 1, **{f: 1 for f in fields}}
        docs = _of_model(self, model_sha256, material_ids, where, projection)
        return {d["material_id"]: d for d in docs}

    def set_fields(self, model_sha256: str, material_id: str, values: dict[str, Any]) -> None:
        """Set top-level fields of one stored document (and its ``last_updated``)."""
        from datetime import datetime, timezone

        key = {"material_id": material_id, "model.sha256": model_sha256}
        index = self.keys if "status" in values else None
        with self.exclusive(), _index_faults(self), (
                index.writing() if index else contextlib.nullcontext()):
            _retrying(self, lambda: driver.set_fields(
                self.collection, key, {**values, "last_updated": datetime.now(timezone.utc)}))
            if index is not None and index.statuses(model_sha256, [material_id]):
                index.put(material_id, model_sha256, values["status"])

    def find(
        self,
        criteria: dict[str, Any] | None = None,
        sort: list[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: dict[str, int] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored documents (without ``_id``) matching a MongoDB filter."""
        fields = {"_id": 0, **(projection or {})}
        yield from self.store.query(criteria or {}, properties=fields,
                                    sort=dict(sort) if sort else None, limit=limit)

    def count(self, criteria: dict[str, Any] | None = None) -> int:
        """Number of documents matching ``criteria`` (exact)."""
        return _retrying(self, lambda: driver.count(self.collection, criteria),
                         "reading from")

    def duplicates(self) -> int:
        """Documents beyond the first for any key (0 in a healthy store)."""
        keys = Counter(
            (d["material_id"], d["model"]["sha256"])
            for d in self.find(projection={"material_id": 1, "model.sha256": 1})
        )
        return sum(n - 1 for n in keys.values())

    def stats(self, criteria: dict[str, Any] | None = None) -> dict[str, Any]:
        """Counts by status, label, source, campaign and model."""
        counters: dict[str, Counter] = {k: Counter() for k in ("status", "label", "source")}
        counters["campaign"] = Counter()
        counters["model"] = Counter()
        total = 0
        fields = {"status": 1, "label": 1, "source": 1, "campaign": 1, "model": 1}
        for doc in self.find(criteria, projection=fields):
            total += 1
            for key in ("status", "label", "source", "campaign"):
                counters[key][str(doc.get(key))] += 1
            model = doc.get("model") or {}
            counters["model"][f"{model.get('name')} ({str(model.get('sha256'))[:12]})"] += 1
        return {"location": self.location, "total": total} | {
            k: dict(v.most_common()) for k, v in counters.items()
        }

    def close(self) -> None:
        """Close the connection (maggma's and the driver's)."""
        try:
            self.store.close()
        finally:
            if self.collection is not None:
                driver.close(self.collection)
                self.collection = None
            if self.keys is not None:
                self.keys.close()
                self.keys = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(results: ResultStore, retries: int, retry_delay: float) -> None:
    """Connect ``results`` (maggma store and driver collection), check the server, create
    the collection and its indexes; bounded attempts, then :class:`StoreUnavailableError`
    (password masked)."""
    last: Exception | None = None
    for attempt in range(max(1, retries)):
        try:
            with results.exclusive():
                results.store.connect(force_reset=attempt > 0)
                if results.collection is not None:  # an earlier attempt's client
                    driver.close(results.collection)
                results.collection = driver.open_driver(results.store)
                if results.is_mongo:
                    driver.ping(results.collection)
                else:
                    driver.ensure_exists(results.collection)
                    results.keys = _open_keys(results)
                results.ensure_indexes()
            return
        except Exception as err:
            last = err
            if attempt + 1 < retries:
                time.sleep(retry_delay)
    if results.collection is not None:
        driver.close(results.collection)
        results.collection = None
    reason = mask(str(last).splitlines()[0] if last and str(last) else repr(last))[:300]
    raise StoreUnavailableError(
        f"cannot reach the result store {results.location} after {max(1, retries)} "
        f"attempt(s): {reason}"
    )


@contextlib.contextmanager
def _index_faults(results: ResultStore) -> Iterator[None]:
    """A failing key-index write (a read-only store, a full disk) stops the run like a
    failing document write: :class:`StoreFaultError` naming the store."""
    try:
        yield
    except sqlite3.Error as err:
        raise StoreFaultError(f"writing to the result store {results.location} failed: "
                              f"{mask(str(err))[:300]}") from None


def _open_keys(results: ResultStore) -> KeyIndex | None:
    """The embedded store's key index, rebuilt from one scan of the documents when it is
    new, of another format or was left dirty by an interrupted write; None when it cannot
    be opened or built (a read-only directory): then lookups scan the documents."""
    if results.keys is not None:
        results.keys.close()
    try:
        keys = KeyIndex(results.raw_location)
        if not keys.usable:
            found = results.collection.find({}, {"material_id": 1, "model.sha256": 1,
                                                 "status": 1, "_id": 0})
            keys.rebuild((d["material_id"], d["model"]["sha256"], d["status"]) for d in found
                         if d.get("material_id") and (d.get("model") or {}).get("sha256"))
        return keys
    except (sqlite3.Error, OSError):
        return None


def _retrying(results: ResultStore, action: Any, what: str = "writing to") -> Any:
    """``action()``, retried with backoff (:data:`WRITE_RETRIES`); then
    :class:`StoreFaultError` naming the store."""
    for attempt, pause in enumerate((*WRITE_RETRIES, None)):
        try:
            return action()
        except Exception as err:
            if pause is None:
                reason = mask(str(err).splitlines()[0] if str(err) else repr(err))[:300]
                raise StoreFaultError(
                    f"{what} the result store {results.location} failed after "
                    f"{attempt + 1} attempt(s): {reason}") from None
            time.sleep(pause)
    return None


def _of_model(
    results: ResultStore, model_sha256: str, material_ids: Iterable[str], where: dict,
    fields: dict,
) -> Iterator[dict[str, Any]]:
    """Documents of this model among ``material_ids`` matching ``where`` (in chunks of 500
    ids), projected on ``fields``."""
    ids = list(material_ids)
    for start in range(0, len(ids), 500):
        chunk = {"model.sha256": model_sha256, "material_id": {"$in": ids[start : start + 500]}}
        yield from _retrying(
            results,
            lambda q={**chunk, **where}: list(results.find(q, projection=fields)),
            "reading from")


def open_store(
    location: str | Path | None = None,
    collection: str = COLLECTION,
    database: str | None = None,
    retries: int = 3,
    retry_delay: float = 1.0,
    timeout_ms: int = 5000,
    indexes: tuple = INDEXES,
    create: bool = True,
) -> ResultStore:
    """Open (and index) the result store.

    Parameters
    ----------
    location : ``mongodb://...`` URI or a directory; default ``$HTS_Z2_DB`` or the user's
        data directory (embedded montydb store).
    collection : collection name (``z2_results``).
    database : database name; default the URI's path or ``hts_z2``.
    retries, retry_delay : bounded connection attempts and pause (s) between them.
    timeout_ms : MongoDB server-selection and connect timeout per attempt.
    indexes : index definitions (default those of ``z2_results``).
    create : make the embedded store's directory when it does not exist (False: readers
        such as ``hts-z2 query`` refuse a directory that is not there, e.g. a mistyped
        ``--db``).

    Raises
    ------
    StoreUnavailableError
        When the database cannot be reached (or, with ``create=False``, an embedded store
        directory does not exist); the message masks any password.
    """
    where = resolve_location(location)
    if is_mongo_uri(where):
        from maggma.stores import MongoStore

        kwargs = {
            "serverSelectionTimeoutMS": timeout_ms,
            "connectTimeoutMS": timeout_ms,
            "socketTimeoutMS": max(timeout_ms * 6, 30000),
        }
        store = MongoStore(
            database=database or database_from_uri(where),
            collection_name=collection,
            uri=where,
            mongoclient_kwargs=kwargs,
            key="material_id",
        )
    else:
        from maggma.stores import MontyStore

        if not create and not Path(where).is_dir():
            raise StoreUnavailableError(
                f"no result store at {where} (check --db / ${ENV_DB}; `hts-z2 screen` "
                "creates one)")
        Path(where).mkdir(parents=True, exist_ok=True)
        store = MontyStore(
            collection,
            database_path=str(where),
            database_name=database or "hts_z2",
            key="material_id",
        )
    return ResultStore(store, where, retries=retries, retry_delay=retry_delay, indexes=indexes)
