"""A campaign submitted to jobflow-remote with `hts-z2 submit`, run by jobflow-remote's own
runner on a local worker (shell scheduler, one `jf execution run` process per job) with
its queue and job store on the wire-protocol MongoDB server; the results land in the
campaign's store."""

import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.store import open_store
from hts_z2.store.uri import database_from_uri

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
FEW = ["Bi2Se3-R-3m", "PbTe-Fm-3m", "CdTe-F-43m"]


def _project(tmp_path: Path, uri: str, name: str) -> dict:
    """A jobflow-remote project: one local worker, queue and outputs in ``uri``'s database."""
    database = database_from_uri(uri)

    def store(collection):
        return {
            "type": "MongoURIStore",
            "uri": uri,
            "database": database,
            "collection_name": collection,
        }

    bin_dir = Path(sys.executable).parent
    return {
        "name": name,
        "base_dir": str(tmp_path / "jfr-base"),
        "workers": {
            "local": {
                "type": "local",
                "scheduler_type": "shell",
                "work_dir": str(tmp_path / "jfr-work"),
                "resources": {},
                "pre_run": (
                    f"export PATH={bin_dir}:$PATH\n"
                    f"export PYTHONPATH={TESTS}:{ROOT}\n"
                    "export OMP_NUM_THREADS=1"
                ),
            }
        },
        "queue": {
            "store": store("jfr_queue"),
            "flows_collection": "jfr_flows",
            "auxiliary_collection": "jfr_aux",
            "db_id_prefix": None,
        },
        "exec_config": {},
        "jobstore": {"docs_store": store("jfr_outputs")},
        "runner": {
            "delay_checkout": 1,
            "delay_check_run_status": 1,
            "delay_advance_status": 1,
            "delay_refresh_limited": 5,
            "delay_update_batch": 5,
        },
    }


@pytest.mark.slow
def test_campaign_runs_through_jobflow_remote(mongo_uri, tmp_path, monkeypatch):
    import jobflow_remote
    from jobflow_remote.jobs.jobcontroller import JobController
    from jobflow_remote.jobs.runner import Runner
    from jobflow_remote.jobs.state import JobState

    name = f"hts-z2-{database_from_uri(mongo_uri)}"
    projects = tmp_path / "jfr-projects"
    projects.mkdir()
    (projects / f"{name}.yaml").write_text(yaml.safe_dump(_project(tmp_path, mongo_uri, name)))
    monkeypatch.setattr(jobflow_remote.SETTINGS, "projects_folder", str(projects))
    monkeypatch.setattr(jobflow_remote.SETTINGS, "project", name)
    controller = JobController.from_project_name(name)
    controller.reset(reset_output=True, max_limit=0)

    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        yaml.safe_dump(
            {
                "name": "jfr",
                "source": {"kind": "demo", "paths": FEW},
                "db": mongo_uri,
                "model": "py:screening_double:make_model",
                "chunk_size": 2,
                "confirmation": "none",
                "engine": "jobflow-remote",
                "jobflow_remote": {"project": name, "worker": "local"},
            }
        )
    )
    monkeypatch.syspath_prepend(str(TESTS))
    result = CliRunner().invoke(app, ["submit", str(campaign)])
    assert result.exit_code == 0, result.output
    assert "submitted jfr to jobflow-remote" in " ".join(result.output.split())

    Runner(name).run_all_jobs(max_seconds=300)

    states = {info.name: info.state for info in controller.get_jobs_info()}
    assert states and set(states.values()) == {JobState.COMPLETED}, states
    with open_store(mongo_uri) as store:
        docs = {d["material_id"]: d for d in store.find()}
        assert store.duplicates() == 0
    assert set(docs) == set(FEW)
    assert docs["Bi2Se3-R-3m"]["label"] == "STI (1;000)"
    assert docs["CdTe-F-43m"]["status"] == "skipped"
    assert {d["campaign"] for d in docs.values()} == {"jfr"}


def test_submit_to_an_unknown_jobflow_remote_project_is_a_clear_error(tmp_path, monkeypatch):
    import jobflow_remote

    projects = tmp_path / "none"
    projects.mkdir()
    monkeypatch.setattr(jobflow_remote.SETTINGS, "projects_folder", str(projects))
    campaign = tmp_path / "c.yaml"
    campaign.write_text(
        yaml.safe_dump(
            {
                "name": "c",
                "source": {"kind": "demo", "paths": FEW[:1]},
                "engine": "jobflow-remote",
                "jobflow_remote": {"project": "nowhere", "worker": "local"},
            }
        )
    )
    result = CliRunner().invoke(app, ["submit", str(campaign)])
    assert result.exit_code == 2
    assert "jobflow-remote" in result.output and "nowhere" in result.output
