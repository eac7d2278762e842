"""Fixtures for the local backend: a tiny randomly initialised Llama with its own byte-level BPE tokenizer.

Everything is built offline in a temp folder in about a second. The lm_head is scaled up so that next-token
distributions are peaked enough for greedy decoding to be meaningful and sampling tests to have a few
dominant values, like a real model's. torch & co. are imported inside the fixtures, so the other tests of
this directory run without the `local` extra.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = [
    "the cat sat on the mat and looked at the hat",
    "a dog ran to the park, then it ran back home",
    "numbers: 1 2 3 4 5 6 7 8 9 10 11 12 13",
    "Paris is the capital of France; Berlin of Germany.",
    "café crème brûlée über naïve façade",  # multi-byte characters: tokens that end mid-character
    "Yes. No. Maybe. Odd or even? Blue, red, green.",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_model(folder: Path, *, seed: int = 0, head_scale: float = 12.0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|im_end|>", "<|im_start|>"],
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS * 4, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|im_end|>")
    tok.chat_template = CHAT_TEMPLATE
    eos = tok.convert_tokens_to_ids("<|im_end|>")

    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=eos,
        pad_token_id=eos,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.lm_head.weight.mul_(head_scale)
    model.generation_config.eos_token_id = eos
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in ("torch", "transformers", "tokenizers"):
        pytest.importorskip(module)
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from inward.backends.local import LocalBackend

    return LocalBackend(tiny_model_dir, device="cpu", batch_size=16, threads=1)


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The real SmolLM2-135M-Instruct folder (converted once into the user cache); skips when unavailable."""
    for module in ("torch", "transformers"):
        pytest.importorskip(module)
    from inward.errors import UserError

    try:
        from inward.models.testing import smollm2_path

        return smollm2_path()
    except (ImportError, UserError) as e:
        pytest.skip(f"SmolLM2 weights unavailable: {e}")


@pytest.fixture(scope="session")
def smollm2(smollm2_dir: Path):  # type: ignore[no-untyped-def]
    from inward.backends.local import LocalBackend

    # One thread: the test machine is shared, and oversubscribed torch threads are many times slower.
    return LocalBackend(smollm2_dir, device="cpu", batch_size=16, threads=1)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The real-vLLM test's figures (tests/backends/vllm_report.py), when it ran."""
    import sys

    report = sys.modules.get("vllm_report")
    if report is not None and report.LINES:
        terminalreporter.section("real vLLM vs the local engine")
        for line in report.LINES:
            terminalreporter.write_line(line)
