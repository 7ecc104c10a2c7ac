"""One JSON POST for the notifying adapters (paging), with medic's errors.

No retry here: the workflow step that pages is the one retry owner. Connection errors,
timeouts, 429 and 5xx are TransientError; any other non-2xx is a PermanentError that
quotes the start of the vendor's answer (never the request, which holds a key).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from medic.adapters.http import body_text
from medic.domain.errors import PermanentError, TransientError

__all__ = ["post_json", "send"]


def post_json(
    client: httpx.Client,
    path: str,
    body: Mapping[str, object],
    what: str,
    system: str,
    params: Mapping[str, str] | None = None,
) -> httpx.Response:
    return send(client, "POST", path, what, system, body=body, params=params)


def send(
    client: httpx.Client,
    method: str,
    path: str,
    what: str,
    system: str,
    *,
    body: Mapping[str, object] | None = None,
    params: Mapping[str, str] | None = None,
) -> httpx.Response:
    try:
        response = client.request(method, path, json=body, params=dict(params or {}))
    except httpx.TimeoutException as e:
        raise TransientError(f"{what}: {system} timed out") from e
    except httpx.TransportError as e:
        raise TransientError(f"{what}: cannot reach {system}: {e}") from e
    except httpx.RequestError as e:
        raise PermanentError(f"{what}: {system} answered unusably: {e}") from e
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientError(f"{what}: {system} answered {status}: {body_text(response)}")
    if status >= 300:
        raise PermanentError(f"{what}: {system} refused ({status}): {body_text(response)}")
    return response
