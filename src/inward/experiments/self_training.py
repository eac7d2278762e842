"""Self-prediction training (SPEC §8, Fig. 4): does fine-tuning a model on its own behaviour make it better at
predicting that behaviour on held-out tasks? Untrained vs self-trained, each predicting itself, on the prompts
both conditions have."""

from __future__ import annotations

from inward import metrics as M
from inward.experiments.base import Claim, Experiment, Number, register
from inward.experiments.context import Context
from inward.experiments.readings import train_stats
from inward.report import build as B
from inward.report.results import AVERAGE, SelfTraining, SelfTrainingModel, find_row


def self_roles(ctx: Context) -> list[str]:
    """M1, and every cross-prediction target when cross-prediction runs (both directions self-train M2)."""
    roles = ["m1"]
    if "cross_prediction" in ctx.cfg.experiments:
        roles += [t for t, _ in ctx.cfg.cross_pairs]
    return list(dict.fromkeys(roles))


@register
class SelfTrainingExperiment(Experiment):
    name = "self_training"
    title = "Self-prediction training"
    extra = False

    def steps(self, ctx: Context) -> list[tuple[str, str, str]]:
        out = []
        for role in self_roles(ctx):
            base, trained = ctx.cfg.model(role), ctx.self_trained(role)
            ctx.evaluate(base, base)
            ctx.evaluate(trained, trained)
            out.append((base, trained, role))
        return out

    def analyse(self, ctx: Context, done: list[tuple[str, str, str]]) -> SelfTraining:
        r = ctx.readings
        models = []
        for base, trained, role in done:
            before, after = M.intersect(r.scored(base, base), r.scored(trained, trained))
            models.append(
                SelfTrainingModel(
                    model=base,
                    label=ctx.label(base),
                    trained_model=trained,
                    untrained=r.accuracy(before, base),
                    trained=r.accuracy(after, trained),
                    train=train_stats(ctx.trained.get(f"{role}-self")),
                    tests=B.paired_rows(M.paired_tests(after, before)),
                )
            )
        return SelfTraining(models=models, tasks=list(ctx.eval_tasks))

    def claims(self, section: SelfTraining) -> list[Claim]:
        out = []
        for m in section.models:
            t = find_row(m.tests, AVERAGE)
            out.append(
                Claim.from_test(
                    t,
                    key=f"self_training:{m.model}",
                    claim=f"Self-prediction training improves {m.label}'s self-prediction",
                    comparison=f"{m.label}: self-trained vs untrained, each predicting itself, held-out tasks",
                    unit="pp",
                    paper="self_training",
                )
            )
        return out

    def numbers(self, section: SelfTraining) -> list[Number]:
        out = []
        for m in section.models:
            before, after = find_row(m.untrained), find_row(m.trained)
            out.append(Number(f"{m.label} untrained, self-prediction", "acc", before.acc if before else None))
            out.append(
                Number(f"{m.label} self-trained, self-prediction", "acc", after.acc if after else None)
            )
        return out
