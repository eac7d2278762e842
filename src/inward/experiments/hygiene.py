"""Data hygiene, checked on every run and printed with its report: no held-out prompt appears in any training
set, and no input string is shared between properties of a self-prediction training set.

Held-out prompts are the val items of the held-out tasks that any number reads (evaluation and calibration).
A training row is matched to them by its item text (whitespace-collapsed, case-folded) whatever task it claims to
come from, so a duplicate item across splits or tasks is caught as well as a val item used by mistake.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from inward import tasks as T
from inward.report.results import HygieneCheck
from inward.training.datasets import read_dataset


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def check(data_dir: Path, eval_tasks: list[str], n_val: int) -> list[HygieneCheck]:
    files = sorted(p for p in Path(data_dir).rglob("*.jsonl") if not p.name.startswith("."))
    held: dict[str, str] = {}
    for name in eval_tasks:
        t = T.get(name)
        for it in t.items("val")[:n_val]:
            held[_norm(it.text)] = f"{t.name}/{it.id}"
    rows = leaks = 0
    where: list[str] = []
    shared: list[str] = []
    index: dict[str, dict[str, T.Item]] = {}
    for path in files:
        data, manifest = read_dataset(path)
        by_item: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in data:
            tags = r.get("inward", {})
            task, item_id = tags.get("task"), tags.get("item_id")
            if task is None or item_id is None:
                continue
            rows += 1
            if task not in index:
                t = T.get(task)
                index[task] = {x.id: x for x in [*t.items("train"), *t.items("val")]}
            found = index[task].get(item_id)
            if found is not None and _norm(found.text) in held:
                leaks += 1
                if len(where) < 3:
                    where.append(f"{path.name}: {held[_norm(found.text)]}")
            if tags.get("kind") in ("self", "cross"):
                by_item[(task, item_id)].add(tags.get("property", ""))
        multi = [k for k, props in by_item.items() if len(props) > 1]
        if multi and manifest.get("dedup") not in (False, None):
            shared.append(f"{path.name}: {len(multi)} items")
        elif multi:
            shared.append(f"{path.name}: {len(multi)} items (deduplication turned off)")
    return [
        HygieneCheck(
            check="no held-out prompt in any training set",
            ok=leaks == 0,
            detail=f"{leaks} of {rows} training rows in {len(files)} files repeat one of {len(held)} held-out "
            "prompts" + (f" ({'; '.join(where)})" if where else ""),
        ),
        HygieneCheck(
            check="no input string shared between properties of a training set",
            ok=not shared,
            detail=(
                "; ".join(shared)
                + " in more than one property's pairs (a cross set fills a combination from other items when "
                "the target gave no usable answer to its own: more sizes.train_items_per_task avoids it)"
            )
            if shared
            else f"each item in one property's pairs only, {len(files)} files",
        ),
    ]
