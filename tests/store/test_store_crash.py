"""A writer SIGKILLed inside a transaction leaves a sound database holding only whole batches, and
re-running it completes the job without duplicates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from inward.store import DB_NAME, Store

WRITER = Path(__file__).with_name("crash_writer.py")
SRC = Path(__file__).resolve().parents[2] / "src"
N_BATCHES, SIZE, HANG_AT = 6, 100, 3

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def _writer(workspace: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(workspace), str(N_BATCHES), str(SIZE), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _rows_per_batch(workspace: Path) -> dict[str, int]:
    with Store.open(workspace) as store:
        df = store.object_rows(model="m1")
    return {str(task): int(n) for task, n in df.groupby("task").size().items()}


def test_sigkill_mid_transaction_keeps_whole_batches_and_rerun_completes(tmp_path: Path) -> None:
    wal = tmp_path / f"{DB_NAME}-wal"
    proc = _writer(tmp_path, str(HANG_AT))
    assert proc.stdout is not None
    wal_at_start = -1
    try:
        for line in proc.stdout:
            if line.strip() == f"batch {HANG_AT} started":
                wal_at_start = wal.stat().st_size
            if line.strip() == f"batch {HANG_AT} sleeping":
                break
        else:
            pytest.fail(
                f"writer ended before hanging: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
            )
        # The half batch is really on disk, uncommitted, when the kill comes. (The WAL need not grow: after an
        # automatic checkpoint SQLite rewrites it from the start, so only non-emptiness is checked.)
        assert wal_at_start >= 0 and wal.stat().st_size > 0
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert _rows_per_batch(tmp_path) == {f"batch{b}": SIZE for b in range(HANG_AT)}

    rerun = _writer(tmp_path)
    out, err = rerun.communicate(timeout=30)
    assert rerun.returncode == 0, err
    added = [line.rsplit("=", 1)[1] for line in out.splitlines() if "done" in line]
    assert added == ["0"] * HANG_AT + [str(SIZE)] * (N_BATCHES - HANG_AT)
    assert _rows_per_batch(tmp_path) == {f"batch{b}": SIZE for b in range(N_BATCHES)}
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        n, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT task || '/' || item_id) FROM object_rows"
        ).fetchone()
    assert n == distinct == N_BATCHES * SIZE
