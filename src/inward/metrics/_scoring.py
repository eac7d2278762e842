"""Scored tables: join object-level behaviour with hypothetical answers and mark each row correct.

    from inward.metrics import join_object_hypothetical, accuracy
    scored = join_object_hypothetical(object_df, hypothetical_df)   # one row per (task, item_id, property)
    accuracy(scored)                                # per reporting group + "average" (micro)

Input formats (plain pandas DataFrames):

* **object table** — the object model's behaviour. Long format, one row per (task, item_id, property) with
  columns ``task, item_id, property, value`` (``value`` = the property of the cleaned object-level answer, str
  or None) and optionally ``compliance`` (None = compliant, else the name of the rule that fired) or
  ``compliant`` (bool). Wide format is accepted too: one row per (task, item_id) with a ``properties``
  column holding a ``{property: value}`` dict; it is exploded to long format (compliance applies to every
  property of the row).
* **hypothetical table** — the hypothetical model's answers, one row per (task, item_id, property) with columns
  ``task, item_id, property, answer`` (normalised answer, str or None) and ``compliance`` (None or rule name).
  ``hypothetical_answer`` / ``hypothetical_compliance`` are accepted as column names too.

The **scored table** has columns ``task, item_id, property, group, object_value, hypothetical_answer, hypothetical_compliance,
correct``. ``group`` is the reporting group (SPEC §4.1 renames: every ``is_either_*``/``among_*`` property →
``among_options``, every ``matches_*`` property → ``ethical_stance``).

Rules (SPEC §6.3, §10.1): object rows that are non-compliant or have no value are dropped (the prompt is
excluded); a non-compliant or missing hypothetical answer counts as incorrect; ``identity`` is never reported.
The join is an inner join: a prompt without a hypothetical answer row is not evaluated.

``rules=PAPER_CODE_RULES`` (see `inward.metrics._rules`, docs/paper-code.md) reproduces the official code
instead: undefined values are scored as the string "none", non-compliant object rows are scored, and a
non-compliant hypothetical answer equal to the value counts as correct.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

from inward.metrics._rules import DEFAULT_RULES, UNDEFINED_VALUE, ScoringRules

KEY: tuple[str, ...] = ("task", "item_id", "property")
SCORED_COLUMNS: tuple[str, ...] = (
    *KEY,
    "group",
    "object_value",
    "hypothetical_answer",
    "hypothetical_compliance",
    "correct",
)
EXCLUDED_PROPERTIES: tuple[str, ...] = ("identity",)


def reporting_group(prop: str) -> str:
    """The paper's reporting group of a property (SPEC §4.1 analysis renames)."""
    if prop.startswith(("is_either_", "among_")):
        return "among_options"
    if "matches" in prop or prop == "ethical_stance":
        return "ethical_stance"
    if prop == "is_even_direct":  # the paper's "is even" bar is the even/odd form
        return "is_even"
    return prop


def is_missing(x: Any) -> bool:
    """None or a pandas missing marker (NaN/NA), which a str column turns None into."""
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


def normalise_value(x: str) -> str:
    """A value or answer as it is compared: lower+strip on top of the §6.1 cleaning (SPEC §10.1). Every
    comparison of values in `inward.metrics` (scoring, the mode baseline, entropy matching) goes through it."""
    return x.strip().lower()


def score_rows(df: pd.DataFrame, *, rules: ScoringRules = DEFAULT_RULES) -> pd.Series:
    """``correct`` for each row: hypothetical_answer == object_value (lower/strip), and the hypothetical answer is compliant.

    A missing hypothetical answer is never correct; a non-compliant one counts as incorrect (SPEC §6.3) unless
    ``rules.match_noncompliant_hypothetical``, under which only the strings are compared (the official code).
    """
    comp = (
        df["hypothetical_compliance"]
        if "hypothetical_compliance" in df.columns
        else pd.Series(None, index=df.index)
    )
    ignore_compliance = rules.match_noncompliant_hypothetical
    out = [
        isinstance(m, str)
        and isinstance(o, str)
        and (ignore_compliance or is_missing(c))
        and normalise_value(m) == normalise_value(o)
        for m, o, c in zip(df["hypothetical_answer"], df["object_value"], comp, strict=True)
    ]
    return pd.Series(out, index=df.index, dtype=bool, name="correct")


def _check_columns(df: pd.DataFrame, needed: Iterable[str], what: str) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; has {list(df.columns)}")


def _check_unique(df: pd.DataFrame, key: Sequence[str], what: str) -> None:
    dup = df.duplicated(list(key), keep=False)
    if dup.any():
        example = df.loc[dup, list(key)].iloc[0].to_dict()
        raise ValueError(
            f"{what} has {int(dup.sum())} rows with a duplicated key {list(key)}, e.g. {example}"
        )


def object_long(object_df: pd.DataFrame, key: Sequence[str] = KEY) -> pd.DataFrame:
    """Object table in long format with columns ``*key, value, compliance`` (compliance None = compliant)."""
    df = object_df.copy()
    if "property" not in df.columns and "properties" in df.columns:
        df["property"] = [list(d) for d in df["properties"]]
        df = df.explode("property", ignore_index=True)
        df = df[df["property"].notna()]
        df["value"] = [d.get(p) for d, p in zip(df["properties"], df["property"], strict=True)]
        df = df.drop(columns=["properties"])
    if "compliance" not in df.columns:
        if "compliant" in df.columns:
            df["compliance"] = [None if ok else "noncompliant" for ok in df["compliant"]]
        else:
            df["compliance"] = None
    _check_columns(df, [*key, "value"], "object table")
    return df.reset_index(drop=True)


def compliant_object_rows(object_df: pd.DataFrame, key: Sequence[str] = KEY) -> pd.DataFrame:
    """Long-format object rows that are compliant and have a defined property value (SPEC §6.3)."""
    df = object_long(object_df, key)
    keep = [is_missing(c) and isinstance(v, str) for c, v in zip(df["compliance"], df["value"], strict=True)]
    return df[keep].reset_index(drop=True)


def scorable_object_rows(
    object_df: pd.DataFrame, key: Sequence[str] = KEY, *, rules: ScoringRules = DEFAULT_RULES
) -> pd.DataFrame:
    """Long-format object rows that are scored under `rules`, each with a str ``value``.

    Default: `compliant_object_rows`. ``rules.score_noncompliant_objects`` keeps non-compliant rows too;
    ``rules.undefined_as_wrong`` keeps rows without a value, with value "none" (`UNDEFINED_VALUE`).
    """
    df = object_long(object_df, key)
    keep_noncompliant, keep_undefined = rules.score_noncompliant_objects, rules.undefined_as_wrong
    keep = [
        (keep_noncompliant or is_missing(c)) and (keep_undefined or isinstance(v, str))
        for c, v in zip(df["compliance"], df["value"], strict=True)
    ]
    df = df[keep].reset_index(drop=True)
    df["value"] = [v if isinstance(v, str) else UNDEFINED_VALUE for v in df["value"]]
    return df


def _hypothetical_columns(hypothetical_df: pd.DataFrame) -> pd.DataFrame:
    df = hypothetical_df.rename(
        columns={"answer": "hypothetical_answer", "compliance": "hypothetical_compliance"}
    )
    if "hypothetical_compliance" not in df.columns:
        df["hypothetical_compliance"] = None
    return df


def join_object_hypothetical(
    object_df: pd.DataFrame,
    hypothetical_df: pd.DataFrame,
    *,
    key: Sequence[str] = KEY,
    exclude_properties: Sequence[str] = EXCLUDED_PROPERTIES,
    group_of: Callable[[str], str] = reporting_group,
    rules: ScoringRules = DEFAULT_RULES,
) -> pd.DataFrame:
    """Scored table: compliant object rows with a value, inner-joined with hypothetical answers on ``key``.

    Pass a longer ``key`` (e.g. adding a template column present in both tables) to join on more columns.
    Raises ValueError when a key repeats in either table (that would double-count rows). `rules` selects the
    object rows (`scorable_object_rows`) and how a row is marked correct (`score_rows`).
    """
    obj = scorable_object_rows(object_df, key, rules=rules)
    hyp = _hypothetical_columns(hypothetical_df)
    _check_columns(hyp, [*key, "hypothetical_answer"], "hypothetical table")
    _check_unique(obj, key, "object table")
    _check_unique(hyp, key, "hypothetical table")
    obj = obj[~obj["property"].isin(list(exclude_properties))]
    merged = obj[[*key, "value"]].merge(
        hyp[[*key, "hypothetical_answer", "hypothetical_compliance"]],
        on=list(key),
        how="inner",
        validate="one_to_one",
    )
    merged = merged.rename(columns={"value": "object_value"})
    merged["group"] = [group_of(p) for p in merged["property"]]
    # NaN from a str column would read as a non-missing float downstream; keep None as the one missing marker.
    for col in ("hypothetical_answer", "hypothetical_compliance"):
        merged[col] = pd.Series(
            [None if is_missing(x) else x for x in merged[col]], index=merged.index, dtype=object
        )
    merged["correct"] = score_rows(merged, rules=rules)
    extra = [c for c in key if c not in KEY]
    cols = [*KEY, *extra, *SCORED_COLUMNS[len(KEY) :]]
    return merged[cols].sort_values(list(key), kind="stable").reset_index(drop=True)


def intersect(*dfs: pd.DataFrame, key: Sequence[str] = KEY) -> list[pd.DataFrame]:
    """Each table restricted to the keys present in all of them (SPEC §10.1, before/after comparisons)."""
    if not dfs:
        return []
    common = dfs[0][list(key)].drop_duplicates()
    for df in dfs[1:]:
        common = common.merge(df[list(key)].drop_duplicates(), on=list(key), how="inner")
    return [df.merge(common, on=list(key), how="inner") for df in dfs]
