"""The settings that make behaviour: object-level decoding (`ObjectConfig`) and distribution requests
(`DistributionConfig`). Both are part of the key every stored row is found by, so a change of any setting that
changes the numbers gives new rows, never the old ones.

    ObjectConfig()                              # "greedy": temperature 0, 48 answer tokens
    ObjectConfig.parse("greedy,mode_of=5")      # the paper's API control: the mode of 5 greedy samples
    ObjectConfig.parse("t=1,samples=5,seed=1")  # sampled behaviour
    object_config_for("openai/gpt-4o", None)    # "auto": greedy for local models, greedy,mode_of=5 for API ones

An object config is a *named* choice: `inward object` prints the name its rows are stored under, and `hypothetical`,
`score`, `dataset build` and the experiment file take the same name (`--object-config NAME`), so a later command
always reads the rows an earlier one made with those settings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from inward.backends.base import GenerateConfig
from inward.errors import UserError

API_PROVIDERS = ("openai", "openai-compatible", "anthropic")
API_MODE_OF = 5  # SPEC §7: the paper takes the mode of 5 samples of OpenAI models at temperature 0
MODE_PREFIX_CHARS = 40  # ... of the responses truncated to their first 40 characters
NO_MODE = "no_mode"  # compliance rule of a mode-of-N row whose N truncated answers all differ (dropped)


@dataclass(frozen=True)
class ObjectConfig:
    """Object-level decoding. `mode_of` > 1: ask `mode_of` times at temperature 0 and keep the most common
    answer (first 40 characters), dropping the prompt when all differ, to remove serving non-determinism."""

    temperature: float = 0.0
    max_tokens: int = 48
    samples: int = 1
    seed: int = 0
    mode_of: int = 1

    def __post_init__(self) -> None:
        if self.temperature < 0 or self.max_tokens < 1 or self.samples < 1 or self.mode_of < 1:
            raise UserError(
                f"bad object config {self.name!r}: temperature ≥ 0, max_tokens, samples and mode_of ≥ 1"
            )
        if self.mode_of > 1 and (self.temperature != 0 or self.samples != 1):
            raise UserError("mode_of is the greedy (temperature 0, one sample) control; drop samples/t")
        if self.temperature == 0 and self.seed != 0:  # greedy decoding ignores the seed: one key, one name
            object.__setattr__(self, "seed", 0)

    @property
    def name(self) -> str:
        parts = ["greedy" if self.temperature == 0 else f"t={self.temperature:g}"]
        default = ObjectConfig()
        for f in ("samples", "max_tokens", "seed", "mode_of"):
            if getattr(self, f) != getattr(default, f):
                parts.append(f"{f}={getattr(self, f)}")
        return ",".join(parts)

    @classmethod
    def parse(cls, spec: str) -> ObjectConfig:
        """Inverse of `name`: "greedy" or "t=T", then ",field=value" for samples, max_tokens, seed, mode_of."""
        head, *rest = [p.strip() for p in spec.split(",")]
        values: dict[str, Any] = {}
        try:
            if head != "greedy":
                key, eq, val = head.partition("=")
                if key not in ("t", "temperature") or not eq:
                    raise ValueError(head)
                values["temperature"] = float(val)
            for part in rest:
                key, eq, val = part.partition("=")
                if key not in {"samples", "max_tokens", "seed", "mode_of"} or not eq:
                    raise ValueError(part)
                values[key] = int(val)
        except ValueError:
            raise UserError(
                f"bad object config {spec!r}: expected 'greedy' or 't=T', then ',samples=N', ',max_tokens=N', "
                "',seed=N', ',mode_of=N' (e.g. greedy,mode_of=5)"
            ) from None
        return cls(**values)

    def generate_config(self) -> GenerateConfig:
        n = self.mode_of if self.mode_of > 1 else self.samples
        return GenerateConfig(temperature=self.temperature, max_tokens=self.max_tokens, n=n, seed=self.seed)

    def key(self) -> str:
        """The stored rows' `config_key`. Without mode_of it is the decoding config's key (as before v3)."""
        base = GenerateConfig(
            temperature=self.temperature, max_tokens=self.max_tokens, n=self.samples, seed=self.seed
        ).key()
        if self.mode_of == 1:
            return base
        return hashlib.sha256(f"{base}:mode_of={self.mode_of}".encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name}


GREEDY = ObjectConfig()


def object_config_for(model: str, spec: str | ObjectConfig | None = None) -> ObjectConfig:
    """The object config to use for `model`: `spec` when given (a name or an ObjectConfig); else "auto":
    greedy for local models, and for API models greedy with mode_of=5, as the paper does (SPEC §7)."""
    if isinstance(spec, ObjectConfig):
        return spec
    if spec is not None and spec != "auto":
        return ObjectConfig.parse(spec)
    provider = model.partition("/")[0]
    return replace(GREEDY, mode_of=API_MODE_OF) if provider in API_PROVIDERS else GREEDY


def decoded_config(
    model: str,
    *,
    temperature: float = 0.0,
    max_tokens: int = GREEDY.max_tokens,
    samples: int = 1,
    seed: int = 0,
    mode_of: int | None = None,
) -> ObjectConfig:
    """The object config of these decoding settings for `model`; `mode_of=None` takes the "auto" default
    (5 for API models) where it applies, i.e. for greedy single-sample decoding, else 1."""
    if mode_of is None:
        mode_of = object_config_for(model).mode_of if temperature == 0 and samples == 1 else 1
    return ObjectConfig(
        temperature=temperature, max_tokens=max_tokens, samples=samples, seed=seed, mode_of=mode_of
    )


DistributionMethod = Literal["exact", "sampled"]


@dataclass(frozen=True)
class DistributionConfig:
    """A distribution request. `exact`: enumerate answers to `coverage` (the backend may fall back to
    top-logprobs or sampling; the stored row says which it used). `sampled`: `samples` answers at temperature 1
    with `seed`. `max_tokens` caps the answer length either way."""

    method: DistributionMethod = "exact"
    samples: int = 20
    coverage: float = 0.99
    max_tokens: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("exact", "sampled"):
            raise UserError(f"distribution method must be exact or sampled, not {self.method!r}")
        if self.samples < 1 or self.max_tokens < 1 or not 0 < self.coverage <= 1:
            raise UserError("distribution settings: samples and max_tokens ≥ 1, coverage in (0, 1]")

    def settings(self) -> dict[str, Any]:
        """Only the settings that change the result (an exact request has no samples or seed, a sampled one
        no coverage); fallbacks of an exact request sample with `samples` and `seed`, so they stay in."""
        d = asdict(self)
        if self.method == "sampled":
            d.pop("coverage")
        return d

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.settings(), sort_keys=True).encode()).hexdigest()[:16]
