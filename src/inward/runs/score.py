"""Scoring: how well one model's hypothetical answers predict another's (or its own) behaviour.

    res = score(store, object_model="local/qwen2.5-0.5b", hypothetical_model="local/qwen2.5-0.5b")
    res.table        # per reporting group + micro-average: n, acc, 95% CI (SEM and bootstrap), mode baseline
    res.to_dict()    # everything, for JSON

Self-prediction is object_model == hypothetical_model; cross-prediction is hypothetical_model ≠ object_model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inward import metrics as M
from inward import properties as P
from inward import tasks as T
from inward.backends.base import GenerateConfig
from inward.errors import UserError
from inward.prompts import DEFAULT, PromptTemplate
from inward.runs._models import ModelLike, resolve_model
from inward.runs.configs import ObjectConfig, object_config_for
from inward.runs.hypothetical import HYPOTHETICAL_CONFIG
from inward.runs.object_level import rederive


def canonical_properties(properties: Sequence[str] | None) -> list[str] | None:
    """Property names as stored (aliases such as `is_either_a_or_c` → their canonical name); None = all."""
    return [P.get(p).name for p in properties] if properties else None


def load_object(
    store: Any,
    model: ModelLike,
    *,
    tasks: Sequence[str],
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    config: ObjectConfig | str | None = None,
) -> pd.DataFrame:
    """Stored behaviour (sample 0) of `model` under object config `config` (None = "auto"), wide format (one
    row per item, `properties` dict)."""
    ident = resolve_model(store, model)
    cfg = object_config_for(ident.label, config)
    frames = []
    for name in tasks:
        t = T.get(name)
        df = store.object_rows(
            model_id=ident.key, task=t.name, split=split, template_hash=template.hash(t), config_key=cfg.key()
        )
        frames.append(rederive(df[df["sample"] == 0], t) if len(df) else df)
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compliant_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `load_object` table whose answer was compliant (no compliance rule fired: None / NaN)."""
    if not len(df):
        return df
    return df[[c is None or isinstance(c, float) for c in df["compliance"]]]


def load_hypotheticals(
    store: Any,
    model: ModelLike,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    config: GenerateConfig = HYPOTHETICAL_CONFIG,
) -> pd.DataFrame:
    """Stored greedy hypothetical answers (sample 0) of `model` under `template`; `properties` may be aliases."""
    ident = resolve_model(store, model)
    df = store.hypothetical_rows(model_id=ident.key, split=split, config_key=config.key())
    if df.empty:
        return df
    df = df[(df["sample"] == 0) & df["task"].isin([T.get(t).name for t in tasks])]
    names = canonical_properties(properties)
    if names:
        df = df[df["property"].isin(names)]
    want = {(t, p): template.hash(T.get(t), p) for t, p in set(zip(df["task"], df["property"], strict=True))}
    keep = [
        want[(t, p)] == h for t, p, h in zip(df["task"], df["property"], df["template_hash"], strict=True)
    ]
    return df[keep].reset_index(drop=True)


def scored_table(
    store: Any,
    *,
    object_model: ModelLike,
    hypothetical_model: ModelLike,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    object_config: ObjectConfig | str | None = None,
    rules: M.ScoringRules = M.DEFAULT_RULES,
    hypothetical_template: PromptTemplate | None = None,
) -> pd.DataFrame:
    """The scored table of `hypothetical_model`'s hypotheticals against `object_model`'s behaviour under
    `object_config` (None = "auto") and scoring `rules` (`inward.metrics.ScoringRules`; paper-code reproduces
    the official code's handling). `hypothetical_template`: the hypotheticals' wording when it is not `template`'s (a
    paraphrase, shots in context), the object level staying `template`'s. Raises UserError when either side has
    no stored rows."""
    obj_id, hypothetical_id = resolve_model(store, object_model), resolve_model(store, hypothetical_model)
    obj = _stored_object(
        store, obj_id, object_config_for(obj_id.label, object_config), tasks, split, template
    )
    return _scored(
        store,
        obj,
        obj_id,
        hypothetical_id,
        tasks,
        properties,
        split,
        hypothetical_template or template,
        rules,
    )


def _stored_object(
    store: Any, obj_id: Any, ocfg: ObjectConfig, tasks: Sequence[str], split: str, template: PromptTemplate
) -> pd.DataFrame:
    from inward.runs.hypothetical import no_rows_message

    obj = load_object(store, obj_id, tasks=tasks, split=split, template=template, config=ocfg)
    if obj.empty:
        raise UserError(no_rows_message(store, obj_id, tasks, split, ocfg))
    return obj


def _scored(
    store: Any,
    obj: pd.DataFrame,
    obj_id: Any,
    hypothetical_id: Any,
    tasks: Sequence[str],
    properties: Sequence[str] | None,
    split: str,
    template: PromptTemplate,
    rules: M.ScoringRules,
) -> pd.DataFrame:
    hyp = load_hypotheticals(
        store, hypothetical_id, tasks=tasks, properties=properties, split=split, template=template
    )
    if hyp.empty:
        raise UserError(
            f"no stored hypothetical answers of {hypothetical_id.label}; "
            f"run `inward hypothetical -m {hypothetical_id.label} --about {obj_id.label}` first"
        )
    scored = M.join_object_hypothetical(
        obj[["task", "item_id", "properties", "compliance"]], hyp, rules=rules
    )
    names = canonical_properties(properties)
    if names:
        scored = scored[scored["property"].isin(names)]
    return scored.reset_index(drop=True)


@dataclass
class ScoreResult:
    object_model: str  # labels (ref strings); the rows were read by each model's identity
    hypothetical_model: str
    scored: pd.DataFrame
    table: pd.DataFrame
    compliance: pd.DataFrame
    object_compliance: pd.DataFrame = field(default_factory=pd.DataFrame)
    provenance: dict[str, Any] = field(default_factory=dict)  # model identities, object config, scoring rules

    def to_dict(self) -> dict[str, Any]:
        return {
            "object_model": self.object_model,
            "hypothetical_model": self.hypothetical_model,
            "provenance": self.provenance,
            "rows": len(self.scored),
            "accuracy": self.table.to_dict(orient="records"),
            "hypothetical_compliance": self.compliance.to_dict(orient="records"),
            "object_compliance": self.object_compliance.to_dict(orient="records"),
        }

    def summary(self) -> str:
        """The micro-averaged accuracy with its intervals and the mode baseline, in one line per group."""
        kind = "self-prediction" if self.object_model == self.hypothetical_model else "cross-prediction"
        lines = [
            f"{kind}: {self.hypothetical_model} predicting {self.object_model} ({len(self.scored)} rows)"
        ]
        for r in self.table.to_dict(orient="records"):
            name = "average (micro)" if r["group"] == M.AVERAGE else r["group"]
            lines.append(
                f"  {name}: {100 * r['acc']:.1f}% (item-clustered 95% CI {100 * r['cluster_low']:.1f}–"
                f"{100 * r['cluster_high']:.1f}; n {r['n']}), mode baseline {100 * r['baseline']:.1f}%"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        head = html.escape(self.summary().splitlines()[0])
        return f"<p><b>{head}</b></p>" + self.table.to_html(index=False, escape=True)

    def print(self, console: Any) -> None:
        from rich.table import Table

        kind = "self-prediction" if self.object_model == self.hypothetical_model else "cross-prediction"
        t = Table(title=f"{kind}: {self.hypothetical_model} predicting {self.object_model}")
        cols = ("property", "n", "prompts", "accuracy", "±1.96·SEM (paper, rows)", "item-clustered 95% CI")
        for col in (*cols, "mode baseline", "compliant"):
            t.add_column(col, justify="left" if col == "property" else "right")
        comp = self.compliance.set_index("group")["rate"].to_dict() if len(self.compliance) else {}
        for r in self.table.to_dict(orient="records"):
            name = "average (micro)" if r["group"] == M.AVERAGE else r["group"]
            t.add_row(
                name,
                str(r["n"]),
                str(r.get("n_clusters", "")),
                f"{100 * r['acc']:.1f}%",
                f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f}",
                f"{100 * r['cluster_low']:.1f}–{100 * r['cluster_high']:.1f}",
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
    object_model: ModelLike,
    hypothetical_model: ModelLike,
    tasks: Sequence[str] | None = None,
    properties: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    object_config: ObjectConfig | str | None = None,
    rules: M.ScoringRules = M.DEFAULT_RULES,
) -> ScoreResult:
    names = list(tasks or T.HELD_OUT_TASKS)
    obj_id, hypothetical_id = resolve_model(store, object_model), resolve_model(store, hypothetical_model)
    ocfg = object_config_for(obj_id.label, object_config)
    obj = _stored_object(store, obj_id, ocfg, names, split, template)  # read once: scoring, mode, compliance
    scored = _scored(store, obj, obj_id, hypothetical_id, names, properties, split, template, rules)
    acc = M.accuracy(scored)
    base = M.mode_baseline(
        scored, rules=rules, object_rows=obj[["task", "item_id", "properties", "compliance"]]
    )
    table = acc.merge(base[["group", "acc"]].rename(columns={"acc": "baseline"}), on="group", how="left")
    obj_comp = (
        M.compliance_rates(obj.assign(group="object"), by=None, column="compliance")
        if len(obj)
        else pd.DataFrame()
    )
    return ScoreResult(
        object_model=obj_id.label,
        hypothetical_model=hypothetical_id.label,
        scored=scored,
        table=table,
        compliance=M.compliance_rates(scored),
        object_compliance=obj_comp,
        provenance={
            "object_model_id": obj_id.key,
            "hypothetical_model_id": hypothetical_id.key,
            "object_config": ocfg.name,
            "scoring_rules": rules.as_dict(),
        },
    )
