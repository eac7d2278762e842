"""Statistical power and evidence verdicts: could this run have seen the paper's effect, and did it?

    se = cluster_se_paired(a, b, clusters)             # analytic item-clustered SE of mean(a) − mean(b)
    mde = detectable_effect(se)                        # ≈ 2.80·se: the effect found 80% of the time at α = 0.05
    planned_detectable_effect(3000, 1000)              # the same before any data exists (stated assumptions)
    planned_rows_for(0.05, rows_per_cluster=3)         # (n_rows, n_prompts) needed to detect a 5 pp effect
    paper_effect("self_vs_cross").value                # 0.17: the paper's effect, oriented so + = claim holds
    verdict(diff, ci_low, ci_high, mde, paper_effect("self_vs_cross").value)   # "supports", "underpowered", …
    combine_seeds([0.12, 0.15, 0.09], [0.03, 0.03, 0.04])   # mean over training seeds, conservative SE
    mad_difference(obj, self_hypothetical, cross_hypothetical)         # calibration: MAD(cross) − MAD(self), prompt bootstrap

Every effect here is oriented so that positive means the paper's claim holds (self beats cross, trained beats
untrained, predicting the new behaviour beats the old, self is better calibrated), and accuracy effects are
proportions (0.168 = 16.8 pp) while calibration effects are MAD points (``calibration_mad``'s ×100 scale).
Standard errors are item-clustered: a cluster is a prompt ``(task, item_id)``, whose scored properties move
together (see `inward.metrics._clustered`); pass `cluster_codes(df)` as ``clusters`` to use the same clusters
as the bootstrap. Normal quantiles come from `statistics.NormalDist` (exact; no SciPy needed).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from inward.metrics._calibration import calibration_mad, calibration_points
from inward.metrics._clustered import Seed, _interval, _p_shifted
from inward.metrics._rules import DEFAULT_RULES, ScoringRules
from inward.metrics._scoring import reporting_group
from inward.metrics._stats import _rng

ALPHA = 0.05  # two-sided significance level of every interval and detectable effect here
POWER = 0.8  # power at which a detectable effect is quoted

FloatArray = npt.NDArray[np.float64]
_NORMAL = NormalDist()


def _z(p: float) -> float:
    return _NORMAL.inv_cdf(p)


def _known(x: float | None) -> float | None:
    """`x` as a float, or None when it is None or NaN."""
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) else f


# ----------------------------------------------------------------------------------------------------------
# Analytic item-clustered standard errors


def _codes(clusters: Iterable[Hashable], n: int) -> tuple[npt.NDArray[np.int64], int]:
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(c, len(index)) for c in clusters), dtype=np.int64)
    if len(codes) != n:
        raise ValueError(f"{len(codes)} cluster ids for {n} rows")
    return codes, len(index)


def _ratio_se(values: FloatArray, clusters: Iterable[Hashable]) -> float:
    """Linearised SE of Σvalues/Σrows with clusters as the sampling units (module doc of `cluster_se_paired`)."""
    codes, c = _codes(clusters, len(values))
    if c < 2:
        return math.nan
    d_c = np.bincount(codes, weights=values, minlength=c)
    m_c = np.bincount(codes, minlength=c).astype(np.float64)
    total = float(m_c.sum())
    d = float(d_c.sum()) / total
    resid = d_c - d * m_c
    return math.sqrt(c / (c - 1) * float(np.sum(resid * resid))) / total


def cluster_se_paired(a: npt.ArrayLike, b: npt.ArrayLike, clusters: Iterable[Hashable]) -> float:
    """Item-clustered standard error of mean(a) − mean(b) for paired rows (the same rows scored under two
    conditions, e.g. self vs cross predicting the same object-level answers).

    With D_c = Σ_{rows in c}(a − b), m_c the rows of cluster c, C clusters and d = ΣD_c / Σm_c, the
    linearisation (sandwich) estimator of a ratio mean is

        SE = sqrt(C/(C−1) · Σ_c (D_c − d·m_c)²) / Σ_c m_c

    the analytic counterpart of `cluster_paired_bootstrap`. One row per cluster gives the row-level paired
    SE (with the C/(C−1) correction). NaN with fewer than two clusters.
    """
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired rows differ in length: {a_arr.shape} vs {b_arr.shape}")
    return _ratio_se(a_arr - b_arr, clusters)


def cluster_se_mean(x: npt.ArrayLike, clusters: Iterable[Hashable]) -> float:
    """Item-clustered standard error of mean(x) (an accuracy), the ratio estimator of `cluster_se_paired`
    with D_c = Σ_{rows in c} x. NaN with fewer than two clusters."""
    return _ratio_se(np.asarray(x, dtype=np.float64), clusters)


def cluster_se_unpaired(
    a: npt.ArrayLike, clusters_a: Iterable[Hashable], b: npt.ArrayLike, clusters_b: Iterable[Hashable]
) -> float:
    """Standard error of mean(a) − mean(b) for two independent samples (e.g. after entropy matching, when the
    two conditions keep different prompts): sqrt(se_a² + se_b²), each clustered on its own."""
    return math.sqrt(cluster_se_mean(a, clusters_a) ** 2 + cluster_se_mean(b, clusters_b) ** 2)


# ----------------------------------------------------------------------------------------------------------
# Detectable effects


def detectable_effect(se: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Minimum detectable effect of a two-sided z-test: (z_{1−α/2} + z_{power})·se, ≈ 2.80·se at the
    defaults. A true effect this large is significant with probability `power`. NaN in, NaN out."""
    return (_z(1 - alpha / 2) + _z(power)) * float(se)


def planned_detectable_effect(
    n_rows: int,
    n_clusters: int,
    *,
    p_a: float = 0.5,
    p_b: float = 0.5,
    pair_correlation: float = 0.0,
    icc: float = 0.5,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float:
    """Detectable effect of a paired comparison of two accuracies before any data exists.

    Variance of one row's difference a − b: p_a(1−p_a) + p_b(1−p_b) − 2ρ·sqrt(p_a(1−p_a))·sqrt(p_b(1−p_b));
    design effect 1 + (m−1)·icc with m = n_rows / n_clusters; SE = sqrt(var·deff / n_rows); the result is
    `detectable_effect(SE, alpha, power)`.

    Assumptions (report them beside the number):

    * Accuracies p_a and p_b (default 0.5 each: the largest variance of a 0/1 row, so the default is the
      worst case for accuracies).
    * ρ = `pair_correlation` between the two conditions' correctness on the same row (default 0: the
      conditions as if independent; a positive ρ, e.g. self and cross predictors getting the same easy
      rows right, makes the design more powerful).
    * Every prompt has the same number m of scored rows, and the row differences within a prompt have
      intraclass correlation `icc` (default 0.5: a prompt's properties are scored from one object-level
      answer, so they are far from independent); between prompts rows are independent.
    * A two-sided normal (z) test at level `alpha`, `power` chance of detecting a true effect of the
      returned size; no compliance losses, no variation between training seeds.
    """
    if n_rows < 1 or n_clusters < 1 or n_clusters > n_rows:
        raise ValueError(f"need 1 ≤ n_clusters ≤ n_rows, got n_rows={n_rows}, n_clusters={n_clusters}")
    for name, p in (("p_a", p_a), ("p_b", p_b), ("icc", icc)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {p}")
    if not -1.0 <= pair_correlation <= 1.0:
        raise ValueError(f"pair_correlation must be in [-1, 1], got {pair_correlation}")
    sd_a, sd_b = math.sqrt(p_a * (1 - p_a)), math.sqrt(p_b * (1 - p_b))
    var = max(0.0, sd_a**2 + sd_b**2 - 2 * pair_correlation * sd_a * sd_b)
    deff = 1 + (n_rows / n_clusters - 1) * icc
    return detectable_effect(math.sqrt(var * deff / n_rows), alpha, power)


def planned_rows_for(
    effect: float,
    rows_per_cluster: float,
    *,
    p_a: float = 0.5,
    p_b: float = 0.5,
    pair_correlation: float = 0.0,
    icc: float = 0.5,
    alpha: float = ALPHA,
    power: float = POWER,
) -> tuple[int, int]:
    """(n_rows, n_clusters): the fewest whole prompts, each with `rows_per_cluster` scored rows, whose
    `planned_detectable_effect` (same assumptions) is at most `effect`. n_rows = ceil(n_clusters ·
    rows_per_cluster) (an average of rows per prompt need not be whole). At least two prompts: one gives no
    clustered interval at all."""
    if not effect > 0:
        raise ValueError(f"effect must be positive, got {effect}")
    if not rows_per_cluster >= 1:
        raise ValueError(f"rows_per_cluster must be ≥ 1, got {rows_per_cluster}")
    kw: dict[str, float] = dict(
        p_a=p_a, p_b=p_b, pair_correlation=pair_correlation, icc=icc, alpha=alpha, power=power
    )

    def rows(c: int) -> int:
        return max(c, math.ceil(c * rows_per_cluster - 1e-9))

    def mde(c: int) -> float:
        return planned_detectable_effect(rows(c), c, **kw)

    # Closed form for the cluster count, then step to the exact boundary (rounding of n_rows, float error).
    z = _z(1 - alpha / 2) + _z(power)
    sd_a, sd_b = math.sqrt(p_a * (1 - p_a)), math.sqrt(p_b * (1 - p_b))
    var = max(0.0, sd_a**2 + sd_b**2 - 2 * pair_correlation * sd_a * sd_b)
    deff = 1 + (rows_per_cluster - 1) * icc
    c = max(2, math.ceil(z * z * var * deff / (rows_per_cluster * effect * effect)))
    while mde(c) > effect:
        c += 1
    while c > 2 and mde(c - 1) <= effect:
        c -= 1
    return rows(c), c


# ----------------------------------------------------------------------------------------------------------
# The paper's effects (SPEC §15)


@dataclass(frozen=True)
class PaperEffect:
    """An effect the paper reports, oriented so that positive = its claim holds. ``unit``: "proportion"
    (accuracy difference, 0.168 = 16.8 pp) or "MAD points" (calibration MAD ×100, as `calibration_mad`)."""

    value: float
    unit: str
    source: str


PROPORTION = "proportion"
MAD_POINTS = "MAD points"
CALIBRATION = "calibration"
_PANEL_CAVEAT = (
    " SPEC §15.4: the panel-to-property mapping of the first two panels of each model (first word, 2nd "
    "character) is inferred from the Llama text (2nd char = 8.7); if GPT-4o's two were the other way round "
    "its gaps would be 8.4 (first word) and 16.5 (2nd character), giving means of 14.65 and 14.55."
)

PAPER_EFFECTS: dict[str, PaperEffect] = {
    "self_training": PaperEffect(
        0.168,
        PROPORTION,
        "SPEC §15.1 (Fig. 4, held-out micro-average): GPT-4o self-prediction 32.6% before → 49.4% after "
        "self-training, +16.8 pp; the smallest of the paper's three models (Llama 70B +22.1, GPT-3.5 +21.0).",
    ),
    "self_vs_cross": PaperEffect(
        0.17,
        PROPORTION,
        "SPEC §15.3 (Fig. 1/5, held-out): Llama 70B predicting itself 48.5% vs GPT-4o predicting Llama 31.8% "
        "(16.7 pp; the +17 pp the paper's introduction quotes). GPT-4o's own self advantage is smaller "
        "(49.4 vs 36.6, +12.8 pp) and GPT-3.5's is +0.8 pp.",
    ),
    "behaviour_change": PaperEffect(
        0.137,
        PROPORTION,
        "SPEC §15.5 (Fig. 8, GPT-4o, shifted prompts, micro-average): predicting the changed behaviour MC "
        "35.4% vs the old behaviour M1 21.7%, +13.7 pp.",
    ),
    "behaviour_change_entropy": PaperEffect(
        0.150,
        PROPORTION,
        "SPEC §15.5 (Fig. 24, GPT-4o, entropy-adjusted): predicting MC 36.3% vs M1 21.3%, +15.0 pp.",
    ),
    "calibration.second_character": PaperEffect(
        10.5,
        MAD_POINTS,
        "SPEC §15.4 (Fig. 6/20–22): MAD cross-trained − self-trained, mean of Llama 70B (21.3 − 8.7 = 12.6) "
        "and GPT-4o (20.9 − 12.5 = 8.4) = 10.5." + _PANEL_CAVEAT,
    ),
    "calibration.first_word": PaperEffect(
        18.7,
        MAD_POINTS,
        "SPEC §15.4 (Fig. 6/20–22): MAD cross-trained − self-trained, mean of Llama 70B (24.0 − 3.1 = 20.9) "
        "and GPT-4o (22.7 − 6.2 = 16.5) = 18.7." + _PANEL_CAVEAT,
    ),
    "calibration.ethical_stance": PaperEffect(
        14.85,
        MAD_POINTS,
        "SPEC §15.4 (Fig. 6/20–22): MAD cross-trained − self-trained, mean of Llama 70B (19.5 − 25.3 = −5.8: "
        "self-trained Llama was the worse calibrated) and GPT-4o (42.4 − 6.9 = 35.5) = 14.85; the two models "
        "disagree in sign.",
    ),
    "calibration.among_a_or_c": PaperEffect(
        5.1,
        MAD_POINTS,
        "SPEC §15.4 (Fig. 6/20–22, 'among options'): MAD cross-trained − self-trained, mean of Llama 70B "
        "(17.0 − 12.9 = 4.1) and GPT-4o (18.0 − 11.9 = 6.1) = 5.1.",
    ),
}
_CALIBRATION_PANELS = tuple(k.split(".", 1)[1] for k in PAPER_EFFECTS if k.startswith(CALIBRATION + "."))


def paper_effect(claim: str, prop: str | None = None) -> PaperEffect:
    """The paper's effect for `claim` (a key of `PAPER_EFFECTS`, or ``"calibration"`` with `prop`).

    Calibration is per property panel: ``paper_effect("calibration", "first_word")`` (or the key
    ``"calibration.first_word"``); a property of the among-options reporting group (e.g. ``among_b_or_d``)
    uses the among-options panel; any other property, or none, gets the mean over the four panels, and its
    ``source`` says so. The accuracy claims have one (average) effect: a `prop` is accepted and noted in
    ``source``, but the value is the paper's average.
    """
    if claim.startswith(CALIBRATION + "."):
        claim, prop = CALIBRATION, claim.split(".", 1)[1]
    if claim == CALIBRATION:
        if prop is not None:
            panel = next(
                (p for p in _CALIBRATION_PANELS if p == prop or reporting_group(p) == reporting_group(prop)),
                None,
            )
            if panel is not None:
                return PAPER_EFFECTS[f"{CALIBRATION}.{panel}"]
        values = [PAPER_EFFECTS[f"{CALIBRATION}.{p}"].value for p in _CALIBRATION_PANELS]
        mean = sum(values) / len(values)
        what = "no property given" if prop is None else f"the paper has no calibration panel for {prop!r}"
        return PaperEffect(
            round(mean, 4),
            MAD_POINTS,
            f"{what}: mean of the four per-panel effects (second_character 10.5, first_word 18.7, "
            f"ethical_stance 14.85, among_a_or_c 5.1) = {mean:.4g}; each is the mean over Llama 70B and GPT-4o "
            "of MAD cross-trained − self-trained (SPEC §15.4).",
        )
    if claim not in PAPER_EFFECTS:
        known = sorted({k.split(".", 1)[0] for k in PAPER_EFFECTS})
        raise KeyError(f"no paper effect for claim {claim!r}; known: {known}")
    found = PAPER_EFFECTS[claim]
    if prop is None:
        return found
    note = f" Applied to {prop!r}: the paper's average effect (no per-property value is used)."
    return PaperEffect(found.value, found.unit, found.source + note)


# ----------------------------------------------------------------------------------------------------------
# Verdicts

SUPPORTS, CONTRADICTS, INCONCLUSIVE, UNDERPOWERED = "supports", "contradicts", "inconclusive", "underpowered"

VERDICT_RULES: dict[str, str] = {
    SUPPORTS: (
        "Supports: the 95% interval of the effect lies entirely above zero and its p-value is below α, so the "
        "effect is significant in the direction the paper claims (it may still be smaller than the paper's). "
        "Both are asked because with few informative prompts the bootstrap interval can be narrower than an "
        "exact test allows; the p-value is floored at what an exact test on those prompts can give."
    ),
    CONTRADICTS: (
        "Contradicts: the 95% interval lies entirely below the paper's effect, so an effect as large as the "
        "paper reports is ruled out (this includes a significant effect in the opposite direction)."
    ),
    UNDERPOWERED: (
        "Underpowered: neither of the above, and the smallest effect this sample could detect with 80% power "
        "(two-sided, α = 0.05) is larger than the paper's effect, so a null result here says little."
    ),
    INCONCLUSIVE: (
        "Inconclusive: neither of the above although the sample could detect an effect of the paper's size, "
        "so the interval includes both zero and the paper's effect; also used when the interval and the "
        "detectable effect could not be computed."
    ),
}


def verdict(
    effect: float | None,
    ci_low: float | None,
    ci_high: float | None,
    mde: float | None,
    paper_effect: float | None,
    p: float | None = None,
) -> str:
    """One of ``VERDICT_RULES``' keys for an effect oriented so that positive = the paper's claim.

    Rules, in order (the interval at level 1 − `ALPHA`, `mde` from `detectable_effect` at `POWER`):
    supports if ci_low > 0 and (p unknown or p < ALPHA); contradicts if ci_high < paper_effect; underpowered if mde > paper_effect;
    otherwise inconclusive.

    Missing values (None or NaN) are handled rule by rule: a rule whose inputs are missing does not fire. A
    missing `effect` means no measurement, so neither interval rule fires. Without an interval the verdict is
    therefore "underpowered" when the mde is known and larger than the paper's effect, else
    "inconclusive"; without a paper effect only "supports" can be reached. A paper effect must be positive
    (the orientation makes it so).
    """
    paper, low, high, d = _known(paper_effect), _known(ci_low), _known(ci_high), _known(mde)
    if paper is not None and paper <= 0:
        raise ValueError(f"paper_effect must be positive (oriented so + = the claim), got {paper}")
    measured = _known(effect) is not None
    p_ok = _known(p) is None or float(p) < ALPHA  # type: ignore[arg-type]
    if measured and low is not None and low > 0 and p_ok:
        return SUPPORTS
    if paper is None:
        return INCONCLUSIVE
    if measured and high is not None and high < paper:
        return CONTRADICTS
    if d is not None and d > paper:
        return UNDERPOWERED
    return INCONCLUSIVE


# ----------------------------------------------------------------------------------------------------------
# Across training seeds


@dataclass(frozen=True)
class SeedCombination:
    """An effect combined over training seeds (`combine_seeds`): ``mean``, ``sd`` (sample SD over seeds, 0
    for one seed), ``min``/``max``, ``n_seeds``, the conservative ``se`` of the mean, the normal interval
    ``ci_low``/``ci_high`` at 1 − alpha and the two-sided normal ``p``."""

    mean: float
    sd: float
    min: float
    max: float
    n_seeds: int
    se: float
    ci_low: float
    ci_high: float
    p: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def combine_seeds(effects: Sequence[float], ses: Sequence[float], *, alpha: float = ALPHA) -> SeedCombination:
    """Combine one effect measured on S training seeds, each with its own (item-clustered) SE.

    SE of the mean = sqrt(mean(se_s²) + sd²/S), CI = mean ± z_{1−α/2}·SE, p two-sided normal.

    The seeds are evaluated on the same held-out prompts, so their item-sampling errors are correlated: were
    they perfectly correlated, the item part of the mean's variance would be mean(se_s)², not mean(se_s²)/S
    as for independent samples. mean(se_s²) ≥ mean(se_s)² bounds it whatever the correlation, so no
    averaging-away of item noise is claimed. sd²/S adds the seed-to-seed spread; the sample variance over
    seeds also contains the part of the item noise that differs between seeds, which is counted twice. Both
    make the SE conservative (too wide rather than too narrow). With S = 1, sd = 0 and the result is the
    single seed's SE. NaN inputs give NaN outputs.
    """
    e = np.asarray(effects, dtype=np.float64)
    s = np.asarray(ses, dtype=np.float64)
    if e.ndim != 1 or e.shape != s.shape:
        raise ValueError(f"need one SE per effect, got {e.shape} effects and {s.shape} SEs")
    n = len(e)
    if n == 0:
        raise ValueError("no seeds to combine")
    mean = float(e.mean())
    sd = float(e.std(ddof=1)) if n > 1 else 0.0
    se = math.sqrt(float(np.mean(s * s)) + sd * sd / n)
    half = _z(1 - alpha / 2) * se
    if math.isnan(se) or math.isnan(mean):
        p = math.nan
    elif se == 0:
        p = 1.0 if mean == 0 else 0.0
    else:
        p = 2 * _NORMAL.cdf(-abs(mean) / se)
    return SeedCombination(
        mean=mean,
        sd=sd,
        min=float(e.min()),
        max=float(e.max()),
        n_seeds=n,
        se=se,
        ci_low=mean - half,
        ci_high=mean + half,
        p=p,
    )


def seeds_agree(verdicts: Iterable[str]) -> bool:
    """True when every seed reached the same verdict (and there is at least one)."""
    vs = list(verdicts)
    return len(vs) > 0 and len(set(vs)) == 1


# ----------------------------------------------------------------------------------------------------------
# Calibration: self vs cross MAD with a prompt bootstrap


@dataclass(frozen=True)
class MadDifference:
    """`mad_difference`: ``diff`` = ``mad_cross`` − ``mad_self`` (positive = self better calibrated), with
    the SD of its bootstrap draws ``se``, the percentile interval ``ci_low``/``ci_high``, the two-sided
    bootstrap ``p`` (null-shifted, as `cluster_paired_bootstrap`), over ``n_prompts`` prompts and
    ``n_points`` calibration points (each condition has the same points: they are the object's top-k)."""

    mad_self: float
    mad_cross: float
    diff: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n_prompts: int
    n_points: int
    n_boot: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _qcut_levels(bins: int) -> FloatArray:
    # As pandas.qcut: levels not exact in base 2 are rounded up (a no-op on pandas versions that do not).
    levels = np.linspace(0, 1, bins + 1)
    np.putmask(levels, bins * levels != np.arange(bins + 1), np.nextafter(levels, 1))
    return levels


def _binned_mad(x: FloatArray, y: FloatArray, levels: FloatArray) -> float:
    """`calibration_mad` on point arrays: equal-frequency bins as ``pandas.qcut(duplicates="drop")``
    (right-closed, lowest edge included), mean |mean x − mean y| over the non-empty bins, ×100."""
    if len(x) == 0:
        return math.nan
    if x.min() == x.max():
        return abs(float(x.mean()) - float(y.mean())) * 100
    edges = np.unique(np.quantile(x, levels))
    ids = np.searchsorted(edges, x, side="left")
    ids[x == edges[0]] = 1
    ids -= 1
    nb = len(edges) - 1
    n = np.bincount(ids, minlength=nb)
    sx = np.bincount(ids, weights=x, minlength=nb)
    sy = np.bincount(ids, weights=y, minlength=nb)
    full = n > 0
    return float(np.mean(np.abs(sx[full] - sy[full]) / n[full]) * 100)


def mad_difference(
    object_dists: Mapping[Any, Any],
    self_hypothetical_dists: Mapping[Any, Any],
    cross_hypothetical_dists: Mapping[Any, Any],
    *,
    n_boot: int = 2000,
    seed: Seed = 0,
    level: float = 1 - ALPHA,
    top_k: int = 3,
    bins: int = 10,
    normalise: bool = False,
    rules: ScoringRules = DEFAULT_RULES,
) -> MadDifference:
    """Calibration MAD of cross-trained minus self-trained hypothetical answers, on the same prompts, with an
    item-clustered bootstrap.

    Keys are ``(task, item_id, property)`` tuples mapping to {value: probability} as in
    `calibration_points`; only keys present in all three mappings are used, and a prompt is ``key[:2]`` (all
    its properties are resampled together). The observed MADs are `calibration_mad(calibration_points(...))`
    with the given `top_k`, `bins`, `normalise` and `rules`. Each bootstrap draw resamples the prompts with
    replacement (the same draw for both conditions, so the difference is paired) and recomputes both MADs,
    binning afresh; a prompt drawn twice contributes its points twice, exactly as `calibration_mad` would on
    a mapping holding two copies of it under distinct keys. Prompts with no positive object probability give
    no points and are not counted. Fewer than two prompts: NaN for se, the interval and p.
    """
    keys = [k for k in object_dists if k in self_hypothetical_dists and k in cross_hypothetical_dists]
    bad = next((k for k in keys if not (isinstance(k, tuple) and len(k) >= 2)), None)
    if bad is not None:
        raise TypeError(f"keys must be (task, item_id, property) tuples, got {bad!r}")
    obj = {k: object_dists[k] for k in keys}
    pts_self = calibration_points(obj, self_hypothetical_dists, top_k=top_k, normalise=normalise, rules=rules)
    pts_cross = calibration_points(
        obj, cross_hypothetical_dists, top_k=top_k, normalise=normalise, rules=rules
    )
    mad_self, mad_cross = calibration_mad(pts_self, bins), calibration_mad(pts_cross, bins)
    diff = mad_cross - mad_self

    # Prompts numbered in sorted order of their key (as `cluster_codes`), so results ignore mapping order.
    prompt_of = [tuple(k[:2]) for k in pts_self["key"]]
    prompts = sorted(set(prompt_of), key=lambda p: tuple(str(x) for x in p))
    index = {p: i for i, p in enumerate(prompts)}
    codes = np.fromiter((index[p] for p in prompt_of), dtype=np.int64, count=len(prompt_of))
    n_prompts, n_points = len(prompts), len(codes)
    nan = math.nan
    if n_prompts < 2:
        return MadDifference(mad_self, mad_cross, diff, nan, nan, nan, nan, n_prompts, n_points, n_boot)

    # Points of both conditions share keys, values and object probabilities; only hypothetical_prob differs.
    same = ["key", "value", "object_prob"]
    if not pts_self[same].equals(pts_cross[same]):  # pragma: no cover - ranking reads the object side only
        raise AssertionError("self and cross calibration points differ in their object side")
    x = pts_self["object_prob"].to_numpy(dtype=np.float64)
    y_self = pts_self["hypothetical_prob"].to_numpy(dtype=np.float64)
    y_cross = pts_cross["hypothetical_prob"].to_numpy(dtype=np.float64)
    levels = _qcut_levels(bins)
    rng = _rng(seed)
    draws = np.empty(n_boot, dtype=np.float64)
    for i in range(n_boot):
        weights = np.bincount(rng.integers(0, n_prompts, size=n_prompts), minlength=n_prompts)[codes]
        xb = np.repeat(x, weights)
        draws[i] = _binned_mad(xb, np.repeat(y_cross, weights), levels) - _binned_mad(
            xb, np.repeat(y_self, weights), levels
        )
    lo, hi = _interval(draws, level)
    p = _p_shifted(draws, diff, n_boot)
    return MadDifference(
        mad_self=mad_self,
        mad_cross=mad_cross,
        diff=diff,
        se=float(np.std(draws, ddof=1)) if n_boot > 1 else nan,
        ci_low=lo,
        ci_high=hi,
        p=p,
        n_prompts=n_prompts,
        n_points=n_points,
        n_boot=n_boot,
    )
