"""Where results go: a ``mongodb://`` URI, a directory, or the default embedded store."""

from __future__ import annotations

import os
import re
from pathlib import Path

ENV_DB = "HTS_Z2_DB"
"""Environment variable naming the default store (URI or directory)."""
_URI = re.compile(r"mongodb(?:\+srv)?://[^\s'\"<>]+")
_SECRET_OPTION = re.compile(r"([?&;][^=&;#]*(?:password|secret|token)[^=&;#]*=)([^&;#]*)",
                            re.IGNORECASE)


def is_mongo_uri(location: str) -> bool:
    """True for ``mongodb://`` and ``mongodb+srv://`` URIs."""
    return location.startswith(("mongodb://", "mongodb+srv://"))


def _mask_uri(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:  # userinfo ends at the last "@": an unescaped "@" in a password
        userinfo, _, hosts = authority.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        authority = f"{user}{colon}***@{hosts}" if colon else f"{user}@{hosts}"
    tail = _SECRET_OPTION.sub(r"\1***", tail)
    return f"{scheme}://{authority}{tail}"


def mask(text: str) -> str:
    """``text`` with every secret of a MongoDB URI in it replaced by ``***``: the password
    (also one with an unescaped ``@``) and options such as ``tlsCertificateKeyFilePassword``."""
    return _URI.sub(lambda m: _mask_uri(m.group(0)), text)


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
