"""``validate`` command: formats, plots, exit status, and the store contract."""

import json
import sys
import types

import pytest
import typer
from typer.testing import CliRunner
from validate_paths import DATA, REFS

from hts_z2.cli.validate import validate
from hts_z2.hamiltonian.formats import write_hamiltonian
from hts_z2.hamiltonian.lattice_models import wilson_dirac

app = typer.Typer()
app.command(name="validate")(validate)


@app.callback()
def _root() -> None:
    """Test group, so that the command is invoked by name as in ``hts-z2 validate``."""


runner = CliRunner()
ALL = [str(REFS), str(DATA / "table.csv"), str(DATA / "table.json")]
RESULTS = ["--results", str(DATA / "results.json")]


def test_json_report_and_min_agreement():
    res = runner.invoke(app, ["validate", *ALL, *RESULTS, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["n_reference"], out["n_matched"], out["n_agree_full"], out["n_agree_nu0"]) == (
        12,
        11,
        7,
        8,
    )
    assert out["confusion"]["WTI"]["WTI"] == 2
    entry = next(e for e in out["entries"] if e["reference"] == "mp-3001")
    assert entry["cell"] == {
        "relation": "transformed",
        "transform": [[1, 1, 0], [0, 1, 0], [0, 0, 1]],
    }
    assert entry["ours"]["label_in_reference_cell"] == "WTI (0;011)"
    bad = next(e for e in out["entries"] if e["reference"] == "mp-9999")
    assert bad["status"] == "error" and bad["agree_full"] is False
    res = runner.invoke(
        app, ["validate", *ALL, *RESULTS, "--format", "json", "--min-agreement", "0.6"]
    )
    assert res.exit_code == 1
    res = runner.invoke(
        app,
        [
            "validate",
            *ALL,
            *RESULTS,
            "--format",
            "json",
            "--min-agreement",
            "0.6",
            "--agreement-on",
            "nu0",
        ],
    )
    assert res.exit_code == 0


def test_table_output():
    res = runner.invoke(app, ["validate", str(REFS / "mp-2001"), *RESULTS])
    assert res.exit_code == 0, res.output
    assert "STI (1;111)" in res.output and "Confusion matrix" in res.output


def test_a_transformed_cell_says_why_different_indices_agree():
    res = runner.invoke(app, ["validate", str(REFS / "mp-3001"), *RESULTS, "--format", "md"])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if line.startswith("| mp-3001"))
    assert "WTI (0;111)" in row and "ours in the reference's cell: WTI (0;011)" in row


def test_report_into_a_missing_folder_creates_it(tmp_path):
    out = tmp_path / "reports" / "june" / "z2.json"
    res = runner.invoke(app, ["validate", str(REFS / "mp-2001"), *RESULTS, "--format", "json",
                              "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["n_reference"] == 1
    (tmp_path / "file").write_text("x")
    res = runner.invoke(app, ["validate", str(REFS / "mp-2001"), *RESULTS, "--format", "json",
                              "--output", str(tmp_path / "file" / "z2.json")])
    assert res.exit_code == 2 and "cannot write the report" in res.output


def test_markdown_and_html_with_plots_ours_recomputed(tmp_path):
    write_hamiltonian(wilson_dirac(-2.0), tmp_path / "ham" / "mp-1001", fmt="deeph")
    md = tmp_path / "report" / "validate.md"
    md.parent.mkdir()
    args = [
        "validate",
        str(REFS / "mp-1001"),
        str(REFS / "mp-2001"),
        *RESULTS,
        "--plots",
        str(tmp_path / "report" / "plots"),
        "--hamiltonians",
        str(tmp_path / "ham"),
    ]
    res = runner.invoke(app, [*args, "--format", "md", "--output", str(md)])
    assert res.exit_code == 0, res.output
    text = md.read_text()
    assert "![WCC mp-1001](plots/000_mp-1001.png)" in text
    assert "| STI | 2 | 0 | 0 | 0 | 0 |" in text
    assert (tmp_path / "report" / "plots" / "000_mp-1001.png").stat().st_size > 10_000
    html = tmp_path / "v.html"
    res = runner.invoke(app, [*args, "--format", "html", "--output", str(html)])
    assert res.exit_code == 0, res.output
    assert html.read_text().count("data:image/png;base64,") == 2


def test_our_wcc_agree_with_the_reference_plane_values():
    from hts_z2.validate.plots import our_wcc

    ours = our_wcc(wilson_dirac(-2.0), n_lines=11, n_loop=16)
    assert tuple(ours[p].z2 for p in range(6)) == (1, 0, 1, 0, 1, 0)


@pytest.mark.parametrize("method", ["find", "query"])
def test_store_contract(monkeypatch, method):
    calls = []

    def fetch(self, criteria):
        calls.append(criteria)
        yield from json.loads((DATA / "results.json").read_text())

    def close(self):
        calls.append("closed")

    Store = type("Store", (), {method: fetch, "close": close})

    fake = types.ModuleType("hts_z2.store")
    fake.open_store = lambda db: calls.append(db) or Store()
    monkeypatch.setitem(sys.modules, "hts_z2.store", fake)
    res = runner.invoke(
        app,
        [
            "validate",
            str(REFS / "mp-1002"),
            "--db",
            "/tmp/somewhere",
            "--format",
            "json",
            "--model",
            "uni-hamgnn-demo",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["n_agree_full"] == 1
    assert calls == ["/tmp/somewhere", {}, "closed"]


def test_unreadable_results_file(tmp_path):
    (tmp_path / "r.json").write_text('{"a": 1}')
    res = runner.invoke(
        app, ["validate", str(REFS / "mp-1002"), "--results", str(tmp_path / "r.json")]
    )
    assert res.exit_code == 2
    assert "not a JSON list of result documents" in " ".join(res.output.split())


def test_store_that_cannot_be_opened(monkeypatch):
    def fail(db):
        raise RuntimeError("server unreachable")

    fake = types.ModuleType("hts_z2.store")
    fake.open_store = fail
    monkeypatch.setitem(sys.modules, "hts_z2.store", fake)
    res = runner.invoke(app, ["validate", str(REFS / "mp-1002"), "--db", "mongodb://nowhere"])
    assert res.exit_code == 2
    assert "server unreachable" in res.output
