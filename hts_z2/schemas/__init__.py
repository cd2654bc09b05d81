"""Typed documents passed between stages and stored (pydantic, with described fields)."""

from hts_z2.schemas.dft import (
    DFT_COLLECTION,
    Confirmation,
    DftGap,
    DftResult,
    DftZ2,
    Sensitivity,
    TrimParityDoc,
    WilsonPlaneDoc,
)

__all__ = [
    "DFT_COLLECTION",
    "Confirmation",
    "DftGap",
    "DftResult",
    "DftZ2",
    "Sensitivity",
    "TrimParityDoc",
    "WilsonPlaneDoc",
]
