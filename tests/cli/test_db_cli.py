"""``hts-z2 db init|stats|export`` on the embedded store, and its clear error when the
store cannot be opened."""

import json

import pytest
import typer
from typer.testing import CliRunner

from hts_z2.cli import db as db_commands
from hts_z2.store import ModelRef, ResultDoc, StoreUnavailableError, open_store

app = typer.Typer()
app.add_typer(db_commands.db_app, name="db")
runner = CliRunner(env={"COLUMNS": "200"})  # no wrapped lines
MODEL = ModelRef(name="toy", sha256="12" * 32)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "db"
    with open_store(path) as store:
        store.upsert([
            ResultDoc(material_id=f"m{i}", source="demo", model=MODEL, campaign="c",
                      status="done" if i else "skipped", label="trivial (0;000)" if i else None)
            for i in range(3)
        ])
    return str(path)


def test_init_stats_export(db, tmp_path):
    res = runner.invoke(app, ["db", "init", "--db", db])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"result store ready: {db} (3 documents)\n"
    res = runner.invoke(app, ["db", "stats", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["total"] == 3 and info["status"] == {"done": 2, "skipped": 1}
    res = runner.invoke(app, ["db", "stats", "--db", db])
    assert res.exit_code == 0 and f"{db}: 3 documents" in res.stdout
    out = tmp_path / "all.jsonl"
    res = runner.invoke(app, ["db", "export", str(out), "--db", db, "--campaign", "c"])
    assert res.exit_code == 0, res.output
    assert sorted(json.loads(line)["material_id"] for line in out.read_text().splitlines()) \
        == ["m0", "m1", "m2"]


def test_unreachable_store_is_one_error_line(monkeypatch):
    import hts_z2.store

    def unreachable(location=None, **kwargs):
        raise StoreUnavailableError("cannot reach the result store mongodb://u:***@h/x "
                                    "after 3 attempt(s): timed out")

    monkeypatch.setattr(hts_z2.store, "open_store", unreachable)
    res = runner.invoke(app, ["db", "stats", "--db", "mongodb://u:pw@h/x"])
    assert res.exit_code == 2
    assert res.stdout == ("error: cannot reach the result store mongodb://u:***@h/x after 3 "
                          "attempt(s): timed out\n")
