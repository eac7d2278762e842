"""Scoring rules: inward's defaults, or the handling of the paper's own code ("paper-code").

    from inward.metrics import DEFAULT_RULES, PAPER_CODE_RULES, rules_for
    scored = join_object_hypothetical(obj, hyp, rules=PAPER_CODE_RULES)
    mode_baseline(scored, rules=PAPER_CODE_RULES, object_rows=obj)
    behaviour_change(old, new, hyp, rules=rules_for(paper_code=True))

Where inward's default deliberately differs from what the official code computed, one flag of `ScoringRules`
switches to the official code's handling; `PAPER_CODE_RULES` sets every flag. docs/paper-code.md lists each
difference with the reason the default is the better science; the flags' exact meaning is on the fields
below. Everything that is *not* a flag is the same in both modes (cleaning, the fixed mode normalisation,
entropy matching per reporting group, the numeric compliance rule).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

UNDEFINED_VALUE = "none"
"""The string the paper's code put in place of an undefined property value (``str(None).lower()``)."""


@dataclass(frozen=True)
class ScoringRules:
    """Which of the official code's handlings to reproduce. All False = inward's default."""

    name: str = "default"
    """Recorded in provenance: "default", "paper-code", or a custom name."""

    undefined_as_wrong: bool = False
    """Object rows whose property value is undefined (answer too short, not a number: value None) are scored,
    with object value "none" that the hypothetical answer is compared with (so a hypothetical "none" is
    correct), as the paper's loader did. Default: dropped, the prompt is not evaluated for that property
    (the property has no value to predict; SPEC §4.1 calls such rows non-compliant)."""

    score_noncompliant_objects: bool = False
    """Object rows whose answer failed the task's compliance rules are scored when a hypothetical answer
    exists for them (the paper's self/cross figures loaded with ``exclude_noncompliant=False``). Default:
    dropped (the paper's stated rule, SPEC §6.3). Never applies to behaviour change, whose figure script
    dropped them too."""

    match_noncompliant_hypothetical: bool = False
    """A non-compliant hypothetical answer that equals the object value counts as correct (the official
    ``flat_object_meta`` compared strings only). Default: a non-compliant hypothetical answer is always wrong
    (the paper's stated rule)."""

    mode_over_all_object_rows: bool = False
    """The mode baseline's mode per (task, property) is taken over every object-level row passed as
    ``object_rows`` — non-compliant ones, undefined values (as "none") and prompts without a hypothetical
    answer included — as the official code took it over its object dataframe. Default: over the evaluated
    (scored) rows. Applies to self/cross scoring; behaviour change recomputes its mode (see below)."""

    change_mode_pooled: bool = False
    """Behaviour change: the mode is recomputed over each plotted group as a whole (for the average bar one
    mode across all tasks and properties), the figure script's ``recalculate_mode``. Default: per (task,
    property) as everywhere else."""

    change_drop_noncompliant_hypothetical: bool = False
    """Behaviour change: non-compliant hypothetical answers are dropped (the figure script loaded with
    ``exclude_noncompliant=True``). Default: they count as wrong (the paper's stated rule)."""

    calibration_ties_first_seen: bool = False
    """Calibration: object values tied in probability are ranked by first appearance in the distribution
    mapping (a stable sort on probability, as the official script). Default: by value, in string order, so
    the top-k does not depend on the order answers were sampled in."""

    def as_dict(self) -> dict[str, Any]:
        """Every field, for provenance."""
        return asdict(self)

    @property
    def is_default(self) -> bool:
        return self.as_dict() | {"name": "default"} == DEFAULT_RULES.as_dict()


DEFAULT_RULES = ScoringRules()
PAPER_CODE_RULES = ScoringRules(
    name="paper-code",
    undefined_as_wrong=True,
    score_noncompliant_objects=True,
    match_noncompliant_hypothetical=True,
    mode_over_all_object_rows=True,
    change_mode_pooled=True,
    change_drop_noncompliant_hypothetical=True,
    calibration_ties_first_seen=True,
)


def rules_for(paper_code: bool) -> ScoringRules:
    """`PAPER_CODE_RULES` when `paper_code`, else `DEFAULT_RULES`."""
    return PAPER_CODE_RULES if paper_code else DEFAULT_RULES
