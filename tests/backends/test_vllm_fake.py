"""The vLLM provider against a fake vLLM server (`fake_vllm`): server manager, adapters, identity, distributions.

Fast: the fake answers in-process (attach mode) or as a small subprocess (`VLLMServer.start`); prefix-expanded
distributions are checked against the local exact engine on the tiny test model, whose next-token log-probs the
fake serves through /v1/completions.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openai")

from fake_vllm import FakeVLLM, fake_python

from inward.backends import vllm_server as vs
from inward.backends.base import GenerateConfig
from inward.backends.vllm_config import VLLMOptions, local_base, server_command, vllm_identity
from inward.backends.vllm_server import VLLMServer
from inward.errors import UserError
from inward.refs import ModelRef


def first_char(raw: str, finished: bool) -> str | None:
    s = raw.strip()
    return s[:1] if s else ("" if finished else None)


def make_adapter(folder: Path, *, rank: int = 8, weights: bytes = b"w" * 64) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank, "peft_type": "LORA"}))
    (folder / "adapter_model.bin").write_bytes(weights)
    return folder


def flag_values(args: list[str]) -> dict[str, str]:
    """--flag value pairs of a command line (a flag without a value maps to "")."""
    out: dict[str, str] = {}
    for i, a in enumerate(args):
        if a.startswith("--"):
            nxt = args[i + 1] if i + 1 < len(args) else ""
            out[a] = "" if nxt.startswith("--") else nxt
    return out


@pytest.fixture(autouse=True)
def _no_servers_left() -> Iterator[None]:
    yield
    vs.stop_all()
    vs._SERVERS.clear()


@pytest.fixture
def fake() -> Iterator[FakeVLLM]:
    with FakeVLLM() as srv:
        yield srv


def attach(fake: FakeVLLM, folder: Path | None, adapter: Path | None = None, **kw: Any) -> Any:
    from inward.backends.vllm import VLLMBackend

    server = vs.attached_server(fake.base_url, fake.served, VLLMOptions(**kw.pop("options", {})))
    ref = f"vllm/{fake.served}@{fake.base_url}" + (f"+adapter={adapter.parent.name}" if adapter else "")
    return VLLMBackend(ref, server=server, folder=folder, adapter=adapter, **kw)


# ---- refs and the command line ------------------------------------------------------------------------------


def test_vllm_refs_parse_with_and_without_a_server() -> None:
    r = ModelRef.parse("vllm/smollm2-135m+adapter=m1-self")
    assert (r.provider, r.name, r.adapter, r.base_url) == ("vllm", "smollm2-135m", "m1-self", None)
    r = ModelRef.parse("vllm/llama-8b@http://gpu:8000/v1+adapter=x")
    assert (r.name, r.base_url, r.adapter) == ("llama-8b", "http://gpu:8000/v1", "x")
    assert ModelRef.parse(str(r)) == r
    assert ModelRef.parse("vllm//data/a@b/model").name == "/data/a@b/model"  # an @ in a path is the path's
    assert local_base("vllm/smollm2-135m+adapter=a") == ModelRef("local", "smollm2-135m", "a")
    assert local_base("vllm//data/llama") == ModelRef("hf", "/data/llama")


def test_command_line_enables_lora_and_sizes_the_cpu_kv_cache(tmp_path: Path) -> None:
    cpu = fake_python(tmp_path / "cpu")
    o = VLLMOptions(
        tensor_parallel_size=2, max_lora_rank=32, max_loras=6, max_logprobs=99, extra_args=("--seed", "1")
    )
    cmd = server_command(cpu, Path("/m"), "m", 8123, o)
    flags = flag_values(cmd[3:])
    assert "--enable-lora" in cmd and cmd[-2:] == ["--seed", "1"]
    assert flags["--tensor-parallel-size"] == "2" and flags["--max-lora-rank"] == "32"
    assert flags["--max-loras"] == "6" and flags["--max-logprobs"] == "99" and flags["--port"] == "8123"
    assert flags["--dtype"] == "float32" and flags["--kv-cache-memory-bytes"] == str(2**30)  # CPU build
    gpu = server_command(
        fake_python(tmp_path / "gpu", cpu_build=False),
        Path("/m"),
        "m",
        1,
        VLLMOptions(gpu_memory_utilization=0.5),
    )
    assert "--kv-cache-memory-bytes" not in gpu and "--gpu-memory-utilization" in gpu and "auto" in gpu


def test_missing_venv_says_how_to_make_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INWARD_VLLM_PYTHON", raising=False)
    monkeypatch.setenv("INWARD_VLLM_VENV", str(tmp_path / "none"))
    with pytest.raises(UserError, match=r"scripts/vllm-venv\.sh"):
        VLLMServer.start(tmp_path, "m")


# ---- the process manager --------------------------------------------------------------------------------------


def test_start_waits_until_ready_logs_and_stops_the_whole_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INWARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_VLLM_DELAY", "1")
    server = VLLMServer.start(tmp_path, "smollm2-135m", VLLMOptions(python=str(fake_python(tmp_path / "v"))))
    try:
        assert server.started_here and server.startup_s is not None and server.startup_s >= 1
        assert [m["id"] for m in server.models()] == ["smollm2-135m"]
        env = server._request("GET", "/env")
        assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
        assert server.log_path is not None and server.log_path.parent == tmp_path / "cache" / "vllm-logs"
        assert "--enable-lora" in server.log_path.read_text()
        assert server.version() == "0.32.0-fake"
        pid = server.process.pid if server.process else 0
    finally:
        server.stop()
    assert server.process is None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the group is gone
    server.stop()  # twice is fine


def test_a_crashing_server_is_reported_with_its_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INWARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_VLLM_CRASH", "1")
    with pytest.raises(UserError, match=r"exited with code 3.*ValueError: Available memory.*whole log"):
        VLLMServer.start(tmp_path, "m", VLLMOptions(python=str(fake_python(tmp_path / "v"))))


def test_a_server_that_never_lists_its_model_times_out_and_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INWARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_VLLM_NEVER_READY", "1")
    o = VLLMOptions(python=str(fake_python(tmp_path / "v")), startup_timeout_s=2)
    started: list[Any] = []
    real_popen = vs.subprocess.Popen

    def popen(*a: Any, **kw: Any) -> Any:
        started.append(real_popen(*a, **kw))
        return started[-1]

    monkeypatch.setattr(vs.subprocess, "Popen", popen)
    with pytest.raises(UserError, match="not ready after 2 s"):
        VLLMServer.start(tmp_path, "m", o)
    assert started[0].poll() is not None  # stopped, not left running


def test_one_shared_server_per_model_and_launch_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts: list[tuple[Path, str]] = []

    class Started:
        def __init__(self, model: Path, name: str, o: VLLMOptions) -> None:
            starts.append((model, name))
            self.process = type("P", (), {"poll": lambda self: None})()
            self.started_here = True

        def stop(self) -> None:
            self.process = None

    monkeypatch.setattr(
        VLLMServer, "start", classmethod(lambda cls, m, n, o=None: Started(m, n, o or VLLMOptions()))
    )
    a = vs.shared_server(tmp_path, "m", VLLMOptions())
    assert vs.shared_server(tmp_path, "m", VLLMOptions(concurrency=3, timeout_s=5)) is a  # client-side only
    assert vs.shared_server(tmp_path, "m", VLLMOptions(max_loras=8)) is not a
    assert len(starts) == 2


# ---- adapters -------------------------------------------------------------------------------------------------


def test_adapters_load_once_by_content_name_and_unload_with_their_last_user(
    fake: FakeVLLM, tmp_path: Path
) -> None:
    adapter = make_adapter(tmp_path / "m1-self" / "adapter")
    a = attach(fake, None, adapter)
    b = attach(fake, None, adapter)
    assert len(fake.loads) == 1 and fake.loads[0]["lora_path"] == str(adapter.resolve())
    name = fake.loads[0]["lora_name"]
    assert name.startswith("m1-self.") and len(name.split(".")[-1]) == 10 and a.served_model == name
    out = a.generate([[{"role": "user", "content": "hi"}]], GenerateConfig(max_tokens=16))
    assert out[0][0].text.startswith(name) and fake.requests[-1][1]["model"] == name  # asked by adapter name
    a.close()
    assert fake.unloads == []  # b still uses it
    b.close()
    assert fake.unloads == [name] and fake.adapters == {}
    make_adapter(adapter, weights=b"other" * 20)  # retrained under the same name: a new server name
    c = attach(fake, None, adapter)
    assert c.served_model != name and c.served_model.startswith("m1-self.")
    c.close()


def test_a_collected_backend_unloads_its_adapter(fake: FakeVLLM, tmp_path: Path) -> None:
    import gc

    b = attach(fake, None, make_adapter(tmp_path / "x" / "adapter"))
    del b
    gc.collect()
    assert len(fake.unloads) == 1


def test_adapter_already_on_the_server_is_used_as_it_is(fake: FakeVLLM, tmp_path: Path) -> None:
    adapter = make_adapter(tmp_path / "x" / "adapter")
    first = attach(fake, None, adapter)
    vs._SERVERS.clear()  # another process attached to the same server: it does not know the adapter is there
    second = attach(fake, None, adapter)
    assert second.served_model == first.served_model and len(fake.loads) == 1


def test_adapter_rank_above_the_servers_limit_fails_before_loading(fake: FakeVLLM, tmp_path: Path) -> None:
    adapter = make_adapter(tmp_path / "big" / "adapter", rank=64)
    with pytest.raises(UserError, match=r"rank 64 > the server's max_lora_rank 16: raise vllm.max_lora_rank"):
        attach(fake, None, adapter)
    assert fake.loads == []


def test_server_without_runtime_lora_updates_says_how_to_start_it(tmp_path: Path) -> None:
    with (
        FakeVLLM(runtime_lora=False) as srv,
        pytest.raises(UserError, match="VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"),
    ):
        attach(srv, None, make_adapter(tmp_path / "x" / "adapter"))


def test_attach_checks_the_served_model(fake: FakeVLLM) -> None:
    assert (
        VLLMServer.attach(fake.base_url, model="other-name").served_name == fake.served
    )  # the one base model
    with pytest.raises(UserError, match="no vLLM server answers"):
        VLLMServer.attach("http://127.0.0.1:9/v1")


# ---- identity and fingerprint ---------------------------------------------------------------------------------


def test_identity_is_the_content_of_base_and_adapter_kept_apart_from_the_local_engine(
    fake: FakeVLLM, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from inward.backends.identity import identity_key, local_identity

    adapter = make_adapter(tmp_path / "m1-self" / "adapter")
    b = attach(fake, tiny_model_dir, adapter)
    parts = b.identity()
    assert parts == {**local_identity(tiny_model_dir, adapter), "engine": "vllm"}
    assert identity_key(parts) != identity_key(local_identity(tiny_model_dir, adapter))
    moved = shutil.copytree(adapter, tmp_path / "renamed" / "adapter")  # same weights, other name: same key
    assert vllm_identity(tiny_model_dir, b.model_ref, moved) == parts
    fp = b.fingerprint()
    assert fp["engine"] == "inward-vllm/1" and fp["vllm"] == "0.32.0-fake" and fp["launch"] == "attached"
    assert fp["base_url"] == fake.base_url and fp["adapter_sha256"]
    b.close()


def test_a_started_servers_port_is_not_part_of_the_fingerprint(fake: FakeVLLM, tiny_model_dir: Path) -> None:
    from inward.backends.vllm import VLLMBackend

    a = VLLMServer(fake.base_url, fake.served, VLLMOptions(), process=object())  # type: ignore[arg-type]
    b = VLLMServer(fake.base_url.replace(str(fake.port), "1"), fake.served, VLLMOptions(), process=object())  # type: ignore[arg-type]
    fa = VLLMBackend("vllm/smollm2-135m", server=a, folder=tiny_model_dir).fingerprint()
    b._version = "0.32.0-fake"
    fb = VLLMBackend("vllm/smollm2-135m", server=b, folder=tiny_model_dir).fingerprint()
    assert fa == fb and "base_url" not in fa and fa["launch"]["tensor_parallel_size"] == 1
    a.process = b.process = None


def test_registry_identifies_vllm_refs_without_a_server(tiny_model_dir: Path) -> None:
    from inward.backends.registry import identify

    ident = identify(f"vllm/{tiny_model_dir}")
    local = identify(f"hf/{tiny_model_dir}")
    assert ident.key != local.key and ident.label == f"vllm/{tiny_model_dir}"
    assert vs._SERVERS == {}


# ---- distributions --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_next(tiny_model_dir: Path) -> Any:
    import torch

    from inward.backends.local import LocalBackend

    lm = LocalBackend(tiny_model_dir, device="cpu", threads=1)._lm

    def next_logprobs(ids: list[int]) -> list[float]:
        logits, _, _ = lm.prefill([ids])
        return torch.log_softmax(logits[0].float(), -1).tolist()

    return next_logprobs


PROMPTS = [
    [{"role": "user", "content": t}] for t in ("the cat", "numbers: 1 2", "Paris is", "Yes. No.", "a dog ran")
]


def test_prefix_expansion_matches_the_local_exact_engine(
    tiny: Any, tiny_next: Any, tiny_model_dir: Path
) -> None:
    local = tiny.distribution(PROMPTS, [first_char] * len(PROMPTS), coverage=0.999, max_tokens=6)
    with FakeVLLM(next_logprobs=tiny_next, max_logprobs=1024) as srv:
        b = attach(srv, tiny_model_dir, options={"max_logprobs": 1024})
        served = b.distribution(PROMPTS, [first_char] * len(PROMPTS), coverage=0.999, max_tokens=6)
        assert all(path == "/v1/completions" for path, _ in srv.requests)
        bodies = [body for _, body in srv.requests]
        assert all(isinstance(body["prompt"][0][0], int) and body["max_tokens"] == 1 for body in bodies)
        assert max(len(body["prompt"]) for body in bodies) > 1  # the prefixes of one step in one request
    for lo, sv in zip(local, served, strict=True):
        assert sv.method == "exact" and sv.extra["engine"] == "vllm"
        for v in set(lo.probs) | set(sv.probs):
            assert abs(lo.probs.get(v, 0) - sv.probs.get(v, 0)) < 1e-5
        assert abs(lo.covered - sv.covered) < 1e-5


def test_with_few_logprobs_each_value_is_a_lower_bound_within_the_uncovered_mass(
    tiny: Any, tiny_next: Any, tiny_model_dir: Path
) -> None:
    truth = tiny.distribution(
        PROMPTS, [first_char] * len(PROMPTS), coverage=1.0, max_branches=4096, max_tokens=6
    )
    with FakeVLLM(next_logprobs=tiny_next, max_logprobs=3) as srv:
        b = attach(srv, tiny_model_dir, options={"max_logprobs": 3})
        served = b.distribution(PROMPTS, [first_char] * len(PROMPTS), coverage=0.99, max_tokens=6)
    for t, d in zip(truth, served, strict=True):
        missing = 1 - d.covered
        assert missing > 0 and d.extra["top_logprobs"] == 3
        assert (
            abs(d.covered + d.extra["truncated_mass"] + d.extra["open_mass"] + d.extra["unexamined_mass"] - 1)
            < 1e-6
        )
        for v in set(t.probs) | set(d.probs):
            gap = t.probs.get(v, 0) - d.probs.get(v, 0)
            assert -1e-6 <= gap <= missing + 1e-6, (v, gap, missing)


def test_prefixes_whose_tail_matters_are_asked_again_for_more_tokens(
    tiny: Any, tiny_next: Any, tiny_model_dir: Path
) -> None:
    local = tiny.distribution(PROMPTS, [first_char] * len(PROMPTS), coverage=0.999, max_tokens=6)
    with FakeVLLM(next_logprobs=tiny_next, max_logprobs=1024) as srv:
        b = attach(srv, tiny_model_dir, options={"max_logprobs": -1})
        b.top_k = 5  # a vocabulary much larger than the first ask, as for real models (1024 of 49k-152k)
        served = b.distribution(PROMPTS, [first_char] * len(PROMPTS), coverage=0.999, max_tokens=6)
        asked = [body["logprobs"] for _, body in srv.requests]
    assert 5 in asked and -1 in asked  # wide asks where the top 5 leave too much out
    for lo, sv in zip(local, served, strict=True):
        assert (
            abs(lo.covered - sv.covered) < 1e-5
        )  # as the local engine, which sorts the whole vocabulary there


def test_expansion_takes_an_attached_servers_logprob_limit(tiny_next: Any, tiny_model_dir: Path) -> None:
    with FakeVLLM(next_logprobs=tiny_next, max_logprobs=8) as srv:
        b = attach(srv, tiny_model_dir)  # asks 256 first
        (d,) = b.distribution(PROMPTS[:1], [first_char], max_tokens=4)
    assert b.top_k == 8 and d.method == "exact" and d.extra["top_logprobs"] == 8 and d.probs


def test_without_completions_distributions_fall_back_to_chat_logprobs_then_samples(
    tiny_model_dir: Path,
) -> None:
    with FakeVLLM(completions=False) as srv:
        b = attach(srv, tiny_model_dir)
        (d,) = b.distribution(PROMPTS[:1], [first_char], max_tokens=4)
        assert d.method == "logprobs" and b.usage.fallbacks["expansion"] == 1 and not b.expand
    with FakeVLLM(completions=False, chat_logprobs=False) as srv:
        b = attach(srv, tiny_model_dir, fallback_samples=3)
        (d,) = b.distribution(PROMPTS[:1], [first_char], max_tokens=4)
        assert d.method == "sampled" and d.n_samples == 3


def test_a_model_only_the_server_has_is_served_by_name(fake: FakeVLLM) -> None:
    from inward.backends.registry import make_backend

    b = make_backend(f"vllm/some-org/llama-70b@{fake.base_url}")
    assert b.identity()["kind"] == "api" and b.served_model == fake.served  # the server's one base model
    assert not b.expand  # no local tokenizer: chat top-logprobs
    b.close()


def test_unknown_model_without_a_server_is_one_clear_line() -> None:
    from inward.backends.registry import make_backend

    with pytest.raises(UserError, match=r"neither a bundled model .* vllm/no-such-model@http"):
        make_backend("vllm/no-such-model")


# ---- the pipeline's side ---------------------------------------------------------------------------------------


def test_served_models_train_locally_and_stay_served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from inward.experiments.models import LocalModels
    from inward.training.base import TrainedModel
    from inward.training.served import ServedLoraTrainer

    seen: list[str] = []

    class FakeLocal:
        kind = "lora"

        def fit(
            self, data: Path, base: str, config: Any, *, name: str, out_dir: Path, val_data: Any = None
        ) -> TrainedModel:
            seen.append(base)
            return TrainedModel(ref=f"{ModelRef.parse(base).base}+adapter={name}", name=name, base_ref=base,
                                kind="lora", path=str(out_dir / "adapter"), out_dir=str(out_dir))  # fmt: skip

    trainer = LocalModels(store=None).trainer("vllm/smollm2-135m")
    assert isinstance(trainer, ServedLoraTrainer)
    trainer.local = FakeLocal()  # type: ignore[assignment]
    m = trainer.fit(
        tmp_path / "d.jsonl", "vllm/smollm2-135m+adapter=m1-self", None, name="mc", out_dir=tmp_path
    )
    assert seen == ["local/smollm2-135m+adapter=m1-self"]  # trained on the local weights, from the adapter
    assert m.ref == "vllm/smollm2-135m+adapter=mc" and m.base_ref == "vllm/smollm2-135m+adapter=m1-self"


def test_experiment_files_take_server_options() -> None:
    from pydantic import ValidationError

    from inward.experiments.config import ExperimentConfig

    cfg = ExperimentConfig.model_validate(
        {"models": {"m2": "vllm/smollm2-135m"}, "vllm": {"tensor_parallel_size": 4, "max_loras": 8}}
    )
    assert cfg.vllm.tensor_parallel_size == 4 and cfg.vllm.max_lora_rank == 16
    with pytest.raises(ValidationError, match="max_lora"):
        ExperimentConfig.model_validate({"vllm": {"max_lora": 8}})


def test_stop_all_runs_at_exit_and_leaves_attached_servers(fake: FakeVLLM) -> None:
    vs.attached_server(fake.base_url, fake.served)
    vs.stop_all()
    assert [m["id"] for m in VLLMServer.attach(fake.base_url).models()] == [fake.served]
