"""Two campaigns started at once into the same store: neither crashes, and every material
is stored once (the embedded store serializes its writers with a file lock; MongoDB with
its unique index)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hts_z2.store import open_store

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = """
import sys
from screening_double import ToyScreeningModel
from hts_z2.flows.screening import run_campaign
from hts_z2.store import open_store
from hts_z2.structures.sources import SourceSpec
with open_store(sys.argv[1]) as store:
    c = run_campaign(SourceSpec(kind="demo"), ToyScreeningModel(), store, chunk_size=4)
print("READ", c.read, flush=True)
"""


def two_campaigns_at_once(tmp_path, where: str) -> None:
    script = tmp_path / "campaign.py"
    script.write_text(CAMPAIGN)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(script), where], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and "READ 44" in out, err[-2000:]
    with open_store(where) as store:
        assert store.count() == 44 and store.duplicates() == 0


@pytest.mark.slow
def test_two_campaigns_into_one_new_embedded_store(tmp_path):
    two_campaigns_at_once(tmp_path, str(tmp_path / "new-store"))


@pytest.mark.slow
def test_two_campaigns_into_one_mongodb_database(tmp_path, mongo_uri):
    two_campaigns_at_once(tmp_path, mongo_uri)
