"""Number formatting shared by the HTML page, the markdown summary and the figures (plain text, unescaped)."""

from __future__ import annotations

from typing import Literal

from inward.report.results import AVERAGE, AccRow, ChangeRow, PairedTest

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


def bounds(low: float | None, high: float | None) -> str:
    """``[47.0, 51.8]`` (percent), ``n/a`` when a bound is missing: an interval in a column of its own."""
    return "n/a" if low is None or high is None else f"[{100 * low:.1f}, {100 * high:.1f}]"


def cluster_ci(row: AccRow) -> str:
    """The item-clustered bootstrap interval of an accuracy row (prompts resampled, not rows)."""
    return bounds(row.cluster_low, row.cluster_high)


def change_cluster_ci(row: ChangeRow, which: Literal["old", "new"]) -> str:
    return bounds(getattr(row, f"{which}_cluster_low"), getattr(row, f"{which}_cluster_high"))


def clustered(t: PairedTest | ChangeRow) -> bool:
    """Whether a test carries item-clustered numbers (results written before they existed do not)."""
    return t.n_clusters is not None


def verdict_p(t: PairedTest | ChangeRow | None) -> float | None:
    """The p-value inward's verdicts use: the item-clustered bootstrap's; in results written before it
    existed, the row-level bootstrap's (see `verdict_name`)."""
    if t is None:
        return None
    return t.p_cluster if clustered(t) else t.p_bootstrap


def verdict_name(t: PairedTest | ChangeRow | None) -> str:
    return "item-clustered bootstrap" if t is None or clustered(t) else "row bootstrap"


def verdict_diff(t: PairedTest | ChangeRow | None) -> str:
    """``+16.7 pp [15.9, 17.5]`` with the interval of `verdict_p`'s test; the row-level one marked ``(rows)``
    in results written before the clustered one existed."""
    if t is None:
        return "n/a"
    if not clustered(t):
        lo, hi = (t.diff_ci_low, t.diff_ci_high) if isinstance(t, ChangeRow) else (t.ci_low, t.ci_high)
        return pp(t.diff, lo, hi) + (" (rows)" if lo is not None and hi is not None else "")
    if isinstance(t, ChangeRow):
        return pp(t.diff, t.diff_cluster_low, t.diff_cluster_high)
    return pp(t.diff, t.cluster_ci_low, t.cluster_ci_high)


P_COLUMNS = "p clustered / rows / McNemar"


def p_values(t: PairedTest | ChangeRow | None) -> str:
    """``0.075 / 0.001 / 0.004``: item-clustered bootstrap, row bootstrap and McNemar p (`P_COLUMNS`)."""
    if t is None:
        return "n/a"
    return " / ".join(p_value(p) for p in (t.p_cluster, t.p_bootstrap, t.p_mcnemar))


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
