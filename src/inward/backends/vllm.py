"""`VLLMBackend`: `vllm/` refs, a local or bundled model served by vLLM, with inward's adapters loaded into it.

    vllm/smollm2-135m                           inward starts a server for the bundled model (once per process)
    vllm/smollm2-135m+adapter=m1-self           the same server; the adapter is loaded into it by name
    vllm//data/llama-3.1-8b                     any local HF folder
    vllm/llama-3.1-8b@http://gpu-box:8000/v1    a server that is already running (started with --enable-lora
                                                and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True to take adapters)

    backend = make_backend("vllm/smollm2-135m+adapter=m1-self", adapter_path=adapter_resolver(store))
    backend.generate(prompts, GenerateConfig(max_tokens=16))     # chat completions, as `OpenAICompatBackend`
    backend.distribution(prompts, resolvers)                     # prefix expansion through /v1/completions
    backend.close()                                              # unloads the adapter (its last user does)

Requests, retries, the request budget and the sampling fallback are `OpenAICompatBackend`'s. What this adds:

* the server (`vllm_server`): started for the base model with LoRA enabled, shared by the base and all its
  adapters, stopped at exit; options from the experiment file's `vllm:` section (`VLLMOptions`);
* adapters: registered with `/v1/load_lora_adapter` under ``<name>.<first 10 hex of their content digest>``
  (a retrained adapter under a reused name gets a new server name, never the old weights) and unloaded with
  `/v1/unload_lora_adapter` when the last backend using them closes or is garbage-collected;
* identity: the content of the base weights and the adapter, marked as vLLM's (`vllm_config.vllm_identity`);
  the fingerprint adds the engine, vLLM's version and the launch settings that change numerics, never the port;
* distributions by prefix expansion: the prompt is rendered with the base model's own chat template on
  inward's side (as the local engine does) and sent as token ids to `/v1/completions` with ``max_tokens=1`` and
  the top `max_logprobs` next tokens; answer prefixes are expanded best-first exactly as the local exact engine
  does (`_local_exact._Tree`): the prefixes of one step go in one request (a list of prompts), and the
  prompts' trees grow concurrently.

Error bound of an expanded distribution: every value's probability is the exact mass of the prefixes that
resolved to it, so it is a lower bound of the true value (up to the engine's float numerics); what is missing
is ``1 - covered``, split into mass beyond each expanded prefix's top-k tokens (``extra["unexamined_mass"]``), in
prefixes left unexpanded (``open_mass``) and in prefixes cut at `max_tokens` (``truncated_mass``). So for every
value v, ``0 <= p_true(v) - p(v) <= 1 - covered``, and the total variation distance to the true distribution is
at most ``1 - covered``. When the completions endpoint is refused, distributions fall back to top-logprobs on
chat completions (`openai_compat.logprob_distribution`), then to sampling.
"""

from __future__ import annotations

import logging
import math
import re
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inward.backends._http_base import RequestRejected
from inward.backends._http_common import InvalidResponse, gather_or_cancel, public_url
from inward.backends._local_exact import MAX_CHILDREN, TAIL_SHARE, _Tree
from inward.backends.base import Distribution, Messages, Resolve
from inward.backends.identity import folder_sha, weights_sha
from inward.backends.openai_compat import OpenAICompatBackend
from inward.backends.vllm_config import VLLMOptions, model_folder, vllm_identity
from inward.backends.vllm_server import VLLMServer, attached_server, shared_server
from inward.errors import UserError
from inward.refs import ModelRef

log = logging.getLogger("inward.backends.vllm")
ENGINE_VERSION = "inward-vllm/1"  # bump when how inward asks vLLM changes (prompt rendering, expansion)
TOKEN_ID = "token_id:"


class _Vocab:
    """The two things the best-first tree needs from a tokenizer: EOS ids and prefix decoding."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        if getattr(self.tokenizer, "chat_template", None) is None:
            raise UserError(f"{folder} has no chat template; use an instruction-tuned (chat) model")
        ids: set[int] = set()
        sources: list[Any] = [self.tokenizer]
        try:
            from transformers import GenerationConfig

            sources.append(GenerationConfig.from_pretrained(str(folder), local_files_only=True))
        except (OSError, ValueError):
            pass
        for source in sources:
            value = getattr(source, "eos_token_id", None)
            ids.update([value] if isinstance(value, int) else [int(v) for v in value or []])
        self.eos_ids = frozenset(ids)
        backend = getattr(self.tokenizer, "_tokenizer", None)
        self._fast = getattr(backend, "decode", None)

    def encode(self, messages: Messages) -> list[int]:
        """As `LocalModel.encode`: the chat template's text, tokenized without extra special tokens."""
        cont = bool(messages) and messages[-1].get("role") == "assistant"
        text = self.tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=not cont, continue_final_message=cont
        )
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        if self._fast is not None:
            return str(self._fast(list(ids), skip_special_tokens=True))
        return str(
            self.tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False)
        )


class VLLMBackend(OpenAICompatBackend):
    """A model on a vLLM server (see the module docstring); `make_vllm_backend` builds one from a ref."""

    providers = ("vllm",)  # type: ignore[assignment]

    def __init__(
        self,
        ref: ModelRef | str,
        *,
        server: VLLMServer,
        folder: Path | None,
        adapter: Path | None = None,
        expand: bool = True,
        expand_width: int = 8,
        **http_options: Any,
    ) -> None:
        """`server`: the running server; `folder`: the base weights on this machine (None: the server's only;
        then identity is by served name and distributions use chat top-logprobs); `adapter`: a PEFT folder to
        load into the server; `expand`: distributions by prefix expansion (else chat top-logprobs);
        `expand_width`: prefixes of one prompt expanded at once."""
        self.server = server
        self.folder = folder
        self.adapter = adapter
        self.expand = expand and folder is not None
        self.expand_width = expand_width
        # Children asked per expanded prefix: as many as the local engine keeps (MAX_CHILDREN), and up to the
        # server's limit where the rest still carries mass that matters (the local engine sorts all of them
        # there). Both are lowered to an attached server's own limit when it says so.
        self.max_k = server.options.max_logprobs  # -1: the whole vocabulary
        self.top_k = MAX_CHILDREN if self.max_k < 0 else min(self.max_k, MAX_CHILDREN)
        self._vocab: _Vocab | None = None
        parsed = ModelRef.parse(ref)
        self.lora_name: str | None = None
        if adapter is not None:
            label = Path(parsed.adapter or adapter).name
            if label == "adapter":  # a trained model's folder, <name>/adapter: its name is the parent's
                label = Path(parsed.adapter or adapter).parent.name or label
            self.lora_name = f"{label}.{folder_sha(adapter)[:10]}"
        super().__init__(parsed, **http_options)
        self.sdk_name = f"{self.sdk_name}; vllm {server.version()}"
        self._release = None
        if self.lora_name is not None and adapter is not None:
            server.acquire_adapter(self.lora_name, adapter)
            # unloaded when this backend is closed or collected (the pipeline drops backends before training)
            self._release = weakref.finalize(self, server.release_adapter, self.lora_name)

    @property
    def served_model(self) -> str:
        return self.lora_name or self.server.served_name

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def identity(self) -> dict[str, Any]:
        return vllm_identity(self.folder, self.model_ref, self.adapter)

    def fingerprint(self) -> dict[str, Any]:
        """Engine, vLLM version, launch numerics, weights and adapter digests; the server's URL only when it
        was attached to (a started server's port changes every run, its answers do not)."""
        fp = {
            "engine": ENGINE_VERSION,
            "vllm": self.server.version(),
            "launch": self.server.options.numerics() if self.server.started_here else "attached",
            "served_model": self.server.served_name,
            "weights_sha256": weights_sha(self.folder) if self.folder is not None else None,
            "adapter_sha256": folder_sha(self.adapter) if self.adapter is not None else None,
        }
        if not self.server.started_here:
            fp["base_url"] = public_url(self.server.base_url)
        fp.update({k: v for k, v in self._fingerprint_extra().items() if k != "served_model"})
        return fp

    def close(self) -> None:
        if self._release is not None:
            self._release()  # idempotent: a finalizer runs once
        super().close()

    # ---- distributions ------------------------------------------------------------------------------------
    def distribution(
        self,
        prompts: Sequence[Messages],
        resolve: Sequence[Resolve],
        *,
        coverage: float = 0.99,
        max_branches: int = 64,
        max_tokens: int = 16,
    ) -> list[Distribution]:
        """Best-first prefix expansion through /v1/completions (see the module docstring for the bound)."""
        if not self.expand:
            return super().distribution(
                prompts, resolve, coverage=coverage, max_branches=max_branches, max_tokens=max_tokens
            )
        if len(resolve) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(resolve)} resolve functions")
        if not 0 < coverage <= 1:
            raise UserError("coverage must be in (0, 1]")

        def failed(exc: Any) -> Distribution:
            return Distribution(probs={}, covered=0.0, method="exact", extra={"error": exc.reason})

        coros = [
            self._guarded(self._expanded(list(p), r, coverage, max_branches, max_tokens), failed)
            for p, r in zip(prompts, resolve, strict=True)
        ]
        return self._run(gather_or_cancel(coros))

    @property
    def vocab(self) -> _Vocab:
        if self._vocab is None:
            assert self.folder is not None
            self._vocab = _Vocab(self.folder)
        return self._vocab

    async def _expanded(
        self, messages: Messages, resolve: Resolve, coverage: float, max_branches: int, max_tokens: int
    ) -> Distribution:
        if not self.expand:  # an earlier prompt found the endpoint refused
            return await self._distribution_one(messages, resolve, max_branches, max_tokens)
        prompt = self.vocab.encode(messages)
        tree = _Tree(self.vocab, resolve, coverage, max_branches, max_tokens, self.expand_width)  # type: ignore[arg-type]
        tail_limit = TAIL_SHARE * (1 - coverage)
        try:
            nodes = [tree.root]
            while nodes:
                children = await self._children(
                    [[*prompt, *n.tokens] for n in nodes], [n.logp for n in nodes], tail_limit
                )
                for node, (lp, ids) in zip(nodes, children, strict=True):
                    tree.set_children(node, lp, ids)
                tree.expanded += len(nodes) - (nodes[0] is tree.root)
                nodes = tree.select()
        except RequestRejected as exc:
            if exc.status not in (400, 404, 422):
                raise
            limit = re.search(r"max allowed: (\d+)", exc.server_message)
            if limit and int(limit.group(1)) > 0 and (self.max_k < 0 or int(limit.group(1)) < self.max_k):
                self.max_k = int(limit.group(1))
                self.top_k = min(self.top_k, self.max_k)
                log.info(
                    "%s: the server returns at most %d logprobs; expanding with those", self.ref, self.max_k
                )
                return await self._expanded(messages, resolve, coverage, max_branches, max_tokens)
            self._no_expansion(f"HTTP {exc.status}: {exc.server_message[:160]}")
            return await self._distribution_one(messages, resolve, max_branches, max_tokens)
        d = tree.distribution(len(prompt))
        d.extra.update({"top_logprobs": self.top_k, "max_logprobs": self.max_k, "engine": "vllm"})
        return d

    async def _children(
        self, prompts: list[list[int]], node_logp: list[float], tail_limit: float
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The `top_k` best next tokens of each prefix; again with `max_k` for the prefixes whose remaining
        tail carries more than `tail_limit` of the total mass (as `_local_exact._top_children` decides)."""
        out = await self._next_tokens(prompts, self.top_k)
        wide = [
            i
            for i, ((lp, _), logp) in enumerate(zip(out, node_logp, strict=True))
            if (self.max_k < 0 or self.max_k > len(lp))
            and len(lp) >= self.top_k
            and (1 - float(np.exp(lp).sum())) * math.exp(logp) > tail_limit
        ]
        if wide:
            for i, got in zip(
                wide, await self._next_tokens([prompts[i] for i in wide], self.max_k), strict=True
            ):
                out[i] = got
        return out

    async def _next_tokens(self, prompts: list[list[int]], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The top `k` next tokens after each token-id prompt (log-probs descending, token ids), all of them
        in one request (the expanded prefixes of one step: one HTTP round trip, one batch on the server)."""

        async def send() -> list[tuple[np.ndarray, np.ndarray]]:
            resp = await self._client.completions.create(
                model=self.served_model,
                prompt=prompts,
                max_tokens=1,
                temperature=0.0,
                logprobs=k,
                extra_body={"return_tokens_as_token_ids": True},
            )
            usage = getattr(resp, "usage", None)
            self.usage.add_tokens(getattr(usage, "prompt_tokens", 0) or 0, 0, self.price_per_mtok)
            choices = sorted(getattr(resp, "choices", None) or [], key=lambda c: c.index or 0)
            if len(choices) != len(prompts):
                raise InvalidResponse(f"{len(choices)} completions for {len(prompts)} prompts")
            return [_parse_top(c) for c in choices]

        return await self._call(send)

    def _no_expansion(self, why: str) -> None:
        if self.expand:
            self.expand = False
            self.usage.fallbacks["expansion"] = self.usage.fallbacks.get("expansion", 0) + 1
            log.warning(
                "%s: prefix expansion refused (%s); distributions use chat top-logprobs", self.ref, why
            )


def _parse_top(choice: Any) -> tuple[np.ndarray, np.ndarray]:
    logprobs = getattr(choice, "logprobs", None)
    top = getattr(logprobs, "top_logprobs", None) if logprobs is not None else None
    if not top or not isinstance(top[0], dict):
        raise InvalidResponse("completion without top logprobs")
    pairs = []
    for token, lp in top[0].items():
        if not str(token).startswith(TOKEN_ID):
            raise RequestRejected("the server ignores return_tokens_as_token_ids", 400, "no token ids")
        pairs.append((float(lp), int(str(token)[len(TOKEN_ID) :])))
    pairs.sort(key=lambda p: -p[0])
    return np.array([p[0] for p in pairs], dtype=np.float64), np.array([p[1] for p in pairs], dtype=np.int64)


def make_vllm_backend(
    ref: ModelRef | str,
    *,
    adapter: Path | None = None,
    server_options: VLLMOptions | dict[str, Any] | None = None,
    **http_options: Any,
) -> VLLMBackend:
    """The backend of a `vllm/` ref: the shared server for its base (started, or attached to by URL) and its
    adapter folder (already resolved) loaded into it."""
    r = ModelRef.parse(ref)
    options = (
        server_options if isinstance(server_options, VLLMOptions) else VLLMOptions(**(server_options or {}))
    )
    folder = model_folder(r)
    if r.base_url:
        server = attached_server(r.base_url, r.name, options)
    else:
        assert folder is not None
        server = shared_server(folder, r.name if "/" not in r.name else folder.name, options)
    http_options.setdefault("concurrency", options.concurrency)
    http_options.setdefault("timeout", options.timeout_s)
    return VLLMBackend(r, server=server, folder=folder, adapter=adapter, **http_options)


__all__ = ["ENGINE_VERSION", "VLLMBackend", "make_vllm_backend"]
