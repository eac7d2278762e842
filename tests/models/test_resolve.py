from __future__ import annotations

from pathlib import Path

import pytest

from inward.errors import UserError
from inward.models import _install, resolve
from inward.refs import ModelRef


def test_local_ref_installs_and_returns_the_converted_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(_install, "install", lambda name: calls.append(name) or tmp_path)
    assert resolve(ModelRef.parse("local/smollm2-135m+adapter=m1-self")) == tmp_path
    assert resolve("local/qwen2.5-0.5b") == tmp_path
    assert calls == ["smollm2-135m", "qwen2.5-0.5b"]


def test_local_ref_without_install_says_how_to_install() -> None:
    with pytest.raises(UserError, match=r"run `inward models install smollm2-135m`$"):
        resolve("local/smollm2-135m", install=False)


def test_unknown_local_model_lists_the_bundled_ones() -> None:
    with pytest.raises(UserError, match=r"unknown bundled model 'llama-70b'.*qwen2\.5-0\.5b"):
        resolve("local/llama-70b")


def test_hf_ref_to_an_existing_folder_gives_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert str(tmp_path).startswith("/")
    assert resolve("hf/" + str(tmp_path)) == tmp_path  # the documented absolute form hf//abs/path
    (tmp_path / "my-model").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve("hf/./my-model") == tmp_path / "my-model"


def test_hub_ids_need_an_explicit_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError) as e:
        resolve("hf/Qwen/Qwen2.5-0.5B-Instruct")
    assert "INWARD_ALLOW_HUB=1" in str(e.value) and "\n" not in str(e.value)
    monkeypatch.setenv("INWARD_ALLOW_HUB", "1")
    assert resolve("hf/Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


def test_api_models_have_no_local_weights() -> None:
    with pytest.raises(UserError, match="API model"):
        resolve("openai/gpt-4o-mini")
