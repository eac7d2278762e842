"""`VLLMServer`: a vLLM OpenAI-compatible server for one base model, started by inward or attached to by URL.

    server = shared_server(Path("~/.cache/inward/hf/smollm2-135m-fp32"), "smollm2-135m", VLLMOptions())
    server.base_url                               # http://127.0.0.1:PORT/v1 (started once per process)
    server.acquire_adapter("m1-self.3f9a2c1d0b", Path("models/m1-self/adapter"))  # POST /v1/load_lora_adapter
    server.release_adapter("m1-self.3f9a2c1d0b")  # its last user unloads it (/v1/unload_lora_adapter)
    attached_server("http://gpu-box:8000/v1", "llama-3.1-8b")   # a server someone else runs
    stop_all()                                    # also at interpreter exit

A started server gets ``--enable-lora`` and ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`` (adapters inward trains are
loaded while it runs), a free port, its own process group (stopped as a whole) and, on Linux, a parent-death
signal, so a killed run leaves no server behind. It is ready when /v1/models lists the model. Its log goes to
``~/.cache/inward/vllm-logs/``; a server that fails to start is reported with the log's last error lines.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inward.backends.vllm_config import (
    _LAUNCHER,
    VLLMOptions,
    adapter_rank,
    free_port,
    server_command,
    vllm_python,
)
from inward.errors import UserError
from inward.paths import cache_dir

log = logging.getLogger("inward.backends.vllm")


@dataclass
class VLLMServer:
    """A running vLLM OpenAI server: started here (`start`) or someone else's (`attach`)."""

    base_url: str  # http://host:port/v1
    served_name: str  # the base model's name on the server
    options: VLLMOptions
    process: subprocess.Popen[bytes] | None = None  # None: attached
    log_path: Path | None = None
    startup_s: float | None = None  # from launch to the first answer of /v1/models
    _adapters: dict[str, int] = field(default_factory=dict)  # loaded adapter name -> users
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _version: str | None = None

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/").removesuffix("/v1")

    @property
    def started_here(self) -> bool:
        return self.process is not None

    # -- start / attach / stop -----------------------------------------------------------------------------
    @classmethod
    def start(cls, model: Path, served_name: str, options: VLLMOptions | None = None) -> VLLMServer:
        """Launch a server for the model folder and wait until it answers (or fail with its log's last lines)."""
        o = options or VLLMOptions()
        python = vllm_python(o)
        port = o.port or free_port(o.host)
        logs = cache_dir() / "vllm-logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{served_name.replace('/', '_')}-{port}.log"
        env = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", **o.env}
        cmd = server_command(python, Path(model), served_name, port, o)
        log.info("starting vLLM for %s on port %d (log %s)", served_name, port, log_path)
        t0 = time.monotonic()
        with log_path.open("wb") as fh:
            fh.write(f"# {' '.join(c if c != _LAUNCHER else '<launcher>' for c in cmd)}\n".encode())
            fh.flush()
            process = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        server = cls(f"http://{_client_host(o.host)}:{port}/v1", served_name, o, process, log_path)
        try:
            server._wait_ready(o.startup_timeout_s)
        except BaseException:
            server.stop()
            raise
        server.startup_s = round(time.monotonic() - t0, 1)
        log.info("vLLM for %s ready in %.1f s", served_name, server.startup_s)
        return server

    @classmethod
    def attach(
        cls, base_url: str, options: VLLMOptions | None = None, *, model: str | None = None
    ) -> VLLMServer:
        """A server that is already running; `model`: the base model's name, checked against /v1/models (one
        base model on the server is taken whatever its name)."""
        url = base_url.rstrip("/")
        url = url if url.endswith("/v1") else f"{url}/v1"
        server = cls(url, model or "", options or VLLMOptions())
        try:
            listed = server.models()
        except OSError as e:
            raise UserError(f"no vLLM server answers at {url} ({e}); start it or fix the URL") from None
        bases = [m["id"] for m in listed if not m.get("parent")]
        if model in bases:
            return server
        if len(bases) == 1:
            server.served_name = bases[0]
            return server
        raise UserError(f"the vLLM server at {url} serves {', '.join(bases) or 'no model'}, not {model!r}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                raise UserError(
                    f"the vLLM server exited with code {code} before it was ready: {self.log_tail()} "
                    f"(whole log: {self.log_path})"
                )
            try:
                if any(m["id"] == self.served_name for m in self.models(timeout=2)):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise UserError(
                    f"the vLLM server was not ready after {timeout:.0f} s (raise vllm.startup_timeout_s); "
                    f"its log: {self.log_path}"
                )
            time.sleep(0.5)

    def log_tail(self, lines: int = 3) -> str:
        """The last lines of the server's log that say something (errors first), for one-line reports."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        errors = [t for t in text if "Error" in t and not t.lstrip().startswith("File ")]
        picked = errors[-lines:] if errors else [t for t in text if t.strip()][-lines:]
        return " | ".join(t.strip()[:300] for t in picked)

    def stop(self, timeout: float = 30) -> None:
        """Stop a server started here (its whole process group); an attached one is left running."""
        p, self.process = self.process, None
        if p is None:
            return
        _forget(self)
        if p.poll() is None:
            _signal_group(p, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(p, signal.SIGKILL)
                p.wait(10)
        _signal_group(p, signal.SIGKILL)  # whatever the server's own children left behind

    def __enter__(self) -> VLLMServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- queries -------------------------------------------------------------------------------------------
    def models(self, timeout: float = 10) -> list[dict[str, Any]]:
        """The served models (/v1/models): the base and every loaded adapter (whose `parent` is the base)."""
        data = self._request("GET", "/v1/models", timeout=timeout)
        return list(data.get("data") or [])

    def version(self) -> str:
        if self._version is None:
            try:
                self._version = str(self._request("GET", "/version").get("version") or "unknown")
            except OSError:
                self._version = "unknown"
        return self._version

    # -- adapters ------------------------------------------------------------------------------------------
    def acquire_adapter(self, name: str, folder: Path) -> None:
        """Load the adapter under `name` unless it is loaded already; counts its users."""
        with self._lock:
            if self._adapters.get(name, 0) == 0:
                rank = adapter_rank(folder)
                if rank > self.options.max_lora_rank:
                    raise UserError(
                        f"adapter {name} has LoRA rank {rank} > the server's max_lora_rank "
                        f"{self.options.max_lora_rank}: raise vllm.max_lora_rank in the experiment file"
                    )
                self._load(name, folder)
            self._adapters[name] = self._adapters.get(name, 0) + 1

    def release_adapter(self, name: str) -> None:
        """One user fewer; the last one unloads it (best effort: a stopped server has nothing to unload)."""
        with self._lock:
            left = self._adapters.get(name, 0) - 1
            if left > 0:
                self._adapters[name] = left
                return
            if self._adapters.pop(name, None) is None:
                return
            try:
                self._request("POST", "/v1/unload_lora_adapter", {"lora_name": name}, timeout=30)
            except OSError as e:  # a stopped server has nothing left to unload
                log.debug("could not unload adapter %s: %s", name, e)

    @property
    def loaded_adapters(self) -> dict[str, int]:
        return dict(self._adapters)

    def _load(self, name: str, folder: Path) -> None:
        body = {"lora_name": name, "lora_path": str(Path(folder).resolve())}
        try:
            self._request("POST", "/v1/load_lora_adapter", body, timeout=300)
        except urllib.error.HTTPError as e:
            detail = _error_text(e)
            if "already" in detail.lower() and "loaded" in detail.lower():
                return  # same name = same content (the name carries the content digest)
            if e.code in (404, 405):
                raise UserError(
                    f"the vLLM server at {self.base_url} cannot load adapters at run time: start it with "
                    "--enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"
                ) from None
            raise UserError(
                f"the vLLM server refused adapter {name} ({folder}): HTTP {e.code}: {detail}"
            ) from None
        except OSError as e:
            raise UserError(
                f"no answer from the vLLM server at {self.base_url} loading {name}: {e}"
            ) from None

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 10
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.root + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        key = os.environ.get("INWARD_API_KEY")
        if key:
            req.add_header("Authorization", f"Bearer {key}")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
        try:
            out = json.loads(raw or b"{}")
        except ValueError:
            return {"text": raw.decode("utf-8", errors="replace")}
        return out if isinstance(out, dict) else {"data": out}


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _error_text(e: urllib.error.HTTPError) -> str:
    try:
        raw = e.read().decode("utf-8", errors="replace")
    except Exception:
        return str(e)
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:300]
    if isinstance(data, dict):
        err = data.get("error")
        msg = (
            err.get("message") if isinstance(err, dict) else data.get("message") or err or data.get("detail")
        )
        return str(msg or raw)[:300]
    return raw[:300]


def _signal_group(p: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, sig)


# ---- one server per base model and launch settings, for the whole process ----------------------------------

_SERVERS: dict[tuple[str, str, str], VLLMServer] = {}
_REGISTRY_LOCK = threading.Lock()


def _key(model: Path | str, served_name: str, options: VLLMOptions) -> tuple[str, str, str]:
    launch = options.model_dump(mode="json", exclude={"concurrency", "timeout_s", "startup_timeout_s"})
    return (str(model), served_name, json.dumps(launch, sort_keys=True))


def shared_server(model: Path, served_name: str, options: VLLMOptions | None = None) -> VLLMServer:
    """The server for this model and launch settings, started on first use and kept for the process (every
    backend of the model and its adapters shares it; releasing backends before training keeps it)."""
    o = options or VLLMOptions()
    key = _key(model, served_name, o)
    with _REGISTRY_LOCK:
        server = _SERVERS.get(key)
        if server is not None and server.process is not None and server.process.poll() is None:
            return server
        if server is not None:
            log.warning(
                "the vLLM server for %s had stopped (%s); starting it again", served_name, server.log_tail(1)
            )
        server = VLLMServer.start(model, served_name, o)
        _SERVERS[key] = server
        return server


def attached_server(base_url: str, model: str, options: VLLMOptions | None = None) -> VLLMServer:
    """One `VLLMServer` per URL (adapter use counts are per server)."""
    o = options or VLLMOptions()
    key = (base_url, model, "attached")
    with _REGISTRY_LOCK:
        if key not in _SERVERS:
            _SERVERS[key] = VLLMServer.attach(base_url, o, model=model)
        return _SERVERS[key]


def running_servers() -> list[VLLMServer]:
    return [s for s in _SERVERS.values() if s.started_here]


def _forget(server: VLLMServer) -> None:
    with _REGISTRY_LOCK:
        for k, v in list(_SERVERS.items()):
            if v is server:
                del _SERVERS[k]


def stop_all() -> None:
    """Stop every server this process started (also run at exit)."""
    for server in list(_SERVERS.values()):
        server.stop()
    _SERVERS.clear()


atexit.register(stop_all)

__all__ = ["VLLMServer", "attached_server", "running_servers", "shared_server", "stop_all"]
