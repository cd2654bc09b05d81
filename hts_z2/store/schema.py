"""The result document's names as the store uses them (defined in
:mod:`hts_z2.schemas.result`)."""

from hts_z2.schemas.result import (
    COLLECTION,
    KEY_FIELDS,
    METAL_LABEL,
    DomainDoc,
    GapDoc,
    ModelRef,
    ResultDoc,
    Z2Doc,
    json_schema,
    versions,
)

__all__ = ["COLLECTION", "KEY_FIELDS", "METAL_LABEL", "DomainDoc", "GapDoc", "ModelRef",
           "ResultDoc", "Z2Doc", "json_schema", "versions"]
