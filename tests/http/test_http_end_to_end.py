"""`inward object | meta | score` through the OpenAI-compatible HTTP backend against a real llama.cpp server
(SmolLM2-135M GGUF in xllamacpp), with the store cache; then a scan of the whole workspace for the API key."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("openai")
pytest.importorskip("xllamacpp")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from llamacpp_server import LlamaCppServer, serve_smollm2

from inward.cli import main

pytestmark = pytest.mark.slow
SECRET = "sk-inward-test-SECRET-9f8e7d6c5b4a"


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaCppServer]:
    yield from serve_smollm2()


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        main(args)
    except SystemExit as e:
        assert e.code in (0, None), capsys.readouterr()
    return capsys.readouterr().out


def test_object_hypothetical_score_over_http_and_no_key_anywhere(
    server: LlamaCppServer,
    _isolated_workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INWARD_API_KEY", SECRET)
    ref = f"openai-compatible/smollm2@{server.base_url}"
    tasks = "survival_instinct,animals_long"
    out = _cli(["object", "-m", ref, "-t", tasks, "--limit", "6"], capsys)
    assert "12 new" in out
    _cli(
        [
            "hypothetical",
            "-m",
            ref,
            "-t",
            tasks,
            "--limit",
            "6",
            "-p",
            "ethical_stance,first_word,second_character",
        ],
        capsys,
    )
    out = _cli(["score", "--object", ref, "--meta", ref, "-t", tasks, "--json"], capsys)
    result = json.loads(out[out.index("{") :])
    avg = next(r for r in result["accuracy"] if r["group"] == "average")
    assert avg["n"] > 0 and 0.0 <= avg["acc"] <= 1.0
    # A repeated run costs no request: everything comes from the store.
    out = _cli(["object", "-m", ref, "-t", tasks, "--limit", "6"], capsys)
    assert "0 new, 12 already stored" in out

    files = [p for p in _isolated_workspace.rglob("*") if p.is_file()]
    assert any(p.name == "inward.db" for p in files)
    for p in files:
        assert SECRET.encode() not in p.read_bytes(), f"API key found in {p}"
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
