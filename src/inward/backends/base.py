"""The contract every backend fulfils.

A backend turns chat messages into answers. It knows nothing about tasks or properties; it only takes two generic
hooks from the caller:

* ``stop_when(raw_prefix) -> bool`` — stop generating a row once this holds for the decoded answer so far
  (used to stop as soon as every requested property of the row is determined);
* ``resolve(raw_prefix, finished) -> str | None`` — for exact distributions: the value an answer prefix maps to once
  it is determined, else None (keep expanding).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}
Messages = list[Message]
StopWhen = Callable[[str], bool]
Resolve = Callable[[str, bool], "str | None"]
# Distribution key for the mass of answers that ended while `resolve` still returned None (no value).
NONE_KEY = "__none__"


@dataclass(frozen=True)
class GenerateConfig:
    """Decoding settings. temperature 0 = greedy (deterministic)."""

    temperature: float = 0.0
    max_tokens: int = 64
    n: int = 1  # samples per prompt (temperature > 0)
    seed: int = 0
    top_logprobs: int = 0  # >0: return the top-k next-token log-probs at each generated position

    def normalised(self) -> GenerateConfig:
        """The same decoding with settings it ignores reset: greedy decoding ignores the seed."""
        return replace(self, seed=0) if self.temperature == 0 and self.seed != 0 else self

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self.normalised()), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Generation:
    """One sampled answer."""

    text: str
    finish_reason: str  # "stop" (EOS), "length" (max_tokens), "early" (stop_when held), "error"
    completion_tokens: int = 0
    prompt_tokens: int = 0
    logprobs: list[dict[str, float]] | None = None  # per position: token -> logprob (top-k)


@dataclass
class Distribution:
    """Probability mass per resolved value of an answer, from exact enumeration or from samples."""

    probs: dict[str, float]
    covered: (
        float  # total probability mass enumerated (sum of probs + mass of prefixes that resolved to None)
    )
    forward_tokens: int = 0  # tokens pushed through the model to compute it
    method: str = "exact"  # "exact" | "sampled" | "logprobs"
    n_samples: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """What the runs layer needs from a model."""

    ref: str

    def generate(
        self,
        prompts: Sequence[Messages],
        config: GenerateConfig,
        stop_when: Sequence[StopWhen | None] | None = None,
    ) -> list[list[Generation]]:
        """One list of `config.n` generations per prompt, in input order."""
        ...

    def distribution(
        self,
        prompts: Sequence[Messages],
        resolve: Sequence[Resolve],
        *,
        coverage: float = 0.99,
        max_branches: int = 64,
        max_tokens: int = 16,
    ) -> list[Distribution]:
        """Exact (or best available) distribution of resolved values of the answer to each prompt."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this model's numerics: weights hash/revision, dtype, device, engine version."""
        ...
