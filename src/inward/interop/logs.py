"""inspect `.eval` logs to and from the store.

    export_log(store, "local/smollm2-135m", "/tmp/smollm.eval")        # hypothetical samples, scored
    export_log(store, "local/smollm2-135m", "/tmp/obj.eval", level="object")
    import_log(store, "/tmp/logs/2026-...-self-prediction.eval")       # its object-level answers as behaviour

An exported hypothetical log looks like a run of `inward/self_prediction`: one sample per stored hypothetical
answer (task, item, property) with the hypothetical conversation as its transcript, the object-level answer of
the model it is about in the metadata, the score `prediction` (inward's verdict) and the task's metrics, so
`inspect view` shows it like any run. An object-level log has one sample per stored object row (epoch =
sample + 1) with the object-level conversation and a `compliance` score.

`import_log` reads the object-level answers of a log made by `inward/self_prediction` (metadata
`object_raw`) or of an object-level log (the sample's output), checks that each sample's prompt is inward's
wording for its item, and stores them as behaviour rows exactly as `inward object` would (property values and
compliance derived by inward's rules) under a run of kind "inspect-import".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from inward import properties as P
from inward import tasks as T
from inward.errors import UserError
from inward.interop._require import require_inspect
from inward.prompts import DEFAULT, PromptTemplate
from inward.runs._models import ModelLike, resolve_model

Level = Literal["auto", "object", "hypothetical"]
COMPLIANCE = "compliance"  # the score of an object-level sample


@dataclass
class Exported:
    path: Path
    level: Literal["object", "hypothetical"]
    samples: int


@dataclass
class Imported:
    model: str  # the inward ref the rows are stored under
    new_rows: int
    existing_rows: int
    run_id: str


def inspect_model_name(label: str) -> str:
    """The inspect model name of an inward ref: inspect/P/M → P/M, any other ref → inward/<ref>."""
    return label.removeprefix("inspect/") if label.startswith("inspect/") else f"inward/{label}"


def inward_ref(model: str) -> str:
    """The inward ref of an inspect model name: inward/<ref> → <ref>, P/M → inspect/P/M."""
    return model.removeprefix("inward/") if model.startswith("inward/") else f"inspect/{model}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _item(row: Any) -> T.Item:
    target = row["target"] if isinstance(row["target"], str) else None
    return T.Item(row["task"], row["split"], row["item_text"], target, row["item_id"])


def _object_frame(
    store: Any, ident: Any, tasks: Sequence[str] | None, split: str, template: PromptTemplate, cfg: Any
) -> pd.DataFrame:
    """Stored object rows (every sample) of `ident` under `cfg` and `template`, rederived by today's rules."""
    from inward.runs.object_level import rederive

    names = list(tasks) if tasks else sorted(set(store.object_rows(model_id=ident.key, split=split)["task"]))
    frames = []
    for name in names:
        t = T.get(name)
        df = store.object_rows(
            model_id=ident.key, task=t.name, split=split, template_hash=template.hash(t), config_key=cfg.key()
        )
        if len(df):
            frames.append(rederive(df, t))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _message(role: str, text: str) -> Any:
    from inward.interop.backend import to_chat_messages

    return to_chat_messages([{"role": role, "content": text}])[0]


def _object_samples(obj: pd.DataFrame, label: str, template: PromptTemplate, cfg: Any) -> list[Any]:
    from inspect_ai.log import EvalSample
    from inspect_ai.model import ModelOutput
    from inspect_ai.scorer import CORRECT, INCORRECT, Score

    from inward.interop.backend import to_chat_messages

    samples = []
    for row in obj.to_dict(orient="records"):
        t, item = T.get(row["task"]), _item(row)
        prompt = to_chat_messages(template.object_messages(t, item))
        compliance = row["compliance"] if isinstance(row["compliance"], str) else None
        samples.append(
            EvalSample(
                id=f"{t.name}/{item.id}",
                epoch=int(row["sample"]) + 1,
                input=prompt,
                target=item.target or "",
                messages=[*prompt, _message("assistant", row["raw"])],
                output=ModelOutput.from_content(model=inspect_model_name(label), content=row["raw"]),
                scores={
                    COMPLIANCE: Score(
                        value=INCORRECT if compliance else CORRECT,
                        explanation=f"non-compliant: {compliance}" if compliance else "compliant",
                    )
                },
                metadata={
                    "task": t.name,
                    "item_id": item.id,
                    "split": item.split,
                    "item_text": item.text,
                    "item_target": item.target,
                    "template": template.name,
                    "object_template_hash": template.hash(t),
                    "object_config": cfg.name,
                    "object_model": inspect_model_name(label),
                    "object_raw": row["raw"],
                    "object_compliance": compliance,
                    "object_finish_reason": row["finish_reason"],
                    "properties": dict(row["properties"]),
                },
            )
        )
    return samples


def _hypothetical_samples(
    obj: pd.DataFrame, answers: pd.DataFrame, about: str, label: str, template: PromptTemplate
) -> list[Any]:
    from inspect_ai.log import EvalSample
    from inspect_ai.model import ModelOutput

    from inward.interop.backend import to_chat_messages
    from inward.interop.task import SCORER, sample_score

    objects = {(r["task"], r["item_id"]): r for r in obj[obj["sample"] == 0].to_dict(orient="records")}
    samples = []
    for m in answers.to_dict(orient="records"):
        o = objects.get((m["task"], m["item_id"]))
        if o is None:  # a hypothetical about behaviour that is not (or no longer) stored: nothing to score
            continue
        t, item, prop = T.get(m["task"]), _item(o), m["property"]
        hyp = to_chat_messages(template.hypothetical_messages(t, item, prop))
        md = {
            "task": t.name,
            "item_id": item.id,
            "split": item.split,
            "item_text": item.text,
            "item_target": item.target,
            "property": prop,
            "group": _group(prop),
            "template": template.name,
            "object_template_hash": template.hash(t),
            "hypothetical_template_hash": m["template_hash"],
            "object_model": inspect_model_name(about),
            "object_prompt": template.object_messages(t, item)[-1]["content"],
            "object_raw": o["raw"],
            "object_compliance": o["compliance"] if isinstance(o["compliance"], str) else None,
            "object_value": o["properties"].get(prop),
            "object_finish_reason": o["finish_reason"],
            "hypothetical_model": inspect_model_name(label),
            "hypothetical_raw": m["raw"],
            "hypothetical_answer": m["answer"] if isinstance(m["answer"], str) else None,
            "hypothetical_compliance": m["compliance"] if isinstance(m["compliance"], str) else None,
        }
        samples.append(
            EvalSample(
                id=f"{t.name}/{item.id}/{prop}",
                epoch=1,
                input=hyp,
                target=md["object_value"] or "",
                messages=[*hyp, _message("assistant", m["raw"])],
                output=ModelOutput.from_content(model=inspect_model_name(label), content=m["raw"]),
                scores={SCORER: sample_score(md)},
                metadata=md,
            )
        )
    return samples


def _group(prop: str) -> str:
    from inward.metrics import reporting_group

    return reporting_group(prop)


def _results(samples: Sequence[Any], level: str) -> Any:
    """The log's results: the same metrics an inspect run of the task computes, on the same scores."""
    from inspect_ai.log import EvalMetric, EvalResults, EvalScore
    from inspect_ai.scorer import CORRECT, SampleScore

    if level == "object":
        ok = sum(s.scores[COMPLIANCE].value == CORRECT for s in samples)
        metrics = {"compliance": EvalMetric(name="compliance", value=ok / len(samples) if samples else 0.0)}
        return EvalResults(
            total_samples=len(samples),
            completed_samples=len(samples),
            scores=[
                EvalScore(name=COMPLIANCE, scorer=COMPLIANCE, scored_samples=len(samples), metrics=metrics)
            ],
        )
    from inward.interop.task import SCORER, summary

    scores = [
        SampleScore(score=s.scores[SCORER], sample_id=s.id, sample_metadata=s.metadata) for s in samples
    ]
    values = summary(scores)
    n_scored = int(values["scored"])
    return EvalResults(
        total_samples=len(samples),
        completed_samples=len(samples),
        scores=[
            EvalScore(
                name=SCORER,
                scorer=SCORER,
                scored_samples=n_scored,
                unscored_samples=len(samples) - n_scored,
                metrics={k: EvalMetric(name=k, value=v) for k, v in values.items()},
            )
        ],
    )


def export_log(
    store: Any,
    model: ModelLike,
    path: str | Path,
    *,
    about: ModelLike | None = None,
    tasks: Sequence[str] | None = None,
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    object_config: Any = None,
    level: Level = "auto",
) -> Exported:
    """Write the stored rows of `model` as an inspect `.eval` log at `path`. `level="hypothetical"`: its
    hypothetical answers about `about` (default itself), scored; "object": its object-level rows; "auto":
    hypothetical when it has any under `template`, else object. Raises UserError when there is nothing."""
    require_inspect()
    from inspect_ai.log import (
        EvalConfig,
        EvalDataset,
        EvalLog,
        EvalPlan,
        EvalPlanStep,
        EvalSpec,
        EvalStats,
        write_eval_log,
    )
    from inspect_ai.model import ModelConfig

    from inward import __version__
    from inward.runs.configs import object_config_for
    from inward.runs.score import load_hypotheticals

    hypothetical_id = resolve_model(store, model)
    about_id = hypothetical_id if about is None else resolve_model(store, about)
    cfg = object_config_for(about_id.label, object_config)
    obj = _object_frame(store, about_id, tasks, split, template, cfg)
    hyp = pd.DataFrame()
    if level != "object":
        names = (
            list(tasks)
            if tasks
            else sorted(set(store.hypothetical_rows(model_id=hypothetical_id.key, split=split)["task"]))
        )
        hyp = load_hypotheticals(
            store, hypothetical_id, tasks=names, properties=properties, split=split, template=template
        )
    kind: Literal["object", "hypothetical"] = (
        "hypothetical" if level == "hypothetical" or len(hyp) else "object"
    )
    if kind == "hypothetical":
        samples = (
            _hypothetical_samples(obj, hyp, about_id.label, hypothetical_id.label, template)
            if len(obj)
            else []
        )
        what = f"hypothetical answers of {hypothetical_id.label} about {about_id.label}'s stored behaviour"
    else:
        if about is not None and about_id != hypothetical_id:
            raise UserError(
                "--about applies to hypothetical logs; an object-level log is one model's behaviour"
            )
        samples = _object_samples(obj, hypothetical_id.label, template, cfg) if len(obj) else []
        what = f"object-level rows of {hypothetical_id.label} (object config {cfg.name})"
    if not samples:
        raise UserError(
            f"no stored {what} ({split}, template {template.name}); run `inward object`/`inward hypothetical` first"
        )
    cross = kind == "hypothetical" and about_id.key != hypothetical_id.key
    task_names = sorted({s.metadata["task"] for s in samples})
    created = _now()
    digest = _digest(hypothetical_id.key, about_id.key, kind, [s.id for s in samples], created)
    spec = EvalSpec(
        eval_id=digest,
        run_id=digest,
        task_id=_digest(kind, task_names, split, template.name),
        created=created,
        task="inward/self_prediction" if kind == "hypothetical" else "inward/object_level",
        task_args={"tasks": ",".join(task_names), "split": split, "template": template.name}
        | ({"properties": ",".join(properties)} if properties else {}),
        dataset=EvalDataset(
            name="inward:" + ",".join(task_names), samples=len(samples), sample_ids=[s.id for s in samples]
        ),
        model=inspect_model_name(hypothetical_id.label),
        model_roles={"object": ModelConfig(model=inspect_model_name(about_id.label))} if cross else None,
        config=EvalConfig(),
        packages={"inward": __version__},
        metadata={
            "inward_export": {
                "level": kind,
                "model": hypothetical_id.label,
                "model_id": hypothetical_id.key,
                "about": about_id.label,
                "about_id": about_id.key,
                "object_config": cfg.name,
                "template": template.name,
            }
        },
    )
    log = EvalLog(
        status="success",
        eval=spec,
        plan=EvalPlan(
            name="inward",
            steps=[
                EvalPlanStep(solver="inward/two_stage" if kind == "hypothetical" else "inward/object_level")
            ],
        ),
        results=_results(samples, kind),
        stats=EvalStats(started_at=created, completed_at=created),
        samples=samples,
    )
    out = Path(path).expanduser()
    if out.suffix != ".eval":
        raise UserError(f"{out}: an inspect log path must end in .eval")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(out), format="eval")
    return Exported(path=out, level=kind, samples=len(samples))


def _digest(*parts: Any) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:22]


def _read(path: str | Path) -> Any:
    from inspect_ai.log import read_eval_log

    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"no inspect log at {p}; pass the path of an .eval or .json log file")
    try:
        return read_eval_log(str(p))
    except Exception as e:  # a truncated zip, a file that is not a log: inspect's reader says which
        raise UserError(f"{p} is not a readable inspect log ({type(e).__name__}: {str(e)[:120]})") from None


def _log_model(log: Any) -> str:
    roles = log.eval.model_roles or {}
    obj = roles.get("object")
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    return inward_ref(obj.model if obj is not None else log.eval.model)


def import_log(
    store: Any,
    path: str | Path,
    *,
    model: str | None = None,
    template: PromptTemplate = DEFAULT,
    object_config: Any = None,
) -> Imported:
    """Store the object-level answers of the inspect log at `path` as behaviour rows of `model` (default: the
    log's object model, i.e. its role "object" or its model, as an inward ref). Idempotent: rows already
    stored are kept. Raises UserError for a log without inward samples or whose prompts are not `template`'s."""
    require_inspect()
    from inward.properties.compliance import check_object
    from inward.runs.configs import object_config_for
    from inward.store import ObjectRow

    log = _read(path)
    ref = model or _log_model(log)
    ident = resolve_model(store, ref)
    cfg = object_config_for(ident.label, object_config)
    if cfg.samples != 1 or cfg.mode_of != 1:
        raise UserError(
            f"an inspect log holds one greedy answer per prompt; object config {cfg.name} is not that"
        )
    rows: dict[tuple[str, str, int], ObjectRow] = {}
    for s in log.samples or []:
        if s.error is not None:
            continue  # a failed sample has no answer
        md = s.metadata or {}
        if "task" not in md or "item_id" not in md:
            raise UserError(
                f"{path}: sample {s.id} has no inward task/item_id metadata; import logs made by "
                "`inspect eval inward/self_prediction` or `inward inspect export-log`"
            )
        t = T.get(md["task"])
        split = md.get("split", "val")
        items = {it.id: it for it in t.items(split)}
        item = items.get(md["item_id"]) or T.Item(
            t.name, split, md["item_text"], md.get("item_target"), md["item_id"]
        )
        prompt = md.get("object_prompt") or _last_user(s.input)
        if prompt != template.object_messages(t, item)[-1]["content"]:
            raise UserError(
                f"{path}: sample {s.id}'s object-level prompt is not template {template.name}'s wording for "
                f"{t.name} item {item.id}; only answers to inward's own prompts can be stored as its behaviour"
            )
        raw = md.get("object_raw", s.output.completion)
        key = (t.name, item.id, s.epoch - 1)
        if key in rows:
            if rows[key].raw != raw:
                raise UserError(f"{path}: item {item.id} of {t.name} has two different object-level answers")
            continue
        cleaned = P.clean(raw)
        rows[key] = ObjectRow(
            model=ident.label,
            model_id=ident.key,
            task=t.name,
            item_id=item.id,
            template_hash=template.hash(t),
            config_key=cfg.key(),
            sample=s.epoch - 1,
            split=split,
            item_text=item.text,
            target=item.target,
            raw=raw,
            cleaned=cleaned,
            compliance=check_object(raw, t.compliance),
            properties={p: P.get(p).extract(cleaned, target=item.target) for p in t.properties},
            finish_reason=md.get("object_finish_reason")
            or (None if "object_raw" in md else _finish(s.output)),
            run_id=None,
        )
    if not rows:
        raise UserError(f"{path}: no samples with an object-level answer to import")
    run_id = f"inspect-import-{log.eval.eval_id or log.eval.task_id or Path(path).stem}"
    store.start_run(
        run_id,
        kind="inspect-import",
        name=Path(path).name,
        config={
            "log": str(Path(path).expanduser().resolve()),
            "model": ident.label,
            "object_config": cfg.name,
        },
    )
    store.put_object_config(cfg.key(), cfg.name, cfg.as_dict())
    from dataclasses import replace

    new = store.put_object_rows([replace(r, run_id=run_id) for r in rows.values()])
    store.finish_run(run_id)
    return Imported(model=ident.label, new_rows=new, existing_rows=len(rows) - new, run_id=run_id)


def _last_user(input: Any) -> str | None:
    if isinstance(input, str):
        return input
    users = [m.text for m in input if m.role == "user"]
    return users[-1] if users else None


def _finish(output: Any) -> str:
    stop = output.choices[0].stop_reason if output is not None and output.choices else None
    return "length" if stop in ("max_tokens", "model_length") else "stop"


__all__ = ["Exported", "Imported", "export_log", "import_log", "inspect_model_name", "inward_ref"]
