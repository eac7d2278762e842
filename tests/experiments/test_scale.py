"""GPU-hours and storage at scale (`inward plan --gpu`): shapes, FLOP and bandwidth arithmetic, the plan's rows
and a CLI run, each against numbers worked out by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inward.errors import UserError
from inward.experiments import scale as S

# Published shapes (config.json fields) of Llama-3.1-8B and -70B.
LLAMA_8B = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}
LLAMA_70B = {**LLAMA_8B, "hidden_size": 8192, "intermediate_size": 28672, "num_hidden_layers": 80}
LLAMA_70B["num_attention_heads"] = 64


def test_parameter_counts_of_llama_8b_and_70b() -> None:
    # per layer: q,o 2·d² + k,v 2·d·kv + MLP 3·d·f + two norms 2·d; embeddings and an untied head 2·V·d; final norm d
    d, f, kv, v = 4096, 14336, 8 * 128, 128256
    want_8b = 32 * (2 * d * d + 2 * d * kv + 3 * d * f + 2 * d) + 2 * v * d + d
    assert S.model_size(LLAMA_8B).params == want_8b == 8_030_261_248  # "8.03B" on the model card
    assert round(S.model_size(LLAMA_70B).params / 1e9, 1) == 70.6
    tied = S.model_size({**LLAMA_8B, "tie_word_embeddings": True})
    assert want_8b - tied.params == v * d


def test_lora_parameters_by_hand() -> None:
    size = S.model_size(LLAMA_8B)
    d, f, kv, r = 4096, 14336, 1024, 8
    attention = r * ((d + d) * 2 + (d + kv) * 2)  # q,o; k,v
    assert size.lora_params(r) == 32 * attention
    assert size.lora_params(r, mlp=True) == 32 * (attention + r * (d + f) * 3)  # gate,up,down


def test_gpu_seconds_by_hand() -> None:
    size = S.ModelSize(1e9, 1, 1, 1, 1)
    h100 = S.GPUS["h100"]
    # prefill 2·N·tokens at 50% of 989 TFLOP/s
    assert S.gpu_seconds(size, h100, "object", 1e6, 0) == pytest.approx(2e15 / (989e12 * 0.5))
    # 64k answer tokens: FLOPs 0.26 s, weight reads (1000 steps × 2 GB at 60% of 3.35 TB/s) 0.995 s: the latter
    assert S.gpu_seconds(size, h100, "object", 0, 64e3) == pytest.approx(1000 * 2e9 / (3.35e12 * 0.6))
    # training 4·N·tokens at 35%
    assert S.gpu_seconds(size, h100, "train", 1e6, 0) == pytest.approx(4e15 / (989e12 * 0.35))


@dataclass
class _Step:
    name: str
    kind: str
    model: str
    rows: int


@dataclass
class _Plan:
    steps: list[_Step]
    config: Any = None


TOKENS = S.RowTokens(object=(100.0, 16.0), hypothetical=(150.0, 12.0), source="scripted")


def test_estimate_adds_the_plans_rows_with_epochs_and_storage() -> None:
    size = S.ModelSize(1e9, 2, 64, 128, 16)
    plan = _Plan(
        [
            _Step("object m1", "object", "hf/a", 1000),
            _Step("object m1 again", "object", "hf/a", 500),
            _Step("hypothetical m1", "hypothetical", "hf/a", 2000),
            _Step("m1-self (seed 0)", "train", "hf/a", 300),
            _Step("report", "other", "", 0),
        ]
    )
    est = S.estimate_scale(plan, gpu="h100", gpus=8, sizes={"hf/a": size}, tokens=TOKENS, epochs={"m1": 3})
    by = {x.kind: x for x in est.lines}
    assert (
        by["object"].rows == 1500
        and by["object"].tokens_in == 1500 * 100
        and by["object"].tokens_out == 1500 * 16
    )
    assert by["train"].rows == 900 and by["train"].tokens_in == 900 * (150 + S.TRAIN_ANSWER_TOKENS)
    h100 = S.GPUS["h100"]
    want = (
        S.gpu_seconds(size, h100, "object", 150_000, 24_000)
        + S.gpu_seconds(size, h100, "hypothetical", 300_000, 24_000)
        + S.gpu_seconds(size, h100, "train", 900 * 154, 0)
    ) / 3600
    assert est.gpu_hours == pytest.approx(want) and est.wall_hours == pytest.approx(want / 8)
    assert est.storage == {
        "base weights (bf16)": 2e9,
        "adapters": 4 * size.lora_params(8),
        "store": 3500 * S.STORE_BYTES_PER_ROW,
    }
    text = "\n".join(est.text())
    assert "8 × H100 SXM" in text and "GPU-hours" in text and "tokens by scripted" in text


def test_a_model_too_big_for_one_card_is_flagged_and_bad_input_is_one_line() -> None:
    plan = _Plan([_Step("object", "object", "hf/70b", 10)])
    sizes = {"hf/70b": S.model_size(LLAMA_70B)}
    est = S.estimate_scale(plan, gpu="h100", gpus=8, sizes=sizes, tokens=TOKENS)
    assert any("tensor parallel over ≥ 3 GPUs" in n for n in est.notes)
    one = S.estimate_scale(plan, gpu="h100", gpus=1, sizes=sizes, tokens=TOKENS)
    assert any("more than 1 × H100 SXM hold" in n for n in one.notes)
    with pytest.raises(UserError, match="unknown GPU 'v100'"):
        S.estimate_scale(plan, gpu="v100", gpus=1, sizes=sizes, tokens=TOKENS)
    with pytest.raises(UserError, match="no size for hf/70b"):
        S.estimate_scale(plan, gpu="h100", gpus=1, sizes={}, tokens=TOKENS)


def test_row_tokens_are_the_mean_over_the_rendered_prompts() -> None:
    from inward import prompts as PR
    from inward import tasks as T

    def count(messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"]) for m in messages)

    got = S.row_tokens(["animals_long"], count, "chars", per_task=5)
    task, tpl = T.get("animals_long"), PR.get("inward-v1")
    items = task.items("val")[:5]
    want_obj = sum(count(tpl.object_messages(task, it)) for it in items) / 5
    want_hyp = sum(count(tpl.hypothetical_messages(task, it, task.properties[0])) for it in items) / 5
    assert got.object[0] == want_obj and got.hypothetical[0] == want_hyp and want_hyp != want_obj
    assert got.of("train") == (want_hyp + S.TRAIN_ANSWER_TOKENS, 0.0)


def _llama_folder(folder: Path) -> Path:
    """A Llama-3.1-8B config.json beside a small word-level tokenizer with a chat template (no weights)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["the", "a", "of", "is", "to", "and"]
    wl = Tokenizer(
        models.WordLevel({w: i for i, w in enumerate(["<unk>", "<eos>", *words])}, unk_token="<unk>")
    )
    wl.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=wl, unk_token="<unk>", eos_token="<eos>")
    tok.chat_template = "{% for m in messages %}{{ m['content'] }} <eos> {% endfor %}"
    folder.mkdir()
    tok.save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps({**LLAMA_8B, "model_type": "llama"}))
    return folder


def test_inward_plan_gpu_prints_the_estimate_of_scale_for_plan(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from click.testing import CliRunner

    from inward.cli import cli
    from inward.experiments.config import load_config
    from inward.experiments.plan import make_plan

    folder = _llama_folder(tmp_path / "llama-8b")
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        "name: scale\nexperiments: [self_training]\n"
        f"models: {{m1: hf/{folder}, m2: hf/{folder}}}\n"
        "sizes: {train_items_per_task: 20, per_combo: 10, eval_items_per_task: 10}\n"
    )
    res = CliRunner().invoke(
        cli, ["--workspace", str(tmp_path / "ws"), "plan", str(exp), "--gpu", "h100", "--gpus", "8"]
    )
    assert res.exit_code == 0, res.output
    est = S.scale_for_plan(make_plan(load_config(exp), tmp_path / "ws2"), gpu="h100", gpus=8)
    assert f"total: {est.gpu_hours:.1f} GPU-hours" in res.output and est.gpu_hours > 0
    assert "tokens by the tokenizer of llama-8b" in res.output
    assert "base weights (bf16) 16.1 GB" in res.output  # 2 bytes × 8.03B
