"""The job-state file both hosted fine-tuners share (`inward.training._hosted`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel

from inward.errors import UserError
from inward.training._hosted import FineTuneFailed, HostedJobFiles, run_digest


class State(BaseModel):
    run_digest: str
    job_id: str | None = None


class Tuner(HostedJobFiles[State]):
    provider: ClassVar[str] = "Acme"
    state_file: ClassVar[str] = "acme_ft.json"
    state_model: ClassVar[type[BaseModel]] = State


def test_digest_follows_model_settings_and_both_files(tmp_path: Path) -> None:
    data, val, other = tmp_path / "d.jsonl", tmp_path / "v.jsonl", tmp_path / "o.jsonl"
    data.write_text("a\n"), val.write_text("b\n"), other.write_text("a\n")
    one = run_digest("m", {"lr": 1, "epochs": 1}, data, val)
    assert one == run_digest("m", {"epochs": 1, "lr": 1}, other, val)  # same bytes, key order irrelevant
    assert len({one, run_digest("n", {"lr": 1, "epochs": 1}, data, val),
                run_digest("m", {"lr": 2, "epochs": 1}, data, val),
                run_digest("m", {"lr": 1, "epochs": 1}, data, None),
                run_digest("m", {"lr": 1, "epochs": 1}, val, data)}) == 5  # fmt: skip


def test_state_round_trips_and_refuses_another_jobs_file(tmp_path: Path) -> None:
    assert Tuner._load_state(tmp_path, "abc") is None
    Tuner._save(tmp_path, State(run_digest="abc", job_id="j1"))
    assert Tuner._load_state(tmp_path, "abc") == State(run_digest="abc", job_id="j1")
    assert not (tmp_path / "acme_ft.json.tmp").exists()
    with pytest.raises(
        UserError,
        match=r"holds the state of another Acme fine-tuning job \(other data, model or settings\); use another",
    ):
        Tuner._load_state(tmp_path, "xyz")


def test_a_failed_write_leaves_the_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Tuner._save(tmp_path, State(run_digest="abc", job_id="j1"))

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("inward.training._hosted.os.replace", boom)
    with pytest.raises(OSError):
        Tuner._save(tmp_path, State(run_digest="abc", job_id="j2"))
    assert Tuner._load_state(tmp_path, "abc").job_id == "j1"  # type: ignore[union-attr]


def test_failure_names_provider_job_reason_and_the_way_out(tmp_path: Path) -> None:
    e = Tuner._failure("j9", "cancelled", None, tmp_path)
    assert isinstance(e, FineTuneFailed) and isinstance(e, UserError)
    assert (
        str(e)
        == f"Acme fine-tuning job j9 cancelled: no reason given (delete {tmp_path / 'acme_ft.json'} to start a new job)"
    )
