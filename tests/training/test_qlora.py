"""QLoRA (a 4-bit NF4 base): the quantisation config, the one-line errors where it cannot run, and, where
bitsandbytes is installed, a tiny run on CPU whose adapter records the quantisation (and so gets its own
identity)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from inward.errors import UserError  # noqa: E402
from inward.training import qlora  # noqa: E402
from inward.training.chat_data import ChatExample, ChatMessage  # noqa: E402
from inward.training.config import TrainConfig  # noqa: E402


def _examples(n: int = 8) -> list[ChatExample]:
    return [
        ChatExample(
            messages=(
                ChatMessage(role="user", content=f"Name an animal: {i}"),
                ChatMessage(role="assistant", content=["cat", "dog"][i % 2]),
            )
        )
        for i in range(n)
    ]


def test_the_base_is_loaded_in_nf4_with_double_quantisation() -> None:
    q = qlora.bnb_config(torch.bfloat16)
    assert q.load_in_4bit and not q.load_in_8bit
    assert (q.bnb_4bit_quant_type, q.bnb_4bit_use_double_quant) == ("nf4", True)
    assert q.bnb_4bit_compute_dtype == torch.bfloat16
    kw = qlora.load_kwargs(TrainConfig(quantize="4bit"), torch.bfloat16, torch.device("cuda:3"))
    assert kw["device_map"] == {"": "cuda:3"}  # quantised while loading, onto this process's GPU
    assert qlora.record(TrainConfig(quantize="4bit"), torch.bfloat16) == {
        "method": "bitsandbytes",
        "bits": 4,
        "quant_type": "nf4",
        "double_quant": True,
        "compute_dtype": "bfloat16",
    }


def test_where_qlora_cannot_run_one_line_says_what_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    with pytest.raises(UserError, match="needs a CUDA GPU"):
        qlora.check_environment(TrainConfig(quantize="4bit"), cpu)  # device auto, no GPU
    monkeypatch.setattr(qlora, "_bnb_version", lambda: None)
    with pytest.raises(UserError, match=r"needs bitsandbytes: pip install bitsandbytes$"):
        qlora.check_environment(TrainConfig(quantize="4bit"), torch.device("cuda:0"))
    monkeypatch.setattr(qlora, "_bnb_version", lambda: (0, 45))
    qlora.check_environment(TrainConfig(quantize="4bit"), torch.device("cuda:0"))  # fine on a GPU
    with pytest.raises(UserError, match=r"bitsandbytes>=0.49"):
        qlora.check_environment(TrainConfig(quantize="4bit", device="cpu"), cpu)
    with pytest.raises(UserError, match="not under fsdp"):
        qlora.check_environment(TrainConfig(quantize="4bit"), torch.device("cuda:0"), "fsdp")


def test_train_lora_refuses_qlora_before_loading_anything(tiny_model_dir: Path, tmp_path: Path) -> None:
    from inward.training.lora import train_lora

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(UserError, match="needs a CUDA GPU"):
        train_lora(tiny_model_dir, _examples(), tmp_path / "q", TrainConfig(quantize="4bit"), progress=False)
    assert not (tmp_path / "q").exists()


def test_a_qlora_run_on_cpu_records_its_quantisation(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("bitsandbytes")
    if (qlora._bnb_version() or (0,)) < qlora.CPU_SINCE:
        pytest.skip("bitsandbytes too old for 4-bit on CPU")
    from inward.backends.identity import folder_sha
    from inward.training.lora import train_lora

    cfg = TrainConfig(lr=1e-2, epochs=2, batch_size=4, device="cpu")
    q = train_lora(tiny_model_dir, _examples(), tmp_path / "q", cfg.model_copy(update={"quantize": "4bit"}))
    plain = train_lora(tiny_model_dir, _examples(), tmp_path / "p", cfg, progress=False)
    assert q.train_loss[-1] < q.train_loss[0]  # it learns
    assert q.train_loss[0] != plain.train_loss[0]  # against a different (4-bit) base
    marker = json.loads((Path(q.adapter_dir) / qlora.MARKER).read_text())
    assert marker["base_quantization"]["quant_type"] == "nf4"
    assert q.provenance["quantization"] == marker["base_quantization"]
    assert q.provenance["packages"]["bitsandbytes"]
    assert not (Path(plain.adapter_dir) / qlora.MARKER).exists()
    assert folder_sha(Path(q.adapter_dir)) != folder_sha(Path(plain.adapter_dir))
