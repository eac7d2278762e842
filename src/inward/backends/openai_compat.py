"""`OpenAICompatBackend`: OpenAI and OpenAI-compatible chat-completions servers (vLLM, SGLang, llama.cpp...).

    openai/gpt-4o-mini                          key from $OPENAI_API_KEY
    openai-compatible/<model>@<base_url>        key from $INWARD_API_KEY (or api_key_env=...), "none" if unset;
                                                on Together's hosts $TOGETHER_API_KEY first (one is required)

    backend = OpenAICompatBackend("openai-compatible/smollm2@http://127.0.0.1:8080/v1", concurrency=8)
    gens = backend.generate([[{"role": "user", "content": "Name an animal."}]], GenerateConfig(max_tokens=8))
    backend.usage            # requests, retries by reason, tokens, cost (with price_per_mtok)

LoRA adapters on a vLLM server (`vllm serve BASE --enable-lora --lora-modules m1-self=/path/to/adapter`) are
served under their adapter names: address one as ``openai-compatible/m1-self@http://host:8000/v1`` (or
``openai-compatible/BASE@http://host:8000/v1+adapter=m1-self``, which sends ``model="m1-self"`` too).

Distributions use the server's logprobs when it has them (method="logprobs"): one greedy request with the
top-k alternatives at each position. That is exact for values fixed by the greedy prefix plus one alternative
token; an alternative whose value is not fixed yet is counted as if the answer ended after it
(`extra["assumed_end_mass"]`), and one that resolves to nothing even then is left uncovered, as is all mass
outside the top k. Both layouts of logprobs are read: OpenAI's (`content`) and the completions layout
Together answers with (parallel `tokens` / `token_logprobs` / `top_logprobs` lists; on Together's hosts the
request says `logprobs: k`, as its API takes it). Servers without logprobs fall back to `fallback_samples`
samples at T=1 (method="sampled"), logged once and recorded in `Distribution.extra["fallback"]` and in `fingerprint()`. Servers that reject or
ignore n>1 get n single requests with seeds seed, seed+1, ...
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from inward.backends._http_base import HttpBackend, RequestRejected, Secret
from inward.backends._http_common import (
    InvalidResponse,
    OnError,
    Verdict,
    classify_sdk_error,
    gather_or_cancel,
    public_url,
)
from inward.backends.base import Distribution, GenerateConfig, Generation, Messages, Resolve
from inward.errors import MissingExtraError, UserError
from inward.refs import ModelRef

log = logging.getLogger("inward.backends.openai")
MAX_TOP_LOGPROBS = 20  # OpenAI's limit (and vLLM's default max_logprobs)
DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "openai-compatible": "INWARD_API_KEY"}
# Hosted OpenAI-compatible services whose keys have a variable of their own (base URL host -> variable).
TOGETHER_HOSTS = ("api.together.xyz", "api.together.ai")
HOST_KEY_ENV = dict.fromkeys(TOGETHER_HOSTS, "TOGETHER_API_KEY")
# Hosts whose chat completions take `logprobs` as the number of alternatives (Together: "logprobs": k, 0-20) and
# answer in the completions layout, parallel lists per position (`tokens`, `token_logprobs`, `top_logprobs` as
# {token: logprob} dicts), not OpenAI's `content` list. The parser reads both layouts from any server.
INTEGER_LOGPROBS_HOSTS = frozenset(TOGETHER_HOSTS)


@dataclass(frozen=True)
class TokenLogprob:
    """One generated position: the chosen token and its top-k alternatives (the chosen one included)."""

    token: bytes
    logprob: float
    top: tuple[tuple[bytes, float], ...]


@dataclass
class Choice:
    generation: Generation
    tokens: list[TokenLogprob] | None  # None: logprobs not requested or not returned


def _token_bytes(token: str, raw: list[int] | None) -> bytes:
    return bytes(raw) if raw is not None else token.encode("utf-8")


def _decode(b: bytes) -> str:
    # a token can end inside a multi-byte character; the partial tail is not part of the text yet
    return b.decode("utf-8", errors="ignore")


def _parse_logprobs(raw: Any) -> list[TokenLogprob] | None:
    """A choice's logprobs in either layout: OpenAI's (`content`: one object per position, alternatives with
    their bytes) or the completions layout some servers use on chat completions (Together: parallel lists
    `tokens`, `token_logprobs` and `top_logprobs`, a {token: logprob} dict per position, which may hold only the
    chosen token). None when there are none; an answer whose lists disagree in length is invalid, not guessed."""
    if raw is None:
        return None
    content = getattr(raw, "content", None)
    if content is not None:
        return [
            TokenLogprob(
                _token_bytes(t.token, t.bytes),
                t.logprob,
                tuple((_token_bytes(a.token, a.bytes), a.logprob) for a in (t.top_logprobs or [])),
            )
            for t in content
        ]
    fields = raw if isinstance(raw, dict) else (getattr(raw, "model_extra", None) or {})
    toks, lps = fields.get("tokens"), fields.get("token_logprobs")
    if toks is None or lps is None:
        return None
    tops = fields.get("top_logprobs") or [None] * len(toks)
    if not (len(toks) == len(lps) == len(tops)) or any(lp is None for lp in lps):
        raise InvalidResponse(
            f"logprobs with {len(toks)} tokens, {len(lps)} token_logprobs and {len(tops)} top_logprobs"
        )
    out = []
    for t, lp, alts in zip(toks, lps, tops, strict=True):
        chosen = t.encode("utf-8")
        top = tuple((a.encode("utf-8"), float(v)) for a, v in (alts or {}).items())
        out.append(TokenLogprob(chosen, float(lp), top or ((chosen, float(lp)),)))
    return out


def logprob_distribution(
    tokens: list[TokenLogprob], finish_reason: str, resolve: Resolve, *, prompt_tokens: int = 0
) -> Distribution:
    """Distribution of resolved values from one greedy answer and its top-k logprobs (see module doc)."""
    probs: dict[str, float] = {}
    determined = assumed = ended_none = 0.0
    prefix, path = b"", 1.0

    def add(value: str, p: float) -> None:
        probs[value] = probs.get(value, 0.0) + p

    resolved_on_path = False
    for tok in tokens:
        for alt, lp in tok.top:
            if alt == tok.token:
                continue
            p = path * math.exp(lp)
            text = _decode(prefix + alt)
            value = resolve(text, False)
            if value is not None:
                determined += p
                add(value, p)
            elif (value := resolve(text, True)) is not None:
                assumed += p
                add(value, p)
        path *= math.exp(tok.logprob)
        prefix += tok.token
        value = resolve(_decode(prefix), False)
        if value is not None:
            determined += path
            add(value, path)
            resolved_on_path = True
            break
    if not resolved_on_path and finish_reason == "stop":
        # the greedy answer ended here; the stop token's own probability is not reported, so the whole mass of
        # this prefix goes to its final value
        value = resolve(_decode(prefix), True)
        if value is None:
            ended_none += path
        else:
            assumed += path
            add(value, path)
    return Distribution(
        probs=dict(sorted(probs.items())),
        covered=min(1.0, determined + assumed + ended_none),
        forward_tokens=prompt_tokens + len(tokens),
        method="logprobs",
        extra={
            "determined_mass": determined,
            "assumed_end_mass": assumed,
            "top_logprobs": max((len(t.top) for t in tokens), default=0),
        },
    )


class OpenAICompatBackend(HttpBackend):
    """Chat completions through the official `openai` SDK (async inside, sync `Backend` methods outside)."""

    providers = ("openai", "openai-compatible")
    sdk_name = "openai"

    def __init__(
        self,
        ref: ModelRef | str,
        *,
        api_key_env: str | None = None,
        concurrency: int = 8,
        max_retries: int = 8,
        timeout: float = 60,
        request_budget: int | None = None,
        price_per_mtok: tuple[float, float] | None = None,
        stop: list[str] | None = None,
        on_error: OnError = "raise",
        fallback_samples: int = 20,
        backoff: tuple[float, float] = (0.5, 30.0),
        http_client: Any = None,
    ) -> None:
        """`price_per_mtok` = (prompt, completion) USD per million tokens; `request_budget` caps the HTTP
        requests sent (retries included) and raises UserError beyond it; `on_error="mark"` turns a prompt
        whose retries ran out into finish_reason="error" answers instead of raising; `backoff` = (base, max)
        seconds; `stop` = stop sequences sent with every request; `http_client` = an httpx(2).AsyncClient."""
        try:
            import openai
        except ImportError:
            raise MissingExtraError("the OpenAI backend", "api") from None
        parsed = ModelRef.parse(ref)
        env = api_key_env or DEFAULT_KEY_ENV.get(parsed.provider, "INWARD_API_KEY")
        host_env = HOST_KEY_ENV.get(urlsplit(parsed.base_url or "").hostname or "")
        if api_key_env is None and host_env and (os.environ.get(host_env) or not os.environ.get(env)):
            env = host_env  # the service's own variable; $INWARD_API_KEY still serves when only it is set
        value = os.environ.get(env)
        if not value:
            if parsed.provider == "openai" or env == host_env:
                raise UserError(f"{parsed} needs an API key: set ${env}")
            value = "none"  # local servers (llama.cpp, vLLM without --api-key) accept any key
        if parsed.provider == "openai" and parsed.adapter:
            raise UserError(f"{parsed}: OpenAI fine-tunes are models, use openai/ft:... instead of +adapter=")
        self.api_key_env = env
        self.stop = list(stop) if stop else None
        self.n_supported: bool | None = None
        self.logprobs_supported: bool | None = None
        self._openai = openai
        super().__init__(
            parsed,
            key=Secret(value),
            concurrency=concurrency,
            max_retries=max_retries,
            timeout=timeout,
            request_budget=request_budget,
            price_per_mtok=price_per_mtok,
            on_error=on_error,
            fallback_samples=fallback_samples,
            backoff=backoff,
            http_client=http_client,
        )
        self.sdk_name = f"openai {openai.__version__}"

    @property
    def served_model(self) -> str:
        """The model name sent to the server: the adapter's name when one is given (vLLM LoRA modules)."""
        return self.model_ref.adapter or self.model_ref.name

    @property
    def base_url(self) -> str | None:
        return self.model_ref.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"

    def _make_client(self) -> Any:
        return self._openai.AsyncOpenAI(
            api_key=self._key.reveal(),
            base_url=self.base_url,
            max_retries=0,  # ours count every request exactly
            timeout=self.timeout,
            http_client=self._http_client,
        )

    def _classify(self, exc: BaseException) -> Verdict | None:
        o = self._openai
        return classify_sdk_error(
            exc,
            status_error=o.APIStatusError,
            timeout_error=o.APITimeoutError,
            connection_error=o.APIConnectionError,
        )

    def _reject(self, exc: BaseException) -> RequestRejected | None:
        if not isinstance(exc, self._openai.APIStatusError):
            return None
        status = exc.status_code
        body = exc.body if isinstance(exc.body, dict) else {}
        server = self._redact(str(body.get("message") or exc.message))[:300]
        if status in (401, 403):
            hint = f"the server refused the API key (${self.api_key_env}): set a valid one"
            server = ""  # OpenAI echoes part of a bad key in this message
        elif status == 404:
            url = public_url(self.base_url)
            hint = f"check the model name {self.served_model!r} and the base URL {url}"
        else:
            hint = f"the server rejected the request: {server}"
        return RequestRejected(f"{self.ref}: HTTP {status}: {hint}", status, server)

    def _fingerprint_extra(self) -> dict[str, Any]:
        fp: dict[str, Any] = {"served_model": self.served_model}
        if self.logprobs_supported is False:
            fp["distribution_fallback"] = f"sampled:{self.fallback_samples}"
        if self.n_supported is False:
            fp["n_fallback"] = "split"
        return fp

    def _payload(
        self, messages: Messages, config: GenerateConfig, top_k: int | None = None
    ) -> dict[str, Any]:
        k = config.top_logprobs if top_k is None else top_k
        body: dict[str, Any] = {
            "model": self.served_model,
            "messages": messages,
            "temperature": config.temperature,
            "seed": config.seed,
            # OpenAI's newer models only take max_completion_tokens; other servers know max_tokens best
            (
                "max_completion_tokens" if self.model_ref.provider == "openai" else "max_tokens"
            ): config.max_tokens,
        }
        if config.n != 1:
            body["n"] = config.n
        if self.stop:
            body["stop"] = self.stop
        if k > 0:
            if self._integer_logprobs:
                body["logprobs"] = min(k, MAX_TOP_LOGPROBS)
            else:
                body["logprobs"] = True
                body["top_logprobs"] = min(k, MAX_TOP_LOGPROBS)
        return body

    @property
    def _integer_logprobs(self) -> bool:
        host = urlsplit(self.base_url).hostname if self.base_url else None
        return host in INTEGER_LOGPROBS_HOSTS

    # ---- requests --------------------------------------------------------------------------------------
    async def _request(self, messages: Messages, config: GenerateConfig, top_k: int) -> list[Choice]:
        payload = self._payload(messages, config, top_k)

        async def send() -> list[Choice]:
            resp = await self._client.chat.completions.create(**payload)
            choices = self._parse(resp, top_k)
            usage = getattr(resp, "usage", None)
            self.usage.add_tokens(
                getattr(usage, "prompt_tokens", 0) or 0,
                getattr(usage, "completion_tokens", 0) or 0,
                self.price_per_mtok,
            )
            return choices

        return await self._call(send)

    @staticmethod
    def _parse(resp: Any, top_k: int) -> list[Choice]:
        raw = getattr(resp, "choices", None)
        if not raw or any(getattr(c, "message", None) is None for c in raw):
            raise InvalidResponse("answer without choices")
        usage = getattr(resp, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
        completion_total = getattr(usage, "completion_tokens", 0) or 0
        out = []
        for c in sorted(raw, key=lambda c: c.index or 0):
            tokens = _parse_logprobs(c.logprobs) if top_k else None
            gen = Generation(
                text=c.message.content or "",
                finish_reason=c.finish_reason or "stop",
                # usage is per request; with n>1 each answer gets its own length when logprobs tell it
                completion_tokens=len(tokens) if tokens is not None else round(completion_total / len(raw)),
                prompt_tokens=prompt_tokens,
                logprobs=None
                if tokens is None
                else [{_decode(b): lp for b, lp in t.top} or {_decode(t.token): t.logprob} for t in tokens],
            )
            out.append(Choice(gen, tokens))
        return out

    async def _choices(self, messages: Messages, config: GenerateConfig) -> list[Choice]:
        """`config.n` choices, degrading gracefully when the server lacks n>1 or logprobs."""
        n, k = config.n, config.top_logprobs
        if k and self.logprobs_supported is False:
            k = 0
        if n > 1 and self.n_supported is False:
            return await self._split(messages, config, k, 0)
        try:
            got = await self._request(messages, config, k)
        except RequestRejected as exc:
            if exc.status not in (400, 422):
                raise
            msg = exc.server_message.lower()
            if k and self.logprobs_supported is not True and ("logprob" in msg or n == 1):
                self._no_logprobs(f"HTTP {exc.status}: {exc.server_message[:120]}")
                return await self._choices(messages, replace(config, top_logprobs=0))
            if n > 1 and self.n_supported is not True:
                self._no_n(f"HTTP {exc.status}")
                return await self._split(messages, config, k, 0)
            raise
        if k:
            if any(c.tokens is None for c in got):
                self._no_logprobs("answer without logprobs")
            else:
                self.logprobs_supported = True
        if n > 1:
            if len(got) < n:
                self._no_n(f"{len(got)} choices for n={n}")
                got += await self._split(messages, config, k, len(got))
            else:
                self.n_supported = True
        return got[:n]

    async def _split(self, messages: Messages, config: GenerateConfig, k: int, start: int) -> list[Choice]:
        one = replace(config, n=1, top_logprobs=k)
        parts = await gather_or_cancel(
            [self._choices(messages, replace(one, seed=config.seed + i)) for i in range(start, config.n)]
        )
        return [p[0] for p in parts]

    def _no_logprobs(self, why: str) -> None:
        self.usage.fallbacks["logprobs"] = self.usage.fallbacks.get("logprobs", 0) + 1
        if self.logprobs_supported is not False:
            self.logprobs_supported = False
            log.warning(
                "%s: no logprobs from the server (%s); distributions fall back to %d samples at T=1",
                self.ref,
                why,
                self.fallback_samples,
            )

    def _no_n(self, why: str) -> None:
        self.usage.fallbacks["n"] = self.usage.fallbacks.get("n", 0) + 1
        if self.n_supported is not False:
            self.n_supported = False
            log.info("%s: server does not take n>1 (%s); sending one request per sample", self.ref, why)

    # ---- the Backend contract --------------------------------------------------------------------------
    async def _generate_one(self, messages: Messages, config: GenerateConfig) -> list[Generation]:
        return [c.generation for c in await self._choices(messages, config)]

    async def _distribution_one(
        self, messages: Messages, resolve: Resolve, max_branches: int, max_tokens: int
    ) -> Distribution:
        if self.logprobs_supported is not False:
            k = max(1, min(max_branches, MAX_TOP_LOGPROBS))
            config = GenerateConfig(temperature=0.0, max_tokens=max_tokens, n=1, seed=0, top_logprobs=k)
            try:
                choice = (await self._request(messages, config, k))[0]
            except RequestRejected as exc:
                if exc.status not in (400, 422) or self.logprobs_supported:
                    raise
                self._no_logprobs(f"HTTP {exc.status}: {exc.server_message[:120]}")
            else:
                if choice.tokens is not None:
                    self.logprobs_supported = True
                    g = choice.generation
                    return logprob_distribution(
                        choice.tokens, g.finish_reason, resolve, prompt_tokens=g.prompt_tokens
                    )
                self._no_logprobs("answer without logprobs")
        return await self._sampled_distribution(messages, resolve, max_tokens, "server returned no logprobs")
