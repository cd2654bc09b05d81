"""``hts-z2 dft``: committed results come from the cache, new structures are computed with
GPAW and stored, nothing is computed twice, bad input is refused clearly."""

import json

import numpy as np
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from hts_z2.cli.app import app

runner = CliRunner()
QUICK = ["--ecut", "200", "--kpt-density", "1.6", "--path-spacing", "0.3", "--methods", "parity"]


def test_embedded_ids_come_from_the_committed_label_of_record(tmp_path):
    res = runner.invoke(app, ["dft", "Bi2Se3-R-3m", "CsPbBr3-Pm-3m", "--json",
                              "--db", str(tmp_path / "db")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["material_id"] for r in out] == ["Bi2Se3-R-3m", "CsPbBr3-Pm-3m"]
    bi2se3, cspbbr3 = out
    assert bi2se3["label"] == "STI (1;000)"
    assert cspbbr3["label"] == "trivial (0;000)"
    for r in out:  # the documented keys
        assert len(r["z2"]["planes"]) == 6
        assert {"indirect", "direct"} <= set(r["gap"])
        assert r["method"] == "gpaw-pw-pbe-soc" and isinstance(r["pbe_sensitive"], bool)
        assert r["timings"]["total_s"] > 0 and r["settings"]["ecut"] == 350.0
    assert "cached" in res.stderr


def test_new_structure_is_computed_stored_and_then_cached(tmp_path, dft_allowed):
    pbte = Structure(Lattice([[0, 3.231, 3.231], [3.231, 0, 3.231], [3.231, 3.231, 0]]),
                     ["Pb", "Te"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = tmp_path / "PbTe.cif"
    pbte.to(filename=str(path))
    db = str(tmp_path / "db")
    res = runner.invoke(app, ["dft", str(path), "--json", "--db", db, *QUICK])
    assert res.exit_code == 0, res.output
    (r,) = json.loads(res.stdout)
    assert r["material_id"] == "PbTe" and r["status"] == "done"
    assert r["label"] == "trivial (0;000)" and r["z2"]["method"] == "parity"
    assert r["centrosymmetric"] and r["settings"]["ecut"] == 200.0
    assert all(abs(abs(p["delta"]) - 1) == 0 for p in r["parity"])
    again = runner.invoke(app, ["dft", str(path), "--db", db, *QUICK])
    assert again.exit_code == 0, again.output
    assert "cached" in again.stderr and "trivial (0;000)" in again.stdout


def test_bad_input_is_refused(tmp_path):
    res = runner.invoke(app, ["dft", "no-such-compound", "--db", str(tmp_path / "db")])
    assert res.exit_code == 2 and "no embedded structure" in res.output
    res = runner.invoke(app, ["dft", "PbTe-Fm-3m", "--methods", "magic"])
    assert res.exit_code == 2 and "--methods" in res.output
    res = runner.invoke(app, ["dft", "PbTe-Fm-3m", "--ecut", "-5"])
    assert res.exit_code == 2 and "ecut" in res.output


def test_magnetic_and_oversized_structures_are_skipped_with_a_reason(tmp_path):
    fe = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = tmp_path / "Fe.cif"
    fe.to(filename=str(path))
    res = runner.invoke(app, ["dft", str(path), "--json", "--db", str(tmp_path / "db")])
    assert res.exit_code == 0, res.output
    (r,) = json.loads(res.stdout)
    assert r["status"] == "skipped" and "magnetic" in r["reason"]
    big = Structure(Lattice.cubic(12.0), ["Pb"] * 13, np.random.default_rng(0).random((13, 3)))
    path = tmp_path / "big.cif"
    big.to(filename=str(path))
    res = runner.invoke(app, ["dft", str(path), "--json", "--db", str(tmp_path / "db")])
    (r,) = json.loads(res.stdout)
    assert r["status"] == "skipped" and "exceed" in r["reason"]
