"""The one place configuration is read: `medic.yaml` (or MEDIC_CONFIG) and MEDIC_* variables.

Environment variables win over the file; nested keys use a double underscore
(`MEDIC_SANDBOX__SPEED=120`). Nothing here runs at import time: call `load_settings()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from medic.domain import ActionKind

__all__ = [
    "ApprovalSettings",
    "DatadogSettings",
    "GitHubSettings",
    "GitSettings",
    "KubernetesSettings",
    "LlmSettings",
    "LokiSettings",
    "PrometheusSettings",
    "SandboxSettings",
    "Settings",
    "SlackSettings",
    "load_settings",
]


class SandboxSettings(BaseModel):
    """The built-in simulated cluster watched when no real integration is configured."""

    scenario: str = "auth-memory-leak-after-deploy"
    speed: float = Field(60.0, gt=0, description="simulated seconds per real second")
    stepped_from: AwareDatetime | None = Field(
        None,
        description="instead of `speed`: simulated time starts here and moves only when "
        "whoever drives the loop advances it (the scenario benchmark)",
    )


class ApprovalSettings(BaseModel):
    timeout_seconds: float = Field(3600.0, gt=0, description="an unanswered request escalates")
    autonomy: Literal["observe", "propose", "approve", "auto"] = "approve"
    auto_actions: list[ActionKind] = Field(
        default_factory=lambda: [ActionKind.ROLLOUT_RESTART, ActionKind.SCALE_OUT],
        description="low-risk actions that `auto` may take without a human",
    )


class WatchdogSettings(BaseModel):
    enabled: bool = True
    interval_seconds: int = Field(10, ge=1, le=59, description="real seconds between scans")


class GroupingSettings(BaseModel):
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


class VerificationSettings(BaseModel):
    window_seconds: float = Field(600.0, gt=0, description="watched-system seconds")
    poll_seconds: float = Field(30.0, gt=0)


class KubernetesSettings(BaseModel):
    """The cluster medic watches and acts on; enabling it switches off the sandbox."""

    enabled: bool = False
    kubeconfig: str | None = Field(None, description="default: $KUBECONFIG or ~/.kube/config")
    context: str | None = None
    in_cluster: bool = Field(False, description="use the pod's service account")


class PrometheusSettings(BaseModel):
    url: str | None = None
    timeout_seconds: float = Field(10.0, gt=0)


class DatadogSettings(BaseModel):
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


class LokiSettings(BaseModel):
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


class GitHubSettings(BaseModel):
    """Long-term fixes as pull requests (needs Contents RW, Pull requests RW)."""

    token: str | None = None
    api_url: str = "https://api.github.com"
    remote_url: str = "https://github.com/{repo}.git"
    clone_dir: Path | None = Field(None, description="default: data_dir/git-clones")
    draft: bool = False
    repos: dict[str, str] = Field(default_factory=dict, description="service -> owner/name")


class GitSettings(BaseModel):
    """Local clones, when there is no GitHub: revert branches are made there."""

    repos_dir: Path | None = Field(None, description="one clone per service, named after it")
    fetch: bool = True


class SlackSettings(BaseModel):
    bot_token: str | None = None
    signing_secret: str | None = None
    channel: str | None = None
    users: dict[str, str] = Field(default_factory=dict, description="Slack user id -> medic user")


class LlmSettings(BaseModel):
    """The optional LLM agent; without a provider the deterministic diagnosis stands alone."""

    provider: Literal["openai", "anthropic", "ollama", "openai-compatible"] | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    max_requests: int = Field(4, ge=1)
    max_tokens: int = Field(8000, ge=100)
    timeout_seconds: float = Field(30.0, gt=0)


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
    users: dict[str, str] = Field(
        default_factory=dict, description="user name -> bearer token (approvers)"
    )
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
    kubernetes: KubernetesSettings = KubernetesSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    datadog: DatadogSettings = DatadogSettings()
    loki: LokiSettings = LokiSettings()
    github: GitHubSettings = GitHubSettings()
    git: GitSettings = GitSettings()
    slack: SlackSettings = SlackSettings()
    llm: LlmSettings = LlmSettings()

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'medic.sqlite'}"

    @property
    def effective_api_url(self) -> str:
        return (self.api_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def postmortem_dir(self) -> Path:
        return self.data_dir / "postmortems"

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
