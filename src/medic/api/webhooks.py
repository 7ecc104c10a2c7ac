"""Webhook receivers: Alertmanager, Grafana, Datadog and medic's generic JSON.

A valid alert is stored durably before the 2xx; redeliveries (same source,
fingerprint and start) are answered as duplicates and change nothing. One bad alert
in a batch does not cost the others: the valid ones are stored, the bad ones are
listed in the answer and recorded (400 only if none was valid). A malformed body gets
a 4xx naming the problem and is recorded; an unauthenticated request creates nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from medic.api.app import ApiContext, context
from medic.api.auth import require_user, require_webhook
from medic.api.schemas import (
    IngestedSignal,
    IngestResponse,
    RejectedAlert,
    RejectedOut,
)
from medic.domain import InvalidInputError, MedicError, Signal
from medic.log import get_logger
from medic.signals.alertmanager import AlertmanagerPayload, parse_alertmanager
from medic.signals.datadog import DatadogEvent, parse_datadog
from medic.signals.generic import GenericBody, parse_generic
from medic.signals.grafana import GrafanaPayload, parse_grafana
from medic.signals.payload import Parsed, Problem, printable
from medic.workflows.ingest import IngestQueue, IngestResult

__all__ = [
    "EARLIEST_START",
    "FUTURE_TOLERANCE",
    "INGEST_TIMEOUT_SECONDS",
    "body_schemas",
    "router",
]

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"])

Parser = Callable[[bytes], Parsed]

# Normalisation of alert times: a start before this is a sender's zero value, not an
# alert; a start further ahead than this is a broken clock. Either is refused (per alert).
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(hours=1)
# The longest a request waits for its alerts to be committed; then 503, and the sender
# retries (a redelivery is harmless).
INGEST_TIMEOUT_SECONDS = 20.0

# (signature header, timestamp header) of the sources that sign their requests.
SIGNATURE_HEADERS = {
    "grafana": ("x-grafana-alerting-signature", "x-grafana-alerting-timestamp"),
    "generic": ("x-medic-signature", "x-medic-timestamp"),
}

# The documented request body of each receiver. The body is still read as bytes and
# parsed alert by alert (one bad alert must not cost the batch), so these only
# describe it: unknown fields are allowed, as the parsers ignore them.
_BODIES: dict[str, tuple[str, TypeAdapter[Any]]] = {
    "alertmanager": ("AlertmanagerWebhook", TypeAdapter(AlertmanagerPayload)),
    "grafana": ("GrafanaWebhook", TypeAdapter(GrafanaPayload)),
    "datadog": ("DatadogWebhook", TypeAdapter(DatadogEvent)),
    "generic": ("GenericWebhook", TypeAdapter(GenericBody)),
}
_REF = "#/components/schemas/{model}"


def body_schemas() -> dict[str, dict[str, Any]]:
    """The receivers' request bodies as OpenAPI component schemas (with their parts)."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, adapter in _BODIES.values():
        schema = adapter.json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


def _body(source: str) -> dict[str, Any]:
    ref = {"$ref": _REF.format(model=_BODIES[source][0])}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"description": "malformed payload, or no valid alert in it (recorded)"},
    401: {"description": "missing or invalid bearer token or signature"},
    413: {"description": "body too large (recorded)"},
    415: {"description": "not application/json (recorded)"},
    503: {"description": "the store did not answer in time; retry"},
}


@router.post(
    "/webhooks/alertmanager",
    status_code=202,
    response_model=IngestResponse,
    responses=_RESPONSES,
    openapi_extra=_body("alertmanager"),
)
async def alertmanager(request: Request) -> Response:
    """Prometheus Alertmanager webhook (payload version 4); bearer token."""
    return await _receive(request, "alertmanager", parse_alertmanager)


@router.post(
    "/webhooks/grafana",
    status_code=202,
    response_model=IngestResponse,
    responses=_RESPONSES,
    openapi_extra=_body("grafana"),
)
async def grafana(request: Request) -> Response:
    """Grafana unified-alerting webhook contact point (version 1); bearer token, or
    the HMAC-SHA256 `X-Grafana-Alerting-Signature` when a signing secret is set."""
    return await _receive(request, "grafana", parse_grafana)


@router.post(
    "/webhooks/datadog",
    status_code=202,
    response_model=IngestResponse,
    responses=_RESPONSES,
    openapi_extra=_body("datadog"),
)
async def datadog(request: Request) -> Response:
    """Datadog webhook integration with medic's payload template (see the README);
    bearer token in the webhook's custom headers."""
    return await _receive(request, "datadog", parse_datadog)


@router.post(
    "/webhooks/generic",
    status_code=202,
    response_model=IngestResponse,
    responses=_RESPONSES,
    openapi_extra=_body("generic"),
)
async def generic(request: Request) -> Response:
    """medic's generic JSON alerts (see the README); bearer token, or the HMAC-SHA256
    `X-Medic-Signature: sha256=<hex>` when a signing secret is set."""
    return await _receive(request, "generic", parse_generic)


@router.get("/webhooks/rejected", response_model=list[RejectedOut])
def rejected(request: Request, limit: int = Query(50, ge=1, le=1000)) -> list[RejectedOut]:
    """Webhook requests (or alerts in them) refused as malformed, newest first (any user)."""
    ctx = context(request)
    require_user(request, ctx.credentials)
    return [
        RejectedOut(id=r.id, source=r.source, reason=r.reason, at=r.at, body=r.body)
        for r in ctx.store.rejected(limit=limit)
    ]


async def _receive(request: Request, source: str, parse: Parser) -> Response:
    ctx = context(request)
    signed = ctx.credentials.signs(source) and source in SIGNATURE_HEADERS
    if not signed:
        require_webhook(request, ctx.credentials, source)
    body = await _read_limited(request, ctx.max_webhook_bytes)
    if signed:
        # Nothing from an unauthenticated sender is recorded, not even its oversize body.
        if body is None:
            raise HTTPException(413, f"{source} webhook rejected: body too large")
        _require_signature(request, ctx, source, body)
    if body is None:
        await _reject(ctx, source, 413, f"body larger than {ctx.max_webhook_bytes} bytes", b"")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        await _reject(
            ctx, source, 415, f"content type must be application/json, not '{content_type}'", body
        )
    try:
        parsed = parse(body)
    except InvalidInputError as exc:
        await _reject(ctx, source, 400, str(exc), body)
    except Exception as exc:  # a body no parser foresaw is still refused, and kept
        log.exception("webhook.parse_failed", source=source)
        await _reject(ctx, source, 400, f"body could not be read ({type(exc).__name__})", body)
    signals, problems = _in_time_window(parsed, datetime.now(UTC))
    if problems:
        if not signals:
            await _reject(ctx, source, 400, _reasons(problems), body)
        await _record_some_refused(ctx, source, problems, body)
    stored = await _store(request, ctx, signals, body)
    results = [r for r in stored if r.error is None]
    refused = [_refusal(signal, r) for signal, r in zip(signals, stored, strict=True) if r.error]
    if refused:
        problems = [*problems, *refused]
        if not results:
            await _reject(ctx, source, 400, _reasons(refused), body)
        await _record_some_refused(ctx, source, refused, body)
    # Built from our own values and serialized once: the endpoint's `response_model`
    # documents this body, and FastAPI would otherwise validate it all again.
    answer = IngestResponse.model_construct(
        accepted=sum(1 for r in results if r.created),
        duplicates=sum(1 for r in results if not r.created),
        signals=[
            IngestedSignal.model_construct(
                signal_id=r.signal_id,
                duplicate=not r.created,
                incident_id=r.incident_id,
                new_incident=r.new_incident,
            )
            for r in results
        ],
        rejected=[RejectedAlert.model_construct(index=p.index, reason=p.reason) for p in problems],
    )
    return Response(answer.model_dump_json(), status_code=202, media_type="application/json")


def _reasons(problems: list[Problem]) -> str:
    text = "; ".join(p.reason for p in problems[:20])
    more = len(problems) - 20
    return f"{text}; and {more} more" if more > 0 else text


async def _record_some_refused(
    ctx: ApiContext, source: str, problems: list[Problem], body: bytes
) -> None:
    reason = f"some alerts refused: {_reasons(problems)}"
    await run_in_threadpool(ctx.store.record_rejected, source, reason, body, ctx.clock.now())


def _refusal(signal: Signal, result: IngestResult) -> Problem:
    return Problem(-1, f"alert '{signal.name[:80]}' ({signal.fingerprint[:32]}): {result.error}")


def _require_signature(request: Request, ctx: ApiContext, source: str, body: bytes) -> None:
    signature_header, timestamp_header = SIGNATURE_HEADERS[source]
    signature = request.headers.get(signature_header)
    if not signature:
        raise HTTPException(401, f"webhook '{source}': missing {signature_header} signature")
    timestamp = request.headers.get(timestamp_header)
    if not ctx.credentials.signature_ok(source, body, signature, timestamp, time.time()):
        raise HTTPException(
            401, f"webhook '{source}': invalid signature (or a timestamp more than 5 min off)"
        )


def _in_time_window(parsed: Parsed, now: datetime) -> tuple[list[Signal], list[Problem]]:
    signals: list[Signal] = []
    problems = list(parsed.problems)
    for signal in parsed.signals:
        if signal.starts_at < EARLIEST_START:
            reason = f"before {EARLIEST_START.date().isoformat()}"
        elif signal.starts_at > now + FUTURE_TOLERANCE:
            reason = "more than 1h in the future"
        else:
            signals.append(signal)
            continue
        problems.append(
            Problem(
                -1,
                f"alert '{signal.name[:80]}' ({signal.fingerprint[:32]}): start "
                f"{signal.starts_at.isoformat()} is {reason}",
            )
        )
    return signals, problems


def _queue(request: Request, ctx: ApiContext) -> IngestQueue:
    # One writer per application; created on first use inside the server's event loop.
    state = request.app.state
    ingest_queue: IngestQueue | None = getattr(state, "ingest_queue", None)
    if ingest_queue is None:
        ingest_queue = IngestQueue(now=ctx.clock.now)
        state.ingest_queue = ingest_queue
    return ingest_queue


async def _store(
    request: Request, ctx: ApiContext, signals: list[Signal], body: bytes
) -> list[IngestResult]:
    if not signals:
        return []
    future = _queue(request, ctx).submit(signals, body.decode("utf-8", "replace"))
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), INGEST_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        log.warning("webhook.store_timeout", alerts=len(signals))
        raise HTTPException(
            503, "alerts not stored in time; retry", headers={"Retry-After": "5"}
        ) from exc
    except MedicError as exc:
        log.warning("webhook.store_failed", alerts=len(signals), error=str(exc))
        raise HTTPException(503, f"alerts not stored: {exc}", headers={"Retry-After": "5"}) from exc


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _reject(ctx: ApiContext, source: str, status: int, reason: str, body: bytes) -> NoReturn:
    await run_in_threadpool(ctx.store.record_rejected, source, reason, body, ctx.clock.now())
    log.warning("webhook.rejected", source=source, status=status, reason=reason[:500])
    raise HTTPException(status, f"{source} webhook rejected: {printable(reason[:4000])}")
