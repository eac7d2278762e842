"""Paraphrase robustness: does the self-vs-cross verdict survive rewording the hypothetical question?

    experiments: [self_training, cross_prediction, paraphrase]
    controls: {paraphrases: [inward-v1-p1, inward-v1-p2, inward-v1-p3]}

The self-trained target and every cross-predictor trained on its behaviour (each configured cross pair whose
target is `controls.target`) are asked every hypothetical again in each paraphrase template
(`inward.prompts._paraphrases`: wrapper and every property question reworded). The object level stays the
experiment's, so every wording is scored against the same behaviour on the same held-out prompts. Per wording,
the target in that wording is tested against each cross-predictor in that wording (a claim per paraphrase, keyed
"paraphrase:<wording>: <ROLE>-cross"); the target in a paraphrase against itself in the default wording is
reported beside them as information. `details` holds every predictor's accuracy per wording and its spread.
"""

from __future__ import annotations

import statistics
from typing import Any

from inward import metrics as M
from inward import tasks as T
from inward.experiments.base import register
from inward.experiments.context import Context, template_digest
from inward.experiments.controls._base import Control, average, scored_predictor, self_target
from inward.experiments.cross_prediction import capability, more_capable
from inward.prompts import DEFAULT, PromptTemplate
from inward.prompts import get as get_template
from inward.report import build as B
from inward.report.results import AVERAGE, ControlPredictor, ControlSection, find_row

DEFAULT_WORDING = "default"
WEAKER = (
    "The predictor is not the more capable model: an advantage here is what a weaker predictor would show; "
    "cross-prediction's other direction is the test."
)


def short_name(template: PromptTemplate) -> str:
    """A wording's name in tables: "p1" for "inward-v1-p1" (a paraphrase of the default family), else its name."""
    return template.name.removeprefix(DEFAULT.name + "-")


def cross_name(role: str) -> str:
    return f"{role.upper()}-cross"


@register
class Paraphrase(Control):
    name = "paraphrase"
    title = "Paraphrase robustness"
    question = "Does the self-prediction advantage over cross-predictors survive rewording the hypothetical question?"

    def steps(self, ctx: Context) -> dict[str, Any]:
        role, tt = self_target(ctx)
        crosses = [(p, ctx.cross_trained(t, p)) for t, p in ctx.cfg.cross_pairs if t == role]
        for _, pc in crosses:
            ctx.evaluate(tt, pc)  # the default wording (shared with cross-prediction)
        for name in ctx.cfg.controls.paraphrases:
            tpl = get_template(name)
            ctx.evaluate(tt, tt, template=tpl)
            for _, pc in crosses:
                ctx.evaluate(tt, pc, template=tpl)
        return {
            "role": role,
            "target": tt,
            "crosses": crosses,
            "paraphrases": list(ctx.cfg.controls.paraphrases),
        }

    def analyse(self, ctx: Context, done: dict[str, Any]) -> ControlSection:
        r = ctx.readings
        tt: str = done["target"]
        crosses: list[tuple[str, str]] = done["crosses"]
        wordings = [get_template(n) for n in done["paraphrases"]]
        self_default = r.scored(tt, tt)
        cross_default = {role: r.scored(tt, pc) for role, pc in crosses}

        predictors = []
        # accuracy[predictor][wording]: the average accuracy of each predictor in each wording, and the
        # self-minus-cross difference per wording on the prompts both answered (the verdict's effect).
        accuracy: dict[str, dict[str, float | None]] = {
            "self": {DEFAULT_WORDING: average(r.accuracy(self_default, tt))}
        }
        gap: dict[str, dict[str, float | None]] = {}
        weaker = {role: _weaker(ctx, role, done["role"]) for role, _ in crosses}
        for role, _ in crosses:  # the default wording: the numbers cross-prediction reports
            a, b = M.intersect(self_default, cross_default[role])
            accuracy[cross_name(role)] = {DEFAULT_WORDING: average(r.accuracy(b, tt))}
            gap[cross_name(role)] = {
                DEFAULT_WORDING: _diff(B.paired_rows(M.paired_tests(a, b)) if len(a) else [])
            }

        for tpl in wordings:
            w = short_name(tpl)
            about = {"wording": tpl.name, "template_digest": template_digest(tpl, ctx.eval_tasks)}
            self_w = r.scored(tt, tt, template=tpl)
            own = scored_predictor(
                ctx,
                tt,
                self_default,
                self_w,
                name=f"{w}: self",
                predictor=f"{ctx.label(tt)} in the {w} wording",
                model=tt,
                claim=False,
                details=about,
                note="Information, not a claim: the default wording (A) vs this wording (B), both the target "
                "predicting itself.",
            )
            predictors.append(own)
            accuracy["self"][w] = average(r.accuracy(self_w, tt))
            for role, pc in crosses:
                cp = scored_predictor(
                    ctx,
                    tt,
                    self_w,
                    r.scored(tt, pc, template=tpl),
                    name=f"{w}: {cross_name(role)}",
                    predictor=ctx.label(pc),
                    model=pc,
                    details=about,
                    own_self=self_w,
                    note=WEAKER if weaker[role] else None,
                )
                predictors.append(cp)
                accuracy[cross_name(role)][w] = average(cp.rows)
                gap[cross_name(role)][w] = _diff(cp.tests)

        mismatched = [
            t for t in ctx.eval_tasks for tpl in wordings if tpl.hash(T.get(t)) != ctx.template.hash(T.get(t))
        ]
        notes = [
            "Every wording is scored against the same object-level behaviour (the experiment's object prompts); "
            "only the hypothetical question changes.",
            "Spread: max − min and sample standard deviation of a predictor's average accuracy over the default "
            "wording and the paraphrases (accuracy units, 0–1).",
        ]
        if mismatched:
            notes.append(
                "The paraphrase templates quote the default object-level prompt, which differs from this "
                f"experiment's template ({ctx.template.name}) on {', '.join(sorted(set(mismatched)))}: there the "
                "quoted prompt is not the one the target answered."
            )
        return self.section(
            ctx,
            tt,
            self_rows=r.accuracy(self_default, tt),
            predictors=predictors,
            details={
                "wordings": [DEFAULT_WORDING, *(short_name(t) for t in wordings)],
                "templates": {short_name(t): t.name for t in wordings},
                "accuracy": accuracy,
                "spread": {name: _spread(by) for name, by in accuracy.items()},
                "self_minus_cross": gap,
                "self_minus_cross_spread": {name: _spread(by) for name, by in gap.items()},
                "object_level_identical": not mismatched,
            },
            notes=notes,
        )

    def claim_text(self, section: ControlSection, p: ControlPredictor) -> tuple[str, str]:
        # the self side is asked in that wording too
        wording = p.details.get("wording")
        who = section.target.split(" + ")[0]
        return (
            f"{who} predicts itself better than {p.predictor}, asked in the {wording} wording",
            f"{self.title}: {section.target} predicting itself vs {p.predictor} predicting it, both asked in the "
            f"{wording} wording, same prompts",
        )


def _weaker(ctx: Context, predictor: str, target: str) -> bool:
    """Whether the predictor's base is the less capable model (cross-prediction's measure)."""
    pred, targ = (capability(ctx, ctx.cfg.model(role)) for role in (predictor, target))
    return more_capable(pred, targ) is False


def _diff(tests: list[Any]) -> float | None:
    row = find_row(tests, AVERAGE)
    return None if row is None or row.diff is None else float(row.diff)


def _spread(by_wording: dict[str, float | None]) -> dict[str, float | int | None]:
    values = [v for v in by_wording.values() if v is not None and v == v]  # NaN is not a value
    return {
        "n_wordings": len(values),
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "range": max(values) - min(values) if values else None,
        "sd": statistics.stdev(values) if len(values) > 1 else None,
    }


__all__ = ["Paraphrase", "cross_name", "short_name"]
