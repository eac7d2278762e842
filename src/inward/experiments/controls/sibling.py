"""The sibling cross-predictor: the target's own *base* model fine-tuned on the self-trained target's behaviour
(the same cross set any cross-predictor gets). Same architecture, same pre-training, same capacity: it differs
from the target only in not *being* the model whose behaviour it predicts, so it is the cleanest test of
privileged access that runs offline. With `controls.seed_sibling`, a second sibling trained with another training
seed shows how much of a gap two runs of the same recipe differ by."""

from __future__ import annotations

from inward.experiments.base import register
from inward.experiments.context import Context
from inward.experiments.controls._base import Control, scored_predictor, self_target
from inward.experiments.readings import train_stats
from inward.report.results import ControlSection

SEED_OFFSET = 1000  # the seed sibling's training seed is this far from the run's


@register
class SiblingControl(Control):
    name = "sibling"
    title = "Sibling cross-predictor"
    question = (
        "Does a model with the target's own architecture and pre-training, trained on the target's behaviour, "
        "predict the target as well as the target predicts itself?"
    )

    def steps(self, ctx: Context) -> tuple[str, str, list[tuple[str, str]]]:
        role, tt = self_target(ctx)
        sibs = [("sibling", ctx.cross_trained(role, role))]
        if ctx.cfg.controls.seed_sibling:
            sibs.append(("seed sibling", ctx.cross_trained(role, role, seed_offset=SEED_OFFSET)))
        for _, sib in sibs:
            ctx.evaluate(tt, sib)
        return role, tt, sibs

    def analyse(self, ctx: Context, done: tuple[str, str, list[tuple[str, str]]]) -> ControlSection:
        role, tt, sibs = done
        r = ctx.readings
        self_sc = r.scored(tt, tt)
        preds = []
        for name, sib in sibs:
            label = f"{role}-sibling" + ("" if name == "sibling" else f"-seed{ctx.seed + SEED_OFFSET}")
            stats = train_stats(ctx.trained.get(label))
            preds.append(
                scored_predictor(
                    ctx,
                    tt,
                    self_sc,
                    r.scored(tt, sib),
                    name=name,
                    predictor=f"its {name} ({ctx.label(sib)})",
                    model=sib,
                    details={
                        "base": ctx.cfg.model(role),
                        "training_seed": ctx.seed + (0 if name == "sibling" else SEED_OFFSET),
                        "train_examples": stats.examples if stats else None,
                    },
                )
            )
        return self.section(
            ctx,
            tt,
            self_rows=r.accuracy(self_sc, tt),
            predictors=preds,
            notes=[
                "The sibling starts from the target's base weights and sees the same pairs the cross-predictor "
                "sees: the target's behaviour after self-training. A self advantage over it is the strongest "
                "offline evidence of privileged access this tool can give; over the seed sibling as well, it is "
                "not an accident of one training run.",
            ],
        )
