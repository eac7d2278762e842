"""TogetherFineTuner against exchanges built from Together's documented JSON bodies (no network).

The fake server (an ``httpx.MockTransport``) answers what the trainer calls: POST /v1/files/upload (multipart
purpose, file_name, file_type, file -> a FileResponse), GET /v1/files, POST /v1/fine-tunes (-> a
FinetuneResponse), GET /v1/fine-tunes, GET /v1/fine-tunes/{id} (statuses follow a script: pending -> queued ->
running -> uploading -> completed, or error / cancelled) and GET /v1/fine-tunes/{id}/events. Bodies follow
docs.together.ai's API reference (upload-file, post-fine-tunes, get-fine-tunes-id, list events).
"""

from __future__ import annotations

import json
import math
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")

from inward.errors import UserError  # noqa: E402
from inward.training import FineTuneFailed  # noqa: E402
from inward.training.base import Trainer  # noqa: E402
from inward.training.together_ft import (  # noqa: E402
    STATE_FILE,
    TogetherFineTuner,
    TogetherFTConfig,
    is_together,
)

KEY = "tgp_v1_SECRETsecretSECRET_0123456789abcdef"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
URL = "https://api.together.xyz/v1"
BASE = f"openai-compatible/{MODEL}@{URL}"
OUTPUT = "acme/Meta-Llama-3.1-8B-Instruct-Reference-m1-self-3f9a2c1d"
ROW = {
    "messages": [
        {"role": "system", "content": ""},
        {
            "role": "user",
            "content": 'Previously, you were asked the following question: "..." second character?',
        },
        {"role": "assistant", "content": "b"},
    ],
    "string": "fox goat frog",
    "inward": {"task": "animals_long", "property": "second_character", "item_id": "i1"},
}


def multipart(request: Any) -> dict[str, Any]:
    """The form fields of a multipart request (file parts as bytes)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    msg = message_from_bytes(head + request.content, policy=email_policy)
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in msg.iter_parts()
    }


class FakeTogether:
    """A scripted Together API; `requests` records (method, path, body) of every call."""

    def __init__(self, statuses: list[str], *, events: list[dict[str, Any]] | None = None) -> None:
        self.statuses = list(statuses)
        self.events = events or []
        self.inline_events = True
        self.requests: list[tuple[str, str, Any]] = []
        self.auth: list[str] = []
        self.files: list[dict[str, Any]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.fail_next: dict[str, list[Any]] = {}  # (method path) -> responses or exceptions to give first

    def job_body(self, job_id: str, status: str) -> dict[str, Any]:
        j = self.jobs[job_id]
        j["status"] = status
        j["updated_at"] = "2024-08-14T10:05:00.000Z"
        if status == "completed":
            j.update(token_count=123456, total_price=4_000_000, epochs_completed=1, steps_completed=9)
            j["events"] = [
                {
                    "object": "fine-tune-event",
                    "created_at": "2024-08-14T10:05:00.000Z",
                    "level": "info",
                    "message": "Job finished",
                    "type": "job_complete",
                }
            ]
        if status in ("error", "user_error", "cancelled"):
            j["events"] = self.events if self.inline_events else []
        return j

    def __call__(self, request: Any) -> Any:
        path = request.url.path.removeprefix("/v1")
        key = f"{request.method} {path}"
        self.auth.append(request.headers.get("authorization", ""))
        body: Any = None
        if request.method == "POST" and path == "/fine-tunes":
            body = json.loads(request.content)
        elif request.method == "POST" and path == "/files/upload":
            body = multipart(request)
        self.requests.append((request.method, path, body))
        if self.fail_next.get(key):
            first = self.fail_next[key].pop(0)
            if callable(first):
                return first(request, body)
            if isinstance(first, Exception):
                raise first
            return first
        return self.answer(request, path, body)

    def answer(self, request: Any, path: str, body: Any) -> Any:
        if request.method == "POST" and path == "/files/upload":
            content = body["file"]
            f = {
                "id": f"file-{len(self.files) + 1:08d}-0d5b-4f0e-9a5e-6c1e2f3a4b5c",
                "object": "file",
                "created_at": 1715021438,
                "filename": body["file_name"].decode(),
                "bytes": len(content),
                "purpose": "fine-tune",
                "Processed": True,
                "FileType": "jsonl",
                "LineCount": content.count(b"\n"),
            }
            self.files.append(f)
            return httpx.Response(200, json=f)
        if request.method == "GET" and path == "/files":
            return httpx.Response(200, json={"object": "list", "data": self.files})
        if request.method == "POST" and path == "/fine-tunes":
            return httpx.Response(200, json=self.create(body))
        if request.method == "GET" and path == "/fine-tunes":
            return httpx.Response(200, json={"data": list(self.jobs.values())[::-1]})
        if request.method == "GET" and path.endswith("/events"):
            return httpx.Response(200, json={"data": self.events})
        if request.method == "GET" and path.startswith("/fine-tunes/"):
            job_id = path.rsplit("/", 1)[1]
            if job_id not in self.jobs:
                return httpx.Response(404, json={"error": {"message": f"job {job_id} not found"}})
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return httpx.Response(200, json=self.job_body(job_id, status))
        return httpx.Response(404, json={"error": {"message": f"no route {path}"}})

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        n = len(self.jobs) + 1
        job_id = f"ft-{n:04d}-7c1e-4b6a-9d2f-0a1b2c3d4e5f"
        if "from_checkpoint" in body:  # continued fine-tuning: the job's model is the checkpoint's base
            assert "model" not in body, "Together takes a model or a checkpoint, not both"
            (parent,) = [j for j in self.jobs.values() if j["model_output_name"] == body["from_checkpoint"]]
            model = parent["model"]
        else:
            model = body["model"]
        self.jobs[job_id] = {
            "id": job_id,
            "status": "pending",
            "model": model,
            "from_checkpoint": body.get("from_checkpoint"),
            "model_output_name": OUTPUT if n == 1 else f"acme/{model.split('/')[-1]}-{n}",
            "training_file": body["training_file"],
            "validation_file": body.get("validation_file", ""),
            "n_epochs": body["n_epochs"],
            "learning_rate": body["learning_rate"],
            "batch_size": body["batch_size"],
            "training_type": body["training_type"],
            "training_method": body["training_method"],
            "created_at": "2024-08-14T10:00:00.000Z",
            "updated_at": "2024-08-14T10:00:00.000Z",
            "user_id": "user_0123",
            "owner_address": "0xabc",
            "events": [],
            "token_count": 0,
            "total_price": 0,
        }
        return self.jobs[job_id]

    def client(self) -> Any:
        return httpx.Client(transport=httpx.MockTransport(self))

    def tuner(self, **kw: Any) -> TogetherFineTuner:
        kw.setdefault("sleep", lambda s: None)
        return TogetherFineTuner(self.client(), **kw)

    def calls(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.requests]

    def count(self, method: str, path: str) -> int:
        return self.calls().count((method, path))

    def body(self, method: str, path: str, i: int = 0) -> Any:
        """The body of the i-th `method path` request."""
        return [b for m, p, b in self.requests if (m, p) == (method, path)][i]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    p = tmp_path / "m1-self.jsonl"
    p.write_text("\n".join(json.dumps(ROW) for _ in range(3)) + "\n")
    return p


def test_upload_create_poll_until_completed(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["pending", "queued", "running", "running", "uploading", "completed"])
    waits: list[float] = []
    tuner = server.tuner(sleep=waits.append)
    assert isinstance(tuner, Trainer)
    cfg = TogetherFTConfig(poll_initial_s=5, poll_max_s=30)
    m = tuner.fit(data, BASE, cfg, name="m1-self", out_dir=tmp_path / "run")

    assert m.ref == f"openai-compatible/{OUTPUT}@{URL}" and m.remote_id == OUTPUT and m.kind == "together-ft"
    assert m.base_ref == BASE and m.metrics["n_train"] == 3 and m.metrics["token_count"] == 123456
    job = "ft-0001-7c1e-4b6a-9d2f-0a1b2c3d4e5f"
    assert (
        server.calls()
        == [("GET", "/fine-tunes"), ("POST", "/files/upload"), ("POST", "/fine-tunes")]
        + [("GET", f"/fine-tunes/{job}")] * 6  # the listing first: is the model one of our fine-tunes?
    )
    assert set(server.auth) == {f"Bearer {KEY}"}
    form = server.body("POST", "/files/upload")
    assert form["purpose"] == b"fine-tune" and form["file_type"] == b"jsonl"
    assert form["file_name"].decode().startswith("inward-") and form["file_name"].endswith(b"-train.jsonl")
    uploaded = [json.loads(line) for line in form["file"].decode().splitlines()]
    assert uploaded == [{"messages": ROW["messages"]}] * 3  # messages only: no "string", no "inward"
    create = server.body("POST", "/fine-tunes")
    assert create == {
        "model": MODEL,
        "training_file": "file-00000001-0d5b-4f0e-9a5e-6c1e2f3a4b5c",
        "n_epochs": 1,
        "learning_rate": 2e-5,
        "batch_size": 16,
        "packing": False,
        "n_checkpoints": 1,
        "n_evals": 0,
        "lr_scheduler": {"lr_scheduler_type": "linear", "lr_scheduler_args": {"min_lr_ratio": 0.0}},
        "warmup_ratio": 0.0,
        "max_grad_norm": 1.0,
        "weight_decay": 0.0,
        "training_type": {
            "type": "Lora",
            "lora_r": 32,
            "lora_alpha": 64,
            "lora_dropout": 0.0,
            "lora_trainable_modules": "all-linear",
        },
        "training_method": {"method": "sft", "train_on_inputs": False},
        "random_seed": 0,
    }
    assert waits == [5, 10, 20, 30, 30]  # exponential backoff, capped
    state = json.loads((tmp_path / "run" / STATE_FILE).read_text())
    assert state["job_id"] == job and state["status"] == "completed" and state["output_name"] == OUTPUT
    prov = m.provenance
    assert prov["service"] == "together" and prov["base_model"] == MODEL and prov["job_id"] == job
    assert prov["hyperparameters"]["training_type"]["lora_r"] == 32 and len(prov["data_sha256"]) == 64
    assert prov["training_file"] == create["training_file"] and prov["key_env"] == "TOGETHER_API_KEY"
    rec = m.record_fields()
    assert rec["kind"] == "together-ft" and rec["remote_id"] == OUTPUT and rec["provenance"]["ref"] == m.ref

    # A finished run answers from its state file without any request (and without a key).
    again = FakeTogether(["running"])
    assert again.tuner().fit(data, BASE, cfg, name="m1-self", out_dir=tmp_path / "run").ref == m.ref
    assert again.requests == []


def test_validation_file_settings_and_suffix_are_sent(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["completed"])
    cfg = TogetherFTConfig(
        n_epochs=2,
        learning_rate=1e-4,
        batch_size=8,
        lora_r=8,
        lora_alpha=16,
        n_evals=2,
        seed=3,
        suffix="m1-self",
        lr_scheduler="cosine",
        max_seq_length=2048,
    )
    server.tuner().fit(data, BASE, cfg, name="x", out_dir=tmp_path / "run", val_data=data)
    assert server.count("POST", "/files/upload") == 2
    assert server.body("POST", "/files/upload", 1)["file_name"].endswith(b"-val.jsonl")
    create = server.body("POST", "/fine-tunes")
    assert create["validation_file"] == "file-00000002-0d5b-4f0e-9a5e-6c1e2f3a4b5c"
    assert (create["n_epochs"], create["learning_rate"], create["batch_size"]) == (2, 1e-4, 8)
    assert create["training_type"]["lora_r"] == 8 and create["training_type"]["lora_alpha"] == 16
    assert create["n_evals"] == 2 and create["random_seed"] == 3 and create["suffix"] == "m1-self"
    assert create["max_seq_length"] == 2048
    assert create["lr_scheduler"] == {
        "lr_scheduler_type": "cosine",
        "lr_scheduler_args": {"min_lr_ratio": 0.0, "num_cycles": 0.5},
    }


ERROR_EVENTS = [
    {
        "object": "fine-tune-event",
        "created_at": "2024-08-14T10:01:00.000Z",
        "level": "info",
        "message": "Training started",
        "type": "training_start",
    },
    {
        "object": "fine-tune-event",
        "created_at": "2024-08-14T10:02:00.000Z",
        "level": "error",
        "message": "Invalid training file:\nline 2: the conversation must alternate user and assistant",
        "type": "job_error",
    },
]


@pytest.mark.parametrize("inline", [True, False], ids=["inline-events", "events-endpoint"])
def test_a_failed_job_says_why_in_one_line_and_stays_failed(data: Path, tmp_path: Path, inline: bool) -> None:
    server = FakeTogether(["pending", "running", "error"], events=ERROR_EVENTS)
    server.inline_events = inline
    tuner = server.tuner()
    with pytest.raises(FineTuneFailed) as e:
        tuner.fit(data, BASE, name="x", out_dir=tmp_path / "run")
    msg = str(e.value)
    assert "\n" not in msg
    assert "error: Invalid training file: line 2: the conversation must alternate user and assistant" in msg
    assert msg.endswith(f"(delete {tmp_path / 'run' / STATE_FILE} to start a new job)")
    assert any(p.endswith("/events") for _, p in server.calls()) is not inline
    n = len(server.requests)
    with pytest.raises(FineTuneFailed, match="Invalid training file"):
        tuner.fit(data, BASE, name="x", out_dir=tmp_path / "run")
    assert len(server.requests) == n  # no new upload, no new job


def test_a_cancelled_job_without_events_says_so(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["cancel_requested", "cancelled"])
    with pytest.raises(FineTuneFailed, match=r"job ft-\S+ cancelled: no reason given"):
        server.tuner().fit(data, BASE, name="x", out_dir=tmp_path / "run")


class Crash(Exception):
    """The process dies here."""


def _dies_once(monkeypatch: pytest.MonkeyPatch, when: Any) -> None:
    """The state file is not written at the first save where `when(state)` holds: the process dies there."""
    real = TogetherFineTuner._save
    fired = []

    def save(out_dir: Path, state: Any) -> None:
        if not fired and when(state):
            fired.append(True)
            raise Crash
        real(out_dir, state)

    monkeypatch.setattr(TogetherFineTuner, "_save", staticmethod(save))


@pytest.mark.parametrize(
    "stage",
    ["upload-answered-not-saved", "before-create", "create-answered-not-saved", "polling"],
)
def test_an_interrupted_fit_resumes_the_same_job(
    stage: str, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeTogether(["pending", "running", "running", "completed"])
    out = tmp_path / "run"
    if stage == "upload-answered-not-saved":  # Together stored the file; its id never reached the disk
        _dies_once(monkeypatch, lambda s: s.training_file is not None)
        first = server.tuner()
    elif stage == "create-answered-not-saved":  # the job exists at Together; its id never reached the disk
        _dies_once(monkeypatch, lambda s: s.job_id is not None)
        first = server.tuner()
    elif stage == "before-create":
        first = server.tuner()
        monkeypatch.setattr(first, "_create_job", lambda *a: (_ for _ in ()).throw(Crash()))
    else:
        first = server.tuner(sleep=lambda s: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        first.fit(data, BASE, name="x", out_dir=out)
    monkeypatch.undo()
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)

    m = server.tuner().fit(data, BASE, name="x", out_dir=out)
    assert m.ref == f"openai-compatible/{OUTPUT}@{URL}"
    assert server.count("POST", "/fine-tunes") == 1  # never a second paid job
    assert server.count("POST", "/files/upload") == 1
    assert len(server.jobs) == 1 and m.metrics["job_id"] in server.jobs
    if stage == "upload-answered-not-saved":
        assert ("GET", "/files") in server.calls()  # the upload was found by its name
    if stage == "create-answered-not-saved":
        assert ("GET", "/fine-tunes") in server.calls()  # the job was found by its training file


def test_a_create_whose_answer_is_lost_finds_the_job_instead_of_creating_another(
    data: Path, tmp_path: Path
) -> None:
    server = FakeTogether(["completed"])

    def created_then_timed_out(request: Any, body: Any) -> Any:
        server.create(body)
        raise httpx.ReadTimeout("timed out", request=request)

    server.fail_next["POST /fine-tunes"] = [created_then_timed_out]
    m = server.tuner().fit(data, BASE, name="x", out_dir=tmp_path / "run")
    assert server.count("POST", "/fine-tunes") == 1 and len(server.jobs) == 1
    assert m.metrics["job_id"] in server.jobs


def test_a_create_that_never_arrived_is_a_resumable_one_line_error(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["completed"])
    server.fail_next["POST /fine-tunes"] = [httpx.ConnectError("connection refused")]
    with pytest.raises(UserError, match=r"cannot reach Together .*run the same command again to resume") as e:
        server.tuner().fit(data, BASE, name="x", out_dir=tmp_path / "run")
    assert "\n" not in str(e.value) and not server.jobs
    server.tuner().fit(data, BASE, name="x", out_dir=tmp_path / "run")
    assert len(server.jobs) == 1 and server.count("POST", "/files/upload") == 1


def test_busy_and_failing_answers_are_retried(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["running", "completed"])
    job = "ft-0001-7c1e-4b6a-9d2f-0a1b2c3d4e5f"
    server.fail_next[f"GET /fine-tunes/{job}"] = [
        httpx.Response(429, json={"error": {"message": "rate limited"}}),
        httpx.Response(503, text="upstream unavailable"),
    ]
    server.fail_next["POST /files/upload"] = [httpx.ReadError("reset")]
    waits: list[float] = []
    m = server.tuner(sleep=waits.append).fit(data, BASE, name="x", out_dir=tmp_path / "run")
    assert m.remote_id == OUTPUT and server.count("POST", "/files/upload") == 2 and len(server.files) == 1
    assert waits[:3] == [1.0, 1.0, 2.0]  # retry backoff before the poll's own waits


def test_bad_input_fails_before_any_request(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["completed"])
    tuner = server.tuner()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ROW) + "\n{broken\n")
    with pytest.raises(UserError, match="line 2"):
        tuner.fit(bad, BASE, name="x", out_dir=tmp_path / "r")
    two_users = dict(ROW, messages=[ROW["messages"][1], ROW["messages"][1], ROW["messages"][2]])
    starts_with_answer = dict(ROW, messages=[ROW["messages"][2]])
    odd = tmp_path / "odd.jsonl"
    odd.write_text("\n".join(json.dumps(r) for r in (ROW, two_users, starts_with_answer)) + "\n")
    with pytest.raises(UserError, match=r"2 row\(s\) Together cannot train on: example 2: roles user, user"):
        tuner.fit(odd, BASE, name="x", out_dir=tmp_path / "r")
    for base in (
        "local/smollm2-135m",
        f"openai/{MODEL}",
        f"openai-compatible/{MODEL}@http://127.0.0.1:8000/v1",
        f"{BASE}+adapter=m1",
    ):
        with pytest.raises(UserError, match="not a Together model"):
            tuner.fit(data, base, name="x", out_dir=tmp_path / "r")
    with pytest.raises(UserError, match="n_evals > 0 needs a validation file"):
        tuner.fit(data, BASE, TogetherFTConfig(n_evals=1), name="x", out_dir=tmp_path / "r")
    assert server.requests == []
    tuner.fit(data, BASE, name="x", out_dir=tmp_path / "r")
    with pytest.raises(UserError, match="other data, model or settings"):
        tuner.fit(data, BASE, TogetherFTConfig(n_epochs=3), name="x", out_dir=tmp_path / "r")


def test_missing_or_refused_key_is_a_one_line_user_error(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY")
    with pytest.raises(UserError, match="needs an API key: set TOGETHER_API_KEY"):
        TogetherFineTuner().fit(data, BASE, name="x", out_dir=tmp_path / "a")
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    server = FakeTogether(["completed"])
    server.fail_next["POST /files/upload"] = [
        httpx.Response(401, json={"error": {"message": f"Invalid API key provided: {KEY[:12]}****"}})
    ]
    with pytest.raises(UserError, match="refused the API key in TOGETHER_API_KEY") as e:
        server.tuner().fit(data, BASE, name="x", out_dir=tmp_path / "b")
    assert KEY[:12] not in str(e.value)


def test_a_rejected_request_shows_the_service_message_without_the_key(data: Path, tmp_path: Path) -> None:
    server = FakeTogether(["completed"])
    server.fail_next["POST /fine-tunes"] = [
        httpx.Response(
            400,
            json={"error": {"message": f"model {MODEL} is not available for fine-tuning (key {KEY})"}},
        )
    ]
    with pytest.raises(UserError, match=r"Together rejected the job: HTTP 400: model .* not available") as e:
        server.tuner().fit(data, BASE, name="x", out_dir=tmp_path / "run")
    assert KEY not in str(e.value) and KEY[-4:] not in str(e.value)


def test_the_key_is_written_nowhere(data: Path, tmp_path: Path) -> None:
    from inward.store import ModelRecord, Store

    server = FakeTogether(["pending", "running", "completed"])
    ws = tmp_path / "ws"
    m = server.tuner().fit(data, BASE, name="m1-self", out_dir=ws / "models" / "m1-self")
    with Store.open(ws) as store:
        store.register_model(ModelRecord(**m.record_fields()))
    failed = FakeTogether(["error"], events=[dict(ERROR_EVENTS[1], message=f"bad key {KEY} in header")])
    with pytest.raises(FineTuneFailed) as e:
        failed.tuner().fit(data, BASE, name="x", out_dir=ws / "models" / "x")
    assert KEY not in str(e.value)
    files = [p for p in ws.rglob("*") if p.is_file()]
    assert any(p.name == STATE_FILE for p in files) and any(p.suffix == ".db" for p in files)
    for p in files:
        assert KEY.encode() not in p.read_bytes(), p
    assert KEY not in json.dumps(m.model_dump())


def test_is_together() -> None:
    assert is_together(BASE) and is_together(f"openai-compatible/{MODEL}@https://api.together.ai/v1")
    assert not is_together(f"openai-compatible/{MODEL}@http://localhost:8000/v1")
    assert not is_together("openai/gpt-4o-mini") and not is_together("local/smollm2-135m")


# -- wiring: the backend that evaluates the result, the pipeline's choice of trainer, the CLI -------------


def chat_answer(text: str, *, together_logprobs: bool = False) -> dict[str, Any]:
    """A chat completion as Together documents it (logprobs: tokens and token_logprobs when asked)."""
    choice: dict[str, Any] = {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": text},
    }
    if together_logprobs:
        choice["logprobs"] = {"tokens": [text], "token_logprobs": [-0.105]}
    return {
        "id": "8a6e3f2b1c0d-EWR",
        "object": "chat.completion",
        "created": 1723629900,
        "model": OUTPUT,
        "prompt": [],
        "choices": [choice],
        "usage": {"prompt_tokens": 31, "completion_tokens": 1, "total_tokens": 32},
    }


def test_the_trained_ref_is_evaluated_by_the_openai_compatible_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("openai")
    from inward.backends import make_backend
    from inward.backends.base import GenerateConfig

    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(request: Any) -> Any:
        body = json.loads(request.content)
        seen.append((request.headers["authorization"], body))
        return httpx.Response(200, json=chat_answer("b", together_logprobs=bool(body.get("logprobs"))))

    monkeypatch.delenv("INWARD_API_KEY", raising=False)
    ref = f"openai-compatible/{OUTPUT}@{URL}"
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with make_backend(ref, http_client=client, backoff=(0.001, 0.01)) as backend:
        (gen,) = backend.generate([[{"role": "user", "content": "q"}]], GenerateConfig(max_tokens=3))
        assert gen[0].text == "b"
        # Together's own logprobs layout (tokens / token_logprobs, asked for as logprobs=k) is read: the
        # distribution comes from the greedy path, p("b") = exp(-0.105), the rest uncovered; no sampling.
        (dist,) = backend.distribution([[{"role": "user", "content": "q"}]], [lambda t, done: t or None])
        assert dist.method == "logprobs" and dist.probs == pytest.approx({"b": math.exp(-0.105)})
        assert dist.covered == pytest.approx(math.exp(-0.105)) and len(seen) == 2
        assert seen[1][1]["logprobs"] == 20 and "top_logprobs" not in seen[1][1]  # k as a number (default 20)
    assert {a for a, _ in seen} == {f"Bearer {KEY}"}
    assert seen[0][1]["model"] == OUTPUT and seen[0][1]["temperature"] == 0.0

    monkeypatch.delenv("TOGETHER_API_KEY")
    with pytest.raises(UserError, match=r"needs an API key: set \$TOGETHER_API_KEY"):
        make_backend(ref)
    monkeypatch.setenv("INWARD_API_KEY", "generic-key")  # the generic variable still serves alone
    assert make_backend(ref).api_key_env == "INWARD_API_KEY"  # type: ignore[attr-defined]


def test_the_pipeline_picks_the_together_trainer_and_the_paper_recipe(tmp_path: Path) -> None:
    from inward.experiments.config import Training
    from inward.experiments.models import LocalModels, training_config

    trainer = LocalModels(store=None).trainer(BASE)
    assert isinstance(trainer, TogetherFineTuner) and trainer.kind == "together-ft"
    with pytest.raises(UserError, match="no trainer for"):
        LocalModels(store=None).trainer(f"openai-compatible/{MODEL}@http://localhost:8000/v1")
    # the plan's local defaults are not the hosted recipe: only what the file chose is taken
    assert training_config("together-ft", Training(), 7) == TogetherFTConfig(seed=7)
    chosen = training_config("together-ft", Training(lr=1e-4, rank=16, epochs=2), 0)
    assert (chosen.learning_rate, chosen.lora_r, chosen.n_epochs, chosen.batch_size) == (1e-4, 16, 2, 16)
    explicit = training_config(
        "together-ft", Training(lr=1e-3), 0
    )  # equal to the local default, still chosen
    assert explicit.learning_rate == 1e-3 and explicit.lora_r == TogetherFTConfig().lora_r
    # a --seeds override re-validates the experiment file; what it chose stays chosen, nothing else becomes so
    from inward.cli.experiments_cmd import with_seeds
    from inward.experiments.config import ExperimentConfig

    cfg = with_seeds(ExperimentConfig.model_validate({"name": "t", "training": {"m1": {"lr": 1e-3}}}), (0, 1))
    assert cfg.seeds == (0, 1) and cfg.training.m1.model_fields_set == {"lr"}
    assert training_config("together-ft", cfg.training.m2, 0) == TogetherFTConfig()


def test_inward_train_backend_together(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from inward.cli import cli
    from inward.store import Store

    server = FakeTogether(["running", "completed"])
    real_init = TogetherFineTuner.__init__

    def init(self: TogetherFineTuner, http_client: Any = None, **kw: Any) -> None:
        real_init(self, server.client(), sleep=lambda s: None)

    monkeypatch.setattr(TogetherFineTuner, "__init__", init)
    ws = tmp_path / "ws"
    args = [
        "train",
        "-m",
        BASE,
        "--data",
        str(data),
        "--out",
        "m1-tg",
        "--backend",
        "together",
        "--lr",
        "1e-4",
    ]
    out = CliRunner().invoke(cli, args, env={"INWARD_WORKSPACE": str(ws)})
    assert out.exit_code == 0, out.output
    assert f"trained openai-compatible/{OUTPUT}@{URL}" in out.output
    create = server.body("POST", "/fine-tunes")
    assert create["learning_rate"] == 1e-4 and create["batch_size"] == 16 and create["n_epochs"] == 1
    assert create["training_type"]["lora_r"] == 32  # --rank not given: the recipe's, not the local default
    with Store.open(ws) as store:
        rec = store.get_model("m1-tg")
    assert rec is not None and rec.kind == "together-ft" and rec.remote_id == OUTPUT
    bad = CliRunner().invoke(
        cli,
        ["train", "-m", "local/smollm2-135m", "--data", str(data), "--out", "m2", "--backend", "together"],
    )
    assert isinstance(bad.exception, UserError) and "not a Together model" in str(bad.exception)


def test_a_fine_tune_given_as_the_base_is_trained_further_from_its_checkpoint(
    data: Path, tmp_path: Path
) -> None:
    """Behaviour change trains the self-trained M1 further: its output name goes as `from_checkpoint` (not as
    `model`), the base it came from is recorded, and a plain base model is still sent as `model`."""
    server = FakeTogether(["completed"])
    first = server.tuner().fit(data, BASE, name="m1-self", out_dir=tmp_path / "m1")
    assert server.body("POST", "/fine-tunes")["model"] == MODEL
    shifted = server.tuner().fit(data, first.ref, name="m1-shifted", out_dir=tmp_path / "shifted")
    create = server.body("POST", "/fine-tunes", 1)
    assert create["from_checkpoint"] == OUTPUT and "model" not in create
    assert shifted.ref != first.ref and shifted.base_ref == first.ref
    assert shifted.provenance["from_checkpoint"] == OUTPUT and shifted.provenance["base_model"] == MODEL
    assert first.provenance["from_checkpoint"] is None
    # the state keeps both names (a resumed job is looked for under the base); a rerun creates nothing
    state = json.loads((tmp_path / "shifted" / STATE_FILE).read_text())
    assert state["model"] == OUTPUT and state["checkpoint_of"] == MODEL
    assert (
        server.tuner().fit(data, first.ref, name="m1-shifted", out_dir=tmp_path / "shifted").ref
        == shifted.ref
    )
    assert server.count("POST", "/fine-tunes") == 2
