"""Scoring: how well one model's hypothetical answers predict another's (or its own) behaviour.

    res = score(store, object_model="local/qwen2.5-0.5b", meta_model="local/qwen2.5-0.5b")
    res.table        # per reporting group + micro-average: n, acc, 95% CI (SEM and bootstrap), mode baseline
    res.to_dict()    # everything, for JSON

Self-prediction is object_model == meta_model; cross-prediction is meta_model ≠ object_model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inward import metrics as M
from inward import tasks as T
from inward.backends.base import GenerateConfig
from inward.errors import UserError
from inward.prompts import DEFAULT, PromptTemplate
from inward.runs.meta_level import META_CONFIG
from inward.runs.object_level import OBJECT_CONFIG


def load_object(
    store: Any,
    model: str,
    *,
    tasks: Sequence[str],
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    config: GenerateConfig = OBJECT_CONFIG,
) -> pd.DataFrame:
    """Stored greedy behaviour (sample 0) of `model`, wide format (one row per item, `properties` dict)."""
    frames = []
    for name in tasks:
        t = T.get(name)
        df = store.object_rows(
            model=model, task=t.name, split=split, template_hash=template.hash(t), config_key=config.key()
        )
        frames.append(df[df["sample"] == 0] if len(df) else df)
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_meta(
    store: Any,
    model: str,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    config: GenerateConfig = META_CONFIG,
) -> pd.DataFrame:
    """Stored greedy hypothetical answers (sample 0) of `model` under `template`."""
    df = store.meta_rows(model=model, split=split, config_key=config.key())
    if df.empty:
        return df
    df = df[(df["sample"] == 0) & df["task"].isin(list(tasks))]
    if properties:
        df = df[df["property"].isin(list(properties))]
    want = {(t, p): template.hash(T.get(t), p) for t, p in set(zip(df["task"], df["property"], strict=True))}
    keep = [
        want[(t, p)] == h for t, p, h in zip(df["task"], df["property"], df["template_hash"], strict=True)
    ]
    return df[keep].reset_index(drop=True)


def scored_table(
    store: Any,
    *,
    object_model: str,
    meta_model: str,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
) -> pd.DataFrame:
    obj = load_object(store, object_model, tasks=tasks, split=split, template=template)
    if obj.empty:
        raise UserError(f"no stored behaviour of {object_model}; run `inward object -m {object_model}` first")
    meta = load_meta(store, meta_model, tasks=tasks, properties=properties, split=split, template=template)
    if meta.empty:
        raise UserError(
            f"no stored hypothetical answers of {meta_model}; run `inward meta -m {meta_model} --about {object_model}` first"
        )
    scored = M.join_object_meta(obj[["task", "item_id", "properties", "compliance"]], meta)
    if properties:
        from inward import properties as P

        scored = scored[scored["property"].isin([P.get(p).name for p in properties])]
    return scored.reset_index(drop=True)


@dataclass
class ScoreResult:
    object_model: str
    meta_model: str
    scored: pd.DataFrame
    table: pd.DataFrame
    compliance: pd.DataFrame
    object_compliance: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "object_model": self.object_model,
            "meta_model": self.meta_model,
            "rows": len(self.scored),
            "accuracy": self.table.to_dict(orient="records"),
            "hypothetical_compliance": self.compliance.to_dict(orient="records"),
            "object_compliance": self.object_compliance.to_dict(orient="records"),
        }

    def print(self, console: Any) -> None:
        from rich.table import Table

        kind = "self-prediction" if self.object_model == self.meta_model else "cross-prediction"
        t = Table(title=f"{kind}: {self.meta_model} predicting {self.object_model}")
        for col in ("property", "n", "accuracy", "95% CI", "mode baseline", "compliant"):
            t.add_column(col, justify="left" if col == "property" else "right")
        comp = self.compliance.set_index("group")["rate"].to_dict() if len(self.compliance) else {}
        for r in self.table.to_dict(orient="records"):
            name = "average (micro)" if r["group"] == M.AVERAGE else r["group"]
            t.add_row(
                name,
                str(r["n"]),
                f"{100 * r['acc']:.1f}%",
                f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f}",
                f"{100 * r['baseline']:.1f}%",
                f"{100 * comp.get(r['group'], float('nan')):.1f}%",
            )
        console.print(t)
        if len(self.object_compliance):
            fired = {
                k: v
                for k, v in self.object_compliance.iloc[-1].to_dict().items()
                if k not in ("group", "n", "n_compliant", "rate") and v
            }
            console.print(
                f"object-level compliance {100 * self.object_compliance.iloc[-1]['rate']:.1f}%; excluded by rule: {fired or 'none'}"
            )
        reasons = (
            {
                k: v
                for k, v in self.compliance.iloc[-1].to_dict().items()
                if k not in ("group", "n", "n_compliant", "rate") and v
            }
            if len(self.compliance)
            else {}
        )
        console.print(f"non-compliant hypothetical answers by rule (counted as wrong): {reasons or 'none'}")


def score(
    store: Any,
    *,
    object_model: str,
    meta_model: str,
    tasks: Sequence[str] | None = None,
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
) -> ScoreResult:
    names = list(tasks or T.HELD_OUT_TASKS)
    scored = scored_table(
        store,
        object_model=object_model,
        meta_model=meta_model,
        tasks=names,
        properties=properties,
        split=split,
        template=template,
    )
    acc = M.accuracy(scored)
    base = M.mode_baseline(scored)
    table = acc.merge(base[["group", "acc"]].rename(columns={"acc": "baseline"}), on="group", how="left")
    obj = load_object(store, object_model, tasks=names, split=split, template=template)
    obj_comp = (
        M.compliance_rates(obj.assign(group="object"), by=None, column="compliance")
        if len(obj)
        else pd.DataFrame()
    )
    return ScoreResult(
        object_model=object_model,
        meta_model=meta_model,
        scored=scored,
        table=table,
        compliance=M.compliance_rates(scored),
        object_compliance=obj_comp,
    )
