"""The registered experiments, in the order their steps run (`inward.experiments.base.register`)."""

from __future__ import annotations

from inward.experiments import (
    behaviour_change,  # noqa: F401
    calibration,  # noqa: F401
    cross_prediction,  # noqa: F401
    self_training,  # noqa: F401
    untrained,  # noqa: F401
)
from inward.experiments.base import REGISTRY, Experiment
from inward.experiments.controls import (
    cross_scaling,  # noqa: F401
    in_context,  # noqa: F401
    input_only,  # noqa: F401
    paraphrase,  # noqa: F401
    response_in_context,  # noqa: F401
    sibling,  # noqa: F401
    snapshot,  # noqa: F401
)

BUILT_IN = (
    "untrained",  # no training: the starting point, and all an untrainable (API, inspect) model can run
    "self_training",
    "cross_prediction",
    "calibration",
    "behaviour_change",  # the paper's four, in its order
    "input_only",
    "in_context",  # then the controls: the cheap ones first (no training of their own)
    "sibling",
    "snapshot",
    "response_in_context",
    "paraphrase",
    "cross_scaling",
)


def get(name: str) -> type[Experiment]:
    from inward.errors import UserError

    if name not in REGISTRY:
        raise UserError(f"unknown experiment {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def ordered(names: list[str] | tuple[str, ...]) -> list[Experiment]:
    """Instances of the named experiments, each after the ones it names in `after`, else the built-in ones in
    `BUILT_IN` order (the paper's four, then the controls), then the others in registration order."""
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
