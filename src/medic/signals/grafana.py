"""The Grafana unified-alerting webhook contact point (payload version "1") as `Signal`s.

The wire format is Grafana's documented webhook body (receiver, status, orgId, alerts
with labels, annotations, startsAt/endsAt, values, fingerprint, URLs; groupLabels,
commonLabels, groupKey, truncatedAlerts and the deprecated title/state/message).
Fields medic does not use, and fields Grafana adds later, are ignored. Labels and
annotations are untrusted text: copied, never interpreted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medic.domain.model import Signal, SignalSource
from medic.signals.alertmanager import SERVICE_LABELS
from medic.signals.payload import (
    AnnotationMap,
    Fingerprint,
    LabelMap,
    LongText,
    Parsed,
    ShortText,
    UtcDatetime,
    label_fingerprint,
    load_envelope,
    parse_each,
    severity_of,
)

__all__ = ["GrafanaAlert", "GrafanaPayload", "parse_grafana"]

SUPPORTED_VERSION = "1"
_GO_ZERO_YEAR = 1


class GrafanaAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: LabelMap
    annotations: AnnotationMap = Field(default_factory=dict)
    startsAt: UtcDatetime  # noqa: N815 - the wire name
    endsAt: UtcDatetime | None = None  # noqa: N815
    values: dict[str, float | None] | None = Field(None, max_length=128)
    valueString: LongText = ""  # noqa: N815
    generatorURL: ShortText = ""  # noqa: N815
    fingerprint: Fingerprint = ""
    silenceURL: ShortText = ""  # noqa: N815
    dashboardURL: ShortText = ""  # noqa: N815
    panelURL: ShortText = ""  # noqa: N815


class _Group(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    receiver: str = ""
    orgId: int = 0  # noqa: N815
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str = ""  # noqa: N815
    version: str = SUPPORTED_VERSION
    groupKey: str = ""  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815
    title: str = ""
    state: str = ""
    message: str = ""


class _Envelope(_Group):
    """The envelope; alerts are validated one by one so one bad alert spares the rest."""

    alerts: list[object]


class GrafanaPayload(_Group):
    """The documented body (the receiver's OpenAPI request body)."""

    alerts: list[GrafanaAlert]


def parse_grafana(body: bytes) -> Parsed:
    """Signals of a Grafana webhook body; bad alerts are reported as problems.

    Raises InvalidInputError when the body as a whole is unusable: not JSON, not an
    object, an unsupported version, a malformed envelope, or no alert at all.
    """
    payload = load_envelope(body, _Envelope, SUPPORTED_VERSION)
    return parse_each(payload.alerts, GrafanaAlert, _to_signal)


def _to_signal(alert: GrafanaAlert) -> Signal:
    labels = alert.labels
    annotations = dict(alert.annotations)
    if alert.valueString:
        annotations.setdefault("value_string", alert.valueString)
    if alert.values:
        annotations.setdefault(
            "values", ", ".join(f"{k}={v:g}" for k, v in alert.values.items() if v is not None)
        )
    for key, url in (("generator_url", alert.generatorURL), ("silence_url", alert.silenceURL)):
        if url:
            annotations.setdefault(key, url)
    name = labels.get("alertname", "") or "unnamed alert"
    return Signal(
        source=SignalSource.GRAFANA,
        fingerprint=alert.fingerprint or label_fingerprint(labels),
        name=name,
        starts_at=alert.startsAt,
        service=next((labels[k] for k in SERVICE_LABELS if labels.get(k)), None),
        namespace=labels.get("namespace") or None,
        severity=severity_of(labels.get("severity", "")),
        firing=alert.status == "firing",
        ends_at=_ends_at(alert.endsAt),
        summary=annotations.get("summary") or annotations.get("description") or name,
        labels=dict(labels),
        annotations=annotations,
    )


def _ends_at(value: datetime | None) -> datetime | None:
    if value is None or value.year == _GO_ZERO_YEAR:
        return None
    return value
