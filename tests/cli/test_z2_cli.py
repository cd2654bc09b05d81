import json

import pytest
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.hamiltonian.formats import write_hamiltonian
from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac

runner = CliRunner()


def test_example_json():
    res = runner.invoke(app, ["z2", "--example", "wilson-dirac-wti", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["methods_agree"]
    assert [r["label"] for r in out["z2"]] == ["WTI (0;111)", "WTI (0;111)"]
    assert out["gap"]["indirect"] > 1.9


def test_deeph_directory_and_band_plot(tmp_path):
    write_hamiltonian(fu_kane_mele(0.4), tmp_path / "fkm", fmt="deeph")
    png = tmp_path / "bands.png"
    res = runner.invoke(app, ["z2", str(tmp_path / "fkm"), "--bands", str(png)])
    assert res.exit_code == 0, res.output
    assert "STI (1;111)" in res.output
    assert png.stat().st_size > 10_000


def test_hr_file_needs_n_occ(tmp_path):
    tb = wilson_dirac(-2.0)
    path = tmp_path / "wd_hr.dat"
    write_hamiltonian(tb, path)
    lattice = ["4 0 0", "0 4 0", "0 0 4"]
    (tmp_path / "wd.win").write_text(
        "begin unit_cell_cart\nang\n" + "\n".join(lattice) + "\nend unit_cell_cart\n"
    )
    res = runner.invoke(app, ["z2", str(path)])
    assert res.exit_code == 2
    assert "n-occ" in res.output
    res = runner.invoke(app, ["z2", str(path), "--n-occ", "2", "--method", "fhs"])
    assert res.exit_code == 0, res.output
    assert "STI (1;000)" in res.output


def test_bad_inputs(tmp_path):
    res = runner.invoke(app, ["z2", str(tmp_path / "missing_hr.dat")])
    assert res.exit_code == 2
    assert "error" in res.output
    bad = tmp_path / "junk.txt"
    bad.write_text("not a hamiltonian\n")
    res = runner.invoke(app, ["z2", str(bad)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["z2", "--example", "nope"])
    assert res.exit_code != 0


@pytest.mark.slow
def test_reference_sample_file_and_semimetal_option():
    from hts_z2.reference.dataset import embedded_dataset_path, sample_path

    path = sample_path(embedded_dataset_path(), "Bi2Se3-R-3m")
    fast = ["--method", "fhs", "--kspacing", "0.5"]
    res = runner.invoke(app, ["z2", str(path), *fast, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["z2"][0]["label"] == "metal"
    res = runner.invoke(app, ["z2", str(path), *fast, "--allow-overlap"])
    assert res.exit_code == 0, res.output
    assert "STI (1;000)" in res.output and "semimetal" in res.output
