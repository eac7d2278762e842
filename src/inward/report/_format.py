"""Number formatting shared by the HTML page, the markdown summary and the figures (plain text, unescaped)."""

from __future__ import annotations

from typing import Literal

from inward.report.results import AVERAGE, AccRow, ChangeRow

# Below this many rows a ±1.96·SEM interval is a poor approximation (at 0 of 7 it is [0, 0]); the report shows
# the Wilson score interval there instead, and the paper's error bars above it.
SMALL_N = 30


def pct(x: float | None, digits: int = 1) -> str:
    """0.4937 → ``49.4%``; ``n/a`` when missing."""
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def pct_ci(acc: float | None, low: float | None, high: float | None) -> str:
    """``49.4% [48.9, 49.9]`` (CI bounds in percent); the bracket is left out when the bounds are missing."""
    if acc is None:
        return "n/a"
    if low is None or high is None:
        return pct(acc)
    return f"{100 * acc:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def acc_ci(row: AccRow) -> str:
    """`pct_ci` of an accuracy row: the paper's ±1.96·SEM, or the Wilson interval when n < `SMALL_N`."""
    return _ci(row.n, row.acc, (row.ci_low, row.ci_high), (row.wilson_low, row.wilson_high))


def change_ci(row: ChangeRow, which: Literal["old", "new"]) -> str:
    """`acc_ci` of the old or new accuracy of a behaviour-change row."""
    b = [getattr(row, f"{which}_{f}") for f in ("ci_low", "ci_high", "wilson_low", "wilson_high")]
    return _ci(row.n, getattr(row, f"acc_{which}"), (b[0], b[1]), (b[2], b[3]))


def _ci(
    n: int,
    acc: float | None,
    sem: tuple[float | None, float | None],
    wilson: tuple[float | None, float | None],
) -> str:
    lo, hi = wilson if n < SMALL_N and None not in wilson else sem
    return pct_ci(acc, lo, hi)


def pp(diff: float | None, low: float | None = None, high: float | None = None) -> str:
    """Difference in percentage points, ``+16.7 pp [15.9, 17.5]``."""
    if diff is None:
        return "n/a"
    out = f"{100 * diff:+.1f} pp"
    if low is not None and high is not None:
        out += f" [{100 * low:+.1f}, {100 * high:+.1f}]"
    return out


def p_value(p: float | None) -> str:
    """``<0.001`` below 0.001 (a 1000-draw bootstrap resolves no less), else 3 decimals; else ``n/a``."""
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_p(p: float | None) -> str:
    """``p<0.001`` / ``p=0.012`` / ``p=n/a``."""
    s = p_value(p)
    return f"p{s}" if s.startswith("<") else f"p={s}"


def mad(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def count(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"


def group_label(group: str) -> str:
    """``second_character`` → ``second character``; the micro-average reads ``Average``."""
    return "Average" if group == AVERAGE else group.replace("_", " ")


def duration(seconds: float | None) -> str:
    """``3h 05m`` / ``4m 12s`` / ``9.3s``."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m" if h else f"{m}m {s:02d}s"


def top_answer(value: str | None, share: float | None) -> str:
    """A most common answer with its share, e.g. "a (100%)"; "–" when there is none."""
    return "–" if value is None else f"{value} ({pct(share, 0)})"
