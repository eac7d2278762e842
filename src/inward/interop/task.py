"""inward's two-stage self-prediction protocol as an inspect_ai task: `inward/self_prediction`.

    inspect eval inward/self_prediction --model openai/gpt-4o-mini -T tasks=animals_long,mmlu_non_cot -T limit=20
    inspect eval inward/self_prediction --model inward/local/smollm2-135m -T tasks=animals_long -T limit=3
    inspect eval inward/self_prediction --model B --model-role object=A      # cross: B predicts A's behaviour

One inspect sample per (task, item, property), as one hypothetical prompt of the paper. The solver asks the
object-level prompt (inward's template, `PromptTemplate.object_messages`) of the *object* model, extracts the
property from the cleaned answer with inward's property code and judges its compliance with the task's rules;
then, in a fresh conversation, it asks the hypothetical (`hypothetical_messages`) of the model under evaluation.
The object stage runs once per (object model, task, item) and is shared by that item's properties.

The cross form uses inspect's model roles: the role "object" names the model whose behaviour is predicted, and
the evaluated model (`--model`) answers the hypotheticals. Roles rather than a task argument because inspect then
builds, configures (`-M`/generate config per role) and records both models itself: the log's `model_roles`
and per-role usage say who answered which stage, and the sample ids and scores stay those of the self form.
Without the role the object model is the evaluated model (self-prediction).

Scoring is inward's (`inward.metrics.join_object_hypothetical` on the one row): an object answer that is non-compliant or
has no value for the property excludes the sample (its score is NOANSWER with `scored: false`, the hypothetical
is not asked, as `inward hypothetical` does); a non-compliant hypothetical answer is incorrect. The metrics
`accuracy` and `mode_baseline` are inward's micro averages over the scored samples (`inward score`'s
"average" row); `scored` counts them. Decoding is inward's: temperature 0, 48 object-level and 12 hypothetical
answer tokens, one sample (no mode-of-5 control).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pandas as pd
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig as InspectConfig
from inspect_ai.model import get_model
from inspect_ai.scorer import CORRECT, INCORRECT, NOANSWER, Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from inward import metrics as M
from inward import prompts
from inward import properties as P
from inward import tasks as T
from inward.errors import UserError
from inward.interop.backend import generation_of, to_chat_messages
from inward.properties.compliance import check_hypothetical, check_object
from inward.runs.configs import GREEDY
from inward.runs.hypothetical import HYPOTHETICAL_CONFIG

OBJECT_ROLE = "object"
SCORER = "prediction"  # the key of each sample's score in the log


def _names(value: str | Sequence[str] | None) -> list[str]:
    """A task argument given as "a,b" (or a list, as `-T x=a,b` may arrive) as a list of names."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [p.strip() for p in parts if p.strip()]


def task_properties(t: T.Task, wanted: Sequence[str] | None) -> list[str]:
    """The properties asked of `t`: the wanted ones (canonical names) it has, else all its reported ones."""
    if wanted:
        names = {P.get(p).name for p in wanted}
        return [p for p in t.properties if P.get(p).name in names]
    return [p for p in t.properties if not P.get(p).training_only]


def build_samples(
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    *,
    split: T.Split = "val",
    limit: int | None = None,
    template: prompts.PromptTemplate = prompts.DEFAULT,
) -> list[Sample]:
    """One sample per (task, item, property); the input is the hypothetical prompt, the metadata says which
    item it quotes and the template hashes of both prompts."""
    if split not in ("train", "val"):
        raise UserError(f"split must be train or val, not {split!r}")
    samples = []
    asked: set[str] = set()
    for name in tasks:
        t = T.get(name)
        props = task_properties(t, properties)
        asked.update(props)
        for it in t.items(split)[:limit]:
            for p in props:
                samples.append(
                    Sample(
                        id=f"{t.name}/{it.id}/{p}",
                        input=to_chat_messages(template.hypothetical_messages(t, it, p)),
                        target="",  # the object model's property value, known only after the object stage
                        metadata={
                            "task": t.name,
                            "item_id": it.id,
                            "split": split,
                            "item_text": it.text,
                            "item_target": it.target,
                            "property": p,
                            "group": M.reporting_group(p),
                            "template": template.name,
                            "object_template_hash": template.hash(t),
                            "hypothetical_template_hash": template.hash(t, p),
                        },
                    )
                )
    if properties and not asked:
        raise UserError(
            f"none of the properties {', '.join(properties)} applies to {', '.join(tasks)}; "
            "see `inward tasks list` for each task's properties"
        )
    return samples


def _config(max_tokens: int, seed: int) -> InspectConfig:
    return InspectConfig(temperature=0.0, max_tokens=max_tokens, seed=seed)


@solver
def two_stage(template: str = prompts.DEFAULT.name, seed: int = 0) -> Solver:
    """Object-level prompt to the object model (role "object", else the evaluated model), property and
    compliance by inward's rules, then the hypothetical to the evaluated model in a fresh conversation."""
    tpl = prompts.get(template)
    # (event loop, object model, task, item) → its output; the loop keeps two evals of one task apart
    answers: dict[tuple[int, str, str, str], asyncio.Future[Any]] = {}

    async def object_answer(model: Any, t: T.Task, item: T.Item) -> Any:
        key = (id(asyncio.get_running_loop()), str(model), t.name, item.id)
        if key not in answers:  # asked once per item, shared by its properties' samples
            msgs = to_chat_messages(tpl.object_messages(t, item))
            answers[key] = asyncio.ensure_future(
                model.generate(msgs, config=_config(GREEDY.max_tokens, seed))
            )
        return await asyncio.shield(answers[key])

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        md = state.metadata
        t = T.get(md["task"])
        item = T.Item(t.name, md["split"], md["item_text"], md["item_target"], md["item_id"])
        prop = P.get(md["property"])
        object_model = get_model(role=OBJECT_ROLE)
        out = await object_answer(object_model, t, item)
        raw = out.completion
        value = prop.extract(P.clean(raw), target=item.target)
        md.update(
            object_model=str(object_model),
            object_prompt=tpl.object_messages(t, item)[-1]["content"],
            object_raw=raw,
            object_compliance=check_object(raw, t.compliance),
            object_value=value,
            object_finish_reason=generation_of(out).finish_reason,
        )
        if md["object_compliance"] is not None or value is None:
            # excluded, as `inward hypothetical` asks only compliant answers with a defined value: the transcript
            # shows the object-level conversation that excluded it
            state.messages = [*to_chat_messages(tpl.object_messages(t, item)), out.message]
            return state
        hypothetical_model = get_model()
        hyp = to_chat_messages(tpl.hypothetical_messages(t, item, prop.name))
        output = await hypothetical_model.generate(hyp, config=_config(HYPOTHETICAL_CONFIG.max_tokens, seed))
        state.messages = [*hyp, output.message]
        state.output = output
        md.update(
            hypothetical_model=str(hypothetical_model),
            hypothetical_raw=output.completion,
            hypothetical_answer=P.normalize_answer(output.completion),
            hypothetical_compliance=check_hypothetical(output.completion, prop),
        )
        return state

    return solve


def score_sample(md: dict[str, Any]) -> dict[str, Any]:
    """inward's verdict on one sample's metadata: `scored` (False: excluded) and, when scored, `correct`."""
    key = {"task": md["task"], "item_id": md["item_id"], "property": md["property"]}
    obj = pd.DataFrame([{**key, "value": md.get("object_value"), "compliance": md.get("object_compliance")}])
    hyp = pd.DataFrame(
        [{**key, "answer": md.get("hypothetical_answer"), "compliance": md.get("hypothetical_compliance")}]
        if "hypothetical_answer" in md
        else [],
        columns=[*key, "answer", "compliance"],
    )
    scored = M.join_object_hypothetical(obj, hyp)
    if scored.empty:
        return {"scored": False}
    row = scored.iloc[0]
    return {"scored": True, "correct": bool(row["correct"]), "group": row["group"]}


def _scored_frame(scores: Sequence[SampleScore]) -> pd.DataFrame:
    rows = [s.score.metadata for s in scores if s.score.metadata and s.score.metadata.get("scored")]
    cols = ["task", "item_id", "property", "group", "object_value", "hypothetical_answer", "correct"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def _average(table: pd.DataFrame) -> float:
    row = table[table["group"] == M.AVERAGE]
    return float(row["acc"].iloc[0]) if len(row) else float("nan")


def summary(scores: Sequence[SampleScore]) -> dict[str, float]:
    """The task's metrics from its sample scores: inward's micro-average accuracy and mode baseline over the
    scored samples (NaN when none), and how many were scored."""
    df = _scored_frame(scores)
    if not len(df):
        return {"accuracy": float("nan"), "mode_baseline": float("nan"), "scored": 0.0}
    return {
        "accuracy": _average(M.accuracy(df)),
        "mode_baseline": _average(M.mode_baseline(df)),
        "scored": float(len(df)),
    }


@metric
def accuracy() -> Metric:
    """inward's accuracy: the share of scored samples whose hypothetical answer matched (micro average)."""

    def compute(scores: list[SampleScore]) -> float:
        return summary(scores)["accuracy"]

    return compute


@metric
def mode_baseline() -> Metric:
    """The accuracy of always predicting the most common object-level value per (task, property)."""

    def compute(scores: list[SampleScore]) -> float:
        return summary(scores)["mode_baseline"]

    return compute


@metric
def scored() -> Metric:
    """How many samples were scored (the rest were excluded by their object-level answer)."""

    def compute(scores: list[SampleScore]) -> float:
        return summary(scores)["scored"]

    return compute


def sample_score(md: dict[str, Any]) -> Score:
    """The score of a sample from its metadata (used by the scorer and by `export_log`): CORRECT/INCORRECT
    when scored, NOANSWER when its object-level answer excluded it; the metadata carries the verdict."""
    verdict = score_sample(md)
    keep = ("task", "item_id", "property", "group", "object_value", "object_compliance")
    tags = {k: md.get(k) for k in (*keep, "hypothetical_answer", "hypothetical_compliance")} | verdict
    if not verdict["scored"]:
        why = md.get("object_compliance") or "no value"
        return Score(
            value=NOANSWER,
            explanation=f"excluded: the object-level answer is non-compliant or has no {md['property']} ({why})",
            metadata=tags,
        )
    noncompliant = (
        f" (non-compliant: {md['hypothetical_compliance']})" if md.get("hypothetical_compliance") else ""
    )
    return Score(
        value=CORRECT if verdict["correct"] else INCORRECT,
        answer=md.get("hypothetical_answer"),
        explanation=f"behaviour {md['property']}={md['object_value']!r}; predicted {md.get('hypothetical_answer')!r}"
        + noncompliant,
        metadata=tags,
    )


@scorer(metrics=[accuracy(), mode_baseline(), scored()], name=SCORER)
def prediction() -> Any:
    """Marks the hypothetical answer against the object model's property value, as `inward score` does."""

    async def score(state: TaskState, target: Target) -> Score:
        return sample_score(state.metadata)

    return score


@task
def self_prediction(
    tasks: str | list[str] | None = None,
    properties: str | list[str] | None = None,
    limit: int | None = None,
    split: str = "val",
    seed: int = 0,
    template: str = prompts.DEFAULT.name,
) -> Task:
    """inward's self-prediction (cross-prediction with `--model-role object=MODEL`).

    tasks: inward task names, comma-separated (default: the held-out tasks); properties: property names
    (default: every reported property of each task); limit: items per task; split: val or train; seed: the
    generation seed sent to the provider; template: inward prompt template family."""
    names = _names(tasks) or list(T.HELD_OUT_TASKS)
    tpl = prompts.get(template)
    samples = build_samples(
        [T.get(n).name for n in names],
        _names(properties) or None,
        split=split,  # type: ignore[arg-type]
        limit=limit,
        template=tpl,
    )
    return Task(
        dataset=MemoryDataset(samples, name="inward:" + ",".join(names)),
        solver=two_stage(template=tpl.name, seed=seed),
        scorer=prediction(),
        metadata={"inward_template": tpl.name, "tasks": names},
    )


__all__ = [
    "OBJECT_ROLE",
    "SCORER",
    "accuracy",
    "build_samples",
    "mode_baseline",
    "prediction",
    "sample_score",
    "score_sample",
    "scored",
    "self_prediction",
    "summary",
    "two_stage",
]
