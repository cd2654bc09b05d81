"""``hts-z2 db init|stats|export``: the result store itself."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hts_z2.cli.console import fail, get_console

db_app = typer.Typer(help="Create, inspect and export the result store.", no_args_is_help=True)
DB_OPTION = typer.Option(None, "--db", help="mongodb:// URI or store directory ($HTS_Z2_DB)")


def _open(db: str | None):
    from hts_z2.store import StoreUnavailableError, open_store

    try:
        return open_store(db)
    except StoreUnavailableError as err:
        fail(str(err))


@db_app.command("init")
def init(db: str = DB_OPTION) -> None:
    """Create the collection and its indexes (idempotent)."""
    with _open(db) as store:
        get_console().print(f"result store ready: {store.location} ({store.count()} documents)")


@db_app.command("stats")
def stats(db: str = DB_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """Documents by status, label, source, campaign and model."""
    with _open(db) as store:
        info = store.stats()
    if as_json:
        typer.echo(json.dumps(info, indent=1))
        return
    console = get_console()
    console.print(f"{info['location']}: {info['total']} documents")
    for key in ("status", "label", "source", "campaign", "model"):
        table = Table(title=key)
        table.add_column(key)
        table.add_column("n", justify="right")
        for name, n in info[key].items():
            table.add_row(name, str(n))
        console.print(table)


@db_app.command("export")
def export(
    out: Path = typer.Argument(..., help="output file (.json: a list; .jsonl: one per line)"),
    db: str = DB_OPTION,
    campaign: str = typer.Option(None, help="only this campaign"),
) -> None:
    """Export result documents (streamed for ``.jsonl``)."""
    crit = {"campaign": campaign} if campaign else {}
    n = 0
    with _open(db) as store, out.open("w", encoding="utf-8") as fh:
        if out.suffix == ".jsonl":
            for doc in store.find(crit):
                fh.write(json.dumps(doc, default=str) + "\n")
                n += 1
        else:
            docs = list(store.find(crit))
            json.dump(docs, fh, default=str, indent=1)
            n = len(docs)
    get_console().print(f"exported {n} documents -> {out}")
