"""Input-only predictors: how much of the target's behaviour is predictable from the prompt alone, with no
language model. A self-prediction accuracy that an input-only predictor matches is not evidence of privileged
access (Singh et al. 2026 found input-only classifiers matching a claimed introspection effect).

    train-split mode   per (task, property), the target's most common value on the held-out task's *train*
                       split (the non-oracle baseline; the paper's mode baseline uses the test distribution,
                       which a predictor could not know; it is reported beside as `baseline`)
    classifier, cross pairs   per property, a logistic regression over character n-grams of the item text,
                       fitted on exactly the pairs the cross-predictor was trained on (the training tasks)
    classifier, same task     the same classifier fitted on the target's behaviour on the held-out tasks' train
                       split: the strongest input-only predictor the data allows, still never a val row

Character n-grams (TF-IDF, 1-4 characters within word boundaries) suit these properties: first and second
characters and words, vowels, parity and option letters are surface features of text a model writes after
reading the item, and a linear model over them is the classic strong baseline for short-text labels. Where a
property had a single value in the fitting data the classifier predicts that value; where it had none, the
train-split mode stands in (the details say which)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from inward import tasks as T
from inward.errors import UserError
from inward.experiments.base import register
from inward.experiments.context import Context
from inward.experiments.controls._base import Control, predicted, scored_predictor, self_target
from inward.report.results import ControlSection
from inward.training.datasets import read_dataset

Key = tuple[str, str, str]


def modes(behaviour: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(task, property) -> the most common value (ties: the smallest), over compliant rows with a value."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for (task, _), props in behaviour.items():
        for prop, value in props.items():
            if value is not None:
                counts[(task, prop)][str(value).strip().lower()] += 1
    return {k: min(c.items(), key=lambda vc: (-vc[1], vc[0]))[0] for k, c in counts.items()}


class TextClassifier:
    """Per property: TF-IDF character n-grams of the item text → logistic regression (scikit-learn)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.models: dict[str, Any] = {}  # property -> fitted pipeline, or the single value seen (str)
        self.fitted_on: dict[str, int] = {}

    def fit(self, texts: dict[str, list[str]], labels: dict[str, list[str]]) -> TextClassifier:
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
        except ImportError:
            raise UserError(
                "the input_only control needs scikit-learn: pip install 'inward[controls]'"
            ) from None
        for prop, xs in texts.items():
            ys = labels[prop]
            self.fitted_on[prop] = len(xs)
            if len(set(ys)) < 2:
                self.models[prop] = ys[0]
                continue
            pipe = make_pipeline(
                TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), lowercase=True),
                LogisticRegression(max_iter=2000, random_state=self.seed),
            )
            self.models[prop] = pipe.fit(xs, ys)
        return self

    def predict(self, prop: str, texts: list[str]) -> list[str] | None:
        m = self.models.get(prop)
        if m is None:
            return None
        if isinstance(m, str):
            return [m] * len(texts)
        return [str(v) for v in m.predict(texts)]


def _item_text(task: str, item_id: str, split: str) -> str:
    return _items(task, split)[item_id].text


_ITEMS: dict[tuple[str, str], dict[str, T.Item]] = {}


def _items(task: str, split: str) -> dict[str, T.Item]:
    key = (task, split)
    if key not in _ITEMS:
        _ITEMS[key] = {it.id: it for it in T.get(task).items(split)}  # type: ignore[arg-type]
    return _ITEMS[key]


def pairs_from_dataset(path: Any) -> tuple[dict[str, list[str]], dict[str, list[str]], set[tuple[str, str]]]:
    """(texts, labels) per property from a self/cross training file, and the (task, item id) rows it used."""
    rows, _ = read_dataset(path)
    texts: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, list[str]] = defaultdict(list)
    used: set[tuple[str, str]] = set()
    for r in rows:
        tags = r["inward"]
        texts[tags["property"]].append(_item_text(tags["task"], tags["item_id"], "train"))
        labels[tags["property"]].append(str(r["messages"][-1]["content"]).strip().lower())
        used.add((tags["task"], tags["item_id"]))
    return dict(texts), dict(labels), used


def pairs_from_behaviour(
    behaviour: dict[tuple[str, str], dict[str, Any]], properties: set[str] | None
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    texts: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, list[str]] = defaultdict(list)
    for (task, item_id), props in sorted(behaviour.items()):
        for prop, value in props.items():
            if value is None or (properties is not None and prop not in properties):
                continue
            texts[prop].append(_item_text(task, item_id, "train"))
            labels[prop].append(str(value).strip().lower())
    return dict(texts), dict(labels)


def classify(
    clf: TextClassifier, keys: list[Key], fallback: dict[tuple[str, str], str]
) -> tuple[dict[Key, str | None], list[str]]:
    """Predictions for val keys (task, item id, property); the train-split mode where the classifier has no
    model of a property. Returns the predictions and the properties that fell back."""
    by_prop: dict[str, list[Key]] = defaultdict(list)
    for k in keys:
        by_prop[k[2]].append(k)
    out: dict[Key, str | None] = {}
    fell_back = []
    for prop, ks in sorted(by_prop.items()):
        got = clf.predict(prop, [_item_text(t, i, "val") for t, i, _ in ks])
        if got is None:
            fell_back.append(prop)
            for k in ks:
                out[k] = fallback.get((k[0], k[2]))
        else:
            out.update(zip(ks, got, strict=True))
    return out, fell_back


@register
class InputOnlyControl(Control):
    name = "input_only"
    title = "Input-only predictors"
    question = (
        "How much of the target's behaviour can be predicted from the prompt alone, with no language model?"
    )

    def steps(self, ctx: Context) -> tuple[str, str]:
        role, tt = self_target(ctx)
        ctx.train_behaviour(tt)
        ctx.cross_data(role)
        return role, tt

    def analyse(self, ctx: Context, done: tuple[str, str]) -> ControlSection:
        role, tt = done
        r = ctx.readings
        self_sc = r.scored(tt, tt)
        keys: list[Key] = list(zip(self_sc["task"], self_sc["item_id"], self_sc["property"], strict=True))
        behaviour = ctx.train_behaviour(tt)
        mode = modes(behaviour)
        wanted = set(ctx.property_names) if ctx.property_names else None

        preds = []
        mode_pred = {k: mode.get((k[0], k[2])) for k in keys}
        preds.append(
            scored_predictor(
                ctx,
                tt,
                self_sc,
                predicted(self_sc, mode_pred),
                name="train-split mode",
                predictor="the train-split mode (no LM)",
                model=None,
                details={
                    "modes": {f"{t}/{p}": v for (t, p), v in sorted(mode.items())},
                    "fitted_on_items": len(behaviour),
                },
            )
        )
        cross_path = ctx.cross_data(role)
        texts, labels, used = pairs_from_dataset(cross_path)
        clf = TextClassifier(seed=ctx.seed).fit(texts, labels)
        got, fell = classify(clf, keys, mode)
        preds.append(
            scored_predictor(
                ctx,
                tt,
                self_sc,
                predicted(self_sc, got),
                name="classifier on the cross pairs",
                predictor="a text classifier fitted on the cross-predictor's pairs (no LM)",
                model=None,
                details={"fitted_on": clf.fitted_on, "fell_back_to_mode": fell, "data": cross_path.name},
                note=None
                if not fell
                else f"No cross pairs of {', '.join(fell)}: the train-split mode stands in.",
            )
        )
        texts2, labels2 = pairs_from_behaviour(behaviour, wanted)
        clf2 = TextClassifier(seed=ctx.seed).fit(texts2, labels2)
        got2, fell2 = classify(clf2, keys, mode)
        preds.append(
            scored_predictor(
                ctx,
                tt,
                self_sc,
                predicted(self_sc, got2),
                name="classifier on the same tasks",
                predictor="a text classifier fitted on the held-out tasks' train split (no LM)",
                model=None,
                details={"fitted_on": clf2.fitted_on, "fell_back_to_mode": fell2},
            )
        )
        val_ids = {(t, i) for t, i, _ in keys}
        return self.section(
            ctx,
            tt,
            self_rows=r.accuracy(self_sc, tt),
            predictors=preds,
            details={
                "val_rows_seen_by_fits": len(val_ids & (set(behaviour) | used)),
                "context_items_per_task": ctx.cfg.controls.context_items,
            },
            notes=[
                "No input-only predictor sees a val row: the mode and the same-task classifier use the target's "
                "behaviour on the held-out tasks' train split, the other classifier the cross-predictor's pairs "
                "on the training tasks. `baseline` beside each accuracy is the paper's mode over the test rows "
                "(an oracle).",
            ],
        )
