"""The one seam to GitHub's REST API: httpx, JSON in and out, medic's errors.

Every call goes through `GitHubApi.call`, which sends the documented headers
(`application/vnd.github+json`, API version 2022-11-28, a bearer token), retries
transient failures and translates the rest:

- connection errors, timeouts, 5xx: retried with exponential backoff;
- rate limits (429, or 403 whose body says "rate limit"): retried after `retry-after`
  seconds, or at `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, or after a
  minute for a secondary limit that gives neither (GitHub's documented guidance); a
  wait longer than `max_wait_s` is not slept but raised as TransientError saying when
  the limit resets, so the workflow step retries later;
- 401: PermanentError (the token is refused); 403: PermanentError naming the permission
  or scope GitHub says is missing; 404: NotFoundError (GitHub also answers 404 when the
  token may not see a private repository); 409: ConflictError; 422: InvalidInputError
  with GitHub's message and its `errors[]`.

A POST is retried too: the only one medic sends creates a pull request, and a
duplicate is refused by GitHub (422, "already exists"), which the caller handles.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from medic.adapters.http import WallClock
from medic.domain.errors import (
    ConflictError,
    InvalidInputError,
    MedicError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from medic.ports.clock import Clock

__all__ = ["API_VERSION", "GitHubApi", "Reply", "describe_error"]

API_VERSION = "2022-11-28"
_MESSAGE_CHARS = 300
_SECONDARY_LIMIT_WAIT_S = 60.0  # GitHub: "wait for at least one minute before retrying"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # the JSON GitHub answered (None when empty)
    headers: Mapping[str, str]


class GitHubApi:
    def __init__(
        self,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        timeout_s: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 1.0,
        max_wait_s: float = 120.0,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._clock: Clock = clock or WallClock()
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._max_wait_s = max_wait_s
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "medic",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.api_url, headers=headers, timeout=timeout_s, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, what: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self.call("GET", path, what, params=params).body

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, object] | None = None,
        allow: Collection[int] = (),
    ) -> Reply:
        """The reply to a 2xx (or a status in `allow`); medic's error for anything else.

        `what` says what medic was doing, for error messages ("compare v1..v2 in acme/auth").
        """
        failure: MedicError = TransientError(what)
        cause: BaseException | None = None
        for attempt in range(self._attempts):
            delay = self._backoff_s * 2.0**attempt
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TimeoutException as e:
                failure, cause = TransientError(f"{what}: GitHub at {self.api_url} timed out"), e
            except httpx.TransportError as e:
                failure = TransientError(f"{what}: cannot reach GitHub at {self.api_url}: {e}")
                cause = e
            else:
                status = response.status_code
                if status < 300 or status in allow:
                    return Reply(status, _json(response), response.headers)
                wait = self._rate_limit_wait(response)
                if wait is None and status < 500:
                    raise _translate(response, what, self.api_url)
                failure, cause = self._transient(response, what, wait), None
                delay = max(delay, wait or 0.0)
                if delay > self._max_wait_s:
                    break  # not worth holding a worker: the step retries later
            if attempt + 1 < self._attempts:
                self._clock.sleep(delay)
        raise failure from cause

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when the response is a rate limit; None when it is not one."""
        status = response.status_code
        if status not in (403, 429):
            return None
        headers = response.headers
        secondary = "rate limit" in _message(response).lower()
        if status == 403 and not secondary and headers.get("x-ratelimit-remaining") != "0":
            return None  # a plain permission refusal
        retry_after = _float(headers.get("retry-after"))
        if retry_after is not None:
            return max(0.0, retry_after)
        reset = _float(headers.get("x-ratelimit-reset"))
        if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            return max(0.0, reset - self._clock.now().timestamp())
        return _SECONDARY_LIMIT_WAIT_S

    def _transient(self, response: httpx.Response, what: str, wait: float | None) -> TransientError:
        text = f"{what}: GitHub answered {response.status_code}: {_message(response)}"
        if wait is not None:
            text += f" (rate limited; retry in {wait:.0f}s)"
        return TransientError(text)


def _translate(response: httpx.Response, what: str, api_url: str) -> PermanentError:
    status, message = response.status_code, _message(response)
    if status == 401:
        return PermanentError(
            f"{what}: GitHub at {api_url} refused the token (401 {message}); "
            "check that it is set and has not expired"
        )
    if status == 403:
        return PermanentError(f"{what}: GitHub refused it (403 {message}); {_missing(response)}")
    if status == 404:
        return NotFoundError(
            f"{what}: not found on GitHub (404 {message}); the repository or ref does not "
            "exist, or the token may not read it"
        )
    if status == 409:
        return ConflictError(f"{what}: GitHub answered 409: {message}")
    if status == 422:
        return InvalidInputError(f"{what}: GitHub refused it (422): {message}")
    return PermanentError(f"{what}: GitHub answered {status}: {message}")


def _missing(response: httpx.Response) -> str:
    """What the token lacks, from the headers GitHub documents for that purpose."""
    headers = response.headers
    permissions = headers.get("x-accepted-github-permissions")
    if permissions:  # fine-grained tokens and GitHub Apps
        return f"the token needs the permission {permissions}"
    accepted = headers.get("x-accepted-oauth-scopes")
    if accepted is not None:  # classic tokens
        has = headers.get("x-oauth-scopes") or "none"
        return f"the token needs the scope {accepted or 'repo'} (it has: {has})"
    return "the token needs write access to pull requests and contents of the repository"


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as e:
        raise PermanentError(
            f"GitHub answered {response.status_code} with something that is not JSON: "
            f"{response.text[:_MESSAGE_CHARS]!r}"
        ) from e


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:_MESSAGE_CHARS].strip() or response.reason_phrase
    return describe_error(body) or response.reason_phrase


def describe_error(body: Any) -> str:
    """GitHub's `message` from an error body, with the `errors[]` details a 422 carries."""
    if not isinstance(body, dict):
        return str(body or "")[:_MESSAGE_CHARS]
    text = str(body.get("message") or "")
    details = []
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            detail = error.get("message") or " ".join(
                str(error[k]) for k in ("resource", "field", "code") if error.get(k)
            )
            details.append(str(detail))
        else:
            details.append(str(error))
    if details:
        text += ": " + "; ".join(details)
    return text[:_MESSAGE_CHARS]


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date in retry-after: fall back to the other headers
