"""Figures of the report (PNG via matplotlib's Agg, no pyplot state): the paper's Fig. 4, 5, 6 and 8.

    from inward.report import figures
    paths = figures.write_figures(results, out_dir)   # {"self_training": out_dir/"fig4_self_training.png", …}
    figures.self_training_figure(results.self_training, "fig4.png")

Bar charts show accuracy per reporting group plus the micro-average, 95% CI error bars (±1.96·SEM, the paper's,
kept for comparability) and a ⋆ at the mode baseline of each bar's own rows (the paper's marker); brackets give
a difference with the p-value verdicts use (item-clustered bootstrap, `_format.verdict_p`). Calibration panels
plot hypothetical against object-level probability per equal-frequency bin, with the diagonal and each
condition's MAD in the legend.
Colours are the Okabe–Ito palette (colour-blind safe).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inward.errors import MissingExtraError
from inward.report._format import fmt_p, group_label, verdict_p
from inward.report.results import (
    AVERAGE,
    AccRow,
    BehaviourChange,
    Calibration,
    ChangeRow,
    CrossPrediction,
    PairedTest,
    Results,
    SelfTraining,
    find_row,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
DPI = 120
FILES = {
    "self_training": "fig4_self_training.png",
    "cross_prediction": "fig5_cross_prediction.png",
    "calibration": "fig6_calibration.png",
    "behaviour_change": "fig8_behaviour_change.png",
}
STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _mpl() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("report figures", "report") from None
    matplotlib.use("Agg", force=False)
    return matplotlib


def _ink(color: str) -> str:
    """Black or white, whichever reads better on `color` (#rrggbb), by relative luminance."""
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


def _legend(label: str) -> str:
    return _text(textwrap.fill(label, 30))


def _text(s: str) -> str:
    # Labels come from configs; a "$" would switch matplotlib to mathtext and can fail to parse.
    return s.replace("$", r"\$")


def _pct(x: float | None) -> float:
    return float("nan") if x is None else 100.0 * x


@dataclass
class Bars:
    """One series of a grouped bar chart: values per group (fractions) and its colour."""

    label: str
    color: str
    acc: dict[str, float | None]
    low: dict[str, float | None]
    high: dict[str, float | None]
    baseline: dict[str, float | None]

    @classmethod
    def from_acc(cls, label: str, color: str, rows: Sequence[AccRow]) -> Bars:
        return cls(
            label,
            color,
            {r.group: r.acc for r in rows},
            {r.group: r.ci_low for r in rows},
            {r.group: r.ci_high for r in rows},
            {r.group: r.baseline for r in rows},
        )


def _groups(series: Sequence[Bars]) -> list[str]:
    seen: list[str] = []
    for s in series:
        seen += [g for g in s.acc if g not in seen]
    # The average is always the right-most group, set apart, whatever order the rows came in.
    return [g for g in seen if g != AVERAGE] + ([AVERAGE] if AVERAGE in seen else [])


def grouped_bars(ax: Axes, series: Sequence[Bars], *, title: str) -> dict[str, list[float]]:
    """Grouped bars with CI error bars, value labels and ⋆ baselines; returns bar x positions per group."""
    groups = _groups(series)
    width = 0.8 / max(len(series), 1)
    vertical = len(series) > 2  # three or more bars per group: horizontal values would run into each other
    positions: dict[str, list[float]] = {g: [] for g in groups}
    starred = False
    for i, s in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(groups))]
        acc = [_pct(s.acc.get(g)) for g in groups]
        lo = [
            max(a - _pct(s.low.get(g)), 0.0) if s.low.get(g) is not None else 0.0
            for a, g in zip(acc, groups, strict=True)
        ]
        hi = [
            max(_pct(s.high.get(g)) - a, 0.0) if s.high.get(g) is not None else 0.0
            for a, g in zip(acc, groups, strict=True)
        ]
        ax.bar(
            xs,
            acc,
            width * 0.92,
            color=s.color,
            label=_legend(s.label),
            yerr=[lo, hi],
            capsize=3,
            error_kw={"elinewidth": 1, "ecolor": "#333333"},
        )
        # Values sit at the foot of each bar, where neither error bars nor baseline stars can cover them.
        ink = _ink(s.color)
        # A bar too short to hold its value gets it above its error bar instead.
        for x, a, h in zip(xs, acc, hi, strict=True):
            if a != a:  # NaN: nothing was measured
                continue
            inside = a >= (14 if vertical else 8)
            ax.text(
                x,
                1.2 if inside else a + h + 1.0,
                f"{a:.1f}",
                ha="center",
                va="bottom",
                rotation=90 if vertical else 0,
                fontsize=7.5,
                color=ink if inside else "#222222",
            )
        base = [
            (x, _pct(s.baseline.get(g)))
            for x, g in zip(xs, groups, strict=True)
            if s.baseline.get(g) is not None
        ]
        if base:
            ax.scatter(
                [x for x, _ in base],
                [b for _, b in base],
                marker="*",
                s=110,
                color="black",
                edgecolors="white",
                linewidths=0.6,
                zorder=5,
                label=None if starred else "mode baseline",
            )
            starred = True
        for g, x in zip(groups, xs, strict=True):
            positions[g].append(x)
    ax.set_xticks(range(len(groups)), [group_label(g) for g in groups], rotation=20, ha="right")
    for label, g in zip(ax.get_xticklabels(), groups, strict=True):
        if g == AVERAGE:
            label.set_fontweight("bold")
    if AVERAGE in groups and len(groups) > 1:
        ax.axvline(len(groups) - 1.5, color="#999999", linestyle=":", linewidth=1)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.yaxis.grid(True, color="#e5e5e5")
    ax.set_axisbelow(True)
    ax.set_title(_text(title), loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return positions


def _brackets(ax: Axes, xs: Sequence[float], tops: Sequence[float], labels: Sequence[str]) -> None:
    """Brackets from the first bar to each later bar, stacked upwards, each with a short label."""
    y = max(tops) + 4
    for x, label in zip(xs[1:], labels, strict=False):
        ax.plot([xs[0], xs[0], x, x], [y - 1.5, y, y, y - 1.5], color="#333333", linewidth=1)
        ax.text(
            (xs[0] + x) / 2, y + 0.8, _text(label), ha="center", va="bottom", fontsize=7.5, linespacing=1.1
        )
        y += 13
    ax.set_ylim(0, max(105, y + 2))


def _tops(series: Sequence[Bars], group: str) -> list[float]:
    """Height (%) of each series' bar plus its error bar in `group`; 0 where the bar is missing."""
    tops = []
    for s in series:
        v = s.high.get(group) if s.high.get(group) is not None else s.acc.get(group)
        tops.append(0.0 if v is None else _pct(v))
    return tops


def _new(rows: int, cols: int, width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width * cols, height * rows), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=DPI, facecolor="white", bbox_inches="tight")
    return p


def _diff_label(t: PairedTest | None) -> str:
    if t is None or t.diff is None:
        return "no test"
    return f"{100 * t.diff:+.1f} pp\n{fmt_p(verdict_p(t))}"


def self_training_figure(st: SelfTraining, path: str | Path) -> Path:
    """Fig. 4/10: per model, self-prediction accuracy untrained vs self-trained, per group + average."""
    mpl = _mpl()
    with mpl.rc_context(STYLE):
        fig = _new(len(st.models), 1, 11, 4.2)
        axes = fig.subplots(len(st.models), 1, squeeze=False)[:, 0]
        for ax, m in zip(axes, st.models, strict=True):
            series = [
                Bars.from_acc("untrained", PALETTE[5], m.untrained),
                Bars.from_acc("self-trained", PALETTE[0], m.trained),
            ]
            title = f"{m.label} predicting itself, untrained vs self-trained (bracket: trained − untrained)"
            pos = grouped_bars(ax, series, title=title)
            if AVERAGE in pos:
                t = find_row(m.tests)
                _brackets(ax, pos[AVERAGE], _tops(series, AVERAGE), [_diff_label(t)])
        return _save(fig, path)


def cross_prediction_figure(cp: CrossPrediction, path: str | Path) -> Path:
    """Fig. 5: per target M1, M1 predicting itself vs each cross-trained M2 predicting M1; p on average."""
    mpl = _mpl()
    with mpl.rc_context(STYLE):
        fig = _new(len(cp.targets), 1, 11, 4.4)
        axes = fig.subplots(len(cp.targets), 1, squeeze=False)[:, 0]
        for ax, target in zip(axes, cp.targets, strict=True):
            series = [Bars.from_acc(f"{target.label} (self)", PALETTE[0], target.self_rows)]
            series += [
                Bars.from_acc(f"{c.label} (cross)", PALETTE[1 + i % 4], c.rows)
                for i, c in enumerate(target.cross)
            ]
            title = f"Predicting {target.label}'s behaviour: self vs cross-trained (brackets: self − cross)"
            pos = grouped_bars(ax, series, title=title)
            if AVERAGE in pos and target.cross:
                labels = [_diff_label(find_row(c.tests)) for c in target.cross]
                _brackets(ax, pos[AVERAGE], _tops(series, AVERAGE), labels)
        return _save(fig, path)


def calibration_figure(cal: Calibration, path: str | Path) -> Path:
    """Fig. 6: one panel per (task, property); y = hypothetical vs x = object-level probability, per bin."""
    mpl = _mpl()
    n = len(cal.panels)
    cols = min(n, 3)
    rows = -(-n // cols)
    with mpl.rc_context(STYLE):
        fig = _new(rows, cols, 4.6, 4.6)
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, panel in zip(axes, cal.panels, strict=False):
            ax.plot(
                [0, 100], [0, 100], linestyle="--", color="#888888", linewidth=1, label="perfect calibration"
            )
            for i, cond in enumerate(panel.conditions):
                pts = sorted(
                    (p for p in cond.curve if p.x is not None and p.y is not None), key=lambda p: p.bin
                )
                mad = "n/a" if cond.mad is None else f"{cond.mad:.1f}"
                ax.plot(
                    [_pct(p.x) for p in pts],
                    [_pct(p.y) for p in pts],
                    marker="o",
                    markersize=4,
                    color=PALETTE[i % len(PALETTE)],
                    label=_text(f"{cond.label} (MAD {mad})"),
                )
            ax.set_xlim(0, 100)
            ax.set_ylim(0, 100)
            ax.set_aspect("equal")
            ax.grid(True, color="#eeeeee")
            ax.set_xlabel("object-level probability (%)")
            ax.set_ylabel("hypothetical probability (%)")
            ax.set_title(
                _text(
                    f"{panel.task} · {group_label(panel.property)}\n{panel.n_prompts} prompts, {panel.method}"
                ),
                fontsize=11,
            )
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=9, frameon=False)
        for ax in axes[n:]:
            ax.set_visible(False)
        if cal.target:
            fig.suptitle(_text(f"Calibration of hypotheticals about {cal.target}"), fontsize=13)
        return _save(fig, path)


def _change_series(rows: Sequence[ChangeRow]) -> list[Bars]:
    def bars(label: str, color: str, attr: str) -> Bars:
        return Bars(
            label,
            color,
            {r.group: getattr(r, f"acc_{attr}") for r in rows},
            {r.group: getattr(r, f"{attr}_ci_low") for r in rows},
            {r.group: getattr(r, f"{attr}_ci_high") for r in rows},
            {r.group: getattr(r, f"baseline_{attr}") for r in rows},
        )

    return [
        bars("predicting its new behaviour", PALETTE[0], "new"),
        bars("predicting the old behaviour", PALETTE[4], "old"),
    ]


def behaviour_change_figure(bc: BehaviourChange, path: str | Path) -> Path:
    """Fig. 8 (and Fig. 24 when entropy-matched rows exist): the shifted model's hypotheticals scored against
    its new behaviour and against the old model's behaviour, on prompts whose behaviour changed."""
    mpl = _mpl()
    panels: list[tuple[str, Sequence[ChangeRow]]] = [("shifted prompts", bc.rows)]
    if bc.entropy_matched:
        panels.append(("entropy-matched control", bc.entropy_matched))
    with mpl.rc_context(STYLE):
        fig = _new(len(panels), 1, 11, 4.2)
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, (what, rows) in zip(axes, panels, strict=True):
            series = _change_series(rows)
            title = f"{bc.new_model} (= {bc.old_model} shifted): {what} (bracket: new − old)"
            pos = grouped_bars(ax, series, title=title)
            avg = find_row(rows)
            if AVERAGE in pos and avg is not None:
                t = PairedTest(
                    n=avg.n,
                    acc_a=avg.acc_new,
                    acc_b=avg.acc_old,
                    diff=avg.diff,
                    p_bootstrap=avg.p_bootstrap,
                    p_mcnemar=avg.p_mcnemar,
                    n_clusters=avg.n_clusters,
                    p_cluster=avg.p_cluster,
                )
                _brackets(ax, pos[AVERAGE], _tops(series, AVERAGE), [_diff_label(t)])
        return _save(fig, path)


def write_figures(results: Results, out_dir: str | Path) -> dict[str, Path]:
    """Every figure whose experiment is present in `results`, under its file name in `FILES`."""
    out = Path(out_dir)
    written: dict[str, Path] = {}
    if results.self_training and results.self_training.models:
        written["self_training"] = self_training_figure(results.self_training, out / FILES["self_training"])
    if results.cross_prediction and results.cross_prediction.targets:
        written["cross_prediction"] = cross_prediction_figure(
            results.cross_prediction, out / FILES["cross_prediction"]
        )
    if results.calibration and results.calibration.panels:
        written["calibration"] = calibration_figure(results.calibration, out / FILES["calibration"])
    if results.behaviour_change and results.behaviour_change.rows:
        written["behaviour_change"] = behaviour_change_figure(
            results.behaviour_change, out / FILES["behaviour_change"]
        )
    return written
