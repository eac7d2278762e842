"""inward: measure and train introspection (self-prediction) in language models.

Implements Binder et al. 2024, "Looking Inward: Language Models Can Learn About Themselves by Introspection".

    import inward
    m1, m2 = inward.get_model("local/qwen2.5-0.5b"), inward.get_model("local/smollm2-135m")
    inward.object_level(m1, tasks=["animals_long"], limit=20)       # M1's behaviour, stored
    inward.hypothetical(m1, tasks=["animals_long"], limit=20)       # M1 predicting itself
    inward.hypothetical(m2, about=m1, tasks=["animals_long"])        # M2 predicting M1 (cross-prediction)
    inward.score(object=m1, hypothetical=m2, tasks=["animals_long"]).table
    results = inward.run("experiment.yaml")                           # a whole experiment; inward.load("demo")

The store, answer cache and workspace are the CLI's (`inward.workspace(path)` picks a folder). Modules for
the rest: `inward.tasks`, `inward.properties`, `inward.prompts`, `inward.models`, `inward.metrics`,
`inward.training`, `inward.store` (and `inward.store.export`), `inward.interop` (inspect_ai).
"""

from __future__ import annotations

from inward._api import (
    Behaviour,
    Hypotheticals,
    Model,
    Workspace,
    build_dataset,
    demo,
    get_model,
    hypothetical,
    load,
    object_level,
    plan,
    render_report,
    run,
    score,
    train,
    workspace,
)
from inward.errors import UserError

__version__ = "0.1.0"

__all__ = [
    "Behaviour",
    "Hypotheticals",
    "Model",
    "UserError",
    "Workspace",
    "__version__",
    "build_dataset",
    "demo",
    "get_model",
    "hypothetical",
    "load",
    "object_level",
    "plan",
    "render_report",
    "run",
    "score",
    "train",
    "workspace",
]
