"""The local backend: a transformers causal LM (+ optional PEFT LoRA adapter) on CPU or CUDA.

    from inward.backends.local import LocalBackend
    lm = LocalBackend("~/.cache/inward/hf/smollm2-135m", adapter="runs/x/m1")
    lm.generate([[{"role": "user", "content": "Name an animal."}]], GenerateConfig(max_tokens=16))
    lm.distribution(prompts, [first_word] * len(prompts))       # exact, no sampling
    lm.stats.as_dict()                                           # forwards, tokens, wall time

Where the speed comes from: prompts sorted by length and left-padded, one prefill per prompt (shared by its
samples) and one per beginning that several prompts share (`_local_prefix`: the hypotheticals of one item), a hand-written decode loop over the KV cache in which a row leaves the batch the moment it ends
(EOS, `max_tokens`, or `stop_when` on its text) and queued prompts take the free places (`_local_decode`),
and exact answer distributions by batched best-first tree expansion instead of many samples (`_local_exact`).

Numerics: fp32 on CPU and bf16 on CUDA by default; softmaxes always in fp32. Greedy answers do not depend on
early stopping (an early-stopped answer is a prefix of the full one). They can depend on batching only through
floating-point reduction order, which differs between batch shapes; bucketing by length keeps padding rare.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from inward._threads import apply_threads
from inward.backends._local_core import EngineStats, LocalModel, timed
from inward.backends._local_decode import Job, generate_jobs
from inward.backends._local_exact import exact_bucket
from inward.backends._local_prefix import share_batches
from inward.backends.base import Distribution, GenerateConfig, Generation, Messages, Resolve, StopWhen
from inward.backends.identity import folder_sha, local_identity, weights_sha
from inward.errors import UserError

__all__ = ["EngineStats", "LocalBackend"]

ENGINE_VERSION = (
    "inward-local/2"  # bump when decoding numerics change (bucketing, masks, prefix sharing, dtype)
)
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class LocalBackend:
    """A local model behind the `Backend` protocol, plus `next_token_logprobs` and work counters (`stats`).

    `path`: a transformers folder with a chat template; `adapter`: a PEFT LoRA folder (merged into fp32
    weights, kept separate otherwise); `device`: "auto" (CUDA if present), "cpu", "cuda[:i]"; `dtype`:
    float32 (CPU default), bfloat16 (CUDA default), float16; `batch_size`: rows per forward; `threads`:
    torch CPU threads (default: $INWARD_THREADS, else the cores other processes leave free, see
    `inward._threads`); `expand_width`: prefixes per prompt per forward in `distribution`; `share_prefixes`:
    prefill a beginning that several prompts of a batch share once (`_local_prefix`; off only to measure it).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        adapter: str | Path | None = None,
        device: str = "auto",
        dtype: str | None = None,
        batch_size: int = 16,
        ref: str | None = None,
        threads: int | None = None,
        expand_width: int = 8,
        share_prefixes: bool = True,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = Path(path).expanduser().resolve()
        if not (self.path / "config.json").is_file():
            raise UserError(f"{self.path} is not a transformers model folder (no config.json)")
        self.adapter = Path(adapter).expanduser().resolve() if adapter is not None else None
        if self.adapter is not None and not (self.adapter / "adapter_config.json").is_file():
            raise UserError(f"{self.adapter} is not a PEFT adapter folder (no adapter_config.json)")
        if batch_size < 1 or expand_width < 1:
            raise UserError("batch_size and expand_width must be at least 1")
        self.device = _device(device)
        self.dtype = dtype or ("bfloat16" if self.device.type == "cuda" else "float32")
        if self.dtype not in _DTYPES:
            raise UserError(f"unknown dtype {self.dtype!r}; use one of {', '.join(_DTYPES)}")
        self.batch_size, self.expand_width = batch_size, expand_width
        self.adapter_merged = False
        self.ref = ref or f"local/{self.path.name}"
        # On a busy machine, more intra-op threads than free cores makes torch several times slower
        # (threads spin-wait for each other): use the free cores, or the threads option / $INWARD_THREADS.
        apply_threads(f"local backend {self.ref}", threads or None)

        tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        model: Any = AutoModelForCausalLM.from_pretrained(
            str(self.path), dtype=_DTYPES[self.dtype], local_files_only=True
        )
        if self.adapter is not None:
            self.adapter_merged = self.dtype == "float32"
            model = _with_adapter(model, self.adapter, merge=self.adapter_merged)
        model.to(self.device).eval()
        self.stats = EngineStats()
        self._lm = LocalModel(model, tokenizer, self.device, self.stats, share_prefixes=share_prefixes)

    @property
    def model(self) -> Any:
        return self._lm.model

    @property
    def tokenizer(self) -> Any:
        return self._lm.tokenizer

    # --- Backend protocol -----------------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[Messages],
        config: GenerateConfig,
        stop_when: Sequence[StopWhen | None] | None = None,
    ) -> list[list[Generation]]:
        """`config.n` generations per prompt, in input order.

        Greedy when `config.temperature == 0` (the n answers are then copies of one). Otherwise sampling at
        that temperature, reproducible per (seed, prompt, sample index) whatever the batch.
        `completion_tokens` counts the EOS token when there is one; `logprobs` are the model's own
        (temperature 1).
        """
        if stop_when is not None and len(stop_when) != len(prompts):
            raise ValueError("stop_when needs one entry (or None) per prompt")
        if config.max_tokens < 1 or config.n < 1:
            raise UserError("max_tokens and n must be at least 1")
        stops = list(stop_when) if stop_when is not None else [None] * len(prompts)
        sampled = config.temperature > 0
        per_prompt = config.n if sampled else 1
        out: list[list[Generation]] = [[] for _ in prompts]
        # A batch holds at most `batch_size` rows: the samples of one prompt share its prefill, and when a
        # prompt wants more samples than that, they are drawn in several jobs.
        chunk = min(per_prompt, self.batch_size)
        with timed(self.stats, len(prompts)):
            encoded = [self._lm.encode(p) for p in prompts]
            seeds = [_seeds(config, p, per_prompt) for p in prompts] if sampled else None
            jobs: list[Job] = []
            owner: list[int] = []
            # Prompts that share a beginning are queued next to each other, so that one prefill serves them.
            for i in (i for batch in share_batches(encoded, self.batch_size) for i in batch):
                for start in range(0, per_prompt, chunk):
                    jobs.append(Job(encoded[i], stops[i], seeds[i][start : start + chunk] if seeds else None))
                    owner.append(i)
            for i, gens in zip(owner, generate_jobs(self._lm, jobs, config, self.batch_size), strict=True):
                out[i].extend(gens)
        if not sampled:  # greedy: the n answers are one answer
            out = [[replace(gens[0]) for _ in range(config.n)] for gens in out]
        return out

    def distribution(
        self,
        prompts: Sequence[Messages],
        resolve: Sequence[Resolve],
        *,
        coverage: float = 0.99,
        max_branches: int = 64,
        max_tokens: int = 16,
    ) -> list[Distribution]:
        """Exact distribution (temperature 1) of `resolve`d answer values; see `_local_exact` for the method.

        `max_branches` bounds the prefixes expanded per prompt (one forward token each), `max_tokens` their
        length. Answers that end while `resolve` still says None are counted under `backends.base.NONE_KEY`, so the probs
        always sum to `covered`.
        """
        if len(resolve) != len(prompts):
            raise ValueError("resolve needs one function per prompt")
        if not 0 < coverage <= 1:
            raise UserError("coverage must be in (0, 1]")
        out: list[Distribution] = [Distribution(probs={}, covered=0.0)] * len(prompts)
        with timed(self.stats, len(prompts)):
            encoded = [self._lm.encode(p) for p in prompts]
            for bucket in share_batches(encoded, self.batch_size):
                results = exact_bucket(
                    self._lm,
                    [encoded[i] for i in bucket],
                    [resolve[i] for i in bucket],
                    coverage=coverage,
                    max_branches=max_branches,
                    max_tokens=max_tokens,
                    width=self.expand_width,
                )
                for i, d in zip(bucket, results, strict=True):
                    out[i] = d
        return out

    def next_token_logprobs(self, prompts: Sequence[Messages], top_k: int = 20) -> list[dict[str, float]]:
        """The top-k first answer tokens of each prompt as text -> log-prob (same-text tokens merged)."""
        out: list[dict[str, float]] = [{} for _ in prompts]
        with timed(self.stats, len(prompts)):
            encoded = [self._lm.encode(p) for p in prompts]
            for bucket in share_batches(encoded, self.batch_size):
                logits, _, _ = self._lm.prefill([encoded[i] for i in bucket])
                logprobs = torch.log_softmax(logits, dim=-1)
                for b, i in enumerate(bucket):
                    out[i] = self._lm.top_logprobs(logprobs[b], top_k)
        return out

    def identity(self) -> dict[str, Any]:
        """What the store keys this model's behaviour by: base weights + adapter weights digests."""
        return local_identity(self.path, self.adapter)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this model's numerics; part of every cache key for its answers."""
        import transformers

        return {
            "engine": ENGINE_VERSION,
            "path": str(self.path),
            "weights_sha256": weights_sha(self.path),
            "adapter": str(self.adapter) if self.adapter else None,
            "adapter_sha256": folder_sha(self.adapter) if self.adapter else None,
            "adapter_merged": self.adapter_merged,
            "dtype": self.dtype,
            "device": self.device.type,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but CUDA is not available; use device='cpu'")
    return torch.device(name)


def _with_adapter(model: Any, adapter: Path, *, merge: bool) -> Any:
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    # Merging removes the LoRA side-matmuls from every forward; in bf16 it would round the update: fp32 only.
    return peft_model.merge_and_unload() if merge else peft_model


def _seeds(config: GenerateConfig, messages: Messages, n: int) -> list[int]:
    key = json.dumps([config.seed, messages], sort_keys=True, ensure_ascii=False)
    base = hashlib.sha256(key.encode()).digest()
    return [
        int.from_bytes(hashlib.sha256(base + j.to_bytes(4, "big")).digest()[:8], "big") >> 1 for j in range(n)
    ]
