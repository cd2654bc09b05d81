"""What `hts-z2 screen` shows in a terminal (a pseudo-terminal here) and in a log (a pipe):
a determinate progress bar in one, plain progress lines and whole tables in the other."""

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IDS = ["Bi2Se3-R-3m", "PbTe-Fm-3m", "Au-Fm-3m"]


def screen_args(tmp_path):
    return [sys.executable, "-m", "hts_z2.cli", "screen", "--source", "demo", *IDS,
            "--model", "py:screening_double:make_model", "--confirm", "none",
            "--db", str(tmp_path / "db")]


def environment(**extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "HTS_Z2_DFT": "off", **extra}
    env.pop("COLUMNS", None)
    return env


def test_a_terminal_gets_a_determinate_progress_bar(tmp_path):
    leader, follower = pty.openpty()
    os.set_inheritable(follower, True)
    proc = subprocess.Popen(screen_args(tmp_path), stdin=follower, stdout=follower,
                            stderr=follower, env=environment(COLUMNS="160", TERM="xterm"),
                            cwd=ROOT, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=600) == 0
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "screening demo" in out and "3/3" in out  # a total, not "0/?"
    assert "━" in out and "\x1b[" in out  # drawn as a bar, with terminal control codes
    assert "screened 3/3" not in out  # no log lines in a terminal


def test_a_log_gets_progress_lines_and_unclipped_tables(tmp_path):
    run = subprocess.run(screen_args(tmp_path), capture_output=True, text=True,
                         env=environment(), cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "screened 3/3: done" in out and "\x1b[" not in out
    assert "first principles" in out and "Bi2Se3-R-3m" in out  # whole headers and ids
    assert "…" not in out
