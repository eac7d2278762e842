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


def acc_clustered(row: AccRow) -> str:
    """``48.1% [44.0, 52.3]``: an accuracy with its item-clustered interval; in results without one, `acc_ci`'s
    interval marked ``(rows)``, as `verdict_diff` marks a row-level difference."""
    if row.cluster_low is not None and row.cluster_high is not None:
        return pct_ci(row.acc, row.cluster_low, row.cluster_high)
    text = acc_ci(row)
    return text + " (rows)" if "[" in text else text


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


# --- the evidence table, seeds and capability (results schema 3) ---

UNIT_NAMES = {"pp": "pp", "mad": "MAD"}
VERDICTS = ("supports", "contradicts", "inconclusive", "underpowered")
VERDICT_MARKS = {"supports": "✓", "contradicts": "✗", "inconclusive": "?", "underpowered": "⚠"}


def effect(x: float | None, low: float | None = None, high: float | None = None, unit: str = "pp") -> str:
    """A signed effect with its 95% interval in the row's unit: ``+26.0 pp [+19.0, +33.0]`` (a fraction shown
    ×100 as percentage points) or ``+4.2 MAD [+1.0, +7.4]`` (MAD points, shown as they are)."""
    if unit == "pp":
        return pp(x, low, high)
    if x is None:
        return "n/a"
    out = f"{x:+.1f} {UNIT_NAMES.get(unit, unit)}"
    if low is not None and high is not None:
        out += f" [{low:+.1f}, {high:+.1f}]"
    return out


def signed(x: float | None, unit: str = "pp") -> str:
    """An effect's number alone, in the row's unit: ``+26.0`` (pp, from 0.26) / ``+4.2`` (MAD)."""
    if x is None:
        return "n/a"
    return f"{100 * x if unit == 'pp' else x:+.1f}"


def magnitude(x: float | None, unit: str = "pp") -> str:
    """An unsigned size in the row's unit (a detectable effect): ``12.3 pp`` / ``3.1 MAD``."""
    if x is None:
        return "n/a"
    value = 100 * abs(x) if unit == "pp" else abs(x)
    return f"{value:.1f} {UNIT_NAMES.get(unit, unit)}"


def verdict_label(verdict: str | None) -> str:
    """``✓ supports`` / ``✗ contradicts`` / ``? inconclusive`` / ``⚠ underpowered``: the mark never stands alone."""
    if verdict is None:
        return "n/a"
    mark = VERDICT_MARKS.get(verdict)
    return f"{mark} {verdict}" if mark else verdict


def ordered_rules(rules: dict[str, str]) -> list[tuple[str, str]]:
    """The verdict rules in the table's order (supports, contradicts, inconclusive, underpowered, then others)."""
    known = [(v, rules[v]) for v in VERDICTS if v in rules]
    return known + [(v, r) for v, r in rules.items() if v not in VERDICTS]


def n_prompts(n: int | None, n_clusters: int | None) -> str:
    """``600 prompts (1,800 rows)``; ``600 prompts`` when rows are prompts; the bare count without prompts."""
    if n_clusters is None:
        return count(n)
    if n is None or n == n_clusters:
        return f"{count(n_clusters)} prompts"
    return f"{count(n_clusters)} prompts ({count(n)} rows)"


def seed_list(seeds: list[int]) -> str:
    return ", ".join(str(s) for s in seeds) if seeds else "n/a"


def value(x: float | None, unit: str) -> str:
    """A headline number in its unit: ``58.5%`` (acc), ``+16.0 pp`` (pp), ``12.3`` (MAD)."""
    if unit == "acc":
        return pct(x)
    if unit == "pp":
        return pp(x)
    return mad(x)


def mean_sd(mean: float | None, sd: float | None, unit: str) -> str:
    """Mean ± sample sd over seeds: ``58.5% ± 1.2`` (acc), ``+16.0 ± 1.2 pp`` (pp), ``12.3 ± 0.8`` (MAD)."""
    if mean is None or sd is None:
        return value(mean, unit)
    if unit == "acc":
        return f"{100 * mean:.1f}% ± {100 * sd:.1f}"
    if unit == "pp":
        return f"{100 * mean:+.1f} ± {100 * sd:.1f} pp"
    return f"{mean:.1f} ± {sd:.1f}"


def parameters(n: int | None) -> str:
    """A parameter count: ``494M``, ``1.5B``, ``70B``, ``8.2M``; ``n/a`` when unknown."""
    if n is None:
        return "n/a"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            scaled = n / size
            return f"{scaled:.1f}{suffix}" if scaled < 9.95 else f"{scaled:.0f}{suffix}"
    return str(n)


def mc_accuracy(acc: float | None, n: int | None) -> str:
    """``41.2% (n=500)``: multiple-choice accuracy with the prompts it is over."""
    return pct(acc) + (f" (n={count(n)})" if n is not None else "")


def role_name(role: str | None) -> str | None:
    """``m1`` → ``M1``; other roles are shown as written."""
    if not role:
        return None
    return role.upper() if len(role) <= 3 else role


def who(label: str, role: str | None) -> str:
    """``M2 (SmolLM2-135M)``; the label alone when the role is unknown or the label already starts with it
    (``M2 (beta) + m2-self``)."""
    name = role_name(role)
    if not name or label == name or label.lower().startswith((f"{name.lower()} ", f"{name.lower()}(")):
        return label
    return f"{name} ({label})"


def rule_text(verdict: str, rule: str) -> str:
    """A verdict's rule without a leading "Supports: " that repeats the verdict beside it."""
    head, sep, rest = rule.partition(":")
    rest = rest.strip()
    if not (sep and rest and head.strip().lower() == verdict.lower()):
        return rule
    return rest[0].upper() + rest[1:]


def seeds_agree(agree: bool | None, verdicts: list[str | None]) -> str:
    """``yes``; ``no (supports ×2, inconclusive ×1)`` with the per-seed verdicts; ``n/a`` when not told."""
    if agree is None:
        return "n/a"
    if agree:
        return "yes"
    counts: dict[str, int] = {}
    for v in verdicts:
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    detail = ", ".join(f"{v} ×{k}" for v, k in counts.items())
    return f"no ({detail})" if detail else "no"
