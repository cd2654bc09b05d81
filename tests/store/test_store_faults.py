"""A MongoDB server that dies in the middle of a campaign: the writes are retried, then the
campaign stops with a clear error naming the store; everything stored before stays, and a
re-run against the restarted server completes it without duplicates."""

import subprocess

import pytest
from mongo_helpers import MONGO_PYTHON, SERVER, free_port, wait_for_port

from hts_z2.flows.screening import run_campaign
from hts_z2.store import StoreFaultError, open_store
from hts_z2.store import results as results_module
from hts_z2.structures.sources import SourceSpec


def start_server(port: int, db_file) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(MONGO_PYTHON), str(SERVER), "--port", str(port), "--sqlite", str(db_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc)
    return proc


@pytest.mark.slow
def test_server_killed_mid_campaign_stops_cleanly_and_resumes(tmp_path, toy_model, monkeypatch):
    monkeypatch.setattr(results_module, "WRITE_RETRIES", (0.2, 0.5))
    port, db_file = free_port(), tmp_path / "mongo.sqlite"
    uri = f"mongodb://127.0.0.1:{port}/faults?serverSelectionTimeoutMS=1000"
    server = start_server(port, db_file)
    stored_before = []

    def kill_after_first_chunk(step) -> None:
        if server.poll() is None and step.done:
            stored_before.append(step.done)
            server.kill()
            server.wait()

    try:
        with open_store(uri, timeout_ms=1000) as store:
            with pytest.raises(StoreFaultError) as failure:
                run_campaign(SourceSpec(kind="demo"), toy_model, store, chunk_size=4,
                             on_progress=kill_after_first_chunk)
        message = str(failure.value)
        assert "the result store" in message and "failed after 3 attempt(s)" in message
        assert f"127.0.0.1:{port}/faults" in message  # names the store
        server = start_server(port, db_file)
        with open_store(uri) as store:
            assert store.count() >= stored_before[0] > 0  # nothing stored was lost
            again = run_campaign(SourceSpec(kind="demo"), toy_model, store, chunk_size=4)
            assert again.existing >= stored_before[0]
            assert store.count() == 44 and store.duplicates() == 0
    finally:
        server.kill()
        server.wait()
