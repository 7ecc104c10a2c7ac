"""Webhook receivers. A valid alert is stored durably before the 2xx; a malformed one
gets a 4xx naming the problem and is recorded; an unauthenticated one creates nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NoReturn

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from medic.api.app import ApiContext, context
from medic.api.auth import require_user, require_webhook
from medic.api.schemas import IngestedSignal, IngestResponse, RejectedOut
from medic.domain import InvalidInputError, Signal
from medic.log import get_logger
from medic.signals.alertmanager import parse_alertmanager
from medic.workflows.ingest import IngestResult, ingest, start_incident_workflow

__all__ = ["router"]

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"])

Parser = Callable[[bytes], Sequence[Signal]]


@router.post(
    "/webhooks/alertmanager",
    status_code=202,
    response_model=IngestResponse,
    responses={
        400: {"description": "malformed payload (recorded)"},
        401: {"description": "missing or invalid bearer token"},
        413: {"description": "body too large (recorded)"},
        415: {"description": "not application/json (recorded)"},
    },
)
async def alertmanager(request: Request) -> IngestResponse:
    """Prometheus Alertmanager webhook (payload version 4)."""
    return await _receive(request, "alertmanager", parse_alertmanager)


@router.get("/webhooks/rejected", response_model=list[RejectedOut])
def rejected(request: Request, limit: int = 50) -> list[RejectedOut]:
    """Webhook requests refused as malformed, newest first (for operators)."""
    ctx = context(request)
    require_user(request, ctx.credentials)
    return [
        RejectedOut(id=r.id, source=r.source, reason=r.reason, at=r.at, body=r.body)
        for r in ctx.store.rejected(limit=limit)
    ]


async def _receive(request: Request, source: str, parse: Parser) -> IngestResponse:
    ctx = context(request)
    require_webhook(request, ctx.credentials, source)
    body = await _read_limited(request, ctx.max_webhook_bytes)
    if body is None:
        await _reject(ctx, source, 413, f"body larger than {ctx.max_webhook_bytes} bytes", b"")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        await _reject(
            ctx, source, 415, f"content type must be application/json, not '{content_type}'", body
        )
    try:
        signals = parse(body)
    except InvalidInputError as exc:
        await _reject(ctx, source, 400, str(exc), body)
    results = await run_in_threadpool(_store, ctx, signals, body)
    return IngestResponse(
        accepted=sum(1 for r in results if r.created),
        duplicates=sum(1 for r in results if not r.created),
        signals=[
            IngestedSignal(
                signal_id=r.signal_id,
                duplicate=not r.created,
                incident_id=r.incident_id,
                new_incident=r.new_incident,
            )
            for r in results
        ],
    )


def _store(ctx: ApiContext, signals: Sequence[Signal], body: bytes) -> list[IngestResult]:
    results = ingest(signals, raw=body.decode("utf-8", "replace"), now=ctx.clock.now())
    for result in results:
        if result.new_incident and result.incident_id:
            start_incident_workflow(result.incident_id)
    return results


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
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
    log.warning("webhook.rejected", source=source, status=status, reason=reason)
    raise HTTPException(status, f"{source} webhook rejected: {reason}")
