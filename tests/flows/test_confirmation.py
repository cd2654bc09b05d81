"""First-principles confirmation inside screening campaigns: which results are checked,
verdicts, the cache (committed label of record and new runs), budgets, GPAW missing,
nothing lost or duplicated on re-runs and kills."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure
from screening_double import ToyScreeningModel

from hts_z2.flows import confirmation as conf
from hts_z2.flows.confirmation import ConfirmationPolicy, confirm_pending, wanted
from hts_z2.flows.screening import run_campaign
from hts_z2.reference.planewave.record import load_results
from hts_z2.reference.planewave.settings import PlaneWaveSettings
from hts_z2.schemas.dft import Confirmation, judge
from hts_z2.schemas.result import ResultDoc
from hts_z2.store import open_store
from hts_z2.store.dft import open_dft_store
from hts_z2.structures.sources import SourceSpec

ROOT = Path(__file__).resolve().parents[2]
QUICK = PlaneWaveSettings(ecut=200.0, kpt_density=1.6, path_spacing=0.3)
DEMO = ["Bi2Se3-R-3m", "Bi2Te3-R-3m", "TlBiSe2-R-3m", "PbTe-Fm-3m", "Au-Fm-3m"]


def doc(label, status="done", gap=0.5, in_domain=True, manifold=None):
    return ResultDoc(
        material_id="m", source="demo", model={"name": "m", "sha256": "s"}, status=status,
        label=label, structure={"x": 1}, gap={"indirect": gap, "direct": gap, "is_metal": False},
        domain={"distance": 0.1 if in_domain else 9.0, "in_domain": in_domain},
        z2_manifold={"label": manifold} if manifold else None)


def test_candidates_policy():
    p = ConfirmationPolicy()
    assert wanted(doc("STI (1;000)"), p)
    assert wanted(doc("WTI (0;001)", in_domain=False), p)  # TIs always
    assert wanted(doc("trivial (0;000)", gap=0.1), p)
    assert not wanted(doc("trivial (0;000)", gap=0.1, in_domain=False), p)
    assert not wanted(doc("trivial (0;000)", gap=1.2), p)
    assert wanted(doc("undefined"), p)
    assert wanted(doc("metal", manifold="STI (1;000)"), p)
    assert not wanted(doc("metal"), p)
    assert not wanted(doc("STI (1;000)", status="failed"), p)
    assert wanted(doc("trivial (0;000)", gap=2.0), ConfirmationPolicy(mode="all"))
    assert not wanted(doc("STI (1;000)"), ConfirmationPolicy(mode="none"))
    with pytest.raises(ValueError):
        ConfirmationPolicy(mode="some")


def test_verdicts_against_the_committed_label_of_record():
    results = load_results()
    assert judge("STI (1;000)", results["Bi2Se3-R-3m"]) == ("confirmed", True)
    assert judge("STI (1;001)", results["BiTeI-P3m1"])[0] == "rejected"
    assert judge("STI (1;111)", results["CsPbBr3-Pm-3m"]) == ("rejected", False)
    assert judge("trivial (0;000)", results["PbTe-Fm-3m"]) == ("agrees", True)
    assert judge("metal", results["HgTe-F-43m"]) == ("agrees", True)  # metal = semimetal
    assert judge("trivial (0;000)", results["Bi2Se3-R-3m"]) == ("disagrees", False)
    c = Confirmation.from_result("STI (1;111)", results["CsPbI3-Pm-3m"], cached=True)
    assert c.pbe_sensitive and c.cached and c.status == "done"


def test_campaign_confirms_from_the_cache_without_computing(tmp_path, monkeypatch):
    monkeypatch.setattr(conf, "_compute", lambda policy: pytest.fail("nothing to compute"))
    with open_store(tmp_path / "db") as store:
        counts = run_campaign(SourceSpec(kind="demo", paths=DEMO), ToyScreeningModel(), store,
                              confirmation=ConfirmationPolicy())
        docs = {d["material_id"]: d for d in store.find()}
    assert counts.confirmation["cached"] == counts.confirmation["selected"] >= 3
    # the toy model calls Bi2Se3, Bi2Te3 and TlBiSe2 STI (1;000)
    assert docs["Bi2Se3-R-3m"]["confirmation"]["verdict"] == "confirmed"
    assert docs["Bi2Te3-R-3m"]["confirmation"]["verdict"] == "confirmed"
    tlbise2 = docs["TlBiSe2-R-3m"]["confirmation"]
    assert tlbise2["verdict"] == "rejected" and tlbise2["label"] == "semimetal"
    assert docs["Bi2Se3-R-3m"]["label"] == "STI (1;000)"  # the model's own fields stay
    assert "confirmation" not in docs["Au-Fm-3m"] or docs["Au-Fm-3m"]["confirmation"] is None


def pbte_strained(tmp_path, strain=0.01):
    s = Structure(Lattice([[0, 3.231, 3.231], [3.231, 0, 3.231], [3.231, 3.231, 0]]),
                  ["Pb", "Te"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.apply_strain(strain)
    path = tmp_path / "PbTe_strained.cif"
    s.to(filename=str(path))
    return path


def test_a_structure_not_in_the_cache_is_computed_once(tmp_path, dft_allowed):
    path = pbte_strained(tmp_path)
    policy = ConfirmationPolicy(mode="all", settings=QUICK, methods="parity")
    with open_store(tmp_path / "db") as store:
        first = run_campaign(SourceSpec(kind="files", paths=[str(path)]), ToyScreeningModel(),
                             store, confirmation=policy)
        assert first.confirmation["computed"] == 1
        [stored] = list(store.find())
        c = stored["confirmation"]
        assert c["status"] == "done" and c["label"] == "trivial (0;000)" and not c["cached"]
        again = run_campaign(SourceSpec(kind="files", paths=[str(path)]), ToyScreeningModel(),
                             store, confirmation=policy)
        assert again.confirmation.get("selected", 0) == 0  # already confirmed
        assert store.count() == 1 and store.duplicates() == 0
    with open_dft_store(tmp_path / "db") as dft:
        assert dft.count({"material_id": "PbTe_strained"}) == 1


def test_budget_and_missing_gpaw_are_recorded_not_lost(tmp_path, monkeypatch):
    path = pbte_strained(tmp_path, 0.02)
    with open_store(tmp_path / "db") as store:
        run_campaign(SourceSpec(kind="files", paths=[str(path)]), ToyScreeningModel(), store)
        with open_dft_store(tmp_path / "db") as dft:
            tally = confirm_pending(store, dft, ToyScreeningModel.sha256, ["PbTe_strained"],
                                    ConfirmationPolicy(mode="all", max_structures=0))
            assert tally.over_budget == 1
            [d] = list(store.find())
            assert d["confirmation"]["status"] == "skipped"
            assert "budget" in d["confirmation"]["reason"]
            monkeypatch.setenv("HTS_Z2_DFT", "off")  # a login node: no runs here
            tally = confirm_pending(store, dft, ToyScreeningModel.sha256, ["PbTe_strained"],
                                    ConfirmationPolicy(mode="all"))
            assert tally.skipped == 1
            [d] = list(store.find())
            assert d["status"] == "done" and d["label"]  # the model's result is intact
            assert "switched off here (HTS_Z2_DFT=off)" in d["confirmation"]["reason"]
            monkeypatch.setenv("HTS_Z2_DFT", "on")
            monkeypatch.setitem(sys.modules, "gpaw", None)  # import gpaw raises ImportError
            tally = confirm_pending(store, dft, ToyScreeningModel.sha256, ["PbTe_strained"],
                                    ConfirmationPolicy(mode="all"))
            assert tally.skipped == 1
            [d] = list(store.find())
            assert "GPAW is not installed" in d["confirmation"]["reason"]
            assert dft.count({"material_id": "PbTe_strained"}) == 0  # nothing to reuse


KILL = """
import sys
from screening_double import ToyScreeningModel
from hts_z2.flows.confirmation import ConfirmationPolicy
from hts_z2.flows.screening import run_campaign
from hts_z2.reference.planewave.settings import PlaneWaveSettings
from hts_z2.store import open_store
from hts_z2.structures.sources import SourceSpec
settings = PlaneWaveSettings(ecut=200.0, kpt_density=1.6, path_spacing=0.3)
policy = ConfirmationPolicy(mode="all", settings=settings, methods="parity")
with open_store(sys.argv[1]) as store:
    run_campaign(SourceSpec(kind="files", paths=[sys.argv[2]]), ToyScreeningModel(), store,
                 confirmation=policy, on_confirm=lambda m, v: print("CONFIRMED", m, v))
print("FINISHED", flush=True)
"""


@pytest.mark.slow
def test_killed_during_a_confirmation_a_rerun_completes_it(tmp_path, dft_allowed):
    path = pbte_strained(tmp_path, 0.03)
    script = tmp_path / "campaign.py"
    script.write_text(KILL)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "OMP_NUM_THREADS": "1"}
    db = str(tmp_path / "db")
    proc = subprocess.Popen([sys.executable, str(script), db, str(path)], env=env,
                            stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once the model's result is stored
        with open_store(db) as store:
            if store.count({"status": "done"}):
                break
        time.sleep(0.2)
    time.sleep(2.0)  # inside the plane-wave run
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_store(db) as store:
        [d] = list(store.find())
        assert d["status"] == "done" and not d.get("confirmation")
    rerun = subprocess.run([sys.executable, str(script), db, str(path)], env=env,
                           capture_output=True, text=True, timeout=600)
    assert "FINISHED" in rerun.stdout and "CONFIRMED PbTe_strained" in rerun.stdout, rerun.stderr
    with open_store(db) as store:
        [d] = list(store.find())
        assert d["confirmation"]["status"] == "done" and store.duplicates() == 0


def test_vasp_inputs_engine_writes_a_runnable_directory(tmp_path):
    import ast

    from hts_z2.flows.vasp import SURFACES
    from hts_z2.topology.planes import PLANES, plane_axes
    from hts_z2.validate.z2pack import plane_from_name

    path = pbte_strained(tmp_path, 0.04)
    policy = ConfirmationPolicy(mode="all", engine="vasp-inputs",
                                vasp_dir=str(tmp_path / "vasp"))
    with open_store(tmp_path / "db") as store:
        run_campaign(SourceSpec(kind="files", paths=[str(path)]), ToyScreeningModel(), store,
                     confirmation=policy)
        [d] = list(store.find())
    c = d["confirmation"]
    assert c["status"] == "skipped" and "hts-z2 validate" in c["reason"]
    target = tmp_path / "vasp" / "PbTe_strained"
    for name in ("POSCAR", "INCAR.scf", "INCAR", "KPOINTS", "POTCAR.spec", "wannier90.win"):
        assert (target / name).is_file(), name
    assert "LSORBIT = .TRUE." in (target / "INCAR.scf").read_text()
    poscar_symbols = (target / "POSCAR").read_text().splitlines()[5].split()
    assert (target / "POTCAR.spec").read_text().split() == poscar_symbols  # same order
    ast.parse((target / "z2pack_vasp.py").read_text())
    for p, (name, surface) in enumerate(SURFACES.items()):
        assert plane_from_name(f"z2pack_{name}.json") == p  # validate reads them back
        fixed, value = PLANES[p]
        a, b = plane_axes(fixed)
        k = eval(surface)(0.6, 0.25)  # line position s, loop parameter t
        assert k[fixed] == value and k[a] == 0.25 and k[b] == pytest.approx(0.3)
