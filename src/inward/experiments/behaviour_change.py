"""Behaviour change (SPEC §12–13, Fig. 8, Fig. 24): after shifting M1's behaviour by fine-tuning it on another
model's answers, does it predict its new behaviour or its old one? On the prompts whose value changed, with and
without entropy matching; also how the shift moved each task's answers (collateral / collapse check)."""

from __future__ import annotations

from collections.abc import Sequence

from inward import metrics as M
from inward import tasks as T
from inward.experiments.base import Claim, Experiment, Number, register
from inward.experiments.context import Context
from inward.experiments.readings import train_stats
from inward.report import build as B
from inward.report.results import AnswerRow, BehaviourChange, ChangeRow, find_row


@register
class BehaviourChangeExperiment(Experiment):
    name = "behaviour_change"
    title = "Behaviour change"
    extra = False
    after = ("calibration",)

    def unrelated(self, ctx: Context) -> list[str]:
        wanted = ctx.train_tasks if ctx.cfg.collateral_tasks is None else ctx.cfg.collateral_tasks
        return [t for t in wanted if t not in ctx.eval_tasks]

    def steps(self, ctx: Context) -> tuple[str, str, str, list[str]]:
        m1t, mc, source = ctx.shifted()
        ctx.evaluate(m1t, m1t)
        ctx.evaluate(mc, mc, changed_from=m1t)
        unrelated = self.unrelated(ctx)
        # Collateral check: the same models' answers on tasks the shift never saw (object level only).
        for model in (m1t, mc) if unrelated else ():
            ctx.answer(model, unrelated, ctx.cfg.sizes.eval_items_per_task)
        return m1t, mc, source, unrelated

    def analyse(self, ctx: Context, done: tuple[str, str, str, list[str]]) -> BehaviourChange:
        m1t, mc, source, unrelated = done
        r = ctx.readings
        old, new = r.objects(m1t, mc)
        hyp = r.hypothetical(mc)
        # Object rows carry every property of a task; count only the configured ones.
        changed = M.changed_fractions(old, new, properties=ctx.property_names)
        res = M.behaviour_change(old, new, hyp, rules=ctx.rules)
        adj = M.behaviour_change(old, new, hyp, adjust_entropy=True, rules=ctx.rules)
        sz = ctx.cfg.sizes
        return BehaviourChange(
            old_model=ctx.label(m1t),
            new_model=ctx.label(mc),
            new_ref=mc,
            shift_data=f"{sz.shift_rows} object-level answers of {ctx.label(source)} on train prompts of the "
            f"held-out tasks (+{sz.shift_self_distill:.0%} self-distilled rows)",
            n_shifted=int(changed["n_changed"].iloc[-1]),  # the average row: configured properties only
            rows=B.change_rows(res.summary, changed=changed),
            entropy_matched=B.change_rows(adj.summary, changed=changed),
            train=train_stats(ctx.trained.get("m1-shifted")),
            answers=answer_rows(ctx, m1t, mc, shifted=ctx.eval_tasks, unrelated=unrelated),
        )

    def claims(self, section: BehaviourChange) -> list[Claim]:
        out = []
        for key, rows, what, paper in (
            ("behaviour_change", section.rows, "", "behaviour_change"),
            (
                "behaviour_change_entropy",
                section.entropy_matched,
                ", entropy-matched",
                "behaviour_change_entropy",
            ),
        ):
            row = find_row(rows)
            if row is None:
                continue
            out.append(_claim(key, row, section, what, paper))
        return out

    def numbers(self, section: BehaviourChange) -> list[Number]:
        row = find_row(section.rows)
        return [
            Number("MC predicting its old behaviour (shifted prompts)", "acc", row.acc_old if row else None),
            Number("MC predicting its new behaviour (shifted prompts)", "acc", row.acc_new if row else None),
        ]


def _claim(key: str, row: ChangeRow, section: BehaviourChange, what: str, paper: str) -> Claim:
    return Claim(
        key=key,
        claim=f"After a behaviour shift, predictions follow the new behaviour{what}",
        comparison=f"{section.new_model}: accuracy against its new vs its old behaviour, shifted prompts{what}",
        unit="pp",
        effect=row.diff,
        ci_low=row.diff_cluster_low,
        ci_high=row.diff_cluster_high,
        p=row.p_cluster,
        n=row.n,
        n_clusters=row.n_clusters,
        paper=paper,
    )


def answer_rows(
    ctx: Context, old_model: str, new_model: str, *, shifted: Sequence[str], unrelated: Sequence[str]
) -> list[AnswerRow]:
    """`M.answer_drift` of the shifted tasks, then the unrelated ones."""
    tasks = [*shifted, *unrelated]
    old, new = ctx.readings.objects(old_model, new_model, tasks=tasks)
    drift = M.answer_drift(old, new, {t: M.answer_property(T.get(t).properties) for t in tasks})
    return [
        AnswerRow.model_validate({**r, "shifted": r["task"] in shifted}) for r in drift.to_dict("records")
    ]
