"""The Prometheus Alertmanager webhook (payload version "4") as `Signal`s.

The wire format is Alertmanager's documented `webhook_config` body. Everything in it
(labels, annotations) is untrusted text from the watched system: it is copied into
the signal, never interpreted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from medic.domain.errors import InvalidInputError
from medic.domain.model import Signal, SignalSource
from medic.signals.payload import describe, label_fingerprint, severity_of

__all__ = [
    "AlertmanagerAlert",
    "AlertmanagerPayload",
    "SERVICE_LABELS",
    "parse_alertmanager",
]

SUPPORTED_VERSION = "4"

# Where the service name may hide, most specific first: teams label alerts differently.
SERVICE_LABELS: tuple[str, ...] = (
    "service",
    "app",
    "app_kubernetes_io_name",
    "job",
    "deployment",
    "container",
)

# Alertmanager's "zero time" for an alert that has not ended.
_GO_ZERO_YEAR = 1


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime  # noqa: N815 - the wire name
    endsAt: AwareDatetime | None = None  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str = ""


class AlertmanagerPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[AlertmanagerAlert]
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str = ""  # noqa: N815
    groupKey: str = ""  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815


def parse_alertmanager(body: bytes) -> list[Signal]:
    """One `Signal` per alert of an Alertmanager webhook body.

    Raises InvalidInputError naming what is wrong: not JSON, an unsupported version,
    or the first invalid field (e.g. "alerts[0].startsAt: invalid datetime").
    """
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidInputError(f"body is not JSON: {e}") from e
    if not isinstance(raw, dict):
        raise InvalidInputError(f"body must be a JSON object, not {type(raw).__name__}")
    version = raw.get("version")
    if version is not None and str(version) != SUPPORTED_VERSION:
        raise InvalidInputError(
            f"version '{version}' is not supported (expected '{SUPPORTED_VERSION}')"
        )
    try:
        payload = AlertmanagerPayload.model_validate(raw)
    except ValidationError as e:
        raise InvalidInputError(describe(e)) from e
    return [_to_signal(alert) for alert in payload.alerts]


def _to_signal(alert: AlertmanagerAlert) -> Signal:
    labels = alert.labels
    annotations = alert.annotations
    name = labels.get("alertname", "") or "unnamed alert"
    return Signal(
        source=SignalSource.ALERTMANAGER,
        fingerprint=alert.fingerprint or label_fingerprint(labels),
        name=name,
        starts_at=alert.startsAt.astimezone(UTC),
        service=_service(labels),
        namespace=labels.get("namespace") or None,
        severity=severity_of(labels.get("severity", "")),
        firing=alert.status == "firing",
        ends_at=_ends_at(alert.endsAt),
        summary=annotations.get("summary") or annotations.get("description") or name,
        labels=dict(labels),
        annotations=dict(annotations),
        generator_url=alert.generatorURL[:2000],
    )


def _service(labels: Mapping[str, str]) -> str | None:
    for key in SERVICE_LABELS:
        if labels.get(key):
            return labels[key]
    return None


def _ends_at(value: datetime | None) -> datetime | None:
    if value is None or value.year == _GO_ZERO_YEAR:
        return None
    return value.astimezone(UTC)
