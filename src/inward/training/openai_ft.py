"""`OpenAIFineTuner`: the `Trainer` for OpenAI models, through the official ``openai`` SDK.

    tuner = OpenAIFineTuner()                          # key from OPENAI_API_KEY
    m = tuner.fit(Path("m1-self.jsonl"), "openai/gpt-4o-mini-2024-07-18", OpenAIFTConfig(), name="m1-self",
                  out_dir=Path("runs/m1-self"))
    m.ref   # "openai/ft:gpt-4o-mini-2024-07-18:org::abc123"

Steps: validate the file locally (bad lines are reported by number before anything is uploaded), upload
it (purpose ``fine-tune``), create a supervised job with the paper's hyper-parameters (1 epoch,
learning-rate multiplier 2, seed 0; batch size chosen by OpenAI unless set), then poll with exponential
backoff until the job succeeds, fails or is cancelled.

Resumable: the file ids and the job id are written to ``out_dir/openai_ft.json`` as soon as they exist, before
any waiting. If the process dies, calling `fit` again with the same arguments polls the same job instead of
creating (and paying for) a new one; if it died between creating the job and saving its id, the job is found
again by its training file. A finished run returns its recorded result without any request. A failed job stays
failed: delete the state file to start over.

Tested offline against recorded-style HTTP exchanges built from the API's documented formats (an
``httpx.MockTransport`` behind ``OpenAI(http_client=...)``), not against the live API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inward.errors import MissingExtraError, UserError
from inward.refs import ModelRef
from inward.training._hosted import HostedJobFiles, file_sha256, run_digest
from inward.training._provenance import provenance
from inward.training.base import TrainedKind, TrainedModel
from inward.training.chat_data import load_chat_jsonl

STATE_FILE = "openai_ft.json"
TERMINAL_FAILURES = ("failed", "cancelled")
DIGEST_FIELDS = {"n_epochs", "learning_rate_multiplier", "batch_size", "seed", "suffix"}


class OpenAIFTConfig(BaseModel):
    """Hyper-parameters and polling of an OpenAI fine-tuning job (defaults: the paper's, SPEC §8.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_epochs: int = Field(default=1, ge=1)
    learning_rate_multiplier: float = Field(default=2.0, gt=0)
    batch_size: int | None = Field(default=None, ge=1, description="None: OpenAI chooses ('auto').")
    seed: int = 0
    suffix: str | None = Field(default=None, max_length=64, description="Added to the fine-tuned model id.")
    poll_initial_s: float = Field(default=10.0, gt=0, description="First wait between status checks.")
    poll_max_s: float = Field(default=300.0, gt=0, description="Longest wait between status checks.")
    timeout_s: float | None = Field(
        default=None, description="Stop waiting after this long (the job keeps running; re-run to resume)."
    )

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "n_epochs": self.n_epochs,
            "learning_rate_multiplier": self.learning_rate_multiplier,
            "batch_size": self.batch_size if self.batch_size is not None else "auto",
        }


class JobState(BaseModel):
    """What is persisted in ``out_dir/openai_ft.json``."""

    run_digest: str
    model: str
    training_file: str | None = None
    validation_file: str | None = None
    job_id: str | None = None
    status: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    error: dict[str, Any] | None = None
    polls: int = 0


class OpenAIFineTuner(HostedJobFiles[JobState]):
    kind: TrainedKind = "openai-ft"
    provider = "OpenAI"
    state_file = STATE_FILE
    state_model = JobState

    def __init__(self, client: Any = None, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                from openai import OpenAI
            except ImportError as e:
                raise MissingExtraError("OpenAI fine-tuning", "api") from e
            if not os.environ.get("OPENAI_API_KEY"):
                raise UserError("OpenAI fine-tuning needs an API key: set OPENAI_API_KEY")
            self._client = OpenAI()
        return self._client

    def fit(
        self,
        data: Path,
        base: str,
        config: OpenAIFTConfig | None = None,
        *,
        name: str,
        out_dir: Path,
        val_data: Path | None = None,
    ) -> TrainedModel:
        config = config or OpenAIFTConfig()
        ref = ModelRef.parse(base)
        if ref.provider != "openai" or ref.adapter:
            raise UserError(f"{base} is not an OpenAI model: OpenAI fine-tuning needs openai/MODEL")
        data, val_data = Path(data), Path(val_data) if val_data else None
        load_chat_jsonl(data)  # fail on bad lines here, with line numbers, rather than after an upload
        if val_data is not None:
            load_chat_jsonl(val_data)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        digest = run_digest(ref.name, config.model_dump(include=DIGEST_FIELDS), data, val_data)
        state = self._load_state(out_dir, digest) or JobState(run_digest=digest, model=ref.name)

        if state.fine_tuned_model is None:
            if state.status in TERMINAL_FAILURES:
                raise self._failure(state.job_id, state.status, (state.error or {}).get("message"), out_dir)
            # Only a file id saved by an earlier process can already have a job we failed to record.
            may_have_job = state.training_file is not None
            if state.training_file is None:
                state.training_file = self._upload(data)
                self._save(out_dir, state)
            if val_data is not None and state.validation_file is None:
                state.validation_file = self._upload(val_data)
                self._save(out_dir, state)
            if state.job_id is None:
                found = self._find_job(state) if may_have_job else None
                state.job_id = found or self._create_job(state, config, digest)
                self._save(out_dir, state)
            self._poll(state, config, out_dir)

        assert state.fine_tuned_model is not None
        return TrainedModel(
            ref=f"openai/{state.fine_tuned_model}",
            name=name,
            base_ref=str(ref),
            kind=self.kind,
            remote_id=state.fine_tuned_model,
            out_dir=str(out_dir),
            config=config.model_dump(mode="json"),
            metrics={"job_id": state.job_id, "trained_tokens": state.trained_tokens, "status": state.status},
            provenance={
                **provenance("openai"),
                "training_file": state.training_file,
                "validation_file": state.validation_file,
                "data": str(data),
                "data_sha256": file_sha256(data),
                "run_digest": digest,
            },
        )

    # -- steps -----------------------------------------------------------------------------------------------

    def _upload(self, path: Path) -> str:
        with path.open("rb") as f:
            uploaded = self.client.files.create(file=f, purpose="fine-tune")
        return str(uploaded.id)

    def _find_job(self, state: JobState) -> str | None:
        """A job already created for this training file (the process died before saving its id)."""
        for job in self.client.fine_tuning.jobs.list(limit=50).data:
            if job.training_file == state.training_file and job.model == state.model:
                return str(job.id)
        return None

    def _create_job(self, state: JobState, config: OpenAIFTConfig, digest: str) -> str:
        kwargs: dict[str, Any] = {
            "model": state.model,
            "training_file": state.training_file,
            "method": {"type": "supervised", "supervised": {"hyperparameters": config.hyperparameters()}},
            "seed": config.seed,
            "metadata": {"inward_run": digest},
        }
        if state.validation_file:
            kwargs["validation_file"] = state.validation_file
        if config.suffix:
            kwargs["suffix"] = config.suffix
        return str(self.client.fine_tuning.jobs.create(**kwargs).id)

    def _poll(self, state: JobState, config: OpenAIFTConfig, out_dir: Path) -> None:
        delay, waited = config.poll_initial_s, 0.0
        while True:
            job = self.client.fine_tuning.jobs.retrieve(state.job_id)
            state.status = str(job.status)
            state.polls += 1
            if job.status == "succeeded":
                state.fine_tuned_model = job.fine_tuned_model
                state.trained_tokens = job.trained_tokens
                self._save(out_dir, state)
                return
            if job.status in TERMINAL_FAILURES:
                state.error = job.error.model_dump() if job.error is not None else None
                self._save(out_dir, state)
                raise self._failure(state.job_id, state.status, (state.error or {}).get("message"), out_dir)
            self._save(out_dir, state)
            if config.timeout_s is not None and waited >= config.timeout_s:
                raise UserError(
                    f"fine-tuning job {state.job_id} is still {state.status} after {waited:.0f} s; "
                    "run the same command again to keep waiting"
                )
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, config.poll_max_s)
