"""Behavioural change (SPEC §12): does the shifted model predict its new behaviour or its old one?

    result = behaviour_change(m1_objects, mc_objects, mc_hypothetical)
    result.summary    # per group + "average": acc vs old / vs new with CIs, mode baselines, paired test
    result.test       # PairedTest on all rows: A = predicting the new behaviour, B = predicting the old
    result.vs_old, result.vs_new   # scored tables (object_value = old / new value) for further analysis

Inputs use the object/hypothetical table formats of `join_object_hypothetical`: the old model M1's object table, the shifted
model MC's object table on the same prompts, and MC's hypothetical answers. Only prompts whose property value
changed between M1 and MC, both compliant, are kept ("only_shifted"). For binary properties the two accuracies
then sum to 100% when every hypothetical answer is compliant.

Choices, and how they relate to the paper's code (``rules=PAPER_CODE_RULES`` sets both switches; see
docs/paper-code.md):

* Non-compliant hypothetical answers count as incorrect (the paper's stated rule, §6.3). The paper's figure
  script dropped them instead; ``exclude_noncompliant_hypothetical=True`` or ``rules.change_drop_noncompliant_hypothetical``
  reproduces that.
* The mode baseline uses the per-(task, property) mode, like every other baseline here (§10.2), over the
  evaluated rows. The paper's plotting code recomputed the mode over each plotted group as a whole (for the
  average bar: one mode across all tasks and properties pooled), which understates the baseline;
  ``recompute_mode_per_group=True`` or ``rules.change_mode_pooled`` reproduces it.
  (``rules.mode_over_all_object_rows`` does not apply here: the figure script overwrote that mode.)
* ``adjust_entropy=True`` applies `entropy_match` (§13, Fig. 24) with the old behaviour as condition 1, per
  (task, reporting group) like the paper. The two conditions then keep different prompts, so the test is an
  unpaired bootstrap and ``p_mcnemar`` is NaN.
* Object rows: only compliant answers with a value, in both modes (the figure script loaded with
  ``exclude_noncompliant=True`` and an undefined value was marked non-compliant).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from inward.metrics._accuracy import (
    AVERAGE,
    By,
    PairedTest,
    accuracy,
    by_columns,
    iter_groups,
    paired_test,
    paired_tests,
)
from inward.metrics._baselines import mode_baseline
from inward.metrics._clustered import cluster_codes, cluster_sums, cluster_unpaired_bootstrap
from inward.metrics._entropy import MATCH_BY, entropy_match
from inward.metrics._rules import DEFAULT_RULES, ScoringRules
from inward.metrics._scoring import (
    EXCLUDED_PROPERTIES,
    KEY,
    compliant_object_rows,
    is_missing,
    join_object_hypothetical,
    reporting_group,
)
from inward.metrics._stats import unpaired_bootstrap


@dataclass(frozen=True)
class BehaviourChange:
    """Result of `behaviour_change`; ``test`` compares predicting the new behaviour (A) with the old (B)."""

    shifted: pd.DataFrame  # key columns, old_value, new_value: prompts whose property value changed
    vs_old: pd.DataFrame  # scored table: MC's hypothetical answers vs M1's old values
    vs_new: pd.DataFrame  # scored table: MC's hypothetical answers vs MC's new values
    summary: pd.DataFrame
    test: PairedTest | None  # None when entropy-adjusted (rows no longer paired; see summary's "average" row)


def shifted_prompts(
    old_object_df: pd.DataFrame,
    new_object_df: pd.DataFrame,
    *,
    key: Sequence[str] = KEY,
    exclude_properties: Sequence[str] = EXCLUDED_PROPERTIES,
) -> pd.DataFrame:
    """Prompts where both models answered compliantly and the property value differs (after lower/strip)."""
    old = compliant_object_rows(old_object_df, key)[[*key, "value"]].rename(columns={"value": "old_value"})
    new = compliant_object_rows(new_object_df, key)[[*key, "value"]].rename(columns={"value": "new_value"})
    both = old.merge(new, on=list(key), how="inner", validate="one_to_one")
    both = both[~both["property"].isin(list(exclude_properties))]
    changed = [
        o.strip().lower() != n.strip().lower()
        for o, n in zip(both["old_value"], both["new_value"], strict=True)
    ]
    return both[changed].reset_index(drop=True)


def changed_fractions(
    old_object_df: pd.DataFrame,
    new_object_df: pd.DataFrame,
    *,
    key: Sequence[str] = KEY,
    properties: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per reporting group + average: prompts compared (both answers compliant with a value), how many changed
    value, and the share. Uses the same rules as `shifted_prompts`, so ``n_changed`` is its row count.
    `properties`: count only these canonical names (default: every property in the tables)."""
    old = compliant_object_rows(old_object_df, key)[list(key)]
    new = compliant_object_rows(new_object_df, key)[list(key)]
    compared = old.merge(new, on=list(key), how="inner")
    compared = compared[~compared["property"].isin(list(EXCLUDED_PROPERTIES))]
    if properties:
        compared = compared[compared["property"].isin(list(properties))]
    shifted = shifted_prompts(old_object_df, new_object_df, key=key)
    changed = {tuple(r) for r in shifted[list(key)].itertuples(index=False)}
    compared = compared.assign(
        group=[reporting_group(p) for p in compared["property"]],
        changed=[tuple(r) in changed for r in compared[list(key)].itertuples(index=False)],
    )
    rows = []
    groups = [(g, sub) for g, sub in compared.groupby("group", sort=True)]
    for group, sub in [*groups, (AVERAGE, compared)]:
        n, k = len(sub), int(sub["changed"].sum())
        rows.append(
            {"group": group, "n_compared": n, "n_changed": k, "changed_fraction": k / n if n else None}
        )
    return pd.DataFrame(rows, columns=["group", "n_compared", "n_changed", "changed_fraction"])


ANSWER_PROPERTIES: tuple[str, ...] = ("identity", "first_word")


def answer_property(task_properties: Sequence[str]) -> str:
    """The property that stands for a task's answer in `answer_drift`: the letter itself (``identity``) on
    multiple-choice tasks, the first word on free-text ones, else the task's first property."""
    return next((p for p in ANSWER_PROPERTIES if p in task_properties), task_properties[0])


def answer_drift(
    old_object_df: pd.DataFrame, new_object_df: pd.DataFrame, properties: dict[str, str]
) -> pd.DataFrame:
    """How a fine-tune moved each task's answers: a collateral-damage and collapse check for behaviour shifts.

    `properties` maps each task to the property standing for its answer (see `answer_property`). Per task, on
    the prompts both tables answered: compliance of each model, the share of prompts (both compliant) whose value
    changed, and each model's most common value with its share among its compliant answers. A collapse shows
    as a top share near 1 or compliance near 0; a good shift moves the shifted tasks and leaves others alone.
    """
    cols = [
        "task",
        "property",
        "n",
        "compliant_old",
        "compliant_new",
        "n_compared",
        "changed_fraction",
        "top_old",
        "top_old_share",
        "top_new",
        "top_new_share",
    ]

    def values(df: pd.DataFrame, task: str, prop: str) -> dict[str, str | None]:
        sub = df[df["task"] == task]
        return {
            i: (d.get(prop) if is_missing(c) and isinstance(d.get(prop), str) else None)
            for i, d, c in zip(sub["item_id"], sub["properties"], sub["compliance"], strict=True)
        }

    def top(vals: list[str]) -> tuple[str | None, float | None]:
        if not vals:
            return None, None
        counts = pd.Series(vals).value_counts()
        return str(counts.index[0]), float(counts.iloc[0] / len(vals))

    rows = []
    for task, prop in properties.items():
        old, new = values(old_object_df, task, prop), values(new_object_df, task, prop)
        both = sorted(set(old) & set(new))
        if not both:
            continue
        o = [old[i].strip().lower() for i in both if old[i] is not None]  # type: ignore[union-attr]
        n = [new[i].strip().lower() for i in both if new[i] is not None]  # type: ignore[union-attr]
        pairs = [(old[i], new[i]) for i in both if old[i] is not None and new[i] is not None]
        changed = sum(a.strip().lower() != b.strip().lower() for a, b in pairs)  # type: ignore[union-attr]
        rows.append(
            {
                "task": task,
                "property": prop,
                "n": len(both),
                "compliant_old": len(o) / len(both),
                "compliant_new": len(n) / len(both),
                "n_compared": len(pairs),
                "changed_fraction": changed / len(pairs) if pairs else None,
                **dict(zip(("top_old", "top_old_share"), top(o), strict=True)),
                **dict(zip(("top_new", "top_new_share"), top(n), strict=True)),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _unpaired_summary(
    vs_new: pd.DataFrame, vs_old: pd.DataFrame, by: By, iterations: int, seed: int
) -> pd.DataFrame:
    new_groups = dict((tuple(labels.values()), sub) for labels, sub in iter_groups(vs_new, by, average=True))
    rows = []
    for labels, sub_old in iter_groups(vs_old, by, average=True):
        sub_new = new_groups.get(tuple(labels.values()), vs_new.iloc[:0])
        k_a, n_a = int(sub_new["correct"].sum()), len(sub_new)
        k_b, n_b = int(sub_old["correct"].sum()), len(sub_old)
        lo, hi, p = unpaired_bootstrap(k_a, n_a, k_b, n_b, iterations=iterations, seed=seed)
        diff = (k_a / n_a if n_a else math.nan) - (k_b / n_b if n_b else math.nan)
        ka_c, na_c = cluster_sums(sub_new["correct"].to_numpy(dtype=float), cluster_codes(sub_new))
        kb_c, nb_c = cluster_sums(sub_old["correct"].to_numpy(dtype=float), cluster_codes(sub_old))
        clo, chi, p_cl = cluster_unpaired_bootstrap(ka_c, na_c, kb_c, nb_c, iterations=iterations, seed=seed)
        rows.append(
            {
                **labels,
                "diff": diff,
                "ci_low": lo,
                "ci_high": hi,
                "p_bootstrap": p,
                "a_only": math.nan,
                "b_only": math.nan,
                "p_mcnemar": math.nan,
                "n_clusters": len(na_c) + len(nb_c),
                "cluster_ci_low": clo,
                "cluster_ci_high": chi,
                "p_cluster": p_cl,
            }
        )
    return pd.DataFrame(rows)


def behaviour_change(
    old_object_df: pd.DataFrame,
    new_object_df: pd.DataFrame,
    new_hypothetical_df: pd.DataFrame,
    by: By = "group",
    *,
    key: Sequence[str] = KEY,
    exclude_noncompliant_hypothetical: bool = False,
    recompute_mode_per_group: bool = False,
    adjust_entropy: bool = False,
    iterations: int = 1000,
    seed: int = 42,
    rules: ScoringRules = DEFAULT_RULES,
) -> BehaviourChange:
    """Accuracy of the shifted model's hypothetical answers against its old and its new behaviour.

    ``summary`` columns: by-columns, ``n`` (= ``n_old`` and ``n_new`` unless entropy-adjusted), ``acc_old``,
    ``old_ci_low``/``old_ci_high``, ``acc_new``, ``new_ci_low``/``new_ci_high`` (±1.96·SEM), the Wilson
    bounds ``old_wilson_low``/``old_wilson_high``/``new_wilson_low``/``new_wilson_high``,
    ``mode_old``/``mode_new`` (mode-baseline accuracies), ``diff`` = acc_new − acc_old with row-level bootstrap
    ``ci_low``/``ci_high``, ``p_bootstrap`` and ``p_mcnemar``; item-clustered (prompts resampled):
    ``old_cluster_low``/``old_cluster_high``/``new_cluster_low``/``new_cluster_high`` for the accuracies and
    ``cluster_ci_low``/``cluster_ci_high``/``p_cluster`` for diff, over ``n_clusters`` prompts (summed over
    both conditions when entropy-adjusted, where each condition's prompts are resampled on their own).
    """
    shifted = shifted_prompts(old_object_df, new_object_df, key=key)
    hyp = new_hypothetical_df
    exclude_noncompliant_hypothetical = (
        exclude_noncompliant_hypothetical or rules.change_drop_noncompliant_hypothetical
    )
    recompute_mode_per_group = recompute_mode_per_group or rules.change_mode_pooled
    if exclude_noncompliant_hypothetical:
        m = hyp.rename(columns={"answer": "hypothetical_answer", "compliance": "hypothetical_compliance"})
        comp = (
            m["hypothetical_compliance"]
            if "hypothetical_compliance" in m.columns
            else pd.Series(None, index=m.index)
        )
        hyp = hyp[
            [
                is_missing(c) and isinstance(a, str)
                for c, a in zip(comp, m["hypothetical_answer"], strict=True)
            ]
        ]
    old_obj = shifted[[*key, "old_value"]].rename(columns={"old_value": "value"})
    new_obj = shifted[[*key, "new_value"]].rename(columns={"new_value": "value"})
    vs_old = join_object_hypothetical(old_obj, hyp, key=key, rules=rules)
    vs_new = join_object_hypothetical(new_obj, hyp, key=key, rules=rules)
    if adjust_entropy:
        vs_old, vs_new = entropy_match(vs_old, vs_new, MATCH_BY, key=key, seed=seed)

    cols = by_columns(by)
    if not cols:
        raise ValueError("behaviour_change needs at least one by-column (e.g. 'group')")
    acc_old = accuracy(vs_old, by, iterations=iterations, seed=seed)
    acc_new = accuracy(vs_new, by, iterations=iterations, seed=seed)
    base_old = mode_baseline(vs_old, by, recompute_per_group=recompute_mode_per_group)
    base_new = mode_baseline(vs_new, by, recompute_per_group=recompute_mode_per_group)
    if adjust_entropy:
        tests = _unpaired_summary(vs_new, vs_old, by, iterations, seed)
    else:
        tests = paired_tests(vs_new, vs_old, by, key=key, iterations=iterations, seed=seed)
        tests = tests.drop(columns=["n", "acc_a", "acc_b"])

    bounds = ["ci_low", "ci_high", "wilson_low", "wilson_high", "cluster_low", "cluster_high"]
    summary = acc_old[[*cols, "n", "acc", *bounds]].rename(
        columns={"n": "n_old", "acc": "acc_old", **{b: f"old_{b}" for b in bounds}}
    )
    summary = summary.merge(
        acc_new[[*cols, "n", "acc", *bounds]].rename(
            columns={"n": "n_new", "acc": "acc_new", **{b: f"new_{b}" for b in bounds}}
        ),
        on=cols,
        how="left",  # both tables hold the same groups (same prompts, or matched histograms)
        sort=False,
    )
    summary = summary.merge(base_old[[*cols, "acc"]].rename(columns={"acc": "mode_old"}), on=cols, how="left")
    summary = summary.merge(base_new[[*cols, "acc"]].rename(columns={"acc": "mode_new"}), on=cols, how="left")
    summary = summary.merge(tests, on=cols, how="left")
    summary.insert(len(cols), "n", summary["n_new"])

    test = None if adjust_entropy else paired_test(vs_new, vs_old, key=key, iterations=iterations, seed=seed)
    return BehaviourChange(shifted=shifted, vs_old=vs_old, vs_new=vs_new, summary=summary, test=test)
