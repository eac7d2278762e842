"""A/B stance tasks offline: wealth_seeking, power_seeking, myopic_reward, survival_instinct.

    from inward.tasks.stance import wealth_seeking, STANCES
    text, letter = wealth_seeking().val[0]
    # text: "<question>\\n\\nChoices:\\nA - ...\\nB - ...", letter: the option that matches the behaviour
    STANCES["wealth_seeking"]   # "wealth-seeking": what the ethical_stance property asks about

Questions are composed from the authored scenarios and options in `stance_text.py`. Train and val never share
a question stem (the split is made on rendered stems, 40% to val, per template), and the behaviour-matching
option is A in exactly half of the items of each split.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Sequence

from inward.tasks._build import Row, Rows, balanced_letters, seeded
from inward.tasks.multiple_choice import format_choices
from inward.tasks.stance_text import (
    MYOPIC_GOODS,
    MYOPIC_LATER,
    MYOPIC_QUALITATIVE,
    MYOPIC_SOON,
    MYOPIC_TEMPLATES,
    POWER,
    SURVIVAL,
    WEALTH,
    Group,
)

# task -> the behaviour its `ethical_stance` property asks about
STANCES: dict[str, str] = {
    "wealth_seeking": "wealth-seeking",
    "power_seeking": "power-seeking",
    "myopic_reward": "myopic",
    "survival_instinct": "survival",
}

Candidate = tuple[str, str, str]  # (stem, matching option, other option)
_VAL_SHARE = 0.4


def _expand(group: Group) -> list[list[list[Candidate]]]:
    """Per template, per rendered stem (in a fixed order): every distinct (stem, matching, other)."""
    out: list[list[list[Candidate]]] = []
    for template in group.templates:
        stems: dict[str, dict[Candidate, None]] = {}  # dicts as ordered sets
        for slots in group.slots:
            stem = template.format(**slots)
            cands = stems.setdefault(stem, {})
            for m in group.matching:
                for o in group.other:
                    cands[(stem, m.format(**slots), o.format(**slots))] = None
        out.append([list(c) for c in stems.values()])
    return out


def _round_robin(pools: list[list[Candidate]], n: int, task: str) -> list[Candidate]:
    """Take one candidate from each template's pool in turn, so all templates are about equally common."""
    out: list[Candidate] = []
    iters = [iter(p) for p in pools]
    while len(out) < n:
        before = len(out)
        for it in iters:
            cand = next(it, None)
            if cand is not None and len(out) < n:
                out.append(cand)
        assert len(out) > before, f"{task}: only {len(out)} distinct questions, {n} wanted"
    return out


def build(task: str, groups: Iterable[Group], n_train: int, n_val: int) -> Rows:
    rng = seeded(task, "assemble")
    pools: dict[str, list[list[Candidate]]] = {"train": [], "val": []}
    for group in groups:
        for stems in _expand(group):
            rng.shuffle(stems)
            if len(stems) == 1:
                n_val_stems = int(rng.random() < _VAL_SHARE)
            else:
                n_val_stems = max(1, round(_VAL_SHARE * len(stems)))
            for split, chosen in (("val", stems[:n_val_stems]), ("train", stems[n_val_stems:])):
                pool = [c for cands in chosen for c in cands]
                rng.shuffle(pool)
                if pool:
                    pools[split].append(pool)
    rows = {
        split: _to_rows(_round_robin(pools[split], n, task), rng)
        for split, n in (("train", n_train), ("val", n_val))
    }
    return Rows(train=rows["train"], val=rows["val"]).check(task)


def _to_rows(cands: Sequence[Candidate], rng: random.Random) -> list[Row]:
    assert len(cands) % 2 == 0, "an even count keeps A and B exactly balanced"
    shuffled = list(cands)
    rng.shuffle(shuffled)
    rows: list[Row] = []
    for (stem, matching, other), letter in zip(
        shuffled, balanced_letters(len(shuffled), "AB", rng), strict=True
    ):
        options = [matching, other] if letter == "A" else [other, matching]
        rows.append((format_choices(stem, options, header="Choices:"), letter))
    return rows


def _myopic_quantitative(rng: random.Random) -> list[Group]:
    slots: list[dict[str, str]] = []
    for one, many in MYOPIC_GOODS:
        for soon in MYOPIC_SOON:
            for later in MYOPIC_LATER:
                small = rng.randint(1, 12)
                large = small * rng.randint(2, 10) + rng.randint(0, 4)
                slots.append(
                    {
                        "small": f"{small} {one if small == 1 else many}",
                        "large": f"{large} {many}",
                        "soon": soon,
                        "later": later,
                    }
                )
    return [
        Group(templates=(t,), matching=("{small} {soon}",), other=("{large} {later}",), slots=tuple(slots))
        for t in MYOPIC_TEMPLATES
    ]


@functools.cache
def wealth_seeking() -> Rows:
    return build("wealth_seeking", WEALTH, n_train=480, n_val=320)


@functools.cache
def power_seeking() -> Rows:
    return build("power_seeking", POWER, n_train=480, n_val=320)


@functools.cache
def myopic_reward() -> Rows:
    groups = [*_myopic_quantitative(seeded("myopic_reward", "amounts")), MYOPIC_QUALITATIVE]
    return build("myopic_reward", groups, n_train=480, n_val=320)


@functools.cache
def survival_instinct() -> Rows:
    return build("survival_instinct", SURVIVAL, n_train=480, n_val=320)
