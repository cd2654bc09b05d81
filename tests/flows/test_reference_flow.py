import pytest
from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from hts_z2.flows.reference import ReferenceMaker, settings_from_dict
from hts_z2.reference.convert import PruneSettings
from hts_z2.reference.dataset import dataset_stats
from hts_z2.reference.gpaw_scf import GpawSettings
from hts_z2.reference.pipeline import ReferenceSettings


def test_settings_round_trip():
    from dataclasses import asdict

    s = ReferenceSettings(
        gpaw=GpawSettings(basis="sz(dzp)", kpts=(2, 2, 2)),
        prune=PruneSettings(h_tol=1e-3),
        max_atoms=4,
    )
    assert settings_from_dict(asdict(s)) == s


@pytest.mark.slow
def test_flow_runs_one_job_per_structure(tmp_path):
    pbte = Structure(
        Lattice.cubic(6.46),
        ["Pb"] * 4 + ["Te"] * 4,
        [
            [0, 0, 0],
            [0, 0.5, 0.5],
            [0.5, 0, 0.5],
            [0.5, 0.5, 0],
            [0.5, 0.5, 0.5],
            [0.5, 0, 0],
            [0, 0.5, 0],
            [0, 0, 0.5],
        ],
    ).get_primitive_structure()
    fe = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    settings = ReferenceSettings(gpaw=GpawSettings(basis="sz(dzp)", kpts=(2, 2, 2)), labels=False)
    flow = ReferenceMaker(settings=settings).make([("PbTe", pbte), ("Fe-bcc", fe)], str(tmp_path))
    assert len(flow.jobs) == 2
    responses = run_locally(flow, create_folders=False, ensure_success=True)
    outputs = {r[1].output.sample_id: r[1].output for r in responses.values()}
    assert outputs["PbTe"].status == "done"
    assert outputs["Fe-bcc"].status == "failed"
    assert "magnetic" in outputs["Fe-bcc"].reason
    assert dataset_stats(tmp_path).n_samples == 1
    again = run_locally(flow, create_folders=False)
    assert {r[1].output.status for r in again.values()} == {"existing", "failed"}
