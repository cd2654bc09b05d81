"""Shared pieces of the command-line interface that import nothing heavy."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn


def progress_columns() -> tuple:
    """A fresh set of progress-bar columns (a column instance serves one display)."""
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
    )
