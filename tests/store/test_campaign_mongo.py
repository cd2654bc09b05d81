"""Campaigns end to end into a real MongoDB server: jobflow, FireWorks, kill and re-run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MongoStore

from hts_z2.flows.campaign import CampaignSpec, ScreeningFlowMaker
from hts_z2.store import open_store
from hts_z2.store.uri import database_from_uri
from hts_z2.structures.sources import SourceSpec

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

MODEL_SPEC = "py:screening_double:make_model"
FEW = ["Bi2Se3-R-3m", "PbTe-Fm-3m", "CdTe-F-43m"]


def job_store(uri):
    docs = MongoStore(
        database=database_from_uri(uri), collection_name="jobflow_outputs", uri=uri
    )
    return JobStore(docs)


def outputs_of(store, uri):
    with open_store(uri) as s:
        return {d["material_id"]: d for d in s.find()}, s.duplicates()


def test_run_locally_campaign_into_mongo(mongo_uri):
    maker = ScreeningFlowMaker(spec=CampaignSpec(db=mongo_uri, model=MODEL_SPEC, campaign="ci",
                                                 chunk_size=1))
    flow = maker.make(SourceSpec(kind="demo", paths=FEW))
    responses = run_locally(flow, store=job_store(mongo_uri), create_folders=False,
                            ensure_success=True)
    assert len(responses) == 1 + 2 + 1  # plan, two candidate chunks, summary
    docs, dups = outputs_of(None, mongo_uri)
    assert dups == 0
    assert docs["Bi2Se3-R-3m"]["label"] == "STI (1;000)"
    assert docs["PbTe-Fm-3m"]["status"] == "done"
    assert docs["CdTe-F-43m"]["status"] == "skipped"
    assert docs["Bi2Se3-R-3m"]["campaign"] == "ci"


@pytest.mark.slow
def test_fireworks_launchpad_round_trip(mongo_uri, tmp_path, monkeypatch):
    from fireworks import FWorker, LaunchPad
    from fireworks.core.rocket_launcher import rapidfire
    from jobflow.managers.fireworks import flow_to_workflow

    monkeypatch.chdir(tmp_path)
    lp = LaunchPad(host=mongo_uri, uri_mode=True, name=database_from_uri(mongo_uri))
    lp.reset("", require_password=False)
    maker = ScreeningFlowMaker(spec=CampaignSpec(db=mongo_uri, model=MODEL_SPEC, campaign="fw",
                                                 chunk_size=2))
    wf = flow_to_workflow(maker.make(SourceSpec(kind="demo", paths=FEW)),
                          store=job_store(mongo_uri))
    lp.add_wf(wf)
    rapidfire(lp, FWorker(), nlaunches=0, sleep_time=0, max_loops=-1)
    states = {fw["name"]: fw["state"] for fw in lp.fireworks.find({}, {"name": 1, "state": 1})}
    assert states and set(states.values()) == {"COMPLETED"}, states
    docs, dups = outputs_of(None, mongo_uri)
    assert dups == 0 and len(docs) == 3
    assert {d["status"] for d in docs.values()} == {"done", "skipped"}


KILL_SCRIPT = """
import sys
from hts_z2.flows.screening import resolve_model, run_campaign
from hts_z2.store import open_store
from hts_z2.structures.sources import SourceSpec
store = open_store(sys.argv[1])
run_campaign(SourceSpec(kind="demo"), resolve_model("{model}"), store, chunk_size=2)
print("FINISHED")
"""


@pytest.mark.slow
def test_sigkill_mid_campaign_then_rerun(mongo_uri):
    script = KILL_SCRIPT.format(model=MODEL_SPEC)
    env = dict(os.environ, PYTHONPATH=f"{TESTS}{os.pathsep}{ROOT}", OMP_NUM_THREADS="1",
               HTS_Z2_TOY_DELAY="0.1")
    proc = subprocess.Popen([sys.executable, "-c", script, mongo_uri], env=env, cwd=ROOT)
    with open_store(mongo_uri) as store:
        deadline = time.monotonic() + 120
        while store.count({"status": "done"}) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        partial = store.count()
    assert 0 < partial < 44
    env["HTS_Z2_TOY_DELAY"] = "0"
    done = subprocess.run([sys.executable, "-c", script, mongo_uri], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert "FINISHED" in done.stdout, done.stderr
    docs, dups = outputs_of(None, mongo_uri)
    assert dups == 0
    assert len(docs) == 44
    assert docs["Bi2Se3-R-3m"]["label"] == "STI (1;000)"


def test_run_locally_campaign_with_confirmation_from_the_cache(mongo_uri):
    from hts_z2.flows.confirmation import ConfirmationPolicy

    maker = ScreeningFlowMaker(spec=CampaignSpec(
        db=mongo_uri, model=MODEL_SPEC, campaign="ci", chunk_size=1,
        confirmation=ConfirmationPolicy()))
    flow = maker.make(SourceSpec(kind="demo", paths=FEW))
    run_locally(flow, store=job_store(mongo_uri), create_folders=False, ensure_success=True)
    docs, dups = outputs_of(None, mongo_uri)
    assert dups == 0
    bi2se3 = docs["Bi2Se3-R-3m"]
    assert bi2se3["confirmation"]["verdict"] == "confirmed" and bi2se3["confirmation"]["cached"]
    assert bi2se3["label"] == "STI (1;000)"  # the model's result stays as it was


@pytest.mark.slow
def test_fireworks_campaign_runs_a_confirmation_job(mongo_uri, tmp_path, monkeypatch,
                                                    dft_allowed):
    """A structure outside the cache: the FireWorks run plans and runs its plane-wave
    confirmation job (GPAW, reduced settings) and stores it in both collections."""
    from fireworks import FWorker, LaunchPad
    from fireworks.core.rocket_launcher import rapidfire
    from jobflow.managers.fireworks import flow_to_workflow
    from pymatgen.core import Lattice, Structure

    from hts_z2.flows.confirmation import ConfirmationPolicy
    from hts_z2.reference.planewave.settings import PlaneWaveSettings
    from hts_z2.store.dft import open_dft_store

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    s = Structure(Lattice([[0, 3.26, 3.26], [3.26, 0, 3.26], [3.26, 3.26, 0]]),
                  ["Pb", "Te"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.to(filename=str(tmp_path / "PbTe_wide.cif"))
    quick = PlaneWaveSettings(ecut=200.0, kpt_density=1.6, path_spacing=0.3)
    policy = ConfirmationPolicy(mode="all", settings=quick, methods="parity")
    lp = LaunchPad(host=mongo_uri, uri_mode=True, name=database_from_uri(mongo_uri))
    lp.reset("", require_password=False)
    maker = ScreeningFlowMaker(spec=CampaignSpec(
        db=mongo_uri, model=MODEL_SPEC, campaign="fw", chunk_size=2, confirmation=policy,
        confirm_manager_config={"_fworker": "cpu"}))
    source = SourceSpec(kind="files", paths=[str(tmp_path / "PbTe_wide.cif")])
    lp.add_wf(flow_to_workflow(maker.make(source), store=job_store(mongo_uri)))
    rapidfire(lp, FWorker(name="cpu"), nlaunches=0, sleep_time=0, max_loops=-1)
    states = {fw["name"]: fw["state"] for fw in lp.fireworks.find({}, {"name": 1, "state": 1})}
    assert "confirm PbTe_wide" in states and set(states.values()) == {"COMPLETED"}, states
    docs, dups = outputs_of(None, mongo_uri)
    assert dups == 0
    c = docs["PbTe_wide"]["confirmation"]
    assert c["status"] == "done" and c["label"] == "trivial (0;000)" and not c["cached"]
    with open_dft_store(mongo_uri) as dft:
        assert dft.count({"material_id": "PbTe_wide"}) == 1
