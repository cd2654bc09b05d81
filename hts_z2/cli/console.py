"""Shared pieces of the command-line interface that import nothing heavy."""

from __future__ import annotations

from typing import Any, NoReturn

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


PLAIN_TYPES = {"str": "TEXT", "float": "FLOAT", "int": "INTEGER", "Path": "PATH", "bool": ""}


def plain_metavars(command: Any) -> Any:
    """``command`` (a click command or group, e.g. ``typer.main.get_command(app)``) with
    the help's value placeholders in words (``TEXT``, ``FLOAT``, ``PATH``; an argument by
    its name, ``PATHS...`` for several) instead of Python types (``<str>``,
    ``<list[str]>``), and none for on/off flags (typer would print ``<bool>``). Explicit
    metavars are kept."""
    for param in getattr(command, "params", []):
        if param.metavar is not None:
            continue
        bare = param.bare_type() if hasattr(param, "bare_type") else "value"
        inner = bare[5:-1] if bare.startswith("list[") else bare
        plain = PLAIN_TYPES.get(inner, inner.upper())
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif param.param_type_name == "argument":
            param.metavar = param.name.upper()
            # the help panel of an argument shows its type, not its metavar
            param.display_type_rich = lambda ctx, plain=plain: plain
        else:
            param.metavar = plain
    if hasattr(command, "get_help_option"):  # --help is made per context, not a param
        made = command.get_help_option

        def help_option(ctx: Any, made: Any = made) -> Any:
            option = made(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    return command
