"""The Prometheus Alertmanager webhook (payload version "4") as `Signal`s.

The wire format is Alertmanager's documented `webhook_config` body. Everything in it
(labels, annotations) is untrusted text from the watched system: it is copied into
the signal, never interpreted. The alerts of a body are validated one by one, like
the other sources': Alertmanager does not retry a 4xx, so one bad alert must not cost
the rest of its group.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medic.domain.errors import InvalidInputError
from medic.domain.model import Signal, SignalSource
from medic.signals.payload import (
    AnnotationMap,
    Fingerprint,
    LabelMap,
    Parsed,
    Problem,
    ShortText,
    UtcDatetime,
    describe,
    label_fingerprint,
    load_json,
    require_alerts,
    severity_of,
)

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
    labels: LabelMap
    annotations: AnnotationMap = Field(default_factory=dict)
    startsAt: UtcDatetime  # noqa: N815 - the wire name
    endsAt: UtcDatetime | None = None  # noqa: N815
    generatorURL: ShortText = ""  # noqa: N815
    fingerprint: Fingerprint = ""


class _Group(BaseModel):
    """The body around the alerts."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str = ""  # noqa: N815
    groupKey: str = ""  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815


class _Envelope(_Group):
    alerts: list[object]  # validated one by one


class AlertmanagerPayload(_Group):
    """The documented body (the receiver's OpenAPI request body)."""

    alerts: list[AlertmanagerAlert]


def parse_alertmanager(body: bytes) -> Parsed:
    """One `Signal` per valid alert of an Alertmanager webhook body; each invalid alert
    is a `Problem` naming its first invalid field ("alerts[3].labels: ...").

    Raises InvalidInputError when the body as a whole is unusable: not JSON, an
    unsupported version, a malformed envelope, or no alert at all.
    """
    raw = load_json(body)
    if not isinstance(raw, dict):
        raise InvalidInputError(f"body must be a JSON object, not {type(raw).__name__}")
    version = raw.get("version")
    if version is not None and str(version) != SUPPORTED_VERSION:
        raise InvalidInputError(
            f"version '{str(version)[:40]}' is not supported (expected '{SUPPORTED_VERSION}')"
        )
    try:
        payload = _Envelope.model_validate(raw)
    except ValidationError as e:
        raise InvalidInputError(describe(e)) from e
    require_alerts(len(payload.alerts))
    signals: list[Signal] = []
    problems: list[Problem] = []
    for index, item in enumerate(payload.alerts):
        try:
            alert = AlertmanagerAlert.model_validate(item)
        except ValidationError as e:
            problems.append(Problem(index, describe(e, prefix=f"alerts[{index}]")))
            continue
        signals.append(_to_signal(alert))
    return Parsed(tuple(signals), tuple(problems))


def _to_signal(alert: AlertmanagerAlert) -> Signal:
    labels = alert.labels
    annotations = alert.annotations
    name = labels.get("alertname", "") or "unnamed alert"
    return Signal(
        source=SignalSource.ALERTMANAGER,
        fingerprint=alert.fingerprint or label_fingerprint(labels),
        name=name,
        starts_at=alert.startsAt,
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
    return value
