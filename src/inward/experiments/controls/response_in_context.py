"""Response in context: the hypothetical with the object-level answer shown, so that reading the property off
the answer is all that is left to do (the paper's baseline of SPEC §14, in our wording).

    experiments: [self_training, cross_prediction, response_in_context]

Every val hypothetical the self-trained target predicted itself on is asked again with the target's own answer
to that prompt quoted under it (`inward.prompts.with_responses`; the question keeps its wording, so the shown
answer is the only change). The answer is shown cleaned (lower case, no punctuation: `inward.properties.clean`),
the exact text whose property is scored, so a wrong reply is an extraction error and nothing else. Asked: the
target's untrained base, the untrained model of every cross pair whose target is `controls.target`, and (with
`controls.response_trained`, default) the target's base fine-tuned on the cross set's pairs with the target's
own train-split answer shown in each: trained as the self-predictor is, as the paper's baseline was.

It is not a third party that could match self-prediction from equal evidence (it sees the answer itself), so
its predictors make no claim: their accuracy is an upper bound on property extraction by an untrained model of
that family, and 1 − it bounds how much of a predictor's error can be extraction rather than missing knowledge
of the behaviour. `details` gives, per predictor, the share of the target's self-prediction errors where the
extractor too was wrong on the same prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from inward import properties as P
from inward import tasks as T
from inward.experiments.base import register
from inward.experiments.context import Context
from inward.experiments.controls._base import Control, scored_predictor, self_target
from inward.prompts import ResponseTemplate, with_responses
from inward.report.results import ControlSection


def shown_answers(ctx: Context, model: str) -> dict[tuple[str, str], str]:
    """(task, item id) -> `model`'s cleaned answer, for its compliant val answers on the evaluated items."""
    if ctx.planning:
        return {}
    n = ctx.cfg.sizes.eval_items_per_task
    wanted = {(T.get(t).name, it.id) for t in ctx.eval_tasks for it in T.get(t).items("val")[:n]}
    return {k: v for k, v in _cleaned(ctx, model, ctx.eval_tasks, "val").items() if k in wanted}


def _cleaned(ctx: Context, model: str, tasks: list[str], split: str) -> dict[tuple[str, str], str]:
    """(task, item id) -> `model`'s cleaned compliant answer (the text whose properties are scored)."""
    df = ctx.readings.compliant(model, tasks, split)
    keys = zip(df.get("task", []), df.get("item_id", []), strict=True)
    return {k: P.clean(raw) for k, raw in zip(keys, df.get("raw", []), strict=True)}


def extractors(ctx: Context, role: str) -> list[tuple[str, str]]:
    """(name, untrained ref): the target's base, then the predictor of every cross pair on the target."""
    roles = [role, *(p for t, p in ctx.cfg.cross_pairs if t == role)]
    return [
        ("target base" if r == role else f"{r.upper()} untrained", ctx.cfg.model(r))
        for r in dict.fromkeys(roles)
    ]


def trained_extractor(ctx: Context, role: str, tt: str) -> str:
    """The target's base fine-tuned on the cross set's pairs with the target's own train-split answer shown in
    each hypothetical (SPEC §14's baseline, trained as the self-predictor is): same items, same labels, the
    answer in view. Returns its ModelRef."""
    from inward.experiments.context import file_digest
    from inward.training.datasets import read_dataset, write_dataset

    source = ctx.cross_data(role)
    data = ctx.data_dir() / f"{role}-response.jsonl"

    def fn() -> dict[str, Any]:
        rows, manifest = read_dataset(source)
        tasks = sorted({r["inward"]["task"] for r in rows})
        answers = _cleaned(ctx, tt, tasks, "train")
        tpl = with_responses(ctx.template, answers)
        items = {t: {it.id: it for it in T.get(t).items("train")} for t in tasks}
        out = []
        for r in rows:
            tags = r["inward"]
            task, item = T.get(tags["task"]), items[tags["task"]][tags["item_id"]]
            if (task.name, item.id) not in answers:
                continue
            msgs = tpl.hypothetical_messages(task, item, tags["property"])
            out.append(
                {
                    "messages": [*msgs, {"role": "assistant", "content": r["messages"][-1]["content"]}],
                    "inward": {**tags, "kind": "response"},
                }
            )
        write_dataset(
            out, data, {**manifest, "kind": "response", "shown_from": source.name, "template": tpl.name}
        )
        return {"path": str(data), "digest": file_digest(data)}

    ds = ctx.step(
        f"dataset response {role}",
        {"source": "" if ctx.planning else file_digest(source), "ids": ctx.identity_inputs(tt)},
        fn,
        kind="other",
        placeholder={"path": str(data)},
    )
    return ctx.train(
        f"{role}-response",
        ctx.cfg.model(role),
        Path(ds["path"]),
        ctx.training_plan(role),
        rows=ctx._pair_rows(),
    )


def missed_by_both(self_sc: pd.DataFrame, shown: pd.DataFrame) -> dict[str, Any]:
    """Of the self-predictions that were wrong (on prompts both tables hold), how many the extractor missed too."""
    key = ["task", "item_id", "property"]
    both = self_sc[[*key, "correct"]].merge(shown[[*key, "correct"]], on=key, suffixes=("_self", "_shown"))
    self_wrong = ~both["correct_self"].astype(bool)
    n, k = int(self_wrong.sum()), int((self_wrong & ~both["correct_shown"].astype(bool)).sum())
    return {"self_errors": n, "also_missed_by_extraction": k, "share": k / n if n else None}


@register
class ResponseInContext(Control):
    name = "response_in_context"
    title = "Response in context"
    makes_claims = False  # it sees the answer itself: a bound on extraction, not a third party
    question = (
        "Shown the target's own answer, how often does a model (untrained, or trained on such pairs) read the "
        "property off it? (How much of a predictor's error can be property extraction rather than missing "
        "self-knowledge.)"
    )

    def steps(self, ctx: Context) -> dict[str, Any]:
        role, tt = self_target(ctx)  # also stores the target's val answers that the prompts show
        tpl = with_responses(ctx.template, shown_answers(ctx, tt))
        preds = extractors(ctx, role)
        if ctx.cfg.controls.response_trained:
            preds.append(("target base, trained on shown answers", trained_extractor(ctx, role, tt)))
        for _, ref in preds:
            ctx.evaluate(tt, ref, template=tpl)
        return {"role": role, "target": tt, "template": tpl, "predictors": preds}

    def analyse(self, ctx: Context, done: dict[str, Any]) -> ControlSection:
        r = ctx.readings
        tt: str = done["target"]
        tpl: ResponseTemplate = done["template"]
        self_sc = r.scored(tt, tt)
        predictors = []
        overlap: dict[str, dict[str, Any]] = {}
        for name, ref in done["predictors"]:
            shown = r.scored(tt, ref, template=tpl)
            predictors.append(
                scored_predictor(
                    ctx,
                    tt,
                    self_sc,
                    shown,
                    name=name,
                    predictor=f"{ctx.label(ref)} shown the answer",
                    model=ref,
                    claim=False,
                    details={"template": tpl.name, "shown": sum(len(v) for v in tpl.responses.values())},
                )
            )
            overlap[name] = missed_by_both(self_sc, shown)
        return self.section(
            ctx,
            tt,
            self_rows=r.accuracy(self_sc, tt),
            predictors=predictors,
            details={"self_errors_extraction_missed": overlap, "template": tpl.name},
            notes=[
                "Not a third party and no claim: the prompt shows the target's own answer (cleaned: the exact text "
                "whose property is scored), so the predictor only has to read the property off it. Its accuracy "
                "bounds property extraction by a model of that family (untrained, or trained on such pairs as the "
                "self-predictor was on its own); 1 − it bounds how much of a hypothetical's error can be extraction "
                "rather than missing knowledge of the behaviour.",
                "self_errors_extraction_missed: of the target's wrong self-predictions, how many the extractor also "
                "got wrong with the answer in view (the part of the self error extraction alone could explain).",
            ],
        )
