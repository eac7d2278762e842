"""Runs: object-level behaviour, hypothetical answers, distributions and scores, all resumable through the store."""

from inward.runs.configs import DistributionConfig, ObjectConfig, object_config_for
from inward.runs.distributions import run_meta_distributions, run_object_distributions
from inward.runs.meta_level import META_CONFIG, run_meta
from inward.runs.object_level import OBJECT_CONFIG, StepResult, object_table, run_object
from inward.runs.score import ScoreResult, score, scored_table

__all__ = [
    "META_CONFIG",
    "OBJECT_CONFIG",
    "DistributionConfig",
    "ObjectConfig",
    "ScoreResult",
    "StepResult",
    "object_config_for",
    "object_table",
    "run_meta",
    "run_meta_distributions",
    "run_object",
    "run_object_distributions",
    "score",
    "scored_table",
]
