"""A real MongoDB wire-protocol server (mongoeco) for the integration tests.

The server runs under ``.venv-mongo`` (Python >= 3.13; ``make .venv-mongo/.installed``).
Without it the tests fail with instructions: they are never skipped.
"""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from mongo_helpers import MONGO_PYTHON, SERVER, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory):
    """``mongodb://127.0.0.1:<port>`` of a mongoeco server started for this session."""
    if not MONGO_PYTHON.exists():
        pytest.fail(
            f"{MONGO_PYTHON} is missing: the MongoDB integration tests need mongoeco "
            "(Python >= 3.13). Create it with `make .venv-mongo/.installed`.",
            pytrace=False,
        )
    port = free_port()
    db_file = tmp_path_factory.mktemp("mongo") / "mongoeco.sqlite"
    proc = subprocess.Popen(
        [str(MONGO_PYTHON), str(SERVER), "--port", str(port), "--sqlite", str(db_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def mongo_uri(mongo_server):
    """URI of a fresh database on the session server (tiny and isolated per test)."""
    return f"{mongo_server}/hts_z2_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def toy_model():
    sys.path.insert(0, str(TESTS))
    from screening_double import ToyScreeningModel

    return ToyScreeningModel()
