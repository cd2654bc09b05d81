import json

from toy_model import toy_sample
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.hamiltonian.formats import write_hamiltonian

runner = CliRunner()


def test_import_deeph_and_stats(tmp_path):
    tb = toy_sample().tight_binding()
    write_hamiltonian(tb, tmp_path / "toy_deeph", fmt="deeph")
    res = runner.invoke(
        app, ["dataset", "import-deeph", str(tmp_path / "toy_deeph"), "--out", str(tmp_path / "ds")]
    )
    assert res.exit_code == 0, res.output
    assert "imported 1" in res.output
    res = runner.invoke(app, ["dataset", "stats", str(tmp_path / "ds"), "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.output)
    assert stats["n_samples"] == 1 and stats["elements"] == {"Bi": 1, "Se": 1}
    res = runner.invoke(
        app, ["dataset", "import-deeph", str(tmp_path / "toy_deeph"), "--out", str(tmp_path / "ds")]
    )
    assert "already there 1" in res.output


def test_stats_of_missing_dataset(tmp_path):
    res = runner.invoke(app, ["dataset", "stats", str(tmp_path)])
    assert res.exit_code == 2
    assert "not a" in res.output and "dataset directory" in res.output


def test_reference_rejects_unknown_structure(tmp_path):
    res = runner.invoke(app, ["reference", "NoSuchId", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "NoSuchId" in res.output


def test_campaign_entries_are_deterministic_and_skip_metal_variants():
    from hts_z2.cli.reference import load_structures

    ids = [i for i, _ in load_structures(["embedded"], 3, 0)]
    assert len(ids) == len(set(ids)) == 222
    assert ids == [i for i, _ in load_structures(["embedded"], 3, 0)]
    assert not [i for i in ids if i.startswith(("Au-", "W-", "WC-")) and "/" in i]
    assert ids.index("Bi2Se3-R-3m/rattle-s0.05-0") < ids.index("Bi2Se3-R-3m/strain+0.02")
