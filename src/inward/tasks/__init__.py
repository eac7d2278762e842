"""Object-level tasks: every task of the paper's main study, generated offline, and loaders for the paper's
data.

    from inward import tasks
    tasks.names()                                 # 7 training + 6 held-out tasks
    task = tasks.get("countries_long")
    items = task.items("val")                     # list[Item]; ids are stable content hashes
    prompt = task.render(items[0])                # the object-level user message
    tasks.register_paper_tasks("../paper-data")   # adds paper:<task> tasks that use the paper's own strings

Offline items are generated with seeded RNGs from word lists, fact tables and scenarios written for this
project (modules `sequences`, `encyclopedia`, `stories`, `multiple_choice`, `stance`), so they are identical
on every machine. `paper` loads and checks the paper's `train_<name>.jsonl` / `val_<name>.jsonl` files and its
released prompt files.
"""

from __future__ import annotations

from inward.tasks._task import Item, ItemSource, Role, Split, Task, stable_id
from inward.tasks.paper import (
    CheckReport,
    PaperDatasets,
    ReleaseLoad,
    ReleaseRow,
    check_dir,
    load_paper_datasets,
    load_release,
    register_paper_tasks,
)
from inward.tasks.registry import (
    HELD_OUT_TASKS,
    INSTRUCTIONS,
    TRAINING_TASKS,
    all_tasks,
    get,
    names,
    register,
    stance_of,
)
from inward.tasks.stance import STANCES

__all__ = [
    "HELD_OUT_TASKS",
    "INSTRUCTIONS",
    "STANCES",
    "TRAINING_TASKS",
    "CheckReport",
    "Item",
    "ItemSource",
    "PaperDatasets",
    "ReleaseLoad",
    "ReleaseRow",
    "Role",
    "Split",
    "Task",
    "all_tasks",
    "check_dir",
    "get",
    "load_paper_datasets",
    "load_release",
    "names",
    "register",
    "register_paper_tasks",
    "stable_id",
    "stance_of",
]
