"""Torch thread choice: free cores from (cpus, busy) readings, the $INWARD_THREADS override, who decides."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from inward import _threads
from inward._threads import THREADS_ENV, CpuReading, apply_threads, choose_threads, parse_override, read_cpu
from inward.errors import UserError


@pytest.mark.parametrize(
    ("cpus", "busy", "expected"),
    [
        (2, 0.0, 2),  # idle: every core
        (2, 0.5, 2),  # a process busy half of the time does not take a core (2 threads still faster)
        (2, 1.0, 1),  # one core kept busy
        (2, 0.8, 1),  # more than 3/4 of a core counts as taken
        (2, 2.0, 1),  # everything busy: never below 1
        (4, 1.0, 3),
        (4, 2.8, 1),
        (4, 1.7, 3),
        (1, 0.0, 1),
        (2, None, 2),  # no reading (no /proc/stat): as idle, i.e. torch's own default
    ],
)
def test_free_cores(cpus: int, busy: float | None, expected: int) -> None:
    assert choose_threads(cpus, busy) == expected


def test_override_wins_whatever_the_load() -> None:
    assert choose_threads(2, 2.0, "2") == 2
    assert choose_threads(2, 0.0, " 1 ") == 1
    assert choose_threads(2, 0.0, "8") == 8  # the user's word, even above the core count
    assert choose_threads(2, 1.0, "") == 1  # empty: unset


@pytest.mark.parametrize("bad", ["two", "0", "-1", "1.5"])
def test_bad_override_is_one_clear_message(bad: str) -> None:
    with pytest.raises(UserError, match=rf"{THREADS_ENV}='{bad}' is not a thread count; set it to a whole"):
        choose_threads(2, 0.0, bad)
    with pytest.raises(UserError):
        parse_override(bad)


def _fake_stat(monkeypatch: pytest.MonkeyPatch, *stats: tuple[float, float, float], nice: int = 0) -> None:
    it = iter(stats)
    monkeypatch.setattr(_threads, "_proc_stat", lambda cpus=None: (*next(it), 2))
    monkeypatch.setattr(_threads, "_niceness", lambda: nice)
    monkeypatch.setattr(_threads, "_affinity", lambda: {0, 1})


def test_read_cpu_from_proc_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    # (busy, niced, total) jiffies: other processes kept half of the machine busy, i.e. one of two cores.
    _fake_stat(monkeypatch, (1000.0, 0.0, 4000.0), (1100.0, 0.0, 4200.0))
    r = read_cpu(window=0.01)
    assert r.cpus == 2
    assert r.busy == pytest.approx(1.0, abs=0.3)  # minus this process's own (small) CPU time meanwhile
    assert choose_threads(r.cpus, r.busy) == 1


def test_niced_processes_leave_their_core_free(monkeypatch: pytest.MonkeyPatch) -> None:
    # A `nice -n 19` busy loop on one core: free for a nice-0 process, not for a niced one.
    _fake_stat(monkeypatch, (1000.0, 500.0, 4000.0), (1000.0, 600.0, 4200.0))
    r = read_cpu(window=0.01)
    assert r.busy == pytest.approx(0.0, abs=0.3)
    assert choose_threads(r.cpus, r.busy) == 2
    _fake_stat(monkeypatch, (1000.0, 500.0, 4000.0), (1000.0, 600.0, 4200.0), nice=10)
    assert choose_threads(2, read_cpu(window=0.01).busy) == 1


def test_read_cpu_without_proc_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "_proc_stat", lambda cpus=None: None)
    assert read_cpu(window=0.01).busy is None


def test_proc_stat_counts_only_our_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 4-CPU machine on which this process may use CPUs 2 and 3: CPUs 0 and 1 are somebody else's business.
    text = (
        "cpu  400 40 0 400 0 0 0 0 0 0\n"
        "cpu0 100 0 0 0 0 0 0 0 0 0\n"
        "cpu1 100 0 0 0 0 0 0 0 0 0\n"
        "cpu2 150 40 0 10 0 0 0 0 0 0\n"
        "cpu3 50 0 0 390 0 0 0 0 0 0\n"
        "intr 0\n"
    )
    real_open = open
    monkeypatch.setattr(
        "builtins.open",
        lambda path, *a, **k: io.StringIO(text) if path == "/proc/stat" else real_open(path, *a, **k),
    )
    assert _threads._proc_stat({2, 3}) == (200.0, 40.0, 640.0, 2)
    assert _threads._proc_stat(None) == (400.0, 40.0, 840.0, 4)


def test_read_cpu_here_is_sane() -> None:
    r = read_cpu(window=0.05)
    assert r.cpus >= 1
    assert r.busy is None or 0.0 <= r.busy <= r.cpus


# --- apply_threads: who decides --------------------------------------------------------------------------
torch = pytest.importorskip("torch")


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process in which inward has not chosen yet, on a 2-CPU machine with one core taken."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setattr(_threads, "_ours", None)
    monkeypatch.setattr(_threads, "_ceiling", None)
    monkeypatch.setattr(_threads, "read_cpu", lambda window=0.2: CpuReading(2, 1.0))
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("fresh")
def test_apply_uses_the_free_cores_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="inward.threads"):
        assert apply_threads("local backend x") == 1
    assert torch.get_num_threads() == 1
    assert "local backend x: 1 torch threads (2 CPUs, other processes busy on 1.00 cores)" in caplog.text


@pytest.mark.usefixtures("fresh")
def test_apply_rechecks_each_job(monkeypatch: pytest.MonkeyPatch) -> None:
    assert apply_threads("job 1") == 1
    monkeypatch.setattr(_threads, "read_cpu", lambda window=0.2: CpuReading(2, 0.0))
    assert apply_threads("job 2") == 2  # the other process finished
    assert torch.get_num_threads() == 2


@pytest.mark.usefixtures("fresh")
def test_apply_option_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, "2")
    assert apply_threads("job", threads=1) == 1  # the explicit option first
    assert apply_threads("job") == 2  # then the env var, whatever the load
    assert torch.get_num_threads() == 2
    monkeypatch.setenv(THREADS_ENV, "lots")
    with pytest.raises(UserError, match=THREADS_ENV):
        apply_threads("job")
    with pytest.raises(UserError, match="at least 1"):
        apply_threads("job", threads=0)


@pytest.mark.usefixtures("fresh")
def test_apply_keeps_a_count_set_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "read_cpu", lambda window=0.2: CpuReading(2, 0.0))
    assert apply_threads("job 1") == 2
    torch.set_num_threads(1)  # e.g. a test fixture or the caller's own script
    assert apply_threads("job 2") == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(2)
    assert apply_threads("job 3") == 2  # $OMP_NUM_THREADS set: torch's count is the user's; left alone


@pytest.mark.usefixtures("fresh")
def test_apply_stays_at_most_torch_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # torch's default may be below the CPU count (physical cores, or set before inward first ran).
    torch.set_num_threads(1)
    monkeypatch.setattr(_threads, "read_cpu", lambda window=0.2: CpuReading(2, 0.0))
    assert apply_threads("job") == 1
