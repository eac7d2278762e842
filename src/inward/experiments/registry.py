"""The registered experiments, in the order their steps run (`inward.experiments.base.register`)."""

from __future__ import annotations

from inward.experiments import (
    behaviour_change,  # noqa: F401
    calibration,  # noqa: F401
    cross_prediction,  # noqa: F401
    self_training,  # noqa: F401
)
from inward.experiments.base import REGISTRY, Experiment

# The controls, in the order they run: the cheap ones first (no training of their own), then the others.
from inward.experiments.controls import input_only  # noqa: F401, I001
from inward.experiments.controls import in_context  # noqa: F401
from inward.experiments.controls import sibling  # noqa: F401
from inward.experiments.controls import snapshot  # noqa: F401
from inward.experiments.controls import response_in_context  # noqa: F401
from inward.experiments.controls import paraphrase  # noqa: F401
from inward.experiments.controls import cross_scaling  # noqa: F401

BUILT_IN = ("self_training", "cross_prediction", "calibration", "behaviour_change")  # the paper's order


def get(name: str) -> type[Experiment]:
    from inward.errors import UserError

    if name not in REGISTRY:
        raise UserError(f"unknown experiment {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def ordered(names: list[str] | tuple[str, ...]) -> list[Experiment]:
    """Instances of the named experiments, each after the ones it names in `after`, else the built-in four in
    the paper's order, then the others in registration order."""
    wanted = [get(n) for n in dict.fromkeys(names)]
    order = {
        name: (BUILT_IN.index(name) if name in BUILT_IN else len(BUILT_IN) + i)
        for i, name in enumerate(REGISTRY)
    }
    out: list[type[Experiment]] = []
    pending = sorted(wanted, key=lambda cls: order[cls.name])
    while pending:
        names_in = {c.name for c in pending}
        ready = next(c for c in pending if not (set(c.after) & names_in) or c is pending[-1])
        out.append(ready)
        pending.remove(ready)
    return [cls() for cls in out]
