from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from safetensors.torch import load_file  # noqa: E402

from inward.errors import UserError  # noqa: E402
from inward.training.chat_data import ChatExample, ChatMessage  # noqa: E402
from inward.training.config import TrainConfig, TrainResult  # noqa: E402
from inward.training.lora import StepInfo, train_lora  # noqa: E402

ANSWERS = ["cat", "dog", "fox", "goat"]


def _data(n: int) -> list[ChatExample]:
    return [
        ChatExample(
            messages=(
                ChatMessage(role="system", content=""),
                ChatMessage(role="user", content=f"Name an animal: {i % 4}"),
                ChatMessage(role="assistant", content=ANSWERS[i % 4]),
            )
        )
        for i in range(n)
    ]


def _adapter(result: TrainResult) -> dict[str, torch.Tensor]:
    return load_file(str(Path(result.adapter_dir) / "adapter_model.safetensors"))


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


FAST = TrainConfig(lr=2e-2, epochs=6, batch_size=4, rank=4, alpha=8)


def test_loss_decreases_on_a_memorisable_set(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = _data(16)
    r = train_lora(tiny_model_dir, data, tmp_path / "run", FAST, val_data=data[:4], progress=False)
    assert r.steps == 6 * 4 and len(r.train_loss) == r.steps
    first, last = sum(r.train_loss[:4]) / 4, sum(r.train_loss[-4:]) / 4
    assert last < 0.7 * first, (first, last)
    assert r.val_loss_before is not None and r.val_loss_after is not None
    assert r.val_loss_after < 0.7 * r.val_loss_before
    assert r.examples_per_s > 0 and r.n_train == 16 and r.n_val == 4
    saved = TrainResult.model_validate_json((tmp_path / "run" / "train.json").read_text())
    assert saved == r
    assert (
        saved.provenance["packages"]["peft"]
        and (tmp_path / "run" / "adapter" / "adapter_config.json").is_file()
    )
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_adapter_loads_and_changes_the_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    r = train_lora(
        tiny_model_dir, _data(8), tmp_path / "run", FAST.model_copy(update={"epochs": 2}), progress=False
    )
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.tensor([[1, 5, 9, 20]])
    before = base(ids).logits
    tuned = PeftModel.from_pretrained(base, r.adapter_dir)
    assert not torch.allclose(before, tuned(ids).logits)


def test_seeds_are_reproducible(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(lr=1e-2, epochs=1, batch_size=4, dropout=0.1, val_fraction=0.25)
    a = train_lora(tiny_model_dir, _data(16), tmp_path / "a", cfg, progress=False)
    b = train_lora(tiny_model_dir, _data(16), tmp_path / "b", cfg, progress=False)
    c = train_lora(
        tiny_model_dir, _data(16), tmp_path / "c", cfg.model_copy(update={"seed": 1}), progress=False
    )
    assert a.train_loss == b.train_loss and _same(_adapter(a), _adapter(b))
    assert a.train_loss != c.train_loss and not _same(_adapter(a), _adapter(c))
    assert a.n_val == 4 and a.n_train == 12


class Stop(Exception):
    pass


@pytest.mark.parametrize(("every", "stop_at"), [(2, 5), (3, 4)])  # mid-epoch; right after an epoch boundary
def test_resume_ends_exactly_like_an_uninterrupted_run(
    tiny_model_dir: Path, tmp_path: Path, every: int, stop_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 24 examples, micro-batch 4, 2 micro-batches per step -> 3 steps per epoch, 9 in all; dropout tests RNG.
    # One thread for every run: the automatic count follows the machine's load, and another count sums in
    # another order (a 1e-7 loss difference seen on a busy machine, which is not what this test is about).
    monkeypatch.setenv("INWARD_THREADS", "1")
    cfg = TrainConfig(lr=1e-2, epochs=3, batch_size=4, grad_accum=2, dropout=0.1, checkpoint_every=every)
    data = _data(24)
    full = train_lora(tiny_model_dir, data, tmp_path / "full", cfg, val_data=data[:4], progress=False)

    def interrupt(info: StepInfo) -> None:
        if info.step == stop_at:
            raise Stop

    out = tmp_path / "resumed"
    with pytest.raises(Stop):
        train_lora(tiny_model_dir, data, out, cfg, val_data=data[:4], progress=False, on_step=interrupt)
    assert (out / "checkpoints").is_dir() and not (out / "train.json").exists()
    resumed = train_lora(tiny_model_dir, data, out, cfg, val_data=data[:4], progress=False)
    assert resumed.resumed_from_step == stop_at - stop_at % every
    assert resumed.steps == full.steps == 9
    assert resumed.train_loss == full.train_loss
    assert resumed.val_loss_before == full.val_loss_before
    assert _same(_adapter(resumed), _adapter(full))


def test_finished_run_is_not_retrained_and_other_runs_are_refused(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    cfg = TrainConfig(epochs=1, batch_size=8)
    first = train_lora(tiny_model_dir, _data(8), tmp_path / "run", cfg, progress=False)

    def fail(info: StepInfo) -> None:
        raise AssertionError("trained again")

    again = train_lora(tiny_model_dir, _data(8), tmp_path / "run", cfg, progress=False, on_step=fail)
    assert again == first
    with pytest.raises(UserError, match="different training run"):
        train_lora(
            tiny_model_dir, _data(8), tmp_path / "run", cfg.model_copy(update={"lr": 1e-4}), progress=False
        )


def test_user_errors(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"config\.json"):
        train_lora(tmp_path, _data(4), tmp_path / "run", progress=False)
    with pytest.raises(UserError, match="no training examples"):
        train_lora(tiny_model_dir, [], tmp_path / "run", progress=False)


def test_continue_training_from_an_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = _data(8)
    first = train_lora(tiny_model_dir, data, tmp_path / "m1", FAST, val_data=data[:4], progress=False)
    shifted = [
        ChatExample(messages=(*ex.messages[:2], ChatMessage(role="assistant", content="blue"))) for ex in data
    ]
    cfg = FAST.model_copy(update={"epochs": 2, "init_adapter": first.adapter_dir})
    second = train_lora(tiny_model_dir, shifted, tmp_path / "mc", cfg, val_data=data[:4], progress=False)
    # Training starts from M1's adapter: the validation loss before equals M1's loss after.
    assert second.val_loss_before == pytest.approx(first.val_loss_after, abs=1e-6)
    assert second.val_loss_after is not None and second.val_loss_after > second.val_loss_before
    assert not _same(_adapter(first), _adapter(second))
    with pytest.raises(UserError, match="not a PEFT adapter"):
        train_lora(
            tiny_model_dir, data, tmp_path / "x", FAST.model_copy(update={"init_adapter": str(tmp_path)})
        )


def test_local_trainer_returns_a_model_ref(tiny_model_dir: Path, tmp_path: Path) -> None:
    from inward.training import LocalLoraTrainer, Trainer

    data_file = tmp_path / "d.jsonl"
    from inward.training.chat_data import write_chat_jsonl

    write_chat_jsonl(_data(8), data_file)
    trainer = LocalLoraTrainer(resolve_base=lambda ref: tiny_model_dir, progress=False)
    assert isinstance(trainer, Trainer)
    m = trainer.fit(
        data_file, "local/tiny", FAST.model_copy(update={"epochs": 1}), name="m1", out_dir=tmp_path / "m1"
    )
    assert m.ref == "local/tiny+adapter=m1" and m.kind == "lora" and m.base_ref == "local/tiny"
    assert m.path is not None and Path(m.path, "adapter_model.safetensors").is_file()
    assert m.metrics["steps"] == 2 and m.config["lr"] == FAST.lr
    # A base with an adapter continues from it and still names one adapter on the plain base.
    resolved: list[str] = []

    def by_name(name: str) -> Path:
        resolved.append(name)
        return Path(m.path or "")

    mc = LocalLoraTrainer(
        resolve_base=lambda ref: tiny_model_dir, resolve_adapter=by_name, progress=False
    ).fit(data_file, m.ref, FAST.model_copy(update={"epochs": 1}), name="mc", out_dir=tmp_path / "mc")
    assert resolved == ["m1"] and mc.ref == "local/tiny+adapter=mc" and mc.base_ref == "local/tiny+adapter=m1"
    assert mc.config["init_adapter"] == m.path
    with pytest.raises(UserError, match="not a local model"):
        trainer.fit(data_file, "openai/gpt-4o", name="x", out_dir=tmp_path / "x")
