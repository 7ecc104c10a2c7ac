"""The HTTP plumbing the JSON-over-HTTP adapters share: a GET with a timeout, retries of
transient failures, the server's own wait hint honoured, and medic's errors.

Transient (retried with capped exponential backoff, then TransientError): connection
errors, timeouts, 429 and 5xx. A wait the server asks for (`Retry-After`, or a vendor
header such as Datadog's `X-RateLimit-Reset`) replaces the backoff when it is longer;
a wait longer than `max_wait_seconds` is not slept at all but raised at once as a
TransientError saying when to retry, so a worker is not held hostage by a rate limit
and the durable step retries later.

Every other response (2xx, 3xx, 4xx but 429) comes back to the adapter, which knows
what its vendor's 4xx means (a bad query, a refused key) and raises the PermanentError
that says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx

from medic.domain.errors import PermanentError, TransientError

__all__ = ["RetryingClient", "WallClock", "body_text", "retry_after"]

_MESSAGE_CHARS = 500


class WallClock:
    """Real time: the default `Clock` of adapters outside the sandbox."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds; None when absent or an HTTP date (backoff will do)."""
    return _seconds(response.headers.get("retry-after"))


def body_text(response: httpx.Response) -> str:
    """The start of the body (servers put their error text there), or the reason."""
    return response.text[:_MESSAGE_CHARS].strip() or response.reason_phrase


class RetryingClient:
    """GETs through one `httpx.Client`, retrying what may succeed later.

    `system` names the server in messages ("Loki at http://loki:3100"); `describe`
    extracts the vendor's error text from a response; `wait_hint` reads how long the
    vendor asks to wait before the next attempt (None when it does not say).
    """

    def __init__(
        self,
        client: httpx.Client,
        system: str,
        *,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 10.0,
        max_wait_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        describe: Callable[[httpx.Response], str] = body_text,
        wait_hint: Callable[[httpx.Response], float | None] = retry_after,
    ) -> None:
        self.client = client
        self.system = system
        self.retries = max(0, retries)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep
        self._describe = describe
        self._wait_hint = wait_hint

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        *,
        retries: int | None = None,
    ) -> httpx.Response:
        """The first response that is not a transient failure; TransientError when
        every attempt failed. `what` says what medic was doing ("the query …")."""
        attempts = 1 + (self.retries if retries is None else max(0, retries))
        failure = TransientError(f"{what}: {self.system} did not answer")
        cause: BaseException | None = None
        for attempt in range(attempts):
            delay = min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempt)
            try:
                response = self.client.get(path, params=dict(params or {}))
            except httpx.TimeoutException as e:
                timeout = self.client.timeout.read
                after = f" after {timeout:g}s" if timeout is not None else ""
                failure, cause = TransientError(f"{what}: {self.system} timed out{after}"), e
            except httpx.TransportError as e:
                failure, cause = TransientError(f"{what}: cannot reach {self.system}: {e}"), e
            except httpx.RequestError as e:  # undecodable body, redirect loop: not transient
                raise PermanentError(f"{what}: {self.system} answered unusably: {e}") from e
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    return response
                hint = self._wait_hint(response)
                text = f"{what}: {self.system} answered {status}: {self._describe(response)}"
                if hint is not None:
                    text += f" (asked to retry in {hint:g}s)"
                failure, cause = TransientError(text), None
                if hint is not None:
                    if hint > self.max_wait_seconds:
                        break  # not worth holding a worker: the step retries later
                    delay = max(delay, hint)
            if attempt + 1 < attempts:
                self._sleep(delay)
        raise failure from cause


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
