"""The in-context third party: an untrained model that sees k of the target's own (hypothetical → property)
pairs in its prompt before each hypothetical about the target.

    experiments: [self_training, cross_prediction, in_context]
    controls: {in_context_k: [0, 4], in_context_predictors: [m2], context_items: 12}

The introspection definition lets the other model use the target's data in context as well as by fine-tuning
(SPEC §1). Per held-out task and property, the shots are the self-trained target's compliant behaviour on
`controls.context_items` train-split items of that task (`Context.context_items`, this seed's draw; never a val
item): the first k items with a defined value, each shown as a user turn (its hypothetical in the experiment's
wording) answered by an assistant turn (the target's property value). The same k shots precede every val
hypothetical of that task and property. k = 0 is the untrained predictor asked plainly. Each (predictor, k) is
scored against the target's val behaviour on the prompts the target predicted itself on, with a claim per
predictor; `details["accuracy_by_k"]` is the curve.
"""

from __future__ import annotations

from typing import Any

from inward import properties as P
from inward import tasks as T
from inward.experiments.base import register
from inward.experiments.context import Context
from inward.experiments.controls._base import Control, scored_predictor, self_target
from inward.prompts import InContextTemplate, with_shots
from inward.report.results import ControlSection, find_row

Behaviour = dict[tuple[str, str], dict[str, Any]]


def pick_shots(ctx: Context, behaviour: Behaviour, k: int) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(task, property) -> up to k (train item id, value) of `behaviour`, in `context_items` order, for every
    held-out task and configured property (those with a defined value only)."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if k <= 0:
        return out
    for name in ctx.eval_tasks:
        task = T.get(name)
        props = [
            p
            for p in task.properties
            if (p in ctx.property_names if ctx.property_names else not P.get(p).training_only)
        ]
        items = ctx.context_items(name)
        for prop in props:
            shots = []
            for it in items:
                value = behaviour.get((task.name, it.id), {}).get(prop)
                if value is not None:
                    shots.append((it.id, str(value)))
                if len(shots) == k:
                    break
            out[(task.name, prop)] = shots
    return out


def shot_template(ctx: Context, behaviour: Behaviour, k: int) -> InContextTemplate:
    """The experiment's wording with `pick_shots` of `behaviour` before every hypothetical."""
    return with_shots(ctx.template, pick_shots(ctx, behaviour, k), k=k)


@register
class InContextControl(Control):
    name = "in_context"
    title = "In-context third party"
    question = (
        "Does an untrained model that sees k of the target's own (hypothetical → property) pairs of the same task "
        "and property in its prompt predict the target as well as the target predicts itself?"
    )

    def steps(self, ctx: Context) -> dict[str, Any]:
        role, tt = self_target(ctx)
        behaviour = ctx.train_behaviour(tt)  # {} in a plan: the shots' content does not change its cost
        templates = {
            k: shot_template(ctx, behaviour, k) for k in dict.fromkeys(ctx.cfg.controls.in_context_k)
        }
        conditions = []
        for pred_role in dict.fromkeys(ctx.cfg.controls.in_context_predictors):
            pred = ctx.cfg.model(pred_role)
            for k, tpl in templates.items():
                ctx.evaluate(tt, pred, template=tpl)
                conditions.append((pred_role, pred, k))
        return {
            "role": role,
            "target": tt,
            "templates": templates,
            "conditions": conditions,
            "rows": len(behaviour),
        }

    def analyse(self, ctx: Context, done: dict[str, Any]) -> ControlSection:
        r = ctx.readings
        tt: str = done["target"]
        templates: dict[int, InContextTemplate] = done["templates"]
        self_sc = r.scored(tt, tt)
        predictors = []
        curve: dict[str, dict[str, float | None]] = {}
        for pred_role, pred, k in done["conditions"]:
            tpl = templates[k]
            counts = [len(v) for v in tpl.shots.values()]
            p = scored_predictor(
                ctx,
                tt,
                self_sc,
                r.scored(tt, pred, template=tpl),
                name=f"{pred_role.upper()} k={k}",
                predictor=f"{ctx.label(pred)} with {k} of the target's pairs in context"
                if k
                else f"{ctx.label(pred)}, untrained, no pairs in context",
                model=pred,
                details={
                    "k": k,
                    "role": pred_role,
                    "template": tpl.name,
                    "shots": sum(counts),
                    "pairs_with_shots": len(counts),
                    "fewest_shots": min(counts) if counts else 0,
                },
                note=None
                if not counts or min(counts) == k
                else f"Some (task, property) pairs had fewer than {k} usable train items: as few as {min(counts)}.",
            )
            predictors.append(p)
            avg = find_row(p.rows)
            curve.setdefault(pred_role.upper(), {})[str(k)] = None if avg is None else avg.acc
        return self.section(
            ctx,
            tt,
            self_rows=r.accuracy(self_sc, tt),
            predictors=predictors,
            details={
                "k": list(templates),
                "accuracy_by_k": curve,
                "context_items": ctx.cfg.controls.context_items,
                "train_rows": done["rows"],
            },
            notes=[
                f"Shots are the target's own compliant behaviour on up to {ctx.cfg.controls.context_items} "
                "train-split items of each held-out task (never a val item), the same k before every "
                "hypothetical of a task and property; each is a user turn (the hypothetical) answered by an "
                "assistant turn (the target's property value).",
                "k = 0 is the untrained predictor asked the plain hypothetical. A self-prediction advantage "
                "that shrinks as k grows is partly what the target's data, not the target, carries.",
            ],
        )
