"""The composition root: the one place that wires real or simulated adapters to the loop.

`build(settings)` opens the store, picks what medic watches (the built-in sandbox
unless integrations are configured: later issues add Prometheus, Kubernetes, ...),
installs the workflows' dependencies and returns a `Medic`; `start()` launches the
durable engine (resuming interrupted incidents) and the watchdog.
"""

from __future__ import annotations

from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from medic.action import Policy
from medic.adapters.git import GitCodeHost
from medic.api import ApiContext, create_app
from medic.credentials import Credentials, load_or_create
from medic.log import get_logger
from medic.sandbox import Sandbox
from medic.settings import Settings
from medic.store import Store
from medic.workflows import runtime
from medic.workflows.approvals import redeliver_decisions
from medic.workflows.context import Deps, install, uninstall
from medic.workflows.ingest import resume_orphans
from medic.workflows.watchdog import schedule_watchdog

__all__ = ["Medic", "build", "serve"]

log = get_logger(__name__)


@dataclass
class Medic:
    settings: Settings
    store: Store
    deps: Deps
    credentials: Credentials
    sandbox: Sandbox | None
    started: bool = False

    def start(self) -> None:
        """Launch DBOS (interrupted incidents resume here) and the watchdog."""
        runtime.launch(self.settings.effective_database_url)
        self.started = True
        orphans = resume_orphans()
        woken = redeliver_decisions()
        if self.settings.watchdog.enabled:
            schedule_watchdog(self.settings.watchdog.interval_seconds)
        log.info("medic.started", resumed_orphans=orphans, redelivered_decisions=woken)

    def stop(self) -> None:
        if self.started:
            runtime.shutdown()
            self.started = False
        uninstall()
        self.store.close()

    def api(self) -> FastAPI:
        return create_app(
            ApiContext(
                store=self.store,
                credentials=self.credentials,
                clock=self.deps.clock,
                base_url=self.settings.effective_api_url,
            )
        )


def build(settings: Settings) -> Medic:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.effective_database_url)
    store.migrate()
    sandbox = Sandbox.open(
        settings.sandbox.scenario, settings.sandbox_dir, speed=settings.sandbox.speed
    )
    deps = Deps(
        store=store,
        clock=sandbox.clock,
        metrics=sandbox.metrics,
        changes=sandbox.changes,
        cluster=sandbox.cluster,
        writer=sandbox.cluster,
        logs=sandbox.logs,
        code=GitCodeHost(sandbox.repos_dir),
        namespace=settings.namespace or sandbox.namespace,
        postmortem_dir=settings.postmortem_dir,
        policy=Policy(
            autonomy=settings.approval.autonomy,
            auto_actions=frozenset(settings.approval.auto_actions),
        ),
        approval_timeout_s=settings.approval.timeout_seconds,
        verification_window_s=settings.verification.window_seconds,
        verification_poll_s=settings.verification.poll_seconds,
    )
    install(deps)
    credentials = load_or_create(settings.credentials_path, settings.webhook_tokens, settings.users)
    return Medic(settings, store, deps, credentials, sandbox)


def serve(settings: Settings) -> None:
    """`medic serve`: the API, the workflows and the watchdog in one process."""
    medic = build(settings)
    try:
        medic.start()
        server = uvicorn.Server(
            uvicorn.Config(
                medic.api(),
                host=settings.host,
                port=settings.port,
                log_config=None,
                access_log=False,
            )
        )
        log.info("medic.serving", url=settings.effective_api_url)
        server.run()
    finally:
        medic.stop()
