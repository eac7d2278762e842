"""What every control shares: the target predicting itself, predictors scored beside it, claims, numbers."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from inward import metrics as M
from inward.experiments.base import Claim, Experiment, Number
from inward.experiments.context import Context
from inward.report import build as B
from inward.report.results import AVERAGE, AccRow, ControlPredictor, ControlSection, find_row


def self_target(ctx: Context) -> tuple[str, str]:
    """(role, self-trained model) of the controls' target; asks it about itself on the held-out prompts (the
    same step self-training runs, so it is shared)."""
    role = ctx.cfg.controls.target
    tt = ctx.self_trained(role)
    ctx.evaluate(tt, tt)
    return role, tt


def predicted(self_scored: pd.DataFrame, predictions: dict[tuple[str, str, str], str | None]) -> pd.DataFrame:
    """A scored table for a predictor that is not a language model: the target's rows (same keys, same object
    values), with `hypothetical_answer` = the prediction and `correct` = whether it equals the object value (a missing
    prediction is wrong, as a non-compliant hypothetical is)."""
    df = self_scored.copy()
    keys = list(zip(df["task"], df["item_id"], df["property"], strict=True))
    answers = [predictions.get(k) for k in keys]
    df["hypothetical_answer"] = answers
    df["hypothetical_compliance"] = [None if a is not None else "no prediction" for a in answers]
    df["correct"] = [
        a is not None and str(a).strip().lower() == str(v).strip().lower()
        for a, v in zip(answers, df["object_value"], strict=True)
    ]
    return df


def scored_predictor(
    ctx: Context,
    target: str,
    self_scored: pd.DataFrame,
    other: pd.DataFrame,
    *,
    name: str,
    predictor: str,
    model: str | None,
    claim: bool = True,
    details: dict[str, Any] | None = None,
    note: str | None = None,
    own_self: pd.DataFrame | None = None,
) -> ControlPredictor:
    """A predictor's accuracy on the prompts it shares with the target's self-prediction, and the paired test
    self (A) vs it (B). `own_self`: the self-prediction to compare with, where the condition changes it too."""
    base = self_scored if own_self is None else own_self
    a, b = M.intersect(base, other)
    return ControlPredictor(
        name=name,
        predictor=predictor,
        model=model,
        rows=ctx.readings.accuracy(b, target),
        tests=B.paired_rows(M.paired_tests(a, b)) if len(a) else [],
        self_rows=None if own_self is None else ctx.readings.accuracy(a, target),
        claim=claim,
        details=details or {},
        note=note,
    )


class Control(Experiment):
    """A control: `analyse` returns a `ControlSection`; its claims are self vs each claimed predictor."""

    question: ClassVar[str] = ""
    makes_claims: ClassVar[bool] = True  # False: a reference (its predictors are not third parties)
    after: ClassVar[tuple[str, ...]] = ("self_training", "cross_prediction")

    def section(self, ctx: Context, target: str, **fields: Any) -> ControlSection:
        return ControlSection(
            control=self.name,
            title=self.title,
            question=self.question,
            target=ctx.label(target),
            target_model=target,
            **fields,
        )

    def claim_text(self, section: ControlSection, p: ControlPredictor) -> tuple[str, str]:
        """(claim, comparison) of the claim self vs `p`, in words."""
        who = section.target.split(" + ")[0]
        named = "" if p.name in p.predictor else f" ({p.name})"
        return (
            f"{who} predicts itself better than {p.predictor}",
            f"{section.title}: {section.target} predicting itself vs {p.predictor}{named}, same prompts",
        )

    def claims(self, section: ControlSection) -> list[Claim]:
        out = []
        for p in section.predictors:
            if not p.claim:
                continue
            claim, comparison = self.claim_text(section, p)
            out.append(
                Claim.from_test(
                    find_row(p.tests, AVERAGE),
                    key=f"{self.name}:{p.name}",
                    claim=claim,
                    comparison=comparison,
                    unit="pp",
                    paper="self_vs_cross",
                    note=p.note,
                )
            )
        return out

    def numbers(self, section: ControlSection) -> list[Number]:
        out = [
            Number(f"{section.title}: {section.target} predicting itself", "acc", average(section.self_rows))
        ]
        for p in section.predictors:
            out.append(Number(f"{section.title}: {p.predictor} ({p.name})", "acc", average(p.rows)))
        return out


def average(rows: list[AccRow] | None) -> float | None:
    """The accuracy of the average row (None when there is none)."""
    row = find_row(rows or [])
    return None if row is None or row.acc is None else float(row.acc)
