"""Untrained self- and cross-prediction from Python, as in a notebook cell (README "Python API").

    python examples/notebook.py                  # the bundled models; INWARD_M1 / INWARD_M2 pick others

Everything lands in the workspace's store (./inward-workspace, or $INWARD_WORKSPACE), shared with the CLI,
so running it again answers nothing twice.
"""

import os

import inward

tasks, n = ["animals_long", "mmlu_non_cot"], int(os.environ.get("INWARD_EXAMPLE_ITEMS", "5"))
m1 = inward.get_model(os.environ.get("INWARD_M1", "local/qwen2.5-0.5b"))
m2 = inward.get_model(os.environ.get("INWARD_M2", "local/smollm2-135m"))

print(inward.object_level(m1, tasks=tasks, limit=n).summary())  # M1's behaviour
inward.hypothetical(m1, tasks=tasks, limit=n)  # M1 predicting itself
inward.hypothetical(m2, about=m1, tasks=tasks, limit=n)  # M2 predicting M1

own = inward.score(object=m1, hypothetical=m1, tasks=tasks)
cross = inward.score(object=m1, hypothetical=m2, tasks=tasks)
print(own.summary())
print(cross.summary())
print(
    own.table[["group", "n", "acc", "baseline"]].merge(
        cross.table[["group", "acc"]], on="group", suffixes=("_self", "_cross")
    )
)
