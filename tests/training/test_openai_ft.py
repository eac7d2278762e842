"""OpenAIFineTuner against HTTP exchanges built from the API's documented formats (no network).

The fake server answers the endpoints the SDK calls: POST /files, POST /fine_tuning/jobs,
GET /fine_tuning/jobs, GET /fine_tuning/jobs/{id}. Job statuses follow a script (validating_files -> running
-> succeeded, or failed).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

openai = pytest.importorskip("openai")

from inward.errors import UserError  # noqa: E402
from inward.training import FineTuneFailed  # noqa: E402
from inward.training.base import Trainer  # noqa: E402
from inward.training.openai_ft import STATE_FILE, OpenAIFineTuner, OpenAIFTConfig  # noqa: E402

# The SDK's own HTTP library (httpx, or httpx2 in newer SDKs): its MockTransport must match the client class.
http = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])

MODEL = "gpt-4o-mini-2024-07-18"
FT_MODEL = f"ft:{MODEL}:acme::9oUVKrCU"
ROW = {
    "messages": [
        {"role": "system", "content": ""},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "b"},
    ]
}


class FakeOpenAI:
    """A scripted fine-tuning API; `requests` records (method, path, body) of every call."""

    def __init__(self, statuses: list[str], error: dict[str, Any] | None = None) -> None:
        self.statuses = list(statuses)
        self.error = error
        self.requests: list[tuple[str, str, Any]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.files = 0

    def job(self, job_id: str, status: str) -> dict[str, Any]:
        j = self.jobs[job_id]
        j["status"] = status
        if status == "succeeded":
            j.update(
                fine_tuned_model=FT_MODEL,
                finished_at=1721768400,
                trained_tokens=12345,
                result_files=["file-result1"],
            )
        if status == "failed":
            j.update(error=self.error, finished_at=1721768400)
        return j

    def __call__(self, request: Any) -> Any:
        path = request.url.path.removeprefix("/v1")
        body: Any = None
        if request.method == "POST" and path == "/fine_tuning/jobs":
            body = json.loads(request.content)
        elif request.method == "POST" and path == "/files":
            body = request.content  # multipart form
        self.requests.append((request.method, path, body))
        if request.method == "POST" and path == "/files":
            self.files += 1
            return http.Response(
                200,
                json={
                    "id": f"file-train{self.files}",
                    "object": "file",
                    "bytes": len(request.content),
                    "created_at": 1721764800,
                    "filename": "train.jsonl",
                    "purpose": "fine-tune",
                    "status": "processed",
                },
            )
        if request.method == "POST" and path == "/fine_tuning/jobs":
            job_id = f"ftjob-{len(self.jobs) + 1}"
            self.jobs[job_id] = {
                "object": "fine_tuning.job",
                "id": job_id,
                "model": body["model"],
                "created_at": 1721764800,
                "finished_at": None,
                "fine_tuned_model": None,
                "organization_id": "org-acme",
                "result_files": [],
                "status": "validating_files",
                "validation_file": body.get("validation_file"),
                "training_file": body["training_file"],
                "trained_tokens": None,
                "error": None,
                "seed": body.get("seed"),
                "method": body.get("method"),
                "hyperparameters": body["method"]["supervised"]["hyperparameters"],
            }
            return http.Response(200, json=self.jobs[job_id])
        if request.method == "GET" and path == "/fine_tuning/jobs":
            return http.Response(
                200, json={"object": "list", "data": list(self.jobs.values())[::-1], "has_more": False}
            )
        if request.method == "GET" and path.startswith("/fine_tuning/jobs/"):
            job_id = path.rsplit("/", 1)[1]
            if job_id not in self.jobs:
                return http.Response(
                    404,
                    json={
                        "error": {
                            "message": "not found",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": None,
                        }
                    },
                )
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return http.Response(200, json=self.job(job_id, status))
        return http.Response(
            404, json={"error": {"message": f"no route {path}", "type": "invalid_request_error"}}
        )

    def client(self) -> Any:
        return openai.OpenAI(
            api_key="sk-test",
            base_url="https://api.openai.test/v1",
            max_retries=0,
            http_client=openai.DefaultHttpxClient(transport=http.MockTransport(self)),
        )

    def calls(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.requests]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    p = tmp_path / "train.jsonl"
    p.write_text(json.dumps(ROW) + "\n")
    return p


def test_upload_create_poll_until_succeeded(data: Path, tmp_path: Path) -> None:
    server = FakeOpenAI(["validating_files", "queued", "running", "running", "succeeded"])
    waits: list[float] = []
    tuner = OpenAIFineTuner(server.client(), sleep=waits.append)
    assert isinstance(tuner, Trainer)
    m = tuner.fit(
        data,
        f"openai/{MODEL}",
        OpenAIFTConfig(poll_initial_s=5, poll_max_s=30),
        name="m1-self",
        out_dir=tmp_path / "run",
    )
    assert m.ref == f"openai/{FT_MODEL}" and m.remote_id == FT_MODEL and m.kind == "openai-ft"
    assert m.base_ref == f"openai/{MODEL}" and m.metrics["trained_tokens"] == 12345
    assert (
        server.calls()
        == [("POST", "/files"), ("POST", "/fine_tuning/jobs")] + [("GET", "/fine_tuning/jobs/ftjob-1")] * 5
    )
    assert b'name="purpose"' in server.requests[0][2] and b"fine-tune" in server.requests[0][2]
    create = server.requests[1][2]
    assert create["model"] == MODEL and create["training_file"] == "file-train1" and create["seed"] == 0
    assert create["method"] == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {"n_epochs": 1, "learning_rate_multiplier": 2.0, "batch_size": "auto"}
        },
    }
    assert waits == [5, 10, 20, 30]  # exponential backoff, capped
    state = json.loads((tmp_path / "run" / STATE_FILE).read_text())
    assert (
        state["job_id"] == "ftjob-1"
        and state["status"] == "succeeded"
        and state["fine_tuned_model"] == FT_MODEL
    )
    rec = m.record_fields()
    assert rec["remote_id"] == FT_MODEL and rec["path"] is None and rec["provenance"]["ref"] == m.ref

    # A finished run answers from its state file without any request.
    again = FakeOpenAI(["running"])
    assert (
        OpenAIFineTuner(again.client(), sleep=waits.append)
        .fit(
            data,
            f"openai/{MODEL}",
            OpenAIFTConfig(poll_initial_s=5, poll_max_s=30),
            name="m1-self",
            out_dir=tmp_path / "run",
        )
        .remote_id
        == FT_MODEL
    )
    assert again.requests == []


def test_batch_size_validation_file_and_suffix_are_sent(data: Path, tmp_path: Path) -> None:
    server = FakeOpenAI(["succeeded"])
    cfg = OpenAIFTConfig(batch_size=20, learning_rate_multiplier=1.0, seed=3, suffix="m1")
    OpenAIFineTuner(server.client(), sleep=lambda s: None).fit(
        data, f"openai/{MODEL}", cfg, name="x", out_dir=tmp_path / "run", val_data=data
    )
    create = server.requests[2][2]
    assert create["validation_file"] == "file-train2" and create["suffix"] == "m1" and create["seed"] == 3
    assert create["method"]["supervised"]["hyperparameters"]["batch_size"] == 20


def test_failed_job_raises_and_stays_failed(data: Path, tmp_path: Path) -> None:
    err = {
        "code": "invalid_training_file",
        "message": "Training file has 1 example; need at least 10.",
        "param": "training_file",
    }
    server = FakeOpenAI(["validating_files", "failed"], error=err)
    tuner = OpenAIFineTuner(server.client(), sleep=lambda s: None)
    with pytest.raises(FineTuneFailed, match="ftjob-1 failed: Training file has 1 example"):
        tuner.fit(data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "run")
    n = len(server.requests)
    with pytest.raises(FineTuneFailed, match=r"delete .*openai_ft\.json"):
        tuner.fit(data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "run")
    assert len(server.requests) == n  # no new upload or job


class Crash(Exception):
    pass


def test_resume_polls_the_same_job_after_a_crash(data: Path, tmp_path: Path) -> None:
    server = FakeOpenAI(["validating_files", "running", "running", "succeeded"])

    def die(seconds: float) -> None:
        raise Crash

    with pytest.raises(Crash):
        OpenAIFineTuner(server.client(), sleep=die).fit(
            data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r"
        )
    assert json.loads((tmp_path / "r" / STATE_FILE).read_text())["job_id"] == "ftjob-1"
    m = OpenAIFineTuner(server.client(), sleep=lambda s: None).fit(
        data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r"
    )
    assert m.remote_id == FT_MODEL
    assert server.calls().count(("POST", "/files")) == 1
    assert server.calls().count(("POST", "/fine_tuning/jobs")) == 1


def test_crash_between_create_and_save_finds_the_job(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeOpenAI(["succeeded"])
    real_save = OpenAIFineTuner._save

    def save(out_dir: Path, state: Any) -> None:
        if state.job_id is not None:
            raise Crash  # the job exists at OpenAI but its id never reached the disk
        real_save(out_dir, state)

    monkeypatch.setattr(OpenAIFineTuner, "_save", staticmethod(save))
    with pytest.raises(Crash):
        OpenAIFineTuner(server.client()).fit(data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r")
    monkeypatch.setattr(OpenAIFineTuner, "_save", staticmethod(real_save))
    m = OpenAIFineTuner(server.client(), sleep=lambda s: None).fit(
        data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r"
    )
    assert m.metrics["job_id"] == "ftjob-1"
    assert server.calls().count(("POST", "/fine_tuning/jobs")) == 1
    assert ("GET", "/fine_tuning/jobs") in server.calls()


def test_timeout_leaves_a_resumable_job(data: Path, tmp_path: Path) -> None:
    server = FakeOpenAI(["running"])
    cfg = OpenAIFTConfig(poll_initial_s=10, timeout_s=25)
    with pytest.raises(UserError, match=r"still running after 30 s.*again"):
        OpenAIFineTuner(server.client(), sleep=lambda s: None).fit(
            data, f"openai/{MODEL}", cfg, name="x", out_dir=tmp_path / "r"
        )
    assert json.loads((tmp_path / "r" / STATE_FILE).read_text())["status"] == "running"


def test_bad_input_fails_before_any_request(tmp_path: Path, data: Path) -> None:
    server = FakeOpenAI(["succeeded"])
    tuner = OpenAIFineTuner(server.client())
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ROW) + "\n{broken\n")
    with pytest.raises(UserError, match="line 2"):
        tuner.fit(bad, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r")
    with pytest.raises(UserError, match="not an OpenAI model"):
        tuner.fit(data, "local/smollm2-135m", name="x", out_dir=tmp_path / "r")
    OpenAIFineTuner(server.client(), sleep=lambda s: None).fit(
        data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r"
    )
    with pytest.raises(UserError, match="other data, model or settings"):
        tuner.fit(data, f"openai/{MODEL}", OpenAIFTConfig(n_epochs=3), name="x", out_dir=tmp_path / "r")
    assert server.calls()[0] == ("POST", "/files")


def test_missing_key_is_a_user_error(monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        OpenAIFineTuner().fit(data, f"openai/{MODEL}", name="x", out_dir=tmp_path / "r")


def test_a_fine_tuned_model_is_trained_further_by_its_name(data: Path, tmp_path: Path) -> None:
    """Behaviour change on OpenAI: the shifted model is the self-trained fine-tune trained further, which
    OpenAI takes as the job's model (its ft: name)."""
    server = FakeOpenAI(["succeeded"])
    m = OpenAIFineTuner(server.client(), sleep=lambda s: None).fit(
        data, f"openai/{FT_MODEL}", name="m1-shifted", out_dir=tmp_path / "shifted"
    )
    (create,) = [b for method, path, b in server.requests if (method, path) == ("POST", "/fine_tuning/jobs")]
    assert create["model"] == FT_MODEL and m.base_ref == f"openai/{FT_MODEL}"
