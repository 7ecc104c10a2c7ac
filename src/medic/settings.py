"""The one place configuration is read: `medic.yaml` (or MEDIC_CONFIG) and MEDIC_* variables.

Environment variables win over the file; nested keys use a double underscore
(`MEDIC_SANDBOX__SPEED=120`). Nothing here runs at import time: call `load_settings()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from medic.domain import ActionKind
from medic.domain.access import Role

__all__ = [
    "ApprovalSettings",
    "AuthSettings",
    "ConfluenceSettings",
    "AuditSettings",
    "DatadogSettings",
    "GitHubSettings",
    "GitSettings",
    "KubernetesSettings",
    "LlmSettings",
    "OpsgenieSettings",
    "PagerDutySettings",
    "LokiSettings",
    "PostmortemSettings",
    "PrometheusSettings",
    "SandboxSettings",
    "Settings",
    "SlackSettings",
    "UserSettings",
    "SloSettings",
    "load_settings",
]


class _Strict(BaseModel):
    """Every section refuses keys it does not know: `prometheus: {ulr: ...}` is an error
    naming `prometheus.ulr`, never a silently ignored setting."""

    model_config = ConfigDict(extra="forbid")


class SandboxSettings(_Strict):
    """The built-in simulated cluster watched when no real integration is configured
    (or when `enabled` is true; then no real source may be configured)."""

    enabled: bool | None = Field(
        None, description="default: on exactly when no real source is configured"
    )
    scenario: str = "auth-memory-leak-after-deploy"
    speed: float = Field(60.0, gt=0, description="simulated seconds per real second")
    stepped_from: AwareDatetime | None = Field(
        None,
        description="instead of `speed`: simulated time starts here and moves only when "
        "whoever drives the loop advances it (the scenario benchmark)",
    )


class ApprovalSettings(_Strict):
    timeout_seconds: float = Field(3600.0, gt=0, description="an unanswered request escalates")
    autonomy: Literal["observe", "propose", "approve", "auto"] = "approve"
    auto_actions: list[ActionKind] = Field(
        default_factory=lambda: [ActionKind.ROLLOUT_RESTART, ActionKind.SCALE_OUT],
        description="low-risk actions that `auto` may take without a human",
    )


class WatchdogSettings(_Strict):
    enabled: bool = True
    interval_seconds: int = Field(10, ge=1, le=59, description="real seconds between scans")


class GroupingSettings(_Strict):
    """How signals become incidents (medic.signals.grouping)."""

    group_by: list[str] = Field(
        default_factory=lambda: ["namespace", "service"],
        min_length=1,
        description="labels whose values make a group: namespace, service, alertname, any label",
    )
    window_seconds: float = Field(
        1800.0, ge=0, description="a closed incident absorbs its group's signals this long"
    )
    topology: bool = Field(True, description="callers' and callees' alerts join an open incident")
    storm_seconds: float = Field(
        900.0, ge=0, description="how young a neighbour's incident must be to take an alert"
    )
    flap_limit: int = Field(
        3, ge=0, description="incidents per group within flap_period before it stops reopening"
    )
    flap_period_seconds: float = Field(6 * 3600.0, gt=0)


class VerificationSettings(_Strict):
    window_seconds: float = Field(600.0, gt=0, description="watched-system seconds")
    poll_seconds: float = Field(30.0, gt=0)


class AuditSettings(_Strict):
    """The audit log's seal, kept outside the database (`medic.store.audit_seal`)."""

    key_file: Path | None = Field(
        None, description="HMAC key of the chain, created 0600 on first use; default: data_dir"
    )
    key: str | None = Field(
        None,
        min_length=32,
        description="the key itself (e.g. from a secret store) instead of key_file; "
        "replicas sharing PostgreSQL need the same key",
    )
    checkpoint_file: Path | None = Field(
        None, description="append-only checkpoints of the chain's head; default: data_dir"
    )


class KubernetesSettings(_Strict):
    """The cluster medic watches and acts on; enabling it switches off the sandbox."""

    enabled: bool = False
    kubeconfig: str | None = Field(None, description="default: $KUBECONFIG or ~/.kube/config")
    context: str | None = None
    in_cluster: bool = Field(False, description="use the pod's service account")


class PrometheusSettings(_Strict):
    """Prometheus (or VictoriaMetrics: the same API) as the metrics source; alone, it is
    the diagnose-and-propose mode. Queries: `medic.adapters.prometheus_queries`."""

    url: str | None = None
    timeout_seconds: float = Field(10.0, gt=0)
    retries: int = Field(3, ge=0)
    bearer_token: str | None = None
    username: str | None = Field(None, description="basic auth")
    password: str | None = None
    ca_file: Path | None = Field(None, description="PEM bundle that signs the server's cert")
    insecure_skip_verify: bool = False
    max_series: int = Field(500, ge=1, description="more series in one answer is an error")
    max_points: int = Field(500_000, ge=1, description="more points in one answer is an error")
    graph_url: str | None = Field(None, description="the UI evidence links to; default: url")
    preset: Literal["kubernetes", "otel", "node_exporter", "custom"] = "kubernetes"
    targets: Literal["kubernetes", "hosts"] | None = Field(
        None,
        description="what a service runs on, for the commands handed to a human: "
        "hosts (ssh, systemd) or kubernetes (kubectl); default: hosts for node_exporter",
    )
    queries: dict[str, str | None] = Field(
        default_factory=dict, description="signal -> PromQL template (None removes it)"
    )
    service_label: str | None = Field(
        None, description="the label naming a service; default: service (kubernetes), job"
    )
    services_query: str | None = Field(
        None, description="PromQL whose series name the services; default: up"
    )
    call_graph_file: Path | None = Field(None, description="YAML {service: [callees]}")
    service_graph_metric: str | None = Field(
        None, description="e.g. traces_service_graph_request_total (labels client, server)"
    )


class DatadogSettings(_Strict):
    """Datadog as the metrics source (`medic.adapters.datadog`; the query mapping is
    documented there)."""

    api_key: str | None = None
    app_key: str | None = None
    site: str = Field("datadoghq.com", description="datadoghq.eu, us3.datadoghq.com, ...")
    api_url: str | None = Field(None, description="default: https://api.<site>")
    timeout_seconds: float = Field(10.0, gt=0)
    retries: int = Field(3, ge=0)
    max_wait_seconds: float = Field(60.0, ge=0, description="longest rate-limit wait slept")
    kube_scope: str = "kube_namespace:$namespace,kube_deployment:$service"
    trace_scope: str = "service:$service"
    span: str = Field("http.request", description="the APM span of the trace metrics")
    queries: dict[str, str] = Field(
        default_factory=dict, description="medic metric name -> Datadog query template"
    )


class LokiSettings(_Strict):
    """Loki as the log source (`medic.adapters.loki`)."""

    url: str | None = None
    timeout_seconds: float = Field(10.0, gt=0)
    retries: int = Field(3, ge=0)
    tenant: str | None = Field(None, description="X-Scope-OrgID of a multi-tenant Loki")
    username: str | None = Field(None, description="basic auth (Grafana Cloud: instance id)")
    password: str | None = None
    namespace_label: str = "namespace"
    service_label: str = "app"
    pod_label: str = "pod"
    max_entries_per_query: int = Field(5000, ge=1, description="Loki's max_entries_limit_per_query")


class GitHubSettings(_Strict):
    """Long-term fixes as pull requests (needs Contents RW, Pull requests RW)."""

    token: str | None = None
    api_url: str = "https://api.github.com"
    remote_url: str = "https://github.com/{repo}.git"
    clone_dir: Path | None = Field(None, description="default: data_dir/git-clones")
    draft: bool = False
    repos: dict[str, str] = Field(default_factory=dict, description="service -> owner/name")
    postmortem_repo: str | None = Field(
        None, description="owner/name: post-mortems are published as issues there"
    )


class PostmortemSettings(_Strict):
    """Where post-mortems are written (Markdown, with their SVG charts beside them)."""

    model_config = ConfigDict(extra="forbid")

    dir: Path | None = Field(None, description="default: data_dir/postmortems")


class SloSettings(_Strict):
    """A service's SLOs: post-mortems tell how much of their budget an incident spent."""

    model_config = ConfigDict(extra="forbid")

    availability: float = Field(0.999, gt=0, lt=1, description="share of requests that succeed")
    latency_seconds: float | None = Field(None, gt=0, description="p99 latency objective")
    latency_target: float = Field(0.99, gt=0, lt=1, description="share of time under it")
    window_days: float = Field(30.0, gt=0)


class ConfluenceSettings(_Strict):
    """Post-mortems as Confluence pages (REST API: content create/update, attachments)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="https://<site>.atlassian.net/wiki")
    space: str | None = Field(None, description="the space key, e.g. OPS")
    parent_id: str | None = Field(None, description="the page the post-mortems go under")
    username: str | None = Field(None, description="the Atlassian account's e-mail")
    api_token: str | None = None
    timeout_seconds: float = Field(10.0, gt=0)


class GitSettings(_Strict):
    """Local clones, when there is no GitHub: revert branches are made there."""

    repos_dir: Path | None = Field(None, description="one clone per service, named after it")
    fetch: bool = True


class SlackSettings(_Strict):
    bot_token: str | None = None
    signing_secret: str | None = None
    channel: str | None = None
    users: dict[str, str] = Field(default_factory=dict, description="Slack user id -> medic user")


class PagerDutySettings(_Strict):
    """Page through the PagerDuty Events API v2 when an incident is escalated."""

    routing_key: str | None = Field(None, description="an Events API v2 integration key")
    url: str = "https://events.pagerduty.com"
    timeout_seconds: float = Field(10.0, gt=0)


class OpsgenieSettings(_Strict):
    """Page through the Opsgenie Alert API when an incident is escalated."""

    api_key: str | None = Field(None, description="an API integration's key (GenieKey)")
    url: str = Field("https://api.opsgenie.com", description="EU: https://api.eu.opsgenie.com")
    responders: list[str] = Field(default_factory=list, description="team names to notify")
    timeout_seconds: float = Field(10.0, gt=0)


class LlmSettings(_Strict):
    """The optional LLM agent; without a provider the deterministic diagnosis stands alone."""

    provider: Literal["openai", "anthropic", "ollama", "openai-compatible"] | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    max_tool_calls: int = Field(3, ge=0, le=10, description="read-only tool calls per incident")
    max_requests: int | None = Field(
        None, ge=1, description="default: one per tool call, the answer and one repair"
    )
    max_tokens: int | None = Field(
        None,
        ge=100,
        description="a ceiling on the per-incident token budget, which is derived from the "
        "prompt's size and max_tool_calls and checked before every request",
    )
    max_output_tokens: int = Field(1500, ge=16, description="the model's max_tokens per answer")
    timeout_seconds: float = Field(
        30.0, gt=0, description="per HTTP request to the model; the whole agent run gets 2x"
    )


class UserSettings(_Strict):
    """A user of the API, the CLI and the UI (`users: {alice: {token: ..., role: ...}}`;
    a bare token, `users: {alice: TOKEN}`, is a user with the default role)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, description="bearer token (API; the UI's token sign-in)")
    role: Role | None = Field(
        None, description="viewer, approver or admin; default: auth.default_role"
    )
    cli_token: str | None = Field(
        None, min_length=1, description="a second token; what is done with it is recorded as `cli`"
    )


class AuthSettings(_Strict):
    """Who may do what (docs: README, 'Users, roles and sign-in')."""

    default_role: Role = Field(
        Role.APPROVER, description="the role of a user configured without one"
    )
    secure_cookie: bool = Field(
        False, description="mark the UI's session cookie Secure (when served over HTTPS)"
    )
    proxy_header: str = Field(
        "X-Forwarded-User", description="the header a trusted proxy names its user in"
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="addresses or CIDRs of the reverse proxies whose header is believed",
    )
    proxy_roles: dict[str, Role] = Field(
        default_factory=dict, description="proxy user name -> role"
    )
    proxy_default_role: Role | None = Field(
        Role.VIEWER, description="the role of a proxy user not in proxy_roles; null: refused"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIC_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Path("medic-data")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    executor_id: str | None = Field(
        None,
        description="distinct and stable per replica when several `medic serve` share one "
        "PostgreSQL database: a restarted replica resumes only its own workflows",
    )
    host: str = "127.0.0.1"
    port: int = Field(8700, ge=0, le=65535)
    api_url: str | None = Field(None, description="where the CLI reaches `medic serve`")
    namespace: str | None = Field(None, description="default: the sandbox scenario's namespace")
    webhook_tokens: dict[str, str] = Field(
        default_factory=dict, description="webhook source -> bearer token"
    )
    webhook_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="webhook source -> HMAC signing secret (grafana, generic)",
    )
    users: dict[str, str | UserSettings] = Field(
        default_factory=dict, description="user name -> bearer token, or {token, role, cli_token}"
    )
    auth: AuthSettings = AuthSettings()
    token: str | None = Field(None, description="the CLI's bearer token for the API")
    policy_file: Path | None = Field(
        None, description="policy YAML (docs/policy.md); default: approval.* everywhere"
    )
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    sandbox: SandboxSettings = SandboxSettings()
    approval: ApprovalSettings = ApprovalSettings()
    watchdog: WatchdogSettings = WatchdogSettings()
    grouping: GroupingSettings = GroupingSettings()
    verification: VerificationSettings = VerificationSettings()
    audit: AuditSettings = AuditSettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    victoriametrics: PrometheusSettings = Field(
        default_factory=PrometheusSettings, description="the same keys as prometheus"
    )
    datadog: DatadogSettings = DatadogSettings()
    loki: LokiSettings = LokiSettings()
    github: GitHubSettings = GitHubSettings()
    git: GitSettings = GitSettings()
    slack: SlackSettings = SlackSettings()
    llm: LlmSettings = LlmSettings()
    postmortems: PostmortemSettings = PostmortemSettings()
    slo: dict[str, SloSettings] = Field(default_factory=dict, description="service -> its SLO")
    confluence: ConfluenceSettings = ConfluenceSettings()
    pagerduty: PagerDutySettings = PagerDutySettings()
    opsgenie: OpsgenieSettings = OpsgenieSettings()

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _one_world(self) -> Settings:
        if self.prometheus.url and self.victoriametrics.url:
            raise ValueError("set prometheus.url or victoriametrics.url, not both")
        real = self.real_sources
        if self.sandbox.enabled and real:
            raise ValueError(
                "sandbox.enabled is true but real sources are configured "
                f"({', '.join(real)}): medic never mixes the sandbox with a real system"
            )
        return self

    @property
    def real_sources(self) -> list[str]:
        """The configured sources of a real system; any of them means no sandbox."""
        found = {
            "kubernetes": self.kubernetes.enabled,
            "prometheus": bool(self.prometheus.url),
            "victoriametrics": bool(self.victoriametrics.url),
            "datadog": bool(self.datadog.api_key),
            "loki": bool(self.loki.url),
        }
        return [name for name, on in found.items() if on]

    @property
    def uses_sandbox(self) -> bool:
        if self.sandbox.enabled is not None:
            return self.sandbox.enabled
        return not self.real_sources

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'medic.sqlite'}"

    @property
    def effective_api_url(self) -> str:
        return (self.api_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def user_tokens(self) -> dict[str, str]:
        return {n: u if isinstance(u, str) else u.token for n, u in self.users.items()}

    @property
    def user_roles(self) -> dict[str, Role]:
        return {n: u.role for n, u in self.users.items() if not isinstance(u, str) and u.role}

    @property
    def user_cli_tokens(self) -> dict[str, str]:
        return {
            n: u.cli_token for n, u in self.users.items() if not isinstance(u, str) and u.cli_token
        }

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def audit_key_path(self) -> Path:
        return (self.audit.key_file or self.data_dir / "audit.key").expanduser()

    @property
    def audit_checkpoint_path(self) -> Path:
        return (
            self.audit.checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"
        ).expanduser()

    @property
    def postmortem_dir(self) -> Path:
        return self.postmortems.dir or self.data_dir / "postmortems"

    @property
    def sandbox_dir(self) -> Path:
        return self.data_dir / "sandbox"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("MEDIC_CONFIG", "medic.yaml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Read the configuration once; `overrides` (e.g. from CLI flags) win over everything."""
    return Settings(**overrides)  # type: ignore[arg-type]
