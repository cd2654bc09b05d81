"""``hts-z2 validate --confirmations``: stored first-principles checks as references."""

import json

from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.validate.confirmations import confirmation_references

runner = CliRunner()


def result(mid, label, planes, c_label, c_planes, status="done", sensitive=False):
    return {
        "material_id": mid, "source": "demo", "status": "done", "label": label,
        "formula": mid, "model": {"name": "m", "sha256": "ab" * 32},
        "z2": {"label": label, "planes": planes, "nu0": planes[0] ^ planes[1] if planes else None,
               "nu": [planes[1], planes[3], planes[5]] if planes else None},
        "confirmation": {"status": status, "label": c_label, "planes": c_planes,
                         "method": "gpaw-pw-pbe-soc", "settings_key": "k",
                         "pbe_sensitive": sensitive, "verdict": "confirmed"},
    }


DOCS = [
    result("Bi2Se3", "STI (1;000)", [1, 0, 1, 0, 1, 0], "STI (1;000)", [1, 0, 1, 0, 1, 0]),
    result("CsPbBr3", "STI (1;111)", [0, 1, 0, 1, 0, 1], "trivial (0;000)", [0] * 6),
    result("CsPbI3", "STI (1;111)", [0, 1, 0, 1, 0, 1], "STI (1;111)", [0, 1, 0, 1, 0, 1],
           sensitive=True),
    result("HgTe", "metal", None, "semimetal", None),
    result("X", "trivial (0;000)", [0] * 6, None, None, status="failed"),
]


def test_confirmations_become_references():
    refs = {r.key: r for r in confirmation_references(DOCS)}
    assert set(refs) == {"Bi2Se3", "CsPbBr3", "CsPbI3", "HgTe"}  # failed checks are not
    assert refs["Bi2Se3"].label == "STI (1;000)" and refs["Bi2Se3"].nu0 == 1
    assert refs["HgTe"].label == "metal"
    assert any("PBE-sensitive" in w for w in refs["CsPbI3"].warnings)


def test_validate_reports_the_model_against_its_checks(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(DOCS))
    res = runner.invoke(app, ["validate", "--confirmations", "--results", str(path),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n_compared"] == 4
    assert out["n_agree_full"] == 3  # CsPbBr3 is the false TI
    assert out["confusion"]["trivial"]["STI"] == 1
    res = runner.invoke(app, ["validate", "--results", str(path)])
    assert res.exit_code == 2 and "--confirmations" in res.output
