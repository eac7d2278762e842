"""What the hosted fine-tuners (`OpenAIFineTuner`, `TogetherFineTuner`) share: the job-state file that makes a
paid job resumable, the digest that ties it to its inputs, and the failure they raise.

The state file (``out_dir/<provider>_ft.json``) holds ids and statuses only, never a key. It is written
atomically (a temporary file, then `os.replace`), so a crash leaves the previous state, never half of one. A
state written for other data, model or settings is refused rather than reused: the digest covers the model, the
settings that change the job and the bytes of both files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from inward.errors import UserError


class FineTuneFailed(UserError):
    """The provider reported the job as failed or cancelled."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_digest(model: str, settings: dict[str, Any], data: Path, val: Path | None) -> str:
    """The job's identity: the model, the settings that change what is trained, and both files' bytes."""
    parts = [model, json.dumps(settings, sort_keys=True), file_sha256(data), file_sha256(val) if val else ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


S = TypeVar("S", bound=BaseModel)


class HostedJobFiles(Generic[S]):
    """Mixin of a hosted fine-tuner: load, save and fail on its job-state file (`state_file` in `out_dir`)."""

    provider: ClassVar[str]  # in messages: "OpenAI", "Together"
    state_file: ClassVar[str]
    state_model: ClassVar[type[BaseModel]]

    @classmethod
    def _load_state(cls, out_dir: Path, digest: str) -> S | None:
        path = out_dir / cls.state_file
        if not path.is_file():
            return None
        state = cls.state_model.model_validate_json(path.read_text())
        if getattr(state, "run_digest", None) != digest:
            raise UserError(
                f"{out_dir} holds the state of another {cls.provider} fine-tuning job (other data, model or "
                "settings); use another out_dir"
            )
        return state  # type: ignore[return-value]

    @classmethod
    def _save(cls, out_dir: Path, state: S) -> None:
        tmp = out_dir / f"{cls.state_file}.tmp"
        tmp.write_text(state.model_dump_json(indent=2))
        os.replace(tmp, out_dir / cls.state_file)

    @classmethod
    def _failure(
        cls, job_id: str | None, status: str | None, detail: str | None, out_dir: Path
    ) -> FineTuneFailed:
        return FineTuneFailed(
            f"{cls.provider} fine-tuning job {job_id} {status}: {detail or 'no reason given'} "
            f"(delete {out_dir / cls.state_file} to start a new job)"
        )
