"""`TogetherFineTuner`: hosted LoRA fine-tuning of open models on Together AI, behind the `Trainer` protocol.

    base = "openai-compatible/meta-llama/Meta-Llama-3.1-70B-Instruct-Reference@https://api.together.xyz/v1"
    m = TogetherFineTuner().fit(Path("m1-self.jsonl"), base, TogetherFTConfig(), name="m1-self",
                                out_dir=Path("runs/m1-self"))          # key from TOGETHER_API_KEY
    m.ref   # "openai-compatible/acme/Meta-Llama-3.1-70B-Instruct-Reference-m1-self@https://api.together.xyz/v1"

The base is named as inward evaluates it, an OpenAI-compatible ref on a Together host, and the job fine-tunes
exactly that model: the behaviour the training labels come from is the behaviour of the weights being trained
(a "-Turbo" serving variant is not the "-Reference" weights). The trained model comes back under the same base
URL, so `inward object/hypothetical/score`, the experiments and calibration reach it through the
OpenAI-compatible backend, which reads TOGETHER_API_KEY for Together's hosts. Together serves LoRA fine-tunes of
its serverless-LoRA bases directly; for other bases, start a dedicated endpoint for the model and address it
by the name Together gives it.

Why Together and not Tinker (issue 17, item 5). Together runs the paper's recipe as it was run: the Llama M1
was a hosted LoRA job (SPEC §8.2, Fireworks: rank 32, 1 epoch, batch 16, LR 2e-5, loss on assistant turns only),
and a Together job takes exactly those knobs (`lora_r`, `n_epochs`, `batch_size`, an absolute `learning_rate`,
`train_on_inputs=False`, packing off so that a batch is 16 rows) on the chat JSONL our local and OpenAI
trainers read. It fine-tunes Llama 3.1 8B and 70B Instruct (the paper's 70B itself) and Qwen, and serves the
result on OpenAI-compatible chat completions, which inward already speaks: greedy answers for every experiment;
distributions from its top-k logprobs (`logprobs: k`, answered in the completions layout, which the backend
reads), or from 20 samples at T=1 where a model returns none (the backend's documented fallback and the paper's
own calibration method). Tinker is a training-primitive API
(forward_backward with per-token weights, optim_step, save_weights_for_sampler). The loop, the chat template,
the tokenizer (the model's own, fetched from the Hub) and the batching would run here, in a process that must
live for the whole run and resume from saved optimizer state. Sampling goes through its SamplingClient or a beta
OpenAI-compatible endpoint, and its lineup, as published, has Llama 3.1 70B only as a base model. That control
is more than the recipe needs, and it would cost a second trainer and a new inference backend.

Plain httpx (the `api` extra), not the `together` SDK: the documented REST calls (POST /files/upload,
POST /fine-tunes, GET /fine-tunes, GET /fine-tunes/{id} and its /events, GET /files to find an upload a crash
interrupted) are all this needs, and the tests replay them with httpx.MockTransport. The SDK would add its
CLI's dependencies and, on every create, extra model-limits and price-estimate requests.

Steps: validate the file (our chat rules, then Together's: an optional system message, then user and assistant
turns alternating, ending with the assistant), write the upload copy (messages only: Together rejects a file
whose rows fit two formats), upload it (and the validation file), create the job, poll with exponential backoff
until it completes, errs or is cancelled. Resumable like `OpenAIFineTuner`: file ids and the job id go to
``out_dir/together_ft.json`` (written atomically) as soon as they exist; a rerun polls the same job, never
creating a second paid one (a job created just before a crash is found again by its training file, an
interrupted upload by its file name). The key is read from the environment when a request is made and never
written anywhere (state, provenance, the store, error messages).

Tested offline against exchanges built from Together's documented JSON bodies (tests/training/test_together_ft.py).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from inward.backends.openai_compat import TOGETHER_HOSTS
from inward.errors import UserError
from inward.refs import ModelRef
from inward.training._hosted import HostedJobFiles, file_sha256, run_digest
from inward.training._provenance import provenance
from inward.training._together_http import KEY_ENV, TogetherAPI, Unsure, one_line
from inward.training.base import TrainedKind, TrainedModel
from inward.training.chat_data import ChatExample, load_chat_jsonl

STATE_FILE = "together_ft.json"
DEFAULT_BASE_URL = "https://api.together.xyz/v1"
TERMINAL_FAILURES = ("error", "user_error", "cancelled")


def is_together(ref: str | ModelRef) -> bool:
    """Whether `ref` is a model served by Together (an OpenAI-compatible ref on one of its hosts)."""
    r = ModelRef.parse(ref)
    return r.provider == "openai-compatible" and urlsplit(r.base_url or "").hostname in TOGETHER_HOSTS


class TogetherFTConfig(BaseModel):
    """A Together LoRA SFT job. Defaults: the paper's hosted Llama recipe (SPEC §8.2: rank 32, 1 epoch,
    batch 16, LR 2e-5, loss on assistant turns only) and the local trainer's schedule (linear, no warm-up)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_epochs: int = Field(default=1, ge=1, le=20, description="Passes over the training data.")
    learning_rate: float = Field(default=2e-5, gt=0, description="Peak learning rate (absolute).")
    batch_size: int = Field(
        default=16, ge=1, description="Examples per optimizer step (with packing off: rows, not packs)."
    )
    lora_r: int = Field(default=32, ge=1, description="LoRA rank.")
    lora_alpha: int | None = Field(default=None, gt=0, description="LoRA alpha; None: 2 × lora_r.")
    lora_dropout: float = Field(default=0.0, ge=0, lt=1, description="Dropout on the LoRA branch.")
    lora_trainable_modules: str = Field(
        default="all-linear", description="Layers that get adapters (Together's names, comma-separated)."
    )
    train_on_inputs: bool = Field(
        default=False, description="False: loss on assistant messages only (the paper's rule and ours)."
    )
    packing: bool = Field(
        default=False, description="Pack several rows per sequence (changes the effective batch size)."
    )
    lr_scheduler: Literal["linear", "cosine"] = Field(default="linear", description="Decay after warm-up.")
    min_lr_ratio: float = Field(default=0.0, ge=0, le=1, description="Final LR as a share of the peak.")
    warmup_ratio: float = Field(default=0.0, ge=0, le=1, description="Share of steps warming up.")
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float = Field(default=1.0, ge=0, description="Gradient clipping norm (0: off).")
    max_seq_length: int | None = Field(default=None, ge=1, description="None: the model's limit.")
    n_evals: int = Field(default=0, ge=0, le=100, description="Validation-loss evaluations (needs val_data).")
    seed: int = Field(default=0, description="Together's random_seed (data order, adapter init).")
    suffix: str | None = Field(default=None, max_length=40, description="Added to the output model name.")
    poll_initial_s: float = Field(default=10.0, gt=0, description="First wait between status checks.")
    poll_max_s: float = Field(default=300.0, gt=0, description="Longest wait between status checks.")
    timeout_s: float | None = Field(
        default=None, description="Stop waiting after this long (the job keeps running; re-run to resume)."
    )

    def job_settings(self) -> dict[str, Any]:
        """The body of POST /fine-tunes without the model and file ids (also the provenance's settings)."""
        scheduler_args: dict[str, Any] = {"min_lr_ratio": self.min_lr_ratio}
        if self.lr_scheduler == "cosine":
            scheduler_args["num_cycles"] = 0.5
        body: dict[str, Any] = {
            "n_epochs": self.n_epochs,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "packing": self.packing,
            "n_checkpoints": 1,
            "n_evals": self.n_evals,
            "lr_scheduler": {"lr_scheduler_type": self.lr_scheduler, "lr_scheduler_args": scheduler_args},
            "warmup_ratio": self.warmup_ratio,
            "max_grad_norm": self.max_grad_norm,
            "weight_decay": self.weight_decay,
            "training_type": {
                "type": "Lora",
                "lora_r": self.lora_r,
                "lora_alpha": self.lora_alpha or 2 * self.lora_r,
                "lora_dropout": self.lora_dropout,
                "lora_trainable_modules": self.lora_trainable_modules,
            },
            "training_method": {"method": "sft", "train_on_inputs": self.train_on_inputs},
            "random_seed": self.seed,
        }
        if self.max_seq_length is not None:
            body["max_seq_length"] = self.max_seq_length
        if self.suffix:
            body["suffix"] = self.suffix
        return body


class TogetherJobState(BaseModel):
    """What is persisted in ``out_dir/together_ft.json`` (ids and statuses; never the key)."""

    run_digest: str
    model: str
    base_url: str
    # The base `model` was fine-tuned from, when `model` is itself one of the account's Together fine-tunes
    # (looked up before the job is created): the job then continues it (`from_checkpoint=model`).
    checkpoint_of: str | None = None
    uploads_started: list[str] = Field(default_factory=list)
    training_file: str | None = None
    validation_file: str | None = None
    job_id: str | None = None
    status: str | None = None
    output_name: str | None = None
    token_count: int | None = None
    total_price: float | None = None
    error: str | None = None
    polls: int = 0


def together_problems(examples: list[ChatExample]) -> list[str]:
    """Rows Together's conversational format refuses, as "example N: reason" strings."""
    problems = []
    for n, ex in enumerate(examples, start=1):
        roles = [m.role for m in ex.messages]
        turns = roles[1:] if roles[0] == "system" else roles
        want = ["user", "assistant"] * (len(turns) // 2 + 1)
        if "system" in turns or not turns or turns != want[: len(turns)] or turns[-1] != "assistant":
            problems.append(
                f"example {n}: roles {', '.join(roles)}; Together needs an optional system message, then "
                "user and assistant turns alternating, ending with the assistant"
            )
    return problems


def write_upload_copy(examples: list[ChatExample], path: Path) -> Path:
    """The file Together receives: each row's messages only (atomically written)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for ex in examples:
            row = {"messages": [m.model_dump(exclude_none=True) for m in ex.messages]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


class TogetherFineTuner(HostedJobFiles[TogetherJobState]):
    kind: TrainedKind = "together-ft"
    provider = "Together"
    state_file = STATE_FILE
    state_model = TogetherJobState

    def __init__(
        self,
        http_client: Any = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 4,
        timeout: float = 120.0,
    ) -> None:
        """`http_client`: an ``httpx.Client`` (tests pass one over a MockTransport); `max_retries`: extra tries
        of a request that met a network error, HTTP 429 or 5xx (a job is never created twice this way)."""
        self._http = http_client
        self._sleep = sleep
        self.max_retries = max_retries
        self.timeout = timeout
        self.api = TogetherAPI(
            DEFAULT_BASE_URL, http_client, sleep=sleep, max_retries=max_retries
        )  # set by fit

    # -- the Trainer contract ----------------------------------------------------------------------------

    def fit(
        self,
        data: Path,
        base: str,
        config: TogetherFTConfig | None = None,
        *,
        name: str,
        out_dir: Path,
        val_data: Path | None = None,
    ) -> TrainedModel:
        config = config or TogetherFTConfig()
        ref = ModelRef.parse(base)
        if not is_together(ref) or ref.adapter:
            raise UserError(
                f"{base} is not a Together model: Together fine-tuning needs "
                f"openai-compatible/MODEL@{DEFAULT_BASE_URL} (e.g. meta-llama/Meta-Llama-3.1-8B-Instruct-Reference)"
            )
        assert ref.base_url is not None
        self.api = TogetherAPI(
            ref.base_url, self._http, sleep=self._sleep, max_retries=self.max_retries, timeout=self.timeout
        )
        if config.n_evals and val_data is None:
            raise UserError("n_evals > 0 needs a validation file (val_data / --val-data)")
        data, val_data = Path(data), Path(val_data) if val_data else None
        train_rows = self._checked(data)  # bad rows fail here, before anything is uploaded
        val_rows = self._checked(val_data) if val_data is not None else None
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        upload = write_upload_copy(train_rows, out_dir / "together-train.jsonl")
        val_upload = write_upload_copy(val_rows, out_dir / "together-val.jsonl") if val_rows else None
        digest = run_digest(ref.name, config.job_settings(), upload, val_upload)
        from inward.backends._http_common import public_url

        state = self._load_state(out_dir, digest) or TogetherJobState(
            run_digest=digest, model=ref.name, base_url=public_url(ref.base_url) or ref.base_url
        )

        if state.output_name is None:
            if state.status in TERMINAL_FAILURES:
                raise self._failure(state.job_id, state.status, state.error, out_dir)
            try:
                self._run(state, config, out_dir, upload, val_upload)
            except Unsure as e:
                raise UserError(f"{e}; run the same command again to resume") from None

        assert state.output_name is not None
        settings = config.job_settings()
        return TrainedModel(
            ref=str(ModelRef("openai-compatible", state.output_name, None, ref.base_url)),
            name=name,
            base_ref=str(ref),
            kind=self.kind,
            remote_id=state.output_name,
            out_dir=str(out_dir),
            config=config.model_dump(mode="json"),
            metrics={
                "job_id": state.job_id,
                "status": state.status,
                "n_train": len(train_rows),
                "token_count": state.token_count,
                "total_price": state.total_price,
            },
            provenance={
                **provenance("httpx"),
                "service": "together",
                "base_url": state.base_url,
                "base_model": state.checkpoint_of or state.model,
                "from_checkpoint": state.model if state.checkpoint_of else None,
                "key_env": KEY_ENV,
                "hyperparameters": settings,
                "job_id": state.job_id,
                "training_file": state.training_file,
                "validation_file": state.validation_file,
                "data": str(data),
                "data_sha256": file_sha256(data),
                "upload_sha256": file_sha256(upload),
                "val_data": str(val_data) if val_data else None,
                "val_data_sha256": file_sha256(val_data) if val_data else None,
                "run_digest": digest,
            },
        )

    # -- data ------------------------------------------------------------------------------------------------

    @staticmethod
    def _checked(path: Path) -> list[ChatExample]:
        rows = load_chat_jsonl(path)
        problems = together_problems(rows)
        if problems:
            shown = "; ".join(problems[:5]) + (
                f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            )
            raise UserError(f"{path}: {len(problems)} row(s) Together cannot train on: {shown}")
        return rows

    # -- steps -----------------------------------------------------------------------------------------------

    def _run(
        self, state: TogetherJobState, config: TogetherFTConfig, out_dir: Path, upload: Path, val: Path | None
    ) -> None:
        # One listing serves both questions asked before a job exists: is the model a fine-tune of ours, and
        # (only a file id saved by an earlier process can have one) was a job created that we failed to record?
        jobs = self._jobs() if state.job_id is None else []
        if state.job_id is None:
            state.checkpoint_of = self._checkpoint_base(state.model, jobs)
            self._save(out_dir, state)
        may_have_job = state.training_file is not None and state.job_id is None
        if state.training_file is None:
            state.training_file = self._upload(state, out_dir, upload, "train")
            self._save(out_dir, state)
        if val is not None and state.validation_file is None:
            state.validation_file = self._upload(state, out_dir, val, "val")
            self._save(out_dir, state)
        if state.job_id is None:
            found = self._find_job(state, jobs) if may_have_job else None
            state.job_id = found or self._create_job(state, config)
            self._save(out_dir, state)
        self._poll(state, config, out_dir)

    def _upload(self, state: TogetherJobState, out_dir: Path, path: Path, role: str) -> str:
        """Upload `path` once: a name begun by an earlier process is looked up before uploading again."""
        file_name = f"inward-{state.run_digest}-{role}.jsonl"
        if file_name in state.uploads_started:
            listing = self.api.call("GET", "/files", what="list files")
            size = path.stat().st_size
            for f in listing.get("data") or []:
                if f.get("filename") == file_name and f.get("bytes") == size:
                    return str(f["id"])
        else:
            state.uploads_started.append(file_name)
            self._save(out_dir, state)
        uploaded = self.api.call(
            "POST",
            "/files/upload",
            what=f"the {role} file",
            data={"purpose": "fine-tune", "file_name": file_name, "file_type": "jsonl"},
            files={"file": (file_name, path.read_bytes(), "application/octet-stream")},
        )
        return str(uploaded["id"])

    def _jobs(self) -> list[dict[str, Any]]:
        return list(self.api.call("GET", "/fine-tunes", what="list fine-tuning jobs").get("data") or [])

    @staticmethod
    def _checkpoint_base(model: str, jobs: list[dict[str, Any]]) -> str | None:
        """The base of `model` when it is one of this account's finished fine-tunes: the job then continues it
        (behaviour change trains the self-trained M1 further), since Together takes `from_checkpoint` (the
        output name) instead of `model` for that."""
        for job in jobs:
            if job.get("model_output_name") == model and job.get("status") == "completed":
                return str(job.get("model") or model)
        return None

    def _find_job(self, state: TogetherJobState, jobs: list[dict[str, Any]] | None = None) -> str | None:
        """A job already created for this training file (the process died before saving its id)."""
        base = state.checkpoint_of or state.model  # Together reports a continued job under its base
        for job in self._jobs() if jobs is None else jobs:
            if job.get("training_file") == state.training_file and job.get("model") == base:
                return str(job["id"])
        return None

    def _create_job(self, state: TogetherJobState, config: TogetherFTConfig) -> str:
        start = {"from_checkpoint" if state.checkpoint_of else "model": state.model}
        body = {**start, "training_file": state.training_file, **config.job_settings()}
        if state.validation_file:
            body["validation_file"] = state.validation_file
        try:
            # Never retried: a lost answer may still have created a (paid) job; it is looked for instead.
            return str(self.api.call("POST", "/fine-tunes", what="the job", json=body, retry=False)["id"])
        except Unsure as e:
            found = self._find_job(state)
            if found is None:  # the re-run looks for this job again before creating one
                raise Unsure(f"{e} while creating the job") from None
            return found

    def _poll(self, state: TogetherJobState, config: TogetherFTConfig, out_dir: Path) -> None:
        delay, waited = config.poll_initial_s, 0.0
        while True:
            job = self.api.call("GET", f"/fine-tunes/{state.job_id}", what=f"job {state.job_id}")
            state.status = str(job.get("status"))
            state.polls += 1
            state.token_count = job.get("token_count", state.token_count)
            state.total_price = job.get("total_price", state.total_price)
            if state.status == "completed":
                name = job.get("model_output_name")
                if not name:
                    raise UserError(f"Together reports job {state.job_id} completed without a model name")
                state.output_name = str(name)
                self._save(out_dir, state)
                return
            if state.status in TERMINAL_FAILURES:
                state.error = self._error_message(job)
                self._save(out_dir, state)
                raise self._failure(state.job_id, state.status, state.error, out_dir)
            self._save(out_dir, state)
            if config.timeout_s is not None and waited >= config.timeout_s:
                raise UserError(
                    f"Together job {state.job_id} is still {state.status} after {waited:.0f} s; "
                    "run the same command again to keep waiting"
                )
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, config.poll_max_s)

    def _error_message(self, job: dict[str, Any]) -> str | None:
        """The service's reason for a failed job: its last error event (inline, else from /events)."""

        def last_error(events: Any) -> str | None:
            for ev in reversed(events if isinstance(events, list) else []):
                if (
                    isinstance(ev, dict)
                    and ev.get("message")
                    and (
                        str(ev.get("level", "")).lower().endswith("error")
                        or str(ev.get("type", "")).lower() in ("job_error", "job_user_error")
                    )
                ):
                    return str(ev["message"])
            return None

        msg = last_error(job.get("events"))
        if msg is None:
            listing = self.api.call("GET", f"/fine-tunes/{job['id']}/events", what="the job's events")
            msg = last_error(listing.get("data"))
        return one_line(self.api.redact(msg)) if msg else None
