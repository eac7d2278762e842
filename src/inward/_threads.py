"""How many torch CPU threads to use, from the cores other processes leave free.

torch starts one OpenMP thread per core, and its threads spin-wait for each other at the end of every parallel
region, so every region waits for the slowest thread. When another process keeps a core busy, that is the
thread sharing its core. Measured on a 2-core machine (benchmarks/bench_threads.py, SmolLM2-135M; figures in
benchmarks/README.md): idle, 2 threads were 1.5-1.8x faster than 1; beside a nice-0 busy loop, 2 threads were
1.6-2.1x slower than 1 at greedy decoding and 1.9x slower at LoRA training (up to 7x slower when other
people's work shared the machine too); beside a `nice -n 19` busy loop, 2 threads ran as fast as on the idle
machine. So each long job (loading a local backend, starting a LoRA run) looks at what other processes used
over a short window and sets the thread count to the cores they leave free (at least 1), not counting niced
processes.

    apply_threads("local backend")         # reads /proc/stat for 0.2 s, sets torch's thread count, returns it
    choose_threads(cpus=2, busy=1.0)       # -> 1; pure, for tests

Who decides, first match wins: an explicit `threads` argument; $INWARD_THREADS; $OMP_NUM_THREADS, or a
`torch.set_num_threads` call by someone other than this module (left alone); else the free cores.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass

from inward.errors import UserError

THREADS_ENV = "INWARD_THREADS"
WINDOW_S = 0.2
# A core counts as taken when other processes used more than this share of it over the window. Measured
# beside a nice-0 process busy half of the time (0.5 core), 2 threads were still 1.2-1.3x faster than 1;
# beside one busy all the time, 1 thread was 1.6-1.9x faster. The threshold sits between the two.
TAKEN = 0.75

log = logging.getLogger("inward.threads")
_ours: int | None = None  # the count this module last set; a different current count was set by someone else
_ceiling: int | None = None  # torch's count when this module first ran: automatic choices stay at or below it


@dataclass(frozen=True)
class CpuReading:
    """`cpus`: CPUs this process may run on; `busy`: cores' worth of CPU time other processes used on them
    (0..cpus), None where it cannot be read (no /proc/stat)."""

    cpus: int
    busy: float | None


def _affinity() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0)) or None
    except (AttributeError, OSError):  # not Linux
        return None


def available_cpus() -> int:
    mine = _affinity()
    return len(mine) if mine else max(1, os.cpu_count() or 1)


def _proc_stat(cpus: set[int] | None = None) -> tuple[float, float, float, int] | None:
    """(busy, niced, total) jiffies so far, summed over `cpus` (all CPUs if None), and how many CPUs that is.
    Busy counts user, system, irq, softirq and steal time (the hypervisor running someone else); niced is the
    user time of processes at nice > 0."""
    try:
        with open("/proc/stat") as f:
            lines = [line.split() for line in f if line.startswith("cpu")]
    except OSError:
        return None
    if cpus is None:
        rows = [f for f in lines if f[0] == "cpu"]
    else:
        rows = [f for f in lines if f[0][3:].isdigit() and int(f[0][3:]) in cpus]
    busy = niced = total = 0.0
    for fields in rows:
        v = [float(x) for x in fields[1:9]] + [0.0] * (9 - min(len(fields), 9))
        user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
        b = user + system + irq + softirq + steal
        busy, niced, total = busy + b, niced + nice, total + b + nice + idle + iowait
    if not rows or total <= 0:
        return None
    count = len(rows) if cpus is not None else len([f for f in lines if f[0][3:].isdigit()]) or 1
    return busy, niced, total, count


def _niceness() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError):
        return 0


def read_cpu(window: float = WINDOW_S) -> CpuReading:
    """CPUs this process may use, and how many cores' worth other processes used on them over the next
    `window` seconds (this process's own CPU time, all its threads, is subtracted).

    Niced processes count only when this process is niced itself: the kernel gives a nice-0 thread nearly all
    of a core it shares with a nice-19 one (measured: 2 threads beside a `nice -n 19` busy loop ran as fast as
    on an idle machine, the loop got no CPU time, and 1 thread was 1.5x slower)."""
    mine = _affinity()
    cpus = available_cpus()
    first = _proc_stat(mine)
    if first is None:
        return CpuReading(cpus, None)
    own0, t0 = time.process_time(), time.monotonic()
    time.sleep(window)
    second = _proc_stat(mine)
    own, elapsed = time.process_time() - own0, time.monotonic() - t0
    if second is None or second[2] <= first[2] or elapsed <= 0:
        return CpuReading(cpus, None)
    busy = second[0] - first[0] + (second[1] - first[1] if _niceness() > 0 else 0.0)
    # Jiffies to cores: the total advances by (CPUs summed) x elapsed.
    busy_cores = busy / (second[2] - first[2]) * second[3] - own / elapsed
    return CpuReading(cpus, min(float(cpus), max(0.0, busy_cores)))


def parse_override(value: str | None) -> int | None:
    """$INWARD_THREADS as a thread count; None when unset or empty."""
    if value is None or not value.strip():
        return None
    try:
        n = int(value.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise UserError(
            f"{THREADS_ENV}={value!r} is not a thread count; set it to a whole number >= 1 or unset it"
        )
    return n


def choose_threads(cpus: int, busy: float | None, override: str | None = None) -> int:
    """Threads to use: `override` (a $INWARD_THREADS value) if set, else the cores that other processes leave
    free: `cpus` minus those they used more than `TAKEN` of (`busy` in cores), at least 1. An unknown `busy`
    (no reading) counts as idle.

    `busy` leaves out niced processes (see `read_cpu`).
    """
    n = parse_override(override)
    if n is not None:
        return n
    cpus = max(1, cpus)
    taken = math.floor((busy or 0.0) + (1 - TAKEN)) if busy is not None else 0
    return max(1, min(cpus, cpus - taken))


def apply_threads(reason: str, threads: int | None = None) -> int:
    """Set torch's intra-op thread count for the job about to start (`reason`, for the log) and return it.

    `threads` (e.g. a backend's `threads=` option) wins; then $INWARD_THREADS; a count someone else chose is
    kept ($OMP_NUM_THREADS, or a `torch.set_num_threads` call since this module last set it); else
    `choose_threads` on a fresh `read_cpu()`, at most torch's own default (e.g. physical cores). Cheap enough
    to call at the start of every long job: one 0.2 s reading."""
    global _ours, _ceiling
    import torch

    current = torch.get_num_threads()
    if _ceiling is None:
        _ceiling = current  # torch's default, or what the caller set before inward first ran
    env = os.environ.get(THREADS_ENV)
    if threads is not None:
        if threads < 1:
            raise UserError(f"threads must be at least 1, not {threads}")
        n, why = threads, "threads option"
    elif (pinned := parse_override(env)) is not None:
        n, why = pinned, f"${THREADS_ENV}"
    elif os.environ.get("OMP_NUM_THREADS", "").strip() or (_ours is not None and current != _ours):
        log.info("%s: %d torch threads (set outside inward; kept)", reason, current)
        return current
    else:
        reading = read_cpu()
        n = min(_ceiling, choose_threads(reading.cpus, reading.busy))
        busy = "unknown" if reading.busy is None else f"{reading.busy:.2f}"
        why = f"{reading.cpus} CPUs, other processes busy on {busy} cores"
    if n != current:
        torch.set_num_threads(n)
    _ours = n
    log.info("%s: %d torch threads (%s)", reason, n, why)
    return n
