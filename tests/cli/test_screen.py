"""``hts-z2 screen``, ``submit`` and ``db`` through a Typer app built from the command functions."""

import json

import typer
from typer.testing import CliRunner

from hts_z2.cli import db as db_commands
from hts_z2.cli import screen as screen_commands
from hts_z2.schemas.result import ResultDoc

MODEL = "py:screening_double:make_model"
app = typer.Typer()
app.command(name="screen")(screen_commands.screen)
app.command(name="submit")(screen_commands.submit)
app.add_typer(db_commands.db_app, name="db")
runner = CliRunner()


def test_screen_demo_prints_candidates_and_counts(tmp_path):
    db = str(tmp_path / "db")
    args = ["screen", "--db", db, "--model", MODEL, "--campaign", "c", "--source", "demo"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "read 44 = done 37 (already stored 0) + skipped 6 + failed 1" in result.output
    out = result.output
    # not a terminal: plain progress lines with the total, for log files
    assert "screened 44/44: done 37 skipped 6 failed 1" in out
    assert out.index("Bi2Se3-R-3m") < out.index("PbTe-Fm-3m")  # STI rows before trivial
    assert "Au-Fm-3m" not in out  # metals are not candidates
    again = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert "(already stored 37)" in again.output
    stats = runner.invoke(app, ["db", "stats", "--db", db, "--json"])
    info = json.loads(stats.output)
    assert info["total"] == 44 and info["status"]["done"] == 37


def test_screen_files_with_malformed(tmp_path):
    (tmp_path / "bad.cif").write_text("not a cif")
    result = runner.invoke(app, ["screen", str(tmp_path / "bad.cif"), "--db",
                                 str(tmp_path / "db"), "--model", MODEL])
    assert result.exit_code == 1, result.output  # nothing done, something failed
    assert "failed 1" in result.output and "every structure this run read failed" in result.output


def test_screen_env_db_and_bad_source(tmp_path):
    result = runner.invoke(app, ["screen", "--source", "nope", "--model", MODEL],
                           env={"HTS_Z2_DB": str(tmp_path / "envdb")})
    assert result.exit_code == 2 and "unknown source" in result.output
    result = runner.invoke(app, ["screen", "PbTe-Fm-3m", "--source", "demo", "--model", MODEL],
                           env={"HTS_Z2_DB": str(tmp_path / "envdb")})
    assert result.exit_code == 0 and "envdb" in result.output.replace("\n", "")


def test_unreachable_db_is_a_clear_error():
    result = runner.invoke(app, ["db", "init", "--db", "mongodb://u:pw@127.0.0.1:9/x?"
                                 "serverSelectionTimeoutMS=100"])
    assert result.exit_code == 2
    assert "cannot reach" in result.output and ":pw@" not in result.output


def test_submit_local_and_export(tmp_path):
    db = tmp_path / "db"
    spec = tmp_path / "campaign.yaml"
    spec.write_text(
        f"name: tiny\nengine: local\ndb: {db}\nmodel: '{MODEL}'\nchunk_size: 2\n"
        "source: {kind: demo, paths: [Bi2Se3-R-3m, CdTe-F-43m]}\n"
    )
    result = runner.invoke(app, ["submit", str(spec)])
    assert result.exit_code == 0, result.output
    assert "read=2" in result.output
    out = tmp_path / "export.jsonl"
    result = runner.invoke(app, ["db", "export", str(out), "--db", str(db)])
    assert result.exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert {d["material_id"] for d in lines} == {"Bi2Se3-R-3m", "CdTe-F-43m"}


def test_workflow_templates_load():
    from pathlib import Path

    from hts_z2.flows.submit import load_campaign

    root = Path(__file__).resolve().parents[2] / "workflows"
    example = load_campaign(root / "campaign.example.yaml")
    assert example.source.kind == "gnome" and example.maker.spec.chunk_manager_config
    assert load_campaign(root / "demo.local.yaml").engine == "local"


def test_screen_kspacing_sets_the_gap_grid(tmp_path):
    n_k = {}
    for spacing in (0.15, 0.4):
        db = str(tmp_path / f"db{spacing}")
        args = ["screen", "PbTe-Fm-3m", "--source", "demo", "--db", db, "--model", MODEL,
                "--kspacing", str(spacing), "--show", "none"]  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        export = tmp_path / f"out{spacing}.json"
        assert runner.invoke(app, ["db", "export", str(export), "--db", db]).exit_code == 0
        n_k[spacing] = json.loads(export.read_text())[0]["gap"]["n_k"]
    assert n_k[0.4] < n_k[0.15]


def test_a_stricter_rerun_reports_the_results_it_keeps(tmp_path):
    db = str(tmp_path / "db")
    base = ["screen", "PbTe-Fm-3m", "--source", "demo", "--db", db, "--model", MODEL,
            "--confirm", "none"]
    assert runner.invoke(app, base).exit_code == 0
    strict = runner.invoke(app, [*base, "--max-sites", "1"], env={"COLUMNS": "200"})
    assert strict.exit_code == 0, strict.output
    assert "kept 1 earlier result" in strict.output
    stats = json.loads(runner.invoke(app, ["db", "stats", "--db", db, "--json"]).output)
    assert stats["status"] == {"done": 1}
    forced = runner.invoke(app, [*base, "--max-sites", "1", "--recompute"])
    assert forced.exit_code == 0 and "kept" not in forced.output
    stats = json.loads(runner.invoke(app, ["db", "stats", "--db", db, "--json"]).output)
    assert stats["status"] == {"skipped": 1}


def test_a_kspacing_that_is_not_positive_is_an_error(tmp_path):
    for bad in ("0", "-0.1", "nan"):
        result = runner.invoke(app, ["screen", "PbTe-Fm-3m", "--source", "demo", "--kspacing",
                                     bad, "--db", str(tmp_path / "db"), "--model", MODEL])
        assert result.exit_code == 2 and "kspacing must be a positive number" in result.output


def test_submit_dry_run_describes_the_workflow_and_contacts_nothing(monkeypatch):
    monkeypatch.setenv("HTS_Z2_LAUNCHPAD", "mongodb://u:pw@127.0.0.1:9/x")  # never contacted
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "workflows" / "campaign.example.yaml"
    result = runner.invoke(app, ["submit", str(spec), "--dry-run"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "campaign 'gnome-heavy' -> engine fireworks" in out
    assert "one 'screen chunk <i>' job per 32 candidates (manager_config {'_fworker': 'gpu'})" \
        in out
    assert "'plan confirmations': candidates (at most 200 new runs" in out
    assert "{'_fworker': 'cpu'}" in out and "pw@" not in out


def test_the_tables_show_this_runs_materials_only(tmp_path):
    db = str(tmp_path / "db")
    base = ["screen", "--source", "demo", "--db", db, "--model", MODEL, "--confirm", "none"]
    assert runner.invoke(app, [*base, "Bi2Se3-R-3m", "CdTe-F-43m"]).exit_code == 0
    second = runner.invoke(app, [*base, "PbTe-Fm-3m"], env={"COLUMNS": "200"})
    assert second.exit_code == 0, second.output
    assert "Bi2Se3-R-3m" not in second.output  # an earlier run's candidate
    assert "no element with Z > 70" not in second.output  # an earlier run's skip (CdTe)


def test_confirmed_tis_that_pbe_cannot_vouch_for_are_a_group_of_their_own():
    def doc(mid, label, verdict=None, sensitive=False, fp_label=None):
        c = None if verdict is None else {
            "status": "done", "verdict": verdict, "pbe_sensitive": sensitive, "label": fp_label,
            "method": "gpaw-pw-pbe-soc", "fingerprint": "f", "settings_key": "k"}
        return ResultDoc(material_id=mid, source="demo", label=label, status="done",
                         model={"name": "m", "sha256": "s"}, confirmation=c)

    docs = [doc("Bi2Se3", "STI (1;000)", "confirmed"),
            doc("CsPbI3", "STI (1;111)", "confirmed", sensitive=True),
            doc("CsPbBr3", "STI (1;111)", "rejected", sensitive=True, fp_label="trivial (0;000)"),
            doc("New", "WTI (0;001)"),
            doc("TlBiSe2x", "trivial (0;000)", "disagrees", fp_label="STI (1;000)")]
    groups = screen_commands.topological_groups(docs)
    assert {k: [d.material_id for d in v] for k, v in groups.items()} == {
        "confirmed": ["Bi2Se3"], "pbe_sensitive": ["CsPbI3"], "awaiting": ["New"],
        "rejected": ["CsPbBr3"], "missed": ["TlBiSe2x"]}
