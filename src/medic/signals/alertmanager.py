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

from pydantic import BaseModel, ConfigDict, Field

from medic.domain.model import Signal, SignalSource
from medic.signals.payload import (
    AnnotationMap,
    Fingerprint,
    LabelMap,
    Parsed,
    ShortText,
    UtcDatetime,
    label_fingerprint,
    load_envelope,
    parse_each,
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
    payload = load_envelope(body, _Envelope, SUPPORTED_VERSION)
    return parse_each(payload.alerts, AlertmanagerAlert, _to_signal)


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
