"""Training at scale, the parts that need no second process: the shipped accelerate configs, how a config name
becomes a launch, what enters the run digest, and the one-line errors (DeepSpeed missing, unknown config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")

from click.testing import CliRunner

from inward.errors import UserError
from inward.training import launch
from inward.training.chat_data import ChatExample, ChatMessage
from inward.training.config import TrainConfig


def _examples(n: int = 4) -> list[ChatExample]:
    return [
        ChatExample(
            messages=(
                ChatMessage(role="user", content=f"Name an animal: {i}"),
                ChatMessage(role="assistant", content="cat"),
            )
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(("name", "kind"), [("ddp", "MULTI_GPU"), ("fsdp", "FSDP"), ("zero3", "DEEPSPEED")])
def test_shipped_configs_load_with_accelerates_own_reader(name: str, kind: str) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    path = launch.config_path(name)
    assert path.parent == launch.CONFIGS and path.is_file()
    cfg = ClusterConfig.from_yaml_file(str(path))  # raises on unknown keys
    assert cfg.distributed_type.value == kind
    if name == "fsdp":
        assert cfg.fsdp_config["fsdp_version"] == 2
        assert cfg.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    if name == "zero3":
        assert cfg.deepspeed_config["zero_stage"] == 3


def test_a_config_is_a_name_or_a_file(tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("distributed_type: MULTI_GPU\nmixed_precision: bf16\nnum_processes: 3\n")
    assert launch.config_path(str(own)) == own.resolve()
    with pytest.raises(UserError, match="neither ddp, fsdp, zero3 nor a file"):
        launch.config_path("fsdp2")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(UserError, match="not an accelerate config"):
        launch.read_config(bad)
    spec = launch.LaunchSpec.resolve(TrainConfig(accelerate_config=str(own), device="cpu"))
    assert (spec.num_processes, spec.mixed_precision) == (3, "bf16")  # the file's count and precision
    spec = launch.LaunchSpec.resolve(TrainConfig(accelerate_config=str(own), num_processes=2, device="cpu"))
    assert spec.num_processes == 2  # the command line wins


def test_process_count_defaults_to_the_visible_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    assert launch.LaunchSpec.resolve(TrainConfig(accelerate_config="ddp")).num_processes == 1
    monkeypatch.setattr(launch, "_gpu_count", lambda: 4)
    assert launch.LaunchSpec.resolve(TrainConfig(accelerate_config="fsdp")).num_processes == 4
    with pytest.raises(UserError, match="8 processes but 4 visible GPU"):
        launch.LaunchSpec.resolve(TrainConfig(accelerate_config="fsdp", num_processes=8))


def test_zero3_without_deepspeed_is_one_line(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "deepspeed" else real(n, *a))
    from inward.training.lora import train_lora

    with pytest.raises(UserError, match=r"pip install deepspeed$"):
        train_lora(tiny_model_dir, _examples(), tmp_path / "z", TrainConfig(accelerate_config="zero3"))
    assert not (tmp_path / "z").exists()  # nothing launched, nothing written


def test_settings_that_do_not_change_the_numbers_leave_the_digest() -> None:
    # The digests of runs made before these settings existed (computed with the previous TrainConfig).
    assert TrainConfig().digest() == "f51f61b27d498628"
    assert TrainConfig(lr=5e-4, epochs=2, rank=4).digest() == "99c2df8a05b346d2"
    assert TrainConfig(accelerate_config="fsdp", num_processes=4).digest() == TrainConfig().digest()
    assert TrainConfig(quantize="4bit").digest() != TrainConfig().digest()  # a 4-bit base changes them


def test_process_count_and_precision_enter_the_run_digest(tmp_path: Path) -> None:
    from inward.training.lora import _run_digest

    ex, cfg = _examples(), TrainConfig()
    one = _run_digest(tmp_path, None, cfg, ex, [])
    assert one == _run_digest(tmp_path, None, cfg, ex, [], num_processes=1, mixed_precision="no")
    assert one != _run_digest(tmp_path, None, cfg, ex, [], num_processes=2)
    assert one != _run_digest(tmp_path, None, cfg, ex, [], mixed_precision="bf16")


def test_on_step_cannot_cross_into_launched_processes(tiny_model_dir: Path, tmp_path: Path) -> None:
    from inward.training.lora import train_lora

    with pytest.raises(ValueError, match="on_step"):
        train_lora(
            tiny_model_dir,
            _examples(),
            tmp_path / "o",
            TrainConfig(accelerate_config="ddp", device="cpu"),
            on_step=lambda info: None,
        )


def test_train_command_passes_the_scale_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inward.cli import cli
    from inward.runs import adapters
    from inward.training.chat_data import write_chat_jsonl

    seen: dict[str, Any] = {}

    def fake(store: Any, **kw: Any) -> dict[str, Any]:
        seen.update(kw)
        return {
            "ref": "hf/x+adapter=m",
            "n_train": 4,
            "steps": 1,
            "examples_per_s": 1.0,
            "val_loss_before": None,
            "val_loss_after": None,
            "resumed_from_step": 0,
        }

    monkeypatch.setattr(adapters, "train_and_register", fake)
    data = write_chat_jsonl(_examples(), tmp_path / "d.jsonl")
    env = {"INWARD_WORKSPACE": str(tmp_path / "ws")}
    args = ["train", "-m", "hf/x", "--data", str(data), "--out", "m"]
    scale = ["--accelerate-config", "fsdp", "--num-processes", "2", "--quantize", "4bit"]
    r = CliRunner().invoke(cli, [*args, *scale], env=env)
    assert r.exit_code == 0, r.output
    assert {k: seen["plan"][k] for k in ("accelerate_config", "num_processes", "quantize")} == {
        "accelerate_config": "fsdp",
        "num_processes": 2,
        "quantize": "4bit",
    }
    seen.clear()
    assert CliRunner().invoke(cli, args, env=env).exit_code == 0
    assert not {"accelerate_config", "num_processes", "quantize"} & set(seen["plan"])  # plans as before
    r = CliRunner().invoke(cli, [*args, "--backend", "openai", "--quantize", "4bit"], env=env)
    assert r.exit_code != 0 and "are for --backend local" in r.output


def test_experiment_plans_carry_the_scale_settings_to_the_trainer() -> None:
    from inward.experiments.config import Training
    from inward.experiments.models import training_config

    plan = Training(accelerate_config="fsdp", num_processes=4, quantize=None)
    cfg = training_config("lora", plan, seed=1)
    assert (cfg.accelerate_config, cfg.num_processes, cfg.quantize) == ("fsdp", 4, None)
    # Unset, they are not in the plan's dump, whose digest names trained models and runs.
    assert "accelerate_config" not in Training().model_dump()
    assert Training(quantize="4bit").model_dump(mode="json")["quantize"] == "4bit"
