"""Untrained self- and cross-prediction: each configured model predicting its own behaviour, and each predictor
of `cross_pairs` predicting the target's, with no fine-tuning at all (the paper's untrained baselines, SPEC §8).

It trains nothing, so it runs on any model inward can ask, API and inspect models included, where the four
training experiments cannot; it is the first thing to run on a new model. Without training, a self-prediction
advantage says little about introspection (the paper's untrained models predicted themselves barely above the
mode baseline); the comparison is reported, with the same item-clustered test and power rules, so that a
trained run has its starting point beside it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from inward import metrics as M
from inward.experiments.base import Claim, Experiment, Number, register
from inward.experiments.context import Context
from inward.report import build as B
from inward.report.results import AVERAGE, AccRow, PairedTest, find_row


class UntrainedSelf(BaseModel):
    model: str
    label: str
    rows: list[AccRow] = Field(default_factory=list, description="Self-prediction accuracy per group.")


class UntrainedPair(BaseModel):
    target: str
    target_label: str
    predictor: str
    predictor_label: str
    self_rows: list[AccRow] = Field(default_factory=list, description="The target predicting itself.")
    cross_rows: list[AccRow] = Field(default_factory=list, description="The predictor predicting the target.")
    tests: list[PairedTest] = Field(default_factory=list, description="Self minus cross, same prompts.")


class Untrained(BaseModel):
    tasks: list[str] = Field(default_factory=list)
    models: list[UntrainedSelf] = Field(default_factory=list)
    pairs: list[UntrainedPair] = Field(default_factory=list)


def _roles(ctx: Context) -> list[str]:
    return [r for r in ("m1", "m2", "m3") if getattr(ctx.cfg.models, r, None) is not None]


@register
class UntrainedExperiment(Experiment):
    name = "untrained"
    title = "Untrained self- and cross-prediction"
    training_dependent = False

    def steps(self, ctx: Context) -> tuple[list[str], list[tuple[str, str]]]:
        refs = [ctx.cfg.model(r) for r in _roles(ctx)]
        for ref in refs:
            ctx.evaluate(ref, ref)
        pairs = []
        if len(refs) > 1:
            for target, predictor in ctx.cfg.cross_pairs:
                t, p = ctx.cfg.model(target), ctx.cfg.model(predictor)
                ctx.evaluate(t, p)
                pairs.append((t, p))
        return refs, pairs

    def analyse(self, ctx: Context, done: tuple[list[str], list[tuple[str, str]]]) -> Untrained:
        r = ctx.readings
        refs, pairs = done
        models = [
            UntrainedSelf(model=m, label=ctx.label(m), rows=r.accuracy(r.scored(m, m), m)) for m in refs
        ]
        out = []
        for target, predictor in pairs:
            self_sc, cross_sc = M.intersect(r.scored(target, target), r.scored(target, predictor))
            out.append(
                UntrainedPair(
                    target=target,
                    target_label=ctx.label(target),
                    predictor=predictor,
                    predictor_label=ctx.label(predictor),
                    self_rows=r.accuracy(self_sc, target),
                    cross_rows=r.accuracy(cross_sc, target),
                    tests=B.paired_rows(M.paired_tests(self_sc, cross_sc)),
                )
            )
        return Untrained(tasks=list(ctx.eval_tasks), models=models, pairs=out)

    def claims(self, section: Untrained) -> list[Claim]:
        return [
            Claim.from_test(
                find_row(p.tests, AVERAGE),
                key=f"untrained:{p.target}:{p.predictor}",
                claim=f"Untrained, {p.target_label} predicts itself better than {p.predictor_label} predicts it",
                comparison=f"{p.target_label} predicting itself vs {p.predictor_label} predicting it, no "
                "fine-tuning, same prompts",
                unit="pp",
                paper="self_vs_cross",
                note="No model here was trained on anyone's behaviour: the paper's test of introspection is the "
                "trained comparison (cross_prediction); this is its starting point.",
            )
            for p in section.pairs
        ]

    def numbers(self, section: Untrained) -> list[Number]:
        out = []
        for m in section.models:
            row = find_row(m.rows)
            out.append(Number(f"{m.label} untrained, predicting itself", "acc", row.acc if row else None))
        for p in section.pairs:
            row = find_row(p.cross_rows)
            out.append(
                Number(
                    f"{p.predictor_label} untrained, predicting {p.target_label}",
                    "acc",
                    row.acc if row else None,
                )
            )
        return out
