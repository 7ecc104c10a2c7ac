"""The composition root: the one place that wires real or simulated adapters to the loop.

`build(settings)` opens the store, picks what medic watches (the built-in sandbox
unless integrations are configured: later issues add Prometheus, Kubernetes, ...),
installs the workflows' dependencies and returns a `Medic`; `start()` launches the
durable engine (resuming interrupted incidents) and the watchdog.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import uvicorn
from fastapi import APIRouter, FastAPI
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from medic.action import Policy
from medic.action.policy_file import load_policy_document
from medic.adapters.prometheus import PrometheusMetrics
from medic.adapters.slack import SlackChatOps
from medic.api import ApiContext, create_app
from medic.api.auth import approvers_only
from medic.api.slack import slack_router
from medic.bootstrap.banner import banner
from medic.bootstrap.checks import source_checks
from medic.bootstrap.docstores import docstores, slos
from medic.bootstrap.llm import llm_integrations
from medic.bootstrap.llm import refiner as _refiner
from medic.bootstrap.paging import pager_integrations, pagers
from medic.bootstrap.prometheus import check_queries
from medic.bootstrap.startup import audit_seal, listen, lock_data_dir
from medic.bootstrap.watched import Watched, watched
from medic.credentials import Credentials, TrustedProxy, load_or_create
from medic.domain import MedicError, PermanentError, TransientError
from medic.integrations import Integration
from medic.log import get_logger
from medic.ports.chatops import ChatOps
from medic.sandbox import Sandbox
from medic.settings import Settings
from medic.signals.grouping import GroupingRules
from medic.store import Store
from medic.web.routes import Decide
from medic.workflows import runtime
from medic.workflows.approvals import decide, redeliver_decisions
from medic.workflows.context import Deps, install, uninstall
from medic.workflows.ingest import resume_orphans
from medic.workflows.watchdog import schedule_watchdog

__all__ = ["Medic", "build", "integrations", "serve"]

log = get_logger(__name__)


@dataclass
class Medic:
    settings: Settings
    store: Store
    deps: Deps
    credentials: Credentials
    sandbox: Sandbox | None
    world: Watched
    routers: tuple[APIRouter, ...] = ()
    started: bool = False

    def start(self) -> None:
        """Launch DBOS (interrupted incidents resume here) and the watchdog."""
        runtime.launch(self.settings.effective_database_url, self.settings.executor_id)
        self.started = True
        orphans = resume_orphans()
        woken = redeliver_decisions()
        if self.sandbox is not None:
            self.sandbox.start()  # its "now = 0": the loop is ready
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
                routers=self.routers,
                proxy=_proxy(self.settings),
                secure_cookie=self.settings.auth.secure_cookie,
                metrics=self.deps.metrics,
                changes=self.deps.changes,
                policy=self.deps.policy,
            )
        )


def build(settings: Settings) -> Medic:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.effective_database_url, audit_seal(settings))
    store.migrate()
    world = watched(settings)
    deps = Deps(
        store=store,
        clock=world.clock,
        metrics=world.metrics,
        changes=world.changes,
        cluster=world.cluster,
        writer=world.writer,
        logs=world.logs,
        events=world.events,
        code=world.code,
        namespace=world.namespace,
        postmortem_dir=settings.postmortem_dir,
        policy=_policy(settings),
        approval_timeout_s=settings.approval.timeout_seconds,
        verification_window_s=settings.verification.window_seconds,
        verification_poll_s=settings.verification.poll_seconds,
        grouping=_grouping(settings),
        slos=slos(settings),
        time_scale=settings.sandbox.speed if world.sandbox is not None else 1.0,
        can_act=world.can_act,
        targets=world.targets,
    )
    credentials = load_or_create(
        settings.credentials_path,
        settings.webhook_tokens,
        settings.user_tokens,
        signing_secrets=settings.webhook_secrets,
        roles=settings.user_roles,
        cli_tokens=settings.user_cli_tokens,
        default_role=settings.auth.default_role,
    )
    chatops, routers = _slack(settings, world, approvers_only(decide, credentials, store.users))
    publishers, _ = docstores(settings)
    deps = replace(
        deps,
        chatops=chatops,
        docstores=publishers,
        refiner=_refiner(settings, world),
        pagers=pagers(settings),
        base_url=settings.effective_api_url,
    )
    install(deps)
    return Medic(settings, store, deps, credentials, world.sandbox, world, routers)


def _proxy(settings: Settings) -> TrustedProxy | None:
    auth = settings.auth
    if not auth.trusted_proxies:
        return None
    return TrustedProxy(
        auth.proxy_header,
        tuple(auth.trusted_proxies),
        dict(auth.proxy_roles),
        auth.proxy_default_role,
    )


def _grouping(settings: Settings) -> GroupingRules:
    g = settings.grouping
    return GroupingRules(
        group_by=tuple(g.group_by),
        window=timedelta(seconds=g.window_seconds),
        topology=g.topology,
        storm=timedelta(seconds=g.storm_seconds),
        flap_limit=g.flap_limit,
        flap_period=timedelta(seconds=g.flap_period_seconds),
    )


def _policy(settings: Settings) -> Policy:
    autonomy = settings.approval.autonomy
    auto_actions = frozenset(settings.approval.auto_actions)
    if settings.policy_file is None:
        return Policy(autonomy=autonomy, auto_actions=auto_actions)
    document = load_policy_document(settings.policy_file)
    return Policy.from_document(document, autonomy, auto_actions)


def _slack(
    settings: Settings, world: Watched, decide: Decide
) -> tuple[ChatOps | None, tuple[APIRouter, ...]]:
    slack = settings.slack
    if not (slack.bot_token and slack.signing_secret and slack.channel):
        return None, ()
    client = WebClient(token=slack.bot_token)
    chatops = SlackChatOps(client, slack.channel, slack.users)
    world.checks["slack"] = lambda: _slack_health(client)
    router = slack_router(slack.signing_secret, slack.users, chatops, decide)
    return chatops, (router,)


def _slack_health(client: WebClient) -> str:
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        raise PermanentError(f"Slack refused the bot token: {exc.response['error']}") from exc
    return f"Slack workspace {answer.get('team')} as {answer.get('user')}"


def serve(settings: Settings) -> None:
    """`medic serve`: the API, the workflows and the watchdog in one process.

    The data directory's lock and the port come first: a second server on the same
    directory, or one whose port is taken, exits before the workflow engine runs."""
    lock = lock_data_dir(settings.data_dir, _lock_name(settings))
    try:
        sock = listen(settings.host, settings.port)
        try:
            _run(settings, sock)
        finally:
            sock.close()
    finally:
        lock.release()


def _lock_name(settings: Settings) -> str:
    # SQLite: one server per directory. PostgreSQL: one process per executor id.
    if settings.effective_database_url.startswith("sqlite"):
        return "serve"
    return "serve-" + re.sub(r"[^A-Za-z0-9_.-]", "_", settings.executor_id or "local")


def _run(settings: Settings, sock: socket.socket) -> None:
    medic = build(settings)
    try:
        _check_queries(medic.world)
        medic.start()
        server = uvicorn.Server(
            uvicorn.Config(
                medic.api(),
                host=settings.host,
                port=settings.port,
                log_config=None,
                access_log=False,
                # A trusted proxy is known by its own address: not one it forwards.
                proxy_headers=not settings.auth.trusted_proxies,
            )
        )
        print(banner(settings, medic.world, medic.credentials), flush=True)
        log.info("medic.serving", url=settings.effective_api_url)
        server.run(sockets=[sock])
    finally:
        medic.stop()


def _check_queries(world: Watched) -> None:
    """Bad PromQL in the catalogue stops the start, naming the key; an unreachable server
    does not (the diagnosis says what it could not read)."""
    if not isinstance(world.metrics, PrometheusMetrics):
        return
    try:
        log.info("medic.queries", result=check_queries(world.metrics))
    except TransientError as e:
        log.warning("medic.queries_unchecked", reason=str(e))


def integrations(settings: Settings) -> list[Integration]:
    """`medic doctor`'s checks: the store, then what medic watches (the sandbox, or every
    configured source, including those that fail to set up), the post-mortem publishers,
    the chat tools, the LLM and the pagers."""
    found = [Integration("store", lambda: _store_health(settings), "store")]
    found += source_checks(settings)
    try:
        found += [Integration(n, check) for n, check in docstores(settings)[1].items()]
    except MedicError as e:
        found.append(Integration("post-mortem publishers", _raising(e)))
    token = settings.slack.bot_token
    if token:
        found.append(Integration("slack", lambda: _slack_health(WebClient(token=token)), "chat"))
    return [*found, *llm_integrations(settings), *pager_integrations(settings)]


def _raising(error: MedicError) -> Callable[[], str]:
    def check() -> str:
        raise error

    return check


def _store_health(settings: Settings) -> str:
    with Store(settings.effective_database_url) as store:
        store.ping()
        return f"{store.url}: answers"
