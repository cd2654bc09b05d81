"""A read-only embedded store: `query` and `screen` stop with a clear message and exit
code 2 (montydb writes its configuration file at every connection, so even reading needs
a writable directory), and nothing stored is touched. The store is made read-only for
real: a read-only bind mount in a private mount namespace when the tests run as root
(root writes through file modes), the file modes otherwise."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from screening_double import ToyScreeningModel

from hts_z2.flows.screening import run_campaign
from hts_z2.store import open_store
from hts_z2.structures.sources import SourceSpec

ROOT = Path(__file__).resolve().parents[2]


def read_only(store: Path, args: list[str]) -> subprocess.CompletedProcess:
    """Run ``python -m hts_z2.cli ARGS`` with ``store`` read-only for that process."""
    command = [sys.executable, "-m", "hts_z2.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "HTS_Z2_DFT": "off",
           "COLUMNS": "200"}
    if os.geteuid() == 0:
        assert shutil.which("unshare"), "unshare (util-linux) is needed to run this as root"
        command = ["unshare", "--mount", "sh", "-c",
                   f'mount --bind -o ro "{store}" "{store}" && exec "$@"', "sh", *command]
    else:
        for path in (store, *store.rglob("*")):
            path.chmod(0o555 if path.is_dir() else 0o444)
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)


def test_a_read_only_store_is_read_and_refuses_writes_clearly(tmp_path):
    store = tmp_path / "store"
    with open_store(store) as results:
        run_campaign(SourceSpec(kind="demo", paths=["Bi2Se3-R-3m", "PbTe-Fm-3m"]),
                     ToyScreeningModel(), results)
    before = {p.name: p.read_bytes() for p in store.rglob("*") if p.is_file()}

    for args in (["query", "--db", str(store), "--format", "csv"],
                 ["screen", "--source", "demo", "Au-Fm-3m", "--db", str(store),
                  "--model", "py:screening_double:make_model", "--confirm", "none"]):
        run = read_only(store, args)
        out = " ".join((run.stdout + run.stderr).split())
        assert run.returncode == 2, out
        assert "Traceback" not in out and "error:" in out and str(store) in out
        assert "Read-only file system" in out or "Permission denied" in out
    if os.geteuid() != 0:
        for path in (store, *store.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
    after = {p.name: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    assert after == before  # nothing stored was touched
