"""The one place configuration is read: `medic.yaml` (or MEDIC_CONFIG) and MEDIC_* variables.

Environment variables win over the file; nested keys use a double underscore
(`MEDIC_SANDBOX__SPEED=120`). Nothing here runs at import time: call `load_settings()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from medic.domain import ActionKind

__all__ = ["ApprovalSettings", "SandboxSettings", "Settings", "load_settings"]


class SandboxSettings(BaseModel):
    """The built-in simulated cluster watched when no real integration is configured."""

    scenario: str = "auth-memory-leak-after-deploy"
    speed: float = Field(60.0, gt=0, description="simulated seconds per real second")


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


class VerificationSettings(BaseModel):
    window_seconds: float = Field(600.0, gt=0, description="watched-system seconds")
    poll_seconds: float = Field(30.0, gt=0)


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
    host: str = "127.0.0.1"
    port: int = Field(8700, ge=0, le=65535)
    api_url: str | None = Field(None, description="where the CLI reaches `medic serve`")
    namespace: str | None = Field(None, description="default: the sandbox scenario's namespace")
    webhook_tokens: dict[str, str] = Field(
        default_factory=dict, description="webhook source -> bearer token"
    )
    users: dict[str, str] = Field(
        default_factory=dict, description="user name -> bearer token (approvers)"
    )
    token: str | None = Field(None, description="the CLI's bearer token for the API")
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    sandbox: SandboxSettings = SandboxSettings()
    approval: ApprovalSettings = ApprovalSettings()
    watchdog: WatchdogSettings = WatchdogSettings()
    verification: VerificationSettings = VerificationSettings()

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
