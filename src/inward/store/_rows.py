"""Row types the store reads and writes: one frozen dataclass per table, fields named like its columns.

    from inward.store import ObjectRow
    row = ObjectRow(model="local/qwen2.5-0.5b", model_id="3f9a…", task="animals", item_id="3f2a…", template_hash="t1",
                    config_key="greedy", split="val", item_text="cat", raw="Dog.", cleaned="dog",
                    properties={"first_character": "d"})

Fields typed `Mapping`/`Any` hold JSON and are stored as TEXT. `created` (and `finished`) are filled in by the
store when left as None. The natural key of each table is listed in `inward.store._schema.TABLES`.

Behaviour rows are keyed by `model_id`, the model's content identity (`inward.backends.identity`: weights and
adapter digests, or API model id and server); `model` is the human ref string, a label only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Level = Literal["object", "hypothetical"]
RunStatus = Literal["running", "done", "failed"]
StepStatus = Literal["running", "done", "failed"]


def check_choice(value: str, choices: Any, what: str) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, got {value!r}")


@dataclass(frozen=True, slots=True)
class CallRow:
    """One cached model call. `key` is the caller's hash of the request; never put secrets in `request`."""

    key: str
    model: str
    request: Mapping[str, Any]
    response: Any
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    created: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """A model's object-level answer to one item (its behaviour), with the properties extracted from it.

    `compliance` is None when the answer passed the task's compliance rules, else the failed rule's name.
    `properties` maps property name → value (None when the property is undefined for this answer).
    """

    model: str
    model_id: str
    task: str
    item_id: str
    template_hash: str
    config_key: str
    split: str
    item_text: str
    raw: str
    sample: int = 0
    target: str | None = None
    cleaned: str | None = None
    compliance: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None
    run_id: str | None = None
    created: str | None = None


@dataclass(frozen=True, slots=True)
class HypotheticalRow:
    """A model's answer to a hypothetical question about one item and one property; `answer` is normalised."""

    model: str
    model_id: str
    task: str
    item_id: str
    property: str
    template_hash: str
    config_key: str
    split: str
    raw: str
    sample: int = 0
    answer: str | None = None
    compliance: str | None = None
    finish_reason: str | None = None
    run_id: str | None = None
    created: str | None = None


@dataclass(frozen=True, slots=True)
class DistributionRow:
    """Probability mass per property value, at the object level or the hypothetical level.

    `config_key` keys the *requested* settings (`inward.runs.distributions.DistributionConfig`: method, samples,
    coverage, max tokens, seed); `method` is how the backend actually computed it ("exact", "sampled",
    "logprobs"), `n_samples` how many samples it drew, `covered` the probability mass enumerated.
    """

    model: str
    model_id: str
    task: str
    item_id: str
    level: Level
    property: str
    template_hash: str
    config_key: str
    method: str
    probs: Mapping[str, float]
    covered: float | None = None
    forward_tokens: int | None = None
    n_samples: int | None = None
    created: str | None = None

    def __post_init__(self) -> None:
        check_choice(self.level, Level, "DistributionRow.level")


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a command or experiment; `provenance` records what produced it."""

    run_id: str
    kind: str
    name: str
    config: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    status: RunStatus = "running"
    created: str | None = None
    finished: str | None = None

    def __post_init__(self) -> None:
        check_choice(self.status, RunStatus, "RunRecord.status")


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A trained model or adapter: local (`path`) or hosted (`remote_id`), and the base it was trained on."""

    name: str
    base_ref: str
    kind: str  # "lora" | "openai-ft" | ...
    path: str | None = None
    remote_id: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    status: str = "ready"
    created: str | None = None
