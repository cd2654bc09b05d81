"""Where results go: a ``mongodb://`` URI, a directory, or the default embedded store."""

from __future__ import annotations

import os
import re
from pathlib import Path

ENV_DB = "HTS_Z2_DB"
"""Environment variable naming the default store (URI or directory)."""
_PASSWORD = re.compile(r"(mongodb(?:\+srv)?://[^:/@]+:)([^@]*)(@)")


def is_mongo_uri(location: str) -> bool:
    """True for ``mongodb://`` and ``mongodb+srv://`` URIs."""
    return location.startswith(("mongodb://", "mongodb+srv://"))


def mask(text: str) -> str:
    """``text`` with any password in a MongoDB URI replaced by ``***``."""
    return _PASSWORD.sub(r"\1***\3", text)


def default_store_dir() -> Path:
    """The user's data directory for the embedded store (``.../hts-z2/store``)."""
    try:
        from platformdirs import user_data_dir

        return Path(user_data_dir("hts-z2", appauthor=False)) / "store"
    except ImportError:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        return Path(base) / "hts-z2" / "store"


def resolve_location(location: str | os.PathLike | None = None) -> str:
    """The explicit location, else ``$HTS_Z2_DB``, else :func:`default_store_dir`."""
    if location:
        return str(location)
    return os.environ.get(ENV_DB) or str(default_store_dir())


def database_from_uri(uri: str, default: str = "hts_z2") -> str:
    """The database named in the URI path (``mongodb://host/<db>?...``), else ``default``."""
    rest = uri.split("://", 1)[1]
    _, _, path = rest.partition("/")
    name = path.split("?", 1)[0]
    return name or default
