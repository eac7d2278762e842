"""`AnthropicBackend`: Claude models through the official `anthropic` SDK (Messages API).

    anthropic/claude-3-5-sonnet-20240620        key from $ANTHROPIC_API_KEY (or api_key_env=...)

    backend = AnthropicBackend("anthropic/claude-3-5-sonnet-20240620", concurrency=4, price_per_mtok=(3, 15))
    gens = backend.generate(prompts, GenerateConfig(temperature=1.0, n=5, max_tokens=16))

Same contract as `OpenAICompatBackend`, with the Messages API's limits: system messages go into the
`system` field; there is no `n` (n samples = n requests), no seed (samples at T>0 are not reproducible) and no
logprobs, so `distribution` always samples `fallback_samples` answers at T=1 (method="sampled"). Overloaded
(529) and rate-limited (429, honouring retry-after) requests are retried like 5xx, timeouts and truncated
bodies.

Temperature: API version 2026-10-21 (the default of anthropic SDK 2.x, which dropped the sampling
parameters) and recent models reject `temperature` with HTTP 400. The backend sends it anyway (as an extra
body field) and, when it is refused, stops sending it: at temperature 1.0 (the API's default) nothing changes,
so it goes on with a logged warning and records `"temperature": "api-default"` in `fingerprint()`; any other
temperature (greedy 0.0 included) raises a UserError, since the answers would not be what was asked for.
Older models that still take it can be reached with ``api_version="2023-06-01"``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from inward.backends._http_base import HttpBackend, RequestRejected, Secret
from inward.backends._http_common import (
    InvalidResponse,
    OnError,
    Verdict,
    classify_sdk_error,
    gather_or_cancel,
)
from inward.backends.base import GenerateConfig, Generation, Messages
from inward.errors import MissingExtraError, UserError
from inward.refs import ModelRef

log = logging.getLogger("inward.backends.anthropic")
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class AnthropicBackend(HttpBackend):
    """Messages API backend (async SDK inside, sync `Backend` methods outside)."""

    providers = ("anthropic",)

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
        api_version: str | None = None,
        base_url: str | None = None,
        http_client: Any = None,
    ) -> None:
        """Options as in `OpenAICompatBackend`; `api_version` overrides the SDK's `anthropic-version` header;
        `base_url` points at a proxy or gateway instead of the API."""
        try:
            import anthropic
        except ImportError:
            raise MissingExtraError("the Anthropic backend", "api") from None
        env = api_key_env or "ANTHROPIC_API_KEY"
        value = os.environ.get(env)
        if not value:
            raise UserError(f"{ref} needs an API key: set ${env}")
        self.api_key_env = env
        self.stop = list(stop) if stop else None
        self._anthropic = anthropic
        self._base_url = base_url
        self.api_version = api_version
        self.temperature_supported: bool | None = None
        super().__init__(
            ref,
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
        if self.model_ref.adapter:
            raise UserError(f"{self.ref}: the Anthropic API serves no LoRA adapters; drop '+adapter='")
        self.sdk_name = f"anthropic {anthropic.__version__}"

    @property
    def base_url(self) -> str | None:
        return self._base_url or "https://api.anthropic.com"

    def _make_client(self) -> Any:
        return self._anthropic.AsyncAnthropic(
            api_key=self._key.reveal(),
            base_url=self.base_url,
            max_retries=0,  # ours count every request exactly
            timeout=self.timeout,
            http_client=self._http_client,
            default_headers={"anthropic-version": self.api_version} if self.api_version else None,
        )

    def _classify(self, exc: BaseException) -> Verdict | None:
        a = self._anthropic
        return classify_sdk_error(
            exc,
            status_error=a.APIStatusError,
            timeout_error=a.APITimeoutError,
            connection_error=a.APIConnectionError,
        )

    def _reject(self, exc: BaseException) -> RequestRejected | None:
        if not isinstance(exc, self._anthropic.APIStatusError):
            return None
        status = exc.status_code
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error")
        error = error if isinstance(error, dict) else {}
        server = self._redact(str(error.get("message") or exc.message))[:300]
        if status in (401, 403):
            hint = f"the API refused the key in ${self.api_key_env}: set a valid one"
        elif status == 404:
            hint = f"check the model name {self.model_ref.name!r}"
        else:
            hint = f"the API rejected the request: {server}"
        return RequestRejected(f"{self.ref}: HTTP {status}: {hint}", status, server)

    def _fingerprint_extra(self) -> dict[str, Any]:
        fp: dict[str, Any] = {"api_version": self.api_version or "sdk-default"}
        if self.temperature_supported is False:
            fp["temperature"] = "api-default"
        return fp

    def _payload(self, messages: Messages, config: GenerateConfig) -> dict[str, Any]:
        if not 0.0 <= config.temperature <= 1.0:
            raise UserError(f"the Anthropic API takes temperatures in [0, 1], not {config.temperature}")
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        body: dict[str, Any] = {
            "model": self.model_ref.name,
            "messages": [
                {"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"
            ],
            "max_tokens": config.max_tokens,
        }
        if self.temperature_supported is not False:
            body["temperature"] = config.temperature
        if system:
            body["system"] = system
        if self.stop:
            body["stop_sequences"] = self.stop
        return body

    async def _request(self, payload: dict[str, Any]) -> Generation:
        params = dict(payload)
        # SDK 2.x has no `temperature` argument; as an extra body field it reaches the API with any SDK
        extra = {"temperature": params.pop("temperature")} if "temperature" in params else None

        async def send() -> Generation:
            msg = await self._client.messages.create(**params, extra_body=extra)
            blocks = getattr(msg, "content", None)
            if blocks is None or getattr(msg, "usage", None) is None:
                raise InvalidResponse("message without content or usage")
            text = "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text")
            usage = msg.usage
            self.usage.add_tokens(usage.input_tokens or 0, usage.output_tokens or 0, self.price_per_mtok)
            return Generation(
                text=text,
                finish_reason=FINISH.get(msg.stop_reason or "", msg.stop_reason or "stop"),
                completion_tokens=usage.output_tokens or 0,
                prompt_tokens=usage.input_tokens or 0,
            )

        return await self._call(send)

    async def _generate_one(self, messages: Messages, config: GenerateConfig) -> list[Generation]:
        if config.top_logprobs:
            raise UserError("the Anthropic API returns no logprobs: use top_logprobs=0")
        if self.temperature_supported is False and config.temperature != 1.0:
            raise UserError(
                f"{self.ref}: this model or API version takes no temperature, so only temperature=1.0 (the "
                f"API's default sampling) is possible, not {config.temperature}; "
                "older models: api_version='2023-06-01'"
            )
        payload = self._payload(messages, config)
        try:
            gens = await gather_or_cancel([self._request(payload) for _ in range(config.n)])
        except RequestRejected as exc:
            if exc.status != 400 or "temperature" not in payload or "temperature" not in exc.server_message:
                raise
            self._no_temperature(exc.server_message)
            if config.temperature != 1.0:
                raise UserError(
                    f"{self.ref}: this model or API version takes no temperature "
                    f"({exc.server_message[:100]}); use temperature=1.0 (the API's default sampling), "
                    "or api_version='2023-06-01' for older models"
                ) from None
            return await self._generate_one(messages, config)
        if "temperature" in payload:
            self.temperature_supported = True
        return gens

    def _no_temperature(self, why: str) -> None:
        if self.temperature_supported is not False:
            self.temperature_supported = False
            log.warning(
                "%s: the API refuses `temperature` (%s); sending none from now on", self.ref, why[:100]
            )
