"""A scripted `ModelAccess` for experiment tests, and the hand computations its numbers are checked against.

Every model is a `FakeBackend` (tests/runs/fake_backend.py) whose answers are a pure function of its salt and
the prompt. Base models get the salt of their name; an adapter gets a salt hashed from its name, which the
pipeline derives from a digest of every training input (base, data, plan, seed, initial adapter), as real weights
would change with any of them. So M1
and M2 behave differently, a retrained adapter (any changed setting) answers differently, and a test can work
out every answer, hence every headline number, without inward's metrics code.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inward import properties as P
from inward import tasks as T
from inward.backends.identity import ModelId, model_id
from inward.prompts import DEFAULT
from inward.properties.compliance import check_hypothetical, check_object, normalize_answer
from inward.refs import ModelRef
from inward.training.base import TrainedModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runs"))
from fake_backend import SEPARATOR, FakeBackend

__all__ = ["SEPARATOR", "FakeBackend", "ScriptedModels"]

GROUP = {"among_a_or_c": "among_options", "among_b_or_d": "among_options"}


def group_of(prop: str) -> str:
    return GROUP.get(prop, prop)


class ScriptedModels:
    """`ModelAccess` over fakes; `fits` records every training call, `salts` every adapter's salt."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.salts: dict[str, str] = {}  # adapter name -> salt
        self.fits: list[dict[str, Any]] = []

    def salt(self, ref: str) -> str:
        r = ModelRef.parse(ref)
        return _adapter_salt(r.adapter) if r.adapter else r.name

    def backend(self, ref: str) -> FakeBackend:
        return FakeBackend(ref, salt=self.salt(ref))

    def identify(self, ref: str) -> ModelId:
        return model_id(self.backend(ref))

    def trainer(self, base: str, *, progress: bool = True) -> ScriptedTrainer:
        return ScriptedTrainer(self)

    def train_config(self, kind: str, plan: Any, seed: int) -> dict[str, Any]:
        return {"plan": plan.model_dump(), "seed": seed}

    def parameters(self, ref: str) -> int | None:
        """Made-up sizes: alpha is the larger model."""
        return {"alpha": 400_000_000, "beta": 100_000_000}.get(ModelRef.parse(ref).name)

    def release(self) -> None:
        pass


class ScriptedTrainer:
    """A `Trainer` that trains nothing: the adapter's answers follow from its name (see the module docstring)."""

    kind = "lora"

    def __init__(self, models: ScriptedModels) -> None:
        self.models = models

    def fit(self, data: Path, base: str, config: Any, *, name: str, out_dir: Path) -> TrainedModel:
        r = ModelRef.parse(base)
        self.models.salts[name] = _adapter_salt(name)
        rows = [line for line in Path(data).read_text(encoding="utf-8").split("\n") if line.strip()]
        self.models.fits.append(
            {
                "name": name,
                "base": str(r.base),
                "data": str(data),
                "plan": config["plan"],
                "init": r.adapter,
                "seed": config["seed"],
            }
        )
        return TrainedModel(
            ref=str(r.base.with_adapter(name)),
            name=name,
            base_ref=base,
            kind="lora",
            path=str(out_dir),
            out_dir=str(out_dir),
            config=config,
            metrics={"n_train": len(rows), "train_time_s": 0.0, "examples_per_s": 0.0, "train_loss": [0.5]},
        )


def _adapter_salt(name: str) -> str:
    return hashlib.sha256(f"adapter:{name}".encode()).hexdigest()[:12]


# -- hand computations ---------------------------------------------------------------------------------------


def _user(messages: list[dict[str, str]]) -> str:
    return next(m["content"] for m in messages if m["role"] == "user")


def greedy_answer(fake: FakeBackend, task: T.Task, item: T.Item) -> str:
    """The fake's answer as an early-stopped greedy run stores it: cut where every task property is fixed."""
    full = fake.object_answer(_user(DEFAULT.object_messages(task, item)))
    props = [P.get(p) for p in task.properties]
    for end in range(1, len(full) + 1):
        if all(p.determined(P.clean(full[:end]), False, target=item.target) for p in props):
            return full[:end]
    return full


def behaviour(fake: FakeBackend, tasks: Iterable[str], n: int, props: Sequence[str]) -> dict[tuple, str]:
    """(task, item_id, property) -> value, for compliant answers with a defined value of a wanted property."""
    out = {}
    for name in tasks:
        task = T.get(name)
        for item in task.items("val")[:n]:
            raw = greedy_answer(fake, task, item)
            if check_object(raw, task.compliance) is not None:
                continue
            for p in task.properties:
                value = P.get(p).extract(P.clean(raw), target=item.target)
                if p in props and value is not None:
                    out[(name, item.id, p)] = value
    return out


def hypothetical(fake: FakeBackend, key: tuple) -> tuple[str, bool]:
    """(normalised answer, compliant) of the fake's hypothetical answer for (task, item_id, property)."""
    task = T.get(key[0])
    item = next(it for it in task.items("val") if it.id == key[1])
    raw = fake.hypothetical_answer(_user(DEFAULT.hypothetical_messages(task, item, key[2])))
    return normalize_answer(raw), check_hypothetical(raw, P.get(key[2])) is None


def correct(fake: FakeBackend, key: tuple, value: str) -> bool:
    answer, ok = hypothetical(fake, key)
    return ok and answer == value.strip().lower()


def _mode_hits(values: dict[tuple, str]) -> dict[tuple, bool]:
    by: dict[tuple, list[str]] = {}
    for k, v in values.items():
        by.setdefault((k[0], k[2]), []).append(v.strip().lower())
    modes = {g: min(Counter(vs).items(), key=lambda vc: (-vc[1], vc[0]))[0] for g, vs in by.items()}
    return {k: v.strip().lower() == modes[(k[0], k[2])] for k, v in values.items()}


def table(hits: dict[tuple, bool], values: dict[tuple, str]) -> dict[str, tuple[int, int, float]]:
    """group (and "average") -> (n, k, mode baseline) over these rows."""
    base = _mode_hits(values)
    out = {}
    groups = sorted({group_of(k[2]) for k in hits})
    for g in [*groups, "average"]:
        keys = [k for k in hits if g == "average" or group_of(k[2]) == g]
        out[g] = (len(keys), sum(hits[k] for k in keys), sum(base[k] for k in keys) / len(keys))
    return out


def prediction_table(obj: dict[tuple, str], hypothetical_fake: FakeBackend, keys: Iterable[tuple]) -> dict:
    values = {k: obj[k] for k in keys}
    return table({k: correct(hypothetical_fake, k, v) for k, v in values.items()}, values)


def calibration_mad(
    obj_fake: FakeBackend, hypothetical_fake: FakeBackend, task: str, prop: str, n: int
) -> float:
    """Fakes have point-mass distributions at their whole greedy answers: the object value, and the
    hypothetical answer. Every point has x = 1, so there is one bin and MAD = 100 · |1 − share of prompts
    where the two agree|."""
    t = T.get(task)
    asked = behaviour(
        obj_fake, [task], n, [prop]
    )  # hypotheticals are asked where the greedy answer is usable
    ys = []
    for key in asked:
        item = next(it for it in t.items("val") if it.id == key[1])
        full = obj_fake.object_answer(_user(DEFAULT.object_messages(t, item)))
        if check_object(full, t.compliance) is not None:
            continue  # non-compliant object mass is dropped; nothing left to compare
        value = P.get(prop).extract(P.clean(full), target=item.target)
        if value is None:
            continue
        hyp = normalize_answer(
            hypothetical_fake.hypothetical_answer(_user(DEFAULT.hypothetical_messages(t, item, prop)))
        )
        ys.append(1.0 if hyp.strip().lower() == value.strip().lower() else 0.0)
    return 100 * abs(1 - sum(ys) / len(ys))


def _subset(keys: list[tuple], m: int, *parts: object) -> list[tuple]:
    """The documented seeded subset of entropy matching (inward.metrics._entropy), rewritten here."""
    digest = hashlib.sha256(repr((42, *parts)).encode("utf-8")).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    ordered = sorted(keys)
    return [ordered[i] for i in np.sort(rng.choice(len(ordered), size=m, replace=False))]


def entropy_matched(old: dict[tuple, str], new: dict[tuple, str]) -> tuple[list[tuple], list[tuple]]:
    """Per (task, reporting group): for each old value, keep min(count_old, count_new) prompts of it from
    each condition (SPEC §13)."""
    keep_old: list[tuple] = []
    keep_new: list[tuple] = []
    groups = sorted({(k[0], group_of(k[2])) for k in old})
    for g in groups:
        o = {k: v.strip().lower() for k, v in old.items() if (k[0], group_of(k[2])) == g}
        n = {k: v.strip().lower() for k, v in new.items() if (k[0], group_of(k[2])) == g}
        co, cn = Counter(o.values()), Counter(n.values())
        for value, c1 in sorted(co.items(), key=lambda vc: (-vc[1], vc[0]))[:100]:
            m = min(c1, cn.get(value, 0))
            if m:
                keep_old += _subset([k for k, v in o.items() if v == value], m, g, value, 1)
                keep_new += _subset([k for k, v in n.items() if v == value], m, g, value, 2)
    return keep_old, keep_new
