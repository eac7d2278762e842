"""The few Together REST calls the fine-tuner makes: httpx, a bearer key from the environment, retries, and
one-line errors that never carry the key.

    api = TogetherAPI("https://api.together.xyz/v1")        # key from TOGETHER_API_KEY, read on first call
    job = api.call("GET", "/fine-tunes/ft-123", what="job ft-123")

Network errors, HTTP 429 and 5xx are retried with backoff (`retry=False` for requests that must not run twice,
such as creating a paid job); when they persist, `Unsure` says so: the outcome is unknown and a re-run resumes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inward.errors import MissingExtraError, UserError

if TYPE_CHECKING:
    from inward.backends._http_base import Secret

KEY_ENV = "TOGETHER_API_KEY"


class Unsure(UserError):
    """A request whose outcome is unknown (network error, 429/5xx after retries): a re-run resumes."""


def one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


class TogetherAPI:
    def __init__(
        self,
        base_url: str,
        http_client: Any = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 4,
        timeout: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http_client
        self._sleep = sleep
        self.max_retries = max_retries
        self.timeout = timeout
        self._key: Secret | None = None

    @property
    def http(self) -> Any:
        if self._http is None:
            try:
                import httpx
            except ImportError as e:
                raise MissingExtraError("Together fine-tuning", "api") from e
            self._http = httpx.Client(timeout=httpx.Timeout(self.timeout, connect=15.0))
        return self._http

    def _auth(self) -> dict[str, str]:
        from inward.backends._http_base import Secret

        if self._key is None:
            value = os.environ.get(KEY_ENV)
            if not value:
                raise UserError(f"Together fine-tuning needs an API key: set {KEY_ENV}")
            self._key = Secret(value)
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    def redact(self, text: str) -> str:
        from inward.backends._http_common import redact

        return redact(text, [self._key.reveal()] if self._key else [])

    def call(self, method: str, path: str, *, what: str, retry: bool = True, **kw: Any) -> Any:
        """The JSON body of one request (`kw` go to ``httpx.Client.request``), or a one-line UserError."""
        http = self.http
        import httpx

        from inward.backends._http_common import public_url

        headers = self._auth()
        tries = 1 + (self.max_retries if retry else 0)
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                resp = http.request(method, self.base_url + path, headers=headers, **kw)
            except httpx.TransportError as e:
                if last:
                    raise Unsure(
                        f"cannot reach Together at {public_url(self.base_url)} for {what} "
                        f"({type(e).__name__}); check the network"
                    ) from None
                self._sleep(min(2.0**attempt, 30.0))
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                if last:
                    raise Unsure(
                        f"Together answered HTTP {resp.status_code} for {what}: {self._server(resp)}"
                    )
                self._sleep(min(2.0**attempt, 30.0))
                continue
            if resp.status_code in (401, 403):  # the server's text may echo part of the key: not shown
                raise UserError(
                    f"Together refused the API key in {KEY_ENV} (HTTP {resp.status_code}): set a valid one"
                )
            if resp.status_code >= 400:
                raise UserError(f"Together rejected {what}: HTTP {resp.status_code}: {self._server(resp)}")
            try:
                return resp.json()
            except ValueError:
                raise Unsure(f"Together sent a body that is not JSON for {what}") from None
        raise AssertionError("unreachable")

    def _server(self, resp: Any) -> str:
        """The server's own message, on one line, with the key masked."""
        try:
            body = resp.json()
        except ValueError:
            return one_line(self.redact(resp.text or "no message"))
        err = body.get("error") if isinstance(body, dict) else None
        msg = (err.get("message") if isinstance(err, dict) else err) or (
            body.get("message") if isinstance(body, dict) else None
        )
        return one_line(self.redact(str(msg or body)))
