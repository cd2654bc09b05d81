"""The CLI's shared consoles and its one error helper."""

import typer
from typer.testing import CliRunner

from hts_z2.cli.console import fail, get_console

runner = CliRunner()


def test_one_console_per_stream():
    assert get_console() is get_console()
    assert get_console(stderr=True) is get_console(stderr=True) is not get_console()
    assert get_console(stderr=True).stderr and not get_console().stderr


def test_fail_prints_one_error_line_and_exits():
    app = typer.Typer()

    @app.command()
    def main(code: int = 2, stderr: bool = False) -> None:
        try:
            raise ValueError("bad input")
        except ValueError as err:
            fail(f"{err} in file.txt", code, stderr=stderr)

    res = runner.invoke(app, [])
    assert res.exit_code == 2
    assert res.stdout == "error: bad input in file.txt\n" and res.stderr == ""
    res = runner.invoke(app, ["--code", "3", "--stderr"])
    assert res.exit_code == 3
    assert res.stderr == "error: bad input in file.txt\n" and res.stdout == ""
