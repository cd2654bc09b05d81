"""The ``hts-z2`` command-line application."""

from __future__ import annotations

import typer

from hts_z2 import __version__
from hts_z2.cli import db as db_commands
from hts_z2.cli import dft as dft_command
from hts_z2.cli import domain as domain_command
from hts_z2.cli import predict as predict_command
from hts_z2.cli import query as query_command
from hts_z2.cli import reference as reference_commands
from hts_z2.cli import screen as screen_commands
from hts_z2.cli import train as train_command
from hts_z2.cli import validate as validate_command
from hts_z2.cli import z2 as z2_command

app = typer.Typer(
    name="hts-z2",
    help="Screen crystals for 3D topological insulators with a spin–orbit tight-binding model.",
    no_args_is_help=True,
    add_completion=False,
)
# in the order a user meets them: screen, inspect, check, then the model's own tools
app.command(name="screen")(screen_commands.screen)
app.command(name="query")(query_command.query)
app.command(name="submit")(screen_commands.submit)
app.add_typer(db_commands.db_app, name="db")
app.command(name="dft")(dft_command.dft)
app.command(name="validate")(validate_command.validate)
app.command(name="predict")(predict_command.predict)
app.command(name="z2")(z2_command.z2)
app.command(name="train")(train_command.train)
app.command(name="recalibrate")(train_command.recalibrate)
app.command(name="domain")(domain_command.domain)
app.command(name="reference")(reference_commands.reference)
app.add_typer(reference_commands.dataset_app, name="dataset")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hts-z2 {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """hts-z2: machine-learned spin–orbit Hamiltonians -> band gaps -> Z2 indices."""


def main() -> None:
    """The ``hts-z2`` entry point: the app, with plain value placeholders in its help."""
    from hts_z2.cli.console import plain_metavars

    plain_metavars(typer.main.get_command(app))(prog_name="hts-z2")
