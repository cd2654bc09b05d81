import json

import pytest
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


def test_campaign_keeps_only_the_chosen_variant_kinds():
    from hts_z2.cli.reference import load_structures

    ids = [i for i, _ in load_structures(["PbO-P4nmm"], 2, 0, ("rattle",))]
    assert ids == ["PbO-P4nmm", "PbO-P4nmm/rattle-s0.05-0", "PbO-P4nmm/rattle-s0.05-1"]
    subs = [i for i, _ in load_structures(["PbO-P4nmm"], 2, 0, ("sub", "strain"))]
    assert subs == [
        "PbO-P4nmm",
        "PbO-P4nmm/sub-Pb>Sn",
        "PbO-P4nmm/strain-0.02",
        "PbO-P4nmm/strain+0.02",
    ]
    assert load_structures(["Bi2Se3-R-3m"], 1, 0, ("rattle",), max_variant_atoms=4) == [
        ("Bi2Se3-R-3m", load_structures(["Bi2Se3-R-3m"], 0, 0)[0][1])
    ]
    with pytest.raises(ValueError, match="unknown variant kinds"):
        load_structures(["PbO-P4nmm"], 1, 0, ("shake",))


def test_reference_cli_names_an_unknown_variant_kind(tmp_path):
    res = runner.invoke(
        app, ["reference", "PbO-P4nmm", "--out", str(tmp_path), "--variants", "1",
              "--variant-kinds", "shake"],
    )
    assert res.exit_code == 2
    assert "shake" in res.output
