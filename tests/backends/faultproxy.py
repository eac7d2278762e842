"""A loopback HTTP proxy that injects faults, and a tiny echo chat server to put behind it.

    with EchoChatServer() as echo, FaultProxy(echo.base_url, rate=0.4, max_faults=20, seed=1) as proxy:
        backend = OpenAICompatBackend(f"openai-compatible/echo@{proxy.base_url}")
        ...
        proxy.faults      # Counter({"429": 3, "drop": 2, ...}); proxy.received: requests seen

Faults (each request draws from a seeded generator in arrival order, so the counts are reproducible):
``429`` (with Retry-After), ``500``, ``503``, ``drop`` (connection closed without an answer), ``truncate``
(the upstream answer cut in half, Content-Length matching the cut), ``slow`` (forwarded after `slow_s`; not a
failure) and ``stall`` (no answer for `stall_s`, then the connection drops: a client timeout).

Safety bounds: binds 127.0.0.1 only, forwards to loopback upstreams only, injects at most `max_faults`,
and shuts itself down after `lifetime_s` seconds.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

FAULT_KINDS = ("429", "500", "503", "drop", "truncate", "slow", "stall")
FAILING_KINDS = frozenset(FAULT_KINDS) - {"slow"}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Any


class _Background:
    """Serve a ThreadingHTTPServer on 127.0.0.1:<free port> from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], lifetime_s: float) -> None:
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.owner = self
        host, port = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        self.address = f"http://{host}:{port}"
        self.base_url = f"{self.address}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(lifetime_s, self.close)  # stops itself even if a test forgets to
        self._timer.daemon = True
        self._timer.start()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _FaultHandler(_Quiet):
    server: _Server

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        self._handle(self._body())

    def _handle(self, body: bytes) -> None:
        proxy: FaultProxy = self.server.owner
        kind = proxy._draw()
        error = json.dumps({"error": {"message": f"injected {kind}", "type": "injected"}}).encode()
        if kind == "429":
            self._send(429, error, {"Retry-After": f"{proxy.retry_after:g}"})
        elif kind in ("500", "503"):
            self._send(int(kind), error)
        elif kind in ("drop", "stall"):
            if kind == "stall":
                time.sleep(proxy.stall_s)
            self.close_connection = True  # nothing written: the client sees the connection close
        else:
            if kind == "slow":
                time.sleep(proxy.slow_s)
            status, headers, answer = proxy._forward(self.command, self.path, body, dict(self.headers))
            if kind == "truncate":
                answer = answer[: len(answer) // 2]
            self._send(status, answer, headers)


class FaultProxy(_Background):
    """Forward to a loopback `upstream` base URL, failing a fraction `rate` of requests (see module doc)."""

    def __init__(
        self,
        upstream: str,
        *,
        rate: float,
        kinds: Sequence[str] = ("429", "500", "503", "drop", "truncate", "slow"),
        max_faults: int = 50,
        seed: int = 0,
        retry_after: float = 1.0,
        slow_s: float = 0.5,
        stall_s: float = 3.0,
        lifetime_s: float = 600.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in LOOPBACK or parts.port is None:
            raise ValueError(f"FaultProxy forwards to loopback host:port only, not {upstream}")
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not 0.0 <= rate <= 1.0:
            raise ValueError(f"bad fault settings: kinds {sorted(unknown)}, rate {rate}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.upstream_prefix = parts.path.rstrip("/")  # e.g. /v1
        self.rate, self.kinds, self.max_faults = rate, tuple(kinds), max_faults
        self.retry_after, self.slow_s, self.stall_s = retry_after, slow_s, stall_s
        self.received = 0
        self.forwarded = 0
        self.faults: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        super().__init__(_FaultHandler, lifetime_s)
        # keep the upstream's path prefix so that `proxy.base_url` is a drop-in replacement
        self.base_url = f"{self.address}{self.upstream_prefix}"

    @property
    def failures(self) -> int:
        """Injected faults that make a request fail (all but `slow`)."""
        return sum(n for k, n in self.faults.items() if k in FAILING_KINDS)

    def _draw(self) -> str | None:
        with self._lock:
            self.received += 1
            hit = self._rng.random() < self.rate
            kind = self._rng.choice(self.kinds)
            if not hit or sum(self.faults.values()) >= self.max_faults:
                return None
            self.faults[kind] += 1
            return kind

    def _forward(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        keep = {k: v for k, v in headers.items() if k.lower() in ("content-type", "authorization", "accept")}
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=300)
        try:
            conn.request(method, path, body=body or None, headers=keep)
            resp = conn.getresponse()
            answer = resp.read()
            with self._lock:
                self.forwarded += 1
            extra = {k: v for k, v in resp.getheaders() if k.lower() in ("retry-after",)}
            return resp.status, extra, answer
        finally:
            conn.close()


class _EchoHandler(_Quiet):
    server: _Server

    def do_POST(self) -> None:
        echo: EchoChatServer = self.server.owner
        request = json.loads(self._body())
        with echo._lock:
            echo.requests.append(request)
        n = int(request.get("n") or 1)
        if n > echo.max_n:
            self._send(400, json.dumps({"error": {"message": f"n must be at most {echo.max_n}"}}).encode())
            return
        if request.get("logprobs") and echo.logprobs == "reject":
            self._send(400, json.dumps({"error": {"message": "logprobs are not supported"}}).encode())
            return
        text = "echo: " + request["messages"][-1]["content"]
        choices = [
            {"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
            for i in range(n)
        ]
        answer = {
            "id": "chatcmpl-echo",
            "object": "chat.completion",
            "created": 0,
            "model": request["model"],
            "choices": choices,
            "usage": {"prompt_tokens": 10, "completion_tokens": 3 * n, "total_tokens": 10 + 3 * n},
        }
        self._send(200, json.dumps(answer).encode())


class EchoChatServer(_Background):
    """A chat-completions server that answers "echo: <last message>" at once (counts every request).

    `max_n` > 1 accepts n>1; `logprobs="reject"` answers 400 to logprob requests, "ignore" leaves them out."""

    def __init__(self, *, max_n: int = 128, logprobs: str = "ignore", lifetime_s: float = 600.0) -> None:
        self.max_n, self.logprobs = max_n, logprobs
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__(_EchoHandler, lifetime_s)
