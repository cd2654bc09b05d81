"""The database driver's collection beside a maggma store: the one place below maggma.

The result store reads through maggma's public ``Store`` API (``connect``, ``query``,
``close``). What that API cannot express is done here, on the driver's own collection
(pymongo ``Collection`` or montydb ``MontyCollection``, which mirrors it):

* the indexes as defined (:data:`hts_z2.store.results.INDEXES`): compound, unique and
  named (``Store.ensure_index`` takes one field and names it itself);
* replace-with-upsert on a dotted key, documents stored as given (``Store.update`` reads
  each key field as a top-level ``doc["model.sha256"]`` and rewrites documents with
  ``jsanitize``), and the retry when a concurrent writer inserted the key first;
* an atomic ``$set`` of some fields of one stored document;
* exact counts (``MongoStore.count`` without a filter is ``estimated_document_count``:
  collection metadata, wrong after an unclean server shutdown);
* the server ``ping`` of a connection check, and montydb's explicit collection creation.

maggma keeps its own connection in a private attribute, so the collection is opened
here through the drivers' public clients, pymongo's ``MongoClient`` and
montydb's ``MontyClient``, on the same location with the same settings, taken from the
maggma store's public configuration attributes (``uri``, ``database``,
``collection_name``, ``mongoclient_kwargs``; ``database_path``, ``database_name``,
``storage``, ``storage_kwargs``, ``client_kwargs``): the same steps as maggma's own
``connect``. It is a second client on that location (a second connection pool for
MongoDB; montydb's SQLite storage opens a connection per operation anyway), closed with
the store (:func:`close`).
"""

from __future__ import annotations

from typing import Any


def open_driver(store: Any) -> Any:
    """A driver collection on the location of a maggma ``MongoStore`` (given by ``uri``)
    or ``MontyStore``.

    Raises
    ------
    TypeError
        Another kind of store, or a ``MongoStore`` configured without a URI.
    """
    from maggma.stores import MongoStore, MontyStore

    if isinstance(store, MontyStore):  # a subclass of MongoStore: test it first
        from montydb import MontyClient, set_storage

        if store.database_path != ":memory:":
            set_storage(store.database_path, storage=store.storage, **store.storage_kwargs)
        client = MontyClient(store.database_path, **store.client_kwargs)
        return client[store.database_name][store.collection_name]
    if isinstance(store, MongoStore) and getattr(store, "uri", None):  # not MemoryStore
        from pymongo import MongoClient

        client = MongoClient(store.uri, **store.mongoclient_kwargs)
        return client[store.database][store.collection_name]
    raise TypeError(f"no driver collection for {type(store).__name__} (a MongoStore "
                    "with a URI or a MontyStore)")


def close(collection: Any) -> None:
    """Close the client of a collection from :func:`open_driver`."""
    collection.database.client.close()


def ping(collection: Any) -> None:
    """Ask the MongoDB server for an answer (raises when there is none)."""
    collection.database.command("ping")


def ensure_exists(collection: Any) -> None:
    """Create the collection now if it does not exist (montydb: so that no reader ever
    meets its file before its table)."""
    database, name = collection.database, collection.name
    if name not in database.list_collection_names():
        database.create_collection(name)


def create_indexes(collection: Any, indexes: tuple) -> None:
    """Create index definitions ``((keys, options), ...)`` (montydb ignores them)."""
    for keys, options in indexes:
        collection.create_index(list(keys), **options)


def replace_upsert(collection: Any, key: dict[str, Any], data: dict[str, Any]) -> None:
    """Replace the document matching ``key`` by ``data``, inserting it when none does."""
    from pymongo.errors import DuplicateKeyError

    try:
        collection.replace_one(key, data, upsert=True)
    except DuplicateKeyError:  # another writer inserted the key first (MongoDB)
        collection.replace_one(key, data, upsert=False)


def insert_or_replace(collection: Any, key: dict[str, Any], doc: dict[str, Any]) -> None:
    """Insert ``doc`` (with its ``_id``); when that is refused (the ``_id`` is taken, or a
    key the insert's checks reject), replace the document matching ``key`` instead. In
    montydb an insert costs the same at any store size, a replace reads every document."""
    try:
        collection.insert_one(dict(doc))
    except Exception:
        replace_upsert(collection, key, {k: v for k, v in doc.items() if k != "_id"})


def set_fields(collection: Any, key: dict[str, Any], values: dict[str, Any]) -> None:
    """``$set`` top-level ``values`` in the document matching ``key`` (atomically)."""
    collection.update_one(key, {"$set": values})


def count(collection: Any, criteria: dict[str, Any] | None = None) -> int:
    """Exact number of documents matching ``criteria``."""
    return collection.count_documents(criteria or {})
