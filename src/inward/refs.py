"""`ModelRef`: one string that names a model and how to reach it.

local/qwen2.5-0.5b                      a bundled offline model (see `inward models list`)
local/smollm2-135m+adapter=m1-self      the same with a LoRA adapter (a name registered in the store, or a path)
hf/<path-or-hub-id>                     any Hugging Face causal LM folder (hub ids need network)
openai/gpt-4o-mini                      OpenAI (key from OPENAI_API_KEY)
openai-compatible/<model>@<base_url>    vLLM, SGLang, llama.cpp server, Together, ... (key env var configurable)
vllm/smollm2-135m[@<base_url>]          a local/bundled model served by vLLM: started by inward, or attached to by URL;
                                        +adapter= adapters are loaded into the server (`inward.backends.vllm`)
anthropic/claude-3-5-sonnet-20240620    Anthropic (key from ANTHROPIC_API_KEY)
inspect/<provider>/<model>              any inspect_ai model API (inspect/mockllm/model, inspect/google/gemini-1.5-pro)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inward.errors import UserError

Provider = Literal["local", "hf", "openai", "openai-compatible", "anthropic", "inspect", "vllm"]
PROVIDERS: tuple[Provider, ...] = (
    "local",
    "hf",
    "openai",
    "openai-compatible",
    "anthropic",
    "inspect",
    "vllm",
)


@dataclass(frozen=True)
class ModelRef:
    provider: Provider
    name: str
    adapter: str | None = None
    base_url: str | None = None

    @classmethod
    def parse(cls, ref: str | ModelRef) -> ModelRef:
        if isinstance(ref, ModelRef):
            return ref
        provider, sep, rest = ref.partition("/")
        if not sep or provider not in PROVIDERS or not rest:
            raise UserError(
                f"bad model ref {ref!r}: expected PROVIDER/NAME with PROVIDER one of {', '.join(PROVIDERS)} "
                "(e.g. local/qwen2.5-0.5b)"
            )
        adapter = None
        if "+adapter=" in rest:
            rest, _, adapter = rest.partition("+adapter=")
            if not adapter:
                raise UserError(f"bad model ref {ref!r}: '+adapter=' needs a name or path")
        base_url = None
        if provider == "openai-compatible":
            rest, at, base_url = rest.rpartition("@")
            if not at or not rest or not base_url.startswith(("http://", "https://")):
                raise UserError(
                    f"bad model ref {ref!r}: expected openai-compatible/MODEL@http://HOST:PORT/v1"
                )
        if provider == "vllm":  # an optional server to attach to: vllm/MODEL@http://HOST:PORT/v1
            name, at, url = rest.rpartition("@")
            if at and url.startswith(("http://", "https://")):
                if not name:
                    raise UserError(f"bad model ref {ref!r}: expected vllm/MODEL@http://HOST:PORT/v1")
                rest, base_url = name, url
        if provider == "inspect":
            api, slash, model = rest.partition("/")
            if not slash or not api or not model or adapter is not None:
                raise UserError(
                    f"bad model ref {ref!r}: expected inspect/PROVIDER/MODEL as inspect names it "
                    "(e.g. inspect/mockllm/model), without +adapter="
                )
        return cls(provider=provider, name=rest, adapter=adapter, base_url=base_url)  # type: ignore[arg-type]

    @property
    def base(self) -> ModelRef:
        """The same model without its adapter."""
        return ModelRef(self.provider, self.name, None, self.base_url)

    def with_adapter(self, adapter: str) -> ModelRef:
        return ModelRef(self.provider, self.name, adapter, self.base_url)

    def __str__(self) -> str:
        s = f"{self.provider}/{self.name}"
        if self.base_url:
            s += f"@{self.base_url}"
        if self.adapter:
            s += f"+adapter={self.adapter}"
        return s
