"""Metrics: pure functions on tables of behaviour and hypothetical answers (SPEC §10–§13). No models here.

from inward import metrics as M
scored = M.join_object_hypothetical(object_df, hypothetical_df)     # scored table (see `join_object_hypothetical` for formats)
M.accuracy(scored)                                  # per group + "average" (micro), SEM, item-clustered CIs
M.mode_baseline(scored)                             # the "⋆" baseline
M.paired_tests(self_scored, cross_scored)           # self vs cross on the same prompts
M.calibration_mad(M.calibration_points(obj_dists, hypothetical_dists))
a, b = M.entropy_match(before, after)               # mode-collapse control
M.behaviour_change(m1_objects, mc_objects, mc_hypothetical).summary
mde = M.detectable_effect(M.cluster_se_paired(a, b, clusters))   # power: the effect this sample could see
M.verdict(diff, lo, hi, mde, M.paper_effect("self_vs_cross").value)   # "supports", "underpowered", …

Every function that scores takes ``rules=`` (keyword-only, default `DEFAULT_RULES`); ``rules=PAPER_CODE_RULES``
(or ``rules_for(paper_code=True)``) reproduces the official code's handling where inward's default differs.
docs/paper-code.md tabulates the differences and why the default is the better science.
"""

from inward.metrics._accuracy import (
    AVERAGE,
    PairedTest,
    accuracy,
    align,
    compliance_rates,
    paired_test,
    paired_tests,
)
from inward.metrics._baselines import mode_baseline, mode_hits, mode_of, mode_source, modes
from inward.metrics._behaviour_change import (
    BehaviourChange,
    answer_drift,
    answer_property,
    behaviour_change,
    changed_fractions,
    shifted_prompts,
)
from inward.metrics._calibration import (
    calibration_curve,
    calibration_mad,
    calibration_mad_by_rank,
    calibration_points,
    empirical_distribution,
)
from inward.metrics._clustered import (
    CLUSTER,
    cluster_bootstrap_ci,
    cluster_bootstrap_distribution,
    cluster_codes,
    cluster_paired_bootstrap,
    cluster_sums,
    cluster_unpaired_bootstrap,
)
from inward.metrics._entropy import MATCH_BY, PROPERTY_BY, entropy, entropy_match, entropy_table
from inward.metrics._power import (
    ALPHA,
    PAPER_EFFECTS,
    POWER,
    VERDICT_RULES,
    MadDifference,
    PaperEffect,
    SeedCombination,
    cluster_se_mean,
    cluster_se_paired,
    cluster_se_unpaired,
    combine_seeds,
    detectable_effect,
    mad_difference,
    paper_effect,
    planned_detectable_effect,
    planned_rows_for,
    seeds_agree,
    verdict,
)
from inward.metrics._rules import (
    DEFAULT_RULES,
    PAPER_CODE_RULES,
    UNDEFINED_VALUE,
    ScoringRules,
    rules_for,
)
from inward.metrics._scoring import (
    KEY,
    compliant_object_rows,
    intersect,
    join_object_hypothetical,
    normalise_value,
    object_long,
    reporting_group,
    scorable_object_rows,
    score_rows,
)
from inward.metrics._stats import (
    bootstrap_ci,
    mcnemar_exact,
    paired_bootstrap,
    sem,
    sem_ci,
    unpaired_bootstrap,
    wilson_ci,
)

__all__ = [
    "ALPHA",
    "AVERAGE",
    "CLUSTER",
    "DEFAULT_RULES",
    "KEY",
    "MATCH_BY",
    "PAPER_CODE_RULES",
    "PAPER_EFFECTS",
    "POWER",
    "PROPERTY_BY",
    "UNDEFINED_VALUE",
    "VERDICT_RULES",
    "BehaviourChange",
    "MadDifference",
    "PairedTest",
    "PaperEffect",
    "ScoringRules",
    "SeedCombination",
    "accuracy",
    "align",
    "answer_drift",
    "answer_property",
    "behaviour_change",
    "bootstrap_ci",
    "calibration_curve",
    "calibration_mad",
    "calibration_mad_by_rank",
    "calibration_points",
    "changed_fractions",
    "cluster_bootstrap_ci",
    "cluster_bootstrap_distribution",
    "cluster_codes",
    "cluster_paired_bootstrap",
    "cluster_se_mean",
    "cluster_se_paired",
    "cluster_se_unpaired",
    "cluster_sums",
    "cluster_unpaired_bootstrap",
    "combine_seeds",
    "compliance_rates",
    "compliant_object_rows",
    "detectable_effect",
    "empirical_distribution",
    "entropy",
    "entropy_match",
    "entropy_table",
    "intersect",
    "join_object_hypothetical",
    "mad_difference",
    "mcnemar_exact",
    "mode_baseline",
    "mode_hits",
    "mode_of",
    "mode_source",
    "modes",
    "normalise_value",
    "object_long",
    "paired_bootstrap",
    "paired_test",
    "paired_tests",
    "paper_effect",
    "planned_detectable_effect",
    "planned_rows_for",
    "reporting_group",
    "rules_for",
    "scorable_object_rows",
    "score_rows",
    "seeds_agree",
    "sem",
    "sem_ci",
    "shifted_prompts",
    "unpaired_bootstrap",
    "verdict",
    "wilson_ci",
]
