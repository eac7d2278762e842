"""Cross-prediction (SPEC §9, Fig. 5), in every configured direction: a target predicting itself vs a predictor
fine-tuned on the self-trained target's behaviour, on the same prompts. The paper ran every pair both ways "to
rule out capability differences": a self-prediction advantage over a *weaker* predictor is what any weaker
predictor would show, so each direction says whether its predictor is the more capable model (parameter count,
then accuracy on the held-out multiple-choice tasks)."""

from __future__ import annotations

from inward import metrics as M
from inward import properties as P
from inward import tasks as T
from inward.experiments.base import Claim, Experiment, Number, register
from inward.experiments.context import Context
from inward.experiments.readings import train_stats
from inward.report import build as B
from inward.report.results import (
    AVERAGE,
    CrossPrediction,
    CrossPredictor,
    CrossTarget,
    ModelCapability,
    find_row,
)

MC_TASKS = ("mmlu_non_cot", "arc_challenge_non_cot")  # answers with a correct letter
CAPABILITY_MEASURE = (
    "parameter count of the base weights (ties and API models: object-level accuracy on the held-out "
    "multiple-choice tasks)"
)


@register
class CrossPredictionExperiment(Experiment):
    name = "cross_prediction"
    title = "Cross-prediction"
    extra = False
    after = ("self_training",)

    def steps(self, ctx: Context) -> list[tuple[str, str, str, str]]:
        out: list[tuple[str, str, str, str]] = []
        for target, predictor in ctx.cfg.cross_pairs:
            tt = ctx.self_trained(target)
            pc = ctx.cross_trained(target, predictor)
            ctx.evaluate(tt, tt)
            ctx.evaluate(tt, pc)
            out.append((tt, pc, target, predictor))
        # Capability: the untrained models' object-level answers on the held-out MC tasks (shared with
        # self-training's untrained evaluation, so usually free).
        mc = [t for t in ctx.eval_tasks if t in MC_TASKS]
        if mc:
            for role in dict.fromkeys(r for pair in ctx.cfg.cross_pairs for r in pair):
                ctx.answer(ctx.cfg.model(role), mc, ctx.cfg.sizes.eval_items_per_task)
        return out

    def analyse(self, ctx: Context, done: list[tuple[str, str, str, str]]) -> CrossPrediction:
        r = ctx.readings
        roles = list(dict.fromkeys(role for pair in ctx.cfg.cross_pairs for role in pair))
        caps: dict[str, ModelCapability] = {role: capability(ctx, ctx.cfg.model(role)) for role in roles}
        targets = []
        for tt, pc, target, predictor in done:
            self_sc, cross_sc = M.intersect(r.scored(tt, tt), r.scored(tt, pc))
            targets.append(
                CrossTarget(
                    model=tt,
                    label=ctx.label(tt),
                    role=target,
                    self_rows=r.accuracy(self_sc, tt),
                    cross=[
                        CrossPredictor(
                            model=pc,
                            label=ctx.label(pc),
                            role=predictor,
                            more_capable=more_capable(caps[predictor], caps[target]),
                            rows=r.accuracy(cross_sc, tt),
                            tests=B.paired_rows(M.paired_tests(self_sc, cross_sc)),
                            train=train_stats(ctx.trained.get(f"{predictor}-cross-{target}")),
                        )
                    ],
                )
            )
        return CrossPrediction(
            targets=targets,
            tasks=list(ctx.eval_tasks),
            capability=list(caps.values()),
            capability_measure=CAPABILITY_MEASURE,
        )

    def claims(self, section: CrossPrediction) -> list[Claim]:
        out = []
        for t in section.targets:
            for c in t.cross:
                test = find_row(c.tests, AVERAGE)
                stronger = {True: "more capable", False: "less capable", None: "comparable"}[c.more_capable]
                out.append(
                    Claim.from_test(
                        test,
                        key=f"self_vs_cross:{t.role or t.model}:{c.model.split('+')[0]}",
                        claim=f"{t.label.split(' + ')[0]} predicts itself better than a {stronger} model trained "
                        "on its behaviour",
                        comparison=f"{t.label} predicting itself vs {c.label} predicting it, same prompts",
                        unit="pp",
                        paper="self_vs_cross",
                        note="The predictor is not the more capable model: an advantage here is what a weaker "
                        "predictor would show; the other direction is the test."
                        if c.more_capable is False
                        else None,
                    )
                )
        return out

    def numbers(self, section: CrossPrediction) -> list[Number]:
        out = []
        for t in section.targets:
            s = find_row(t.self_rows)
            out.append(Number(f"{t.label} predicting itself", "acc", s.acc if s else None))
            for c in t.cross:
                row = find_row(c.rows)
                out.append(
                    Number(f"{c.label} predicting {t.label.split(' + ')[0]}", "acc", row.acc if row else None)
                )
        return out


def capability(ctx: Context, ref: str) -> ModelCapability:
    """Parameters of `ref`'s weights and its object-level accuracy on the held-out multiple-choice tasks."""
    mc = [t for t in ctx.eval_tasks if t in MC_TASKS]
    k = n = 0
    if mc:
        df = ctx.readings.raw_objects(ref, mc)
        letter = P.get("identity")
        for raw, target, comp in zip(
            df.get("raw", []), df.get("target", []), df.get("compliance", []), strict=True
        ):
            if not isinstance(target, str):
                continue
            n += 1
            ok = comp is None or (isinstance(comp, float))
            value = letter.extract(P.clean(raw)) if ok else None
            k += int(isinstance(value, str) and value.strip().upper() == target.strip().upper())
    return ModelCapability(
        model=ref,
        label=ctx.label(ref),
        parameters=ctx.models.parameters(ref),
        mc_accuracy=k / n if n else None,
        mc_n=n or None,
        mc_tasks=[T.get(t).name for t in mc],
    )


def more_capable(a: ModelCapability, b: ModelCapability) -> bool | None:
    """Whether `a` is more capable than `b`: by parameter count where both are known and differ by more than
    10%, else by multiple-choice accuracy where both are known; None when neither tells."""
    if (
        a.parameters
        and b.parameters
        and abs(a.parameters - b.parameters) > 0.1 * max(a.parameters, b.parameters)
    ):
        return a.parameters > b.parameters
    if a.mc_accuracy is not None and b.mc_accuracy is not None and a.mc_accuracy != b.mc_accuracy:
        return a.mc_accuracy > b.mc_accuracy
    return None
