"""A real MongoDB wire-protocol server (mongoeco) for the integration tests.

The server runs under ``.venv-mongo`` (Python >= 3.13; ``make .venv-mongo/.installed``).
Without it the tests fail with instructions: they are never skipped.
"""

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONGO_PYTHON = ROOT / ".venv-mongo" / "bin" / "python"
SERVER = ROOT / "tests" / "mongo_server.py"
TESTS = ROOT / "tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mongoeco server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"mongoeco server did not open port {port} within {timeout} s")


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
