"""Result documents and the result store (MongoDB, or embedded montydb by default)."""

from hts_z2.store.results import (
    INDEXES,
    ResultStore,
    StoreFaultError,
    StoreUnavailableError,
    open_store,
)
from hts_z2.store.schema import COLLECTION, GapDoc, ModelRef, ResultDoc, Z2Doc
from hts_z2.store.uri import ENV_DB, default_store_dir, mask

__all__ = [
    "COLLECTION",
    "ENV_DB",
    "INDEXES",
    "GapDoc",
    "ModelRef",
    "ResultDoc",
    "ResultStore",
    "StoreFaultError",
    "StoreUnavailableError",
    "Z2Doc",
    "default_store_dir",
    "mask",
    "open_store",
]
