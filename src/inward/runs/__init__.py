"""Runs: object-level behaviour, hypothetical answers, distributions and scores, all resumable through the store."""

from inward.runs.configs import DistributionConfig, ObjectConfig, object_config_for
from inward.runs.distributions import run_hypothetical_distributions, run_object_distributions
from inward.runs.hypothetical import HYPOTHETICAL_CONFIG, run_hypotheticals
from inward.runs.object_level import OBJECT_CONFIG, StepResult, object_table, run_object
from inward.runs.score import ScoreResult, score, scored_table

__all__ = [
    "HYPOTHETICAL_CONFIG",
    "OBJECT_CONFIG",
    "DistributionConfig",
    "ObjectConfig",
    "ScoreResult",
    "StepResult",
    "object_config_for",
    "object_table",
    "run_hypothetical_distributions",
    "run_hypotheticals",
    "run_object",
    "run_object_distributions",
    "score",
    "scored_table",
]
