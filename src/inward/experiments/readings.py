"""The typed store interface analyses read through: every read is keyed by model identity and object config.

    r = ctx.readings
    scored = r.scored(object_model="local/qwen2.5-0.5b+adapter=demo-m1-self-3f9a2c", hypothetical_model=...)
    old, new = r.objects(m1t, mc, tasks=["animals_long"])
    r.hypothetical(mc)                         # hypothetical answers of mc on the held-out tasks
    r.distributions(m1t, "object", "animals_long", "second_character", config)

Analyses never see ref strings turned into rows by hand: a `Readings` resolves each ref to its identity (weights
and adapter digests) and its object config through the experiment's `ModelAccess`, so a number can only come
from the rows of the model and settings it names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from inward import metrics as M
from inward.backends.identity import ModelId
from inward.prompts import PromptTemplate
from inward.report import build as B
from inward.report.results import AccRow, TrainStats
from inward.runs.configs import ObjectConfig
from inward.runs.score import compliant_rows, load_hypotheticals, load_object, scored_table

OBJECT_COLUMNS = ["task", "item_id", "properties", "compliance"]


class Readings:
    def __init__(
        self,
        store: Any,
        *,
        identify: Callable[[str], ModelId],
        object_config: Callable[[str], ObjectConfig],
        template: PromptTemplate,
        eval_tasks: Sequence[str],
        properties: Sequence[str] | None,
        rules: Any,
    ) -> None:
        self.store = store
        self._id = identify
        self._config = object_config
        self.template = template
        self.eval_tasks = list(eval_tasks)
        self.properties = None if properties is None else list(properties)
        self.rules = rules

    def scored(
        self, object_model: str, hypothetical_model: str, *, template: PromptTemplate | None = None
    ) -> pd.DataFrame:
        """`hypothetical_model`'s hypotheticals about `object_model`'s held-out behaviour, marked (scored_table);
        `template`: hypotheticals asked in that wording (the object level is the experiment's template's)."""
        return scored_table(
            self.store,
            object_model=self._id(object_model),
            hypothetical_model=self._id(hypothetical_model),
            tasks=self.eval_tasks,
            properties=self.properties,
            template=self.template,
            hypothetical_template=template,
            object_config=self._config(object_model),
            rules=self.rules,
        )

    def objects(self, *models: str, tasks: Sequence[str] | None = None) -> list[pd.DataFrame]:
        """Each model's stored val behaviour (sample 0), one row per prompt with its `properties` dict."""
        out = []
        for m in models:
            df = load_object(
                self.store,
                self._id(m),
                tasks=list(tasks or self.eval_tasks),
                template=self.template,
                config=self._config(m),
            )
            out.append(df[OBJECT_COLUMNS] if len(df) else pd.DataFrame(columns=OBJECT_COLUMNS))
        return out

    def raw_objects(self, model: str, tasks: Sequence[str]) -> pd.DataFrame:
        """As `objects`, with every stored column (raw answer, target)."""
        return load_object(
            self.store, self._id(model), tasks=list(tasks), template=self.template, config=self._config(model)
        )

    def compliant(self, model: str, tasks: Sequence[str], split: str = "val") -> pd.DataFrame:
        """`model`'s compliant stored answers (sample 0) on `split` of `tasks`: raw answer and properties."""
        return compliant_rows(
            load_object(
                self.store,
                self._id(model),
                tasks=list(tasks),
                split=split,
                template=self.template,
                config=self._config(model),
            )
        )

    def hypothetical(self, model: str, tasks: Sequence[str] | None = None) -> pd.DataFrame:
        return load_hypotheticals(
            self.store,
            self._id(model),
            tasks=list(tasks or self.eval_tasks),
            properties=self.properties,
            template=self.template,
        )

    def distributions(self, model: str, level: str, task: str, prop: str, config_key: str) -> pd.DataFrame:
        return self.store.distributions(
            model_id=self._id(model).key, level=level, task=task, property=prop, config_key=config_key
        )

    def accuracy(self, scored: pd.DataFrame, object_model: str) -> list[AccRow]:
        """Accuracy rows (per group + average) with the mode baseline and hypothetical compliance. Only
        paper-code rules take the mode from the object table; the default never reads it."""
        rows = self.objects(object_model)[0] if self.rules.mode_over_all_object_rows else None
        return B.acc_rows(
            M.accuracy(scored),
            baseline=M.mode_baseline(scored, rules=self.rules, object_rows=rows),
            compliance=M.compliance_rates(scored),
        )


def train_stats(rec: dict[str, Any] | None) -> TrainStats | None:
    """Deterministic training figures only: wall time and examples/s go to timings.json (see runner.render),
    so that results.json of an interrupted-and-resumed run is byte-identical to an uninterrupted one."""
    if not rec:
        return None
    return TrainStats(examples=rec["n_train"], final_loss=rec.get("final_train_loss"))
