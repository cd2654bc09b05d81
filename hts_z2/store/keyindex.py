"""A side index of the embedded store: (material_id, model sha256) -> status, in SQLite.

montydb evaluates every query by reading every document, so asking "which of these 16
materials are stored?" once per chunk made a campaign quadratic in the store's size. This
index answers that question from an indexed SQLite table next to the store
(``keys.sqlite``), and :class:`~hts_z2.store.results.ResultStore` keeps it current on
every write, under the store's file lock.

Crash safety: before a write to the collection the index is marked dirty, after the
index row is written it is marked clean again; an index that is dirty (or missing, or
of another format) when a store opens is rebuilt from one scan of the collection. So a
process killed between the two writes never leaves an index that disagrees with the
documents: the next opening rebuilds it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

INDEX_NAME = "keys.sqlite"
FORMAT = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    material_id TEXT NOT NULL, model_sha256 TEXT NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (model_sha256, material_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class KeyIndex:
    """The status of every stored result of an embedded store, by its key.

    Parameters
    ----------
    directory : the store's directory (the index is ``directory/keys.sqlite``).
    """

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / INDEX_NAME
        self.db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        """The SQLite connection (autocommit; :meth:`transaction` groups statements)."""
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    @property
    def usable(self) -> bool:
        """Built, of this format, and not left dirty by an interrupted write."""
        return self.meta("format") == FORMAT and self.meta("clean") == "1"

    def rebuild(self, keys: Iterable[tuple[str, str, str]]) -> int:
        """Replace the index by ``(material_id, model_sha256, status)`` rows (one scan of
        the collection); returns how many."""
        rows = list(keys)
        with self.transaction():
            self.db.execute("DELETE FROM results")
            self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", rows)
            self.set_meta("format", FORMAT)
            self.set_meta("clean", "1")
        return len(rows)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around a write to the collection: the index is dirty until the block ends
        without an exception (then :meth:`put` rows are in and it is clean again)."""
        self.set_meta("clean", "0")
        yield
        self.set_meta("clean", "1")

    def put(self, material_id: str, model_sha256: str, status: str) -> None:
        """Record the status of one stored result."""
        self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                         (material_id, model_sha256, status))

    def statuses(self, model_sha256: str, material_ids: Iterable[str]) -> dict[str, str]:
        """``{material_id: status}`` of the given ids stored for this model."""
        ids = list(dict.fromkeys(material_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT material_id, status FROM results WHERE model_sha256 = ? "
                f"AND material_id IN ({marks})", (model_sha256, *chunk))
            out.update(dict(rows.fetchall()))
        return out

    def count(self) -> int:
        """Results in the index."""
        return int(self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
