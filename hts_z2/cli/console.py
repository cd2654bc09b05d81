"""Shared pieces of the command-line interface that import nothing heavy."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
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


_STDOUT = Console()
_STDERR = Console(stderr=True)


def get_console(stderr: bool = False) -> Console:
    """The CLI's shared console on standard output (or, with ``stderr``, standard error).

    Created once, when this module is imported (colour support is decided then, as for
    any rich console); it writes to whatever ``sys.stdout`` / ``sys.stderr`` is at each
    print (a test runner's capture too) and measures the terminal width (``$COLUMNS``)
    then as well, unless ``$COLUMNS`` was set at import.
    """
    return _STDERR if stderr else _STDOUT


def fail(message: str, code: int = 2, *, stderr: bool = False) -> NoReturn:
    """Print ``error: <message>`` (``error:`` in red; ``message`` is rich markup) on the
    shared console and leave the command with exit status ``code``."""
    get_console(stderr).print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)
