"""Screening chunks and flows with a test-double model into the embedded (montydb) store."""

from types import SimpleNamespace

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Lattice, Structure
from screening_double import CalibratedToyModel, DomainToyModel, ToyScreeningModel, tilted_sti

import hts_z2.hamiltonian.gap as gap_module
from hts_z2.flows.campaign import CampaignSpec, ScreeningFlowMaker
from hts_z2.flows.screening import (
    CampaignCounts,
    HamiltonianModel,
    ScreeningSettings,
    process_chunk,
    resolve_model,
    run_campaign,
    screen_records,
    topology,
)
from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.schemas.result import ResultDoc
from hts_z2.store import open_store
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec, StructureRecord, iter_source

MODEL = "py:screening_double:make_model"


def records(*ids):
    return list(iter_source(SourceSpec(kind="demo", paths=list(ids))))


def test_double_satisfies_protocol():
    assert isinstance(resolve_model(MODEL), HamiltonianModel)


def test_statuses_with_reasons():
    disordered = Structure(Lattice.cubic(6.4), [{"Pb": 0.5, "Sn": 0.5}, "Te"],
                           [[0, 0, 0], [0.5] * 3])
    recs = records("Bi2Se3-R-3m", "Au-Fm-3m", "KHgSb-P6_3mmc", "PbTe-Fm-3m")
    recs.append(StructureRecord("disordered", "files", structure=disordered))
    recs.append(StructureRecord("broken", "files", error="unreadable cif x.cif: bad"))
    model = ToyScreeningModel()
    docs = {d.material_id: d for d in screen_records(recs, model, CandidateFilter(),
                                                     ScreeningSettings())}
    sti = docs["Bi2Se3-R-3m"]
    assert sti.status == "done" and sti.label == "STI (1;000)"
    assert sti.z2.planes == [1, 0, 1, 0, 1, 0] and sti.z2.converged
    assert sti.gap.indirect > 1.0 and sti.model.sha256 == model.sha256
    assert {"read", "inference", "gap", "z2"} <= set(sti.timings)
    assert sti.structure is not None and "hts-z2" in sti.versions
    metal = docs["Au-Fm-3m"]
    assert metal.status == "done" and metal.label == "metal" and metal.z2 is None
    assert docs["KHgSb-P6_3mmc"].status == "failed"
    assert "inference failed" in docs["KHgSb-P6_3mmc"].reason
    assert docs["disordered"].status == "skipped"
    assert docs["broken"].status == "failed" and "unreadable" in docs["broken"].reason
    assert model.calls == 1 + 4  # one batch, then one call per structure to isolate the error


def test_z2_max_gap_skips_z2():
    settings = ScreeningSettings(z2_max_gap=0.3)
    [doc] = screen_records(records("PbTe-Fm-3m"), ToyScreeningModel(), CandidateFilter(),
                           settings)
    assert doc.status == "done" and doc.z2 is None and "gap" in doc.reason


def test_campaign_counts_add_up_and_rerun_skips(tmp_path):
    store = open_store(tmp_path / "db")
    model = ToyScreeningModel()
    steps = []
    first = run_campaign(SourceSpec(kind="demo"), model, store, chunk_size=8,
                         on_progress=steps.append)
    assert first.read == 44 == first.done + first.skipped + first.failed
    assert sum(s.read for s in steps) == 44
    assert first.existing == 0 and store.count() == 44
    calls = model.calls
    again = run_campaign(SourceSpec(kind="demo"), model, store, chunk_size=8)
    assert again.existing == first.done and again.done == first.done
    assert again.failed == first.failed == 1  # KHgSb is retried, fails again
    assert model.calls - calls <= 2  # only the failed one goes through inference again
    assert store.count() == 44 and store.duplicates() == 0
    store.close()


def test_process_chunk_skips_done(tmp_path):
    with open_store(tmp_path / "db") as store:
        model = ToyScreeningModel()
        args = (model, store, CandidateFilter(), ScreeningSettings())
        c1 = process_chunk(records("Bi2Se3-R-3m"), *args)
        c2 = process_chunk(records("Bi2Se3-R-3m"), *args)
        assert (c1.done, c1.existing, c2.done, c2.existing) == (1, 0, 1, 1)
        assert model.calls == 1


def test_a_stricter_rerun_keeps_finished_results_unless_recompute(tmp_path):
    """Screen Bi2Se3 and Bi2Te3, then again with max_sites 2: both are rejected now, but
    their finished TI results stay; only --recompute replaces them."""
    ids = ["Bi2Se3-R-3m", "Bi2Te3-R-3m"]
    model = ToyScreeningModel()
    with open_store(tmp_path / "db") as store:
        first = run_campaign(SourceSpec(kind="demo", paths=ids), model, store)
        assert first.done == 2
        strict = CandidateFilter(max_sites=2)
        again = run_campaign(SourceSpec(kind="demo", paths=ids), model, store, strict)
        assert (again.skipped, again.kept) == (2, 2)
        docs = {d["material_id"]: d for d in store.find()}
        assert {d["status"] for d in docs.values()} == {"done"}
        assert docs["Bi2Se3-R-3m"]["label"] == "STI (1;000)"
        forced = run_campaign(SourceSpec(kind="demo", paths=ids), model, store, strict,
                              ScreeningSettings(recompute=True))
        assert forced.kept == 0
        assert {d["status"] for d in store.find()} == {"skipped"}
        assert store.count() == 2 and store.duplicates() == 0


def test_a_failure_never_replaces_a_result_but_replaces_a_skip(tmp_path):
    from hts_z2.store.results import replaces

    assert replaces("done", "failed") and replaces("failed", "skipped")
    assert replaces("failed", "failed") and replaces("skipped", "skipped")  # newer reason
    assert not replaces("skipped", "done") and not replaces("failed", "done")
    assert not replaces("done", "done") and not replaces("skipped", "failed")
    model = ToyScreeningModel()
    with open_store(tmp_path / "db") as store:
        rec = records("PbTe-Fm-3m")
        process_chunk(rec, model, store, CandidateFilter(), ScreeningSettings())
        [done] = screen_records(rec, model, CandidateFilter(), ScreeningSettings())
        failed = done.model_copy(update={"status": "failed", "reason": "node lost"})
        assert store.upsert([failed]) == 0
        assert [d["status"] for d in store.find()] == ["done"]
        assert store.upsert([failed], recompute=True) == 1
        assert [d["status"] for d in store.find()] == ["failed"]


def test_counts_add():
    a = CampaignCounts(read=2, done=1, skipped=1, seconds={"gap": 1.0})
    b = CampaignCounts(read=1, failed=1, seconds={"gap": 0.5, "z2": 1})
    c = a.add(b)
    assert (c.read, c.done, c.skipped, c.failed) == (3, 1, 1, 1)
    assert c.seconds == {"gap": 1.5, "z2": 1}


@pytest.mark.slow
def test_flow_run_locally(tmp_path):
    db = str(tmp_path / "db")
    maker = ScreeningFlowMaker(spec=CampaignSpec(db=db, model=MODEL, campaign="t", chunk_size=2,
                                                 chunk_manager_config={"_fworker": "gpu"}))
    ids = ["Bi2Se3-R-3m", "PbTe-Fm-3m", "Au-Fm-3m", "CdTe-F-43m", "KHgSb-P6_3mmc"]
    flow = maker.make(SourceSpec(kind="demo", paths=ids))
    responses = run_locally(flow, create_folders=False, ensure_success=True)
    outputs = [r[max(r)].output for r in responses.values()]
    total = next(o for o in outputs if isinstance(o, CampaignCounts) and o.read)
    assert (total.read, total.done, total.skipped, total.failed) == (5, 3, 1, 1)
    with open_store(db) as store:
        assert store.count() == 5 and store.count({"campaign": "t"}) == 5


@pytest.mark.parametrize("band_error", [None, 1e-3, 50.0])
def test_caution_on_gaps_below_the_model_band_error(band_error):
    recs = records("Bi2Se3-R-3m", "PbTe-Fm-3m", "Au-Fm-3m")
    model = CalibratedToyModel(band_error)
    docs = {d.material_id: d for d in screen_records(recs, model, CandidateFilter(),
                                                     ScreeningSettings())}  # fmt: skip
    for mid in ("Bi2Se3-R-3m", "PbTe-Fm-3m"):
        doc = docs[mid]
        assert doc.label != "metal" and doc.gap.indirect > 1e-3
        if band_error is not None and doc.gap.indirect < band_error:
            [c] = doc.cautions
            assert c.code == "gap_below_band_error" and c.value == doc.gap.indirect
            assert c.threshold == band_error and f"{doc.gap.indirect:.3f} eV <" in c.text
        else:
            assert doc.cautions == []
    metal = docs["Au-Fm-3m"]  # bands overlap by 12 eV, direct gap 0 (degenerate bands)
    assert metal.label == "metal" and metal.z2_manifold is None
    assert bool(metal.cautions) == (band_error == 50.0)
    if band_error == 50.0:
        assert metal.cautions[0].code == "overlap_below_band_error"
        assert docs["Bi2Se3-R-3m"].cautions and docs["Bi2Se3-R-3m"].label == "STI (1;000)"


def test_domain_distance_is_stored_and_cautions_outside_the_threshold():
    recs = records("Bi2Se3-R-3m", "PbTe-Fm-3m", "Au-Fm-3m")
    docs = {d.material_id: d for d in screen_records(recs, DomainToyModel(), CandidateFilter(),
                                                     ScreeningSettings())}  # fmt: skip
    inside, outside, unseen = docs["Bi2Se3-R-3m"], docs["PbTe-Fm-3m"], docs["Au-Fm-3m"]
    assert inside.domain.distance == 0.5 and inside.cautions == []
    assert inside.label == "STI (1;000)" and "domain" in inside.timings
    [far] = outside.cautions
    assert outside.domain.distance == 3.0 and (far.code, far.value, far.threshold) == (
        "outside_domain", 3.0, 1.0) and "domain distance 3.00 > 1.00" in far.text
    assert unseen.domain.distance is None and "no environment" in unseen.cautions[0].text
    assert unseen.cautions[0].code == "unseen_element"
    assert inside.domain.by_element == {"Bi": 0.5, "Se": 0.5}
    assert outside.domain.by_element == {"Pb": 3.0, "Te": 3.0}
    assert unseen.domain.by_element == {"Au": None}
    assert [d.domain.in_domain for d in (inside, outside, unseen)] == [True, False, False]
    assert unseen.label == "metal"
    plain = screen_records(recs[:1], CalibratedToyModel(None), CandidateFilter(),
                           ScreeningSettings())[0]  # fmt: skip
    assert plain.domain is None and "domain" not in plain.timings


def test_a_rerun_gives_stored_results_their_domain_distance(tmp_path):
    """Results stored before the model had a domain reference (same sha256) get their
    distance and, beyond the threshold, the caution; nothing else in them changes."""
    ids = ["Bi2Se3-R-3m", "PbTe-Fm-3m", "Au-Fm-3m"]
    with open_store(tmp_path / "db") as store:
        first = run_campaign(SourceSpec(kind="demo", paths=ids), CalibratedToyModel(None), store)
        before = {d["material_id"]: d for d in store.find()}
        assert first.backfilled == 0 and all(d["domain"] is None for d in before.values())
        again = run_campaign(SourceSpec(kind="demo", paths=ids), DomainToyModel(), store)
        assert again.existing == 3 and again.backfilled == 3
        after = {d["material_id"]: ResultDoc.from_stored(d) for d in store.find()}
        assert after["Bi2Se3-R-3m"].domain.distance == 0.5
        assert after["Bi2Se3-R-3m"].cautions == []
        assert after["PbTe-Fm-3m"].domain.distance == 3.0
        assert "domain distance 3.00 > 1.00" in after["PbTe-Fm-3m"].cautions[0].text
        assert after["Au-Fm-3m"].domain.distance is None  # no Au environment in training
        assert after["Au-Fm-3m"].cautions[0].code == "unseen_element"
        assert after["PbTe-Fm-3m"].domain.by_element == {"Pb": 3.0, "Te": 3.0}
        assert after["Bi2Se3-R-3m"].domain.in_domain
        assert not after["PbTe-Fm-3m"].domain.in_domain
        after = {d["material_id"]: d for d in store.find()}
        for mid, doc in before.items():
            for key in ("label", "gap", "z2", "status", "timings"):
                assert after[mid][key] == doc[key]
        third = run_campaign(SourceSpec(kind="demo", paths=ids), DomainToyModel(), store)
        assert third.backfilled == 0 and store.duplicates() == 0 and store.count() == 3


def anisotropic_wilson_dirac():
    """wilson_dirac(1.1) with 1.5x the hopping along the third axis: the smallest gap,
    0.8 eV, sits at the TRIM (0, 1/2, 1/2) and (1/2, 0, 1/2) of the Z2 planes."""
    tb = wilson_dirac(1.1)
    H = tb.H.copy()
    H[np.flatnonzero(np.abs(tb.R[:, 2]) == 1)] *= 1.5
    return tb.replace(H=H)


@pytest.fixture
def gamma_only_grid(monkeypatch):
    """Band gaps searched at Gamma alone (no grid beyond it, no path)."""
    gamma_only = SimpleNamespace(k=np.zeros((1, 3)))
    monkeypatch.setattr(gap_module, "high_symmetry_path", lambda *a, **k: gamma_only)
    monkeypatch.setattr(gap_module, "mesh_for_spacing", lambda *a: (1, 1, 1))


@pytest.mark.usefixtures("gamma_only_grid")
def test_the_stored_gap_and_caution_include_the_z2_planes():
    """A band grid of Gamma alone (mesh and path replaced) misses the 0.8 eV minimum; the
    planes of the Z2 calculation find it, and the caution follows the smaller gap."""
    tb = anisotropic_wilson_dirac()
    settings = ScreeningSettings(kspacing=10.0)
    grid = gap_module.band_gap(tb, kspacing=settings.kspacing)
    assert grid.n_k == 2 and grid.indirect > 5.0
    out = topology(tb, settings, band_error=1.0)
    assert out["gap"].indirect == pytest.approx(0.8) and out["gap"].n_k > grid.n_k
    assert sorted(out["gap"].k_vbm) == [0.0, 0.5, 0.5]
    assert out["label"] == "STI (1;001)" and "0.800 eV <" in out["cautions"][0].text


@pytest.mark.parametrize(("band_error", "flagged"), [(None, False), (0.1, False), (0.5, True)])
def test_a_metal_within_the_band_error_gets_a_caution_and_its_manifold_z2(band_error, flagged):
    out = topology(tilted_sti(0.51), ScreeningSettings(kspacing=0.5), band_error)
    assert out["label"] == "metal" and out["gap"].indirect == pytest.approx(-0.12)
    assert bool(out["cautions"]) == flagged and ("z2_manifold" in out) == flagged
    if flagged:
        assert "bands overlap by 0.120 eV < the model's validation band error 0.500" in (
            out["cautions"][0].text
        )
        manifold = out["z2_manifold"]
        assert manifold.label == "STI (1;000)" and "semimetal" in manifold.reason
    deep = topology(tilted_sti(0.6), ScreeningSettings(kspacing=0.5), band_error)
    assert deep["label"] == "metal" and deep["cautions"] == [] and "z2_manifold" not in deep


@pytest.mark.usefixtures("gamma_only_grid")
def test_a_metal_found_on_the_z2_planes_only_gets_its_manifold_z2():
    """With a band grid of Gamma alone, tilted_sti(0.51) looks like a 2 eV insulator; the
    Z2 planes find the 0.12 eV overlap, and the near-metal fields follow."""
    out = topology(tilted_sti(0.51), ScreeningSettings(), band_error=0.5)
    assert out["label"] == "metal" and "bands overlap" in out["reason"]
    assert out["gap"].indirect == pytest.approx(-0.12) and out["gap"].is_metal
    assert "bands overlap by 0.120 eV" in out["cautions"][0].text
    assert out["z2_manifold"].label == "STI (1;000)"


SLOW_CAMPAIGN = """
import sys, time
import hts_z2.flows.screening as screening
from screening_double import ToyScreeningModel
from hts_z2.store import open_store
from hts_z2.structures.sources import SourceSpec

topology = screening.topology
def slow(*args, **kw):  # gap + Z2 of one material takes a while
    time.sleep(0.4)
    return topology(*args, **kw)
screening.topology = slow
with open_store(sys.argv[1]) as store:
    counts = screening.run_campaign(SourceSpec(kind="demo"), ToyScreeningModel(), store,
                                    chunk_size=64)
print("READ", counts.read, "EXISTING", counts.existing, flush=True)
"""


@pytest.mark.slow
def test_kill_9_inside_a_chunk_loses_at_most_the_material_in_flight(tmp_path):
    """One chunk of all 44 demo structures; kill -9 (by PID) after a few are finished: they
    stay stored, and the re-run screens only the rest."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "campaign.py"
    script.write_text(SLOW_CAMPAIGN)
    env = {**os.environ, "PYTHONPATH": str(root / "tests"), "OMP_NUM_THREADS": "1"}
    db = str(tmp_path / "db")
    proc = subprocess.Popen([sys.executable, str(script), db], env=env,
                            stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    finished = 0
    while time.monotonic() < deadline and proc.poll() is None:
        with open_store(db) as store:
            finished = store.count({"status": "done", "z2": {"$ne": None}})
        if finished >= 3:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert finished >= 3, "the campaign stored nothing before the chunk ended"
    with open_store(db) as store:
        kept = store.count({"status": "done"})
        total_before = store.count()
    assert kept >= 3 and total_before < 44
    rerun = subprocess.run([sys.executable, str(script), db], env=env, capture_output=True,
                           text=True, timeout=600)
    assert "READ 44" in rerun.stdout, rerun.stderr
    existing = int(rerun.stdout.split("EXISTING")[1].split()[0])
    assert existing == kept  # nothing finished is computed again
    with open_store(db) as store:
        assert store.count() == 44 and store.duplicates() == 0
