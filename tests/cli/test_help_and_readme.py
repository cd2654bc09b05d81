"""Help text without Python type placeholders, and every command README shows exists with
the options it is shown with."""

import re
import shlex
from pathlib import Path

import pytest
import typer

from hts_z2.cli.app import app
from hts_z2.cli.console import plain_metavars

ROOT = Path(__file__).resolve().parents[2]
COMMAND = plain_metavars(typer.main.get_command(app))


def commands(group=COMMAND, prefix=()):
    yield prefix
    for name, sub in getattr(group, "commands", {}).items():
        yield from commands(sub, (*prefix, name))


@pytest.mark.parametrize("path", list(commands()), ids=lambda p: " ".join(p) or "hts-z2")
def test_help_names_values_in_words(path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    COMMAND.main([*path, "--help"], prog_name="hts-z2", standalone_mode=False)
    out = capsys.readouterr().out
    assert "Usage: hts-z2" in out and "--help" in out
    assert not re.search(r"<(str|bool|int|float|list\[|Path)", out), out


def readme_commands():
    """``hts-z2 ...`` lines of README's shell blocks (comments and line ends dropped)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            words = shlex.split(line) if line else []
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # environment assignments (MP_API_KEY=...)
            if words and words[0].endswith("hts-z2"):
                yield words[1:]


def resolve(words):
    """(command, the words after its name) for a README line."""
    command, rest = COMMAND, list(words)
    while rest and rest[0] in getattr(command, "commands", {}):
        command = command.commands[rest.pop(0)]
    return command, rest


def test_readme_shows_commands():
    assert len(list(readme_commands())) >= 20


@pytest.mark.parametrize("words", list(readme_commands()), ids=lambda w: " ".join(w)[:60])
def test_every_readme_command_and_option_exists(words):
    command, rest = resolve(words)
    assert command is not COMMAND or rest == ["--version"], f"no such command: {words}"
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    used = {w.split("=")[0] for w in rest if w.startswith("--")}
    assert used <= known, f"{' '.join(words)}: unknown options {sorted(used - known)}"
