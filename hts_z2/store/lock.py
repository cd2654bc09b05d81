"""An exclusive inter-process lock on a file (POSIX ``flock``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: callers run one writer at a time
    fcntl = None


@contextlib.contextmanager
def file_lock(path: str | Path, optional: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    ``optional``: when the lock file cannot be opened (a read-only directory), run the
    block without it instead of raising (readers need no lock; writes there fail anyway).
    """
    if fcntl is None:
        yield
        return
    try:
        handle = open(path, "a+b")
    except OSError:
        if not optional:
            raise
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
