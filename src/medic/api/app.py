"""The FastAPI application: `create_app(ctx)`; `medic serve` runs it with uvicorn."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline

import medic
from medic.action import Policy
from medic.api.errors import install_error_handlers
from medic.credentials import Credentials, TrustedProxy
from medic.ports import ChangeSource, Clock, MetricsSource
from medic.store import Store
from medic.web import WebContext, web_router
from medic.web.routes import Decide
from medic.web.telemetry import Telemetry

__all__ = ["ApiContext", "context", "create_app"]

MAX_WEBHOOK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ApiContext:
    store: Store
    credentials: Credentials
    clock: Clock
    base_url: str
    max_webhook_bytes: int = MAX_WEBHOOK_BYTES
    routers: tuple[APIRouter, ...] = ()  # optional channels (e.g. Slack), wired by bootstrap
    web_decide: Decide | None = None  # the web UI's decision function (tests replace it)
    proxy: TrustedProxy | None = None  # a reverse proxy that names its signed-in users
    secure_cookie: bool = False  # the UI is served over HTTPS
    # what the console reads from the watched system (its charts continue past the
    # diagnosis) and the policy it shows; both optional
    metrics: MetricsSource | None = None
    changes: ChangeSource | None = None
    policy: Policy | None = None


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def _document_webhook_bodies(app: FastAPI, schemas: dict[str, dict[str, Any]]) -> None:
    """Add the webhook receivers' body schemas (which their routes name by reference)
    to the OpenAPI components: the routes read raw bytes, so FastAPI cannot see them."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def create_app(ctx: ApiContext) -> FastAPI:
    from medic.api import control, incidents, webhooks

    # Swagger UI and ReDoc from the installed package, never from a CDN: works offline.
    app = FastAPIOffline(
        title="medic",
        version=medic.__version__,
        description="A self-healing operations agent: alerts in, incidents, approvals.",
        static_url="/static/docs",
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.include_router(webhooks.router)
    app.include_router(incidents.router)
    app.include_router(control.router)
    web = WebContext(
        store=ctx.store,
        credentials=ctx.credentials,
        proxy=ctx.proxy,
        secure_cookie=ctx.secure_cookie,
        telemetry=Telemetry(ctx.metrics, ctx.changes, ctx.clock.now),
        policy=ctx.policy,
    )
    if ctx.web_decide is not None:
        web = replace(web, decide=ctx.web_decide)
    app.include_router(web_router(web))
    for router in ctx.routers:
        app.include_router(router)

    _document_webhook_bodies(app, webhooks.body_schemas())

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": medic.__version__}

    return app
