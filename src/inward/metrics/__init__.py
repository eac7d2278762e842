"""Metrics: pure functions on tables of behaviour and hypothetical answers (SPEC §10–§13). No models here.

from inward import metrics as M
scored = M.join_object_meta(object_df, meta_df)     # scored table (see `join_object_meta` for formats)
M.accuracy(scored)                                  # per group + "average" (micro), SEM and bootstrap CIs
M.mode_baseline(scored)                             # the "⋆" baseline
M.paired_tests(self_scored, cross_scored)           # self vs cross on the same prompts
M.calibration_mad(M.calibration_points(obj_dists, meta_dists))
a, b = M.entropy_match(before, after)               # mode-collapse control
M.behaviour_change(m1_objects, mc_objects, mc_meta).summary
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
from inward.metrics._baselines import mode_baseline, mode_hits, mode_of, modes
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
from inward.metrics._entropy import entropy, entropy_match, entropy_table
from inward.metrics._scoring import (
    KEY,
    compliant_object_rows,
    intersect,
    join_object_meta,
    object_long,
    reporting_group,
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
    "AVERAGE",
    "KEY",
    "BehaviourChange",
    "PairedTest",
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
    "compliance_rates",
    "compliant_object_rows",
    "empirical_distribution",
    "entropy",
    "entropy_match",
    "entropy_table",
    "intersect",
    "join_object_meta",
    "mcnemar_exact",
    "mode_baseline",
    "mode_hits",
    "mode_of",
    "modes",
    "object_long",
    "paired_bootstrap",
    "paired_test",
    "paired_tests",
    "reporting_group",
    "score_rows",
    "sem",
    "sem_ci",
    "shifted_prompts",
    "unpaired_bootstrap",
    "wilson_ci",
]
