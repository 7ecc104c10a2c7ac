"""medic's own alert format, for senders that have no integration of their own.

Documented in the README ("Generic JSON alerts"). The body is one alert object, a
list of them, or `{"alerts": [...]}`. Each alert:

    name        required   what is wrong ("HighErrorRate")
    status      optional   "firing" (default) or "resolved"
    starts_at   required   RFC 3339 with a timezone, or Unix seconds
    ends_at     optional   likewise
    service, namespace     optional   where
    severity    optional   "critical", "warning" (default), "info" (and common aliases)
    fingerprint optional   the alert's identity; default: a hash of name, service,
                           namespace and labels
    labels, annotations    optional   string-to-string maps
    summary     optional   one line for humans

Unknown keys are ignored. Labels are normalised: `alertname`, `service` and
`namespace` are added from the fields above unless the labels already carry them, so
an alert without labels is accepted. Labels and annotations are untrusted text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medic.domain.errors import InvalidInputError
from medic.domain.model import Signal, SignalSource
from medic.signals.payload import (
    MAX_ALERTS,
    AnnotationMap,
    Fingerprint,
    LabelMap,
    LongText,
    Name,
    Parsed,
    Place,
    ShortText,
    UtcDatetime,
    label_fingerprint,
    load_json,
    parse_each,
    severity_of,
)

__all__ = ["GenericAlert", "GenericBody", "GenericBatch", "parse_generic"]


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: Name = Field(min_length=1)
    status: Literal["firing", "resolved"] = "firing"
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None = None
    service: Place | None = None
    namespace: Place | None = None
    severity: ShortText = "warning"
    fingerprint: Fingerprint | None = None
    labels: LabelMap = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)
    summary: LongText = ""


class GenericBatch(BaseModel):
    """`{"alerts": [...]}`: the alerts are validated one by one."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alerts: list[GenericAlert] = Field(min_length=1, max_length=MAX_ALERTS)


# The documented body (the receiver's OpenAPI request body).
GenericBody = GenericAlert | list[GenericAlert] | GenericBatch


def parse_generic(body: bytes) -> Parsed:
    """Signals of a generic body; alerts that fail validation are reported as problems.

    Raises InvalidInputError if the body is not JSON or not an alert, a list of alerts,
    or an object with an `alerts` list, or has no alert at all.
    """
    raw = load_json(body)
    items, prefix = _items(raw)
    return parse_each(items, GenericAlert, _to_signal, prefix)


def _items(raw: object) -> tuple[list[object], str]:
    if isinstance(raw, list):
        return raw, ""
    if isinstance(raw, dict):
        if "alerts" in raw:
            alerts = raw["alerts"]
            if not isinstance(alerts, list):
                raise InvalidInputError(f"alerts: must be a list, not {type(alerts).__name__}")
            return alerts, "alerts"
        return [raw], ""
    raise InvalidInputError(
        f'body must be an alert object, a list of alerts or {{"alerts": [...]}}, '
        f"not {type(raw).__name__}"
    )


def _to_signal(alert: GenericAlert) -> Signal:
    labels = dict(alert.labels)
    labels.setdefault("alertname", alert.name)
    if alert.service:
        labels.setdefault("service", alert.service)
    if alert.namespace:
        labels.setdefault("namespace", alert.namespace)
    firing = alert.status == "firing"
    return Signal(
        source=SignalSource.GENERIC,
        fingerprint=alert.fingerprint or label_fingerprint(labels),
        name=alert.name,
        starts_at=alert.starts_at,
        service=alert.service or labels.get("service") or None,
        namespace=alert.namespace or labels.get("namespace") or None,
        severity=severity_of(alert.severity),
        firing=firing,
        ends_at=alert.ends_at,
        summary=alert.summary or alert.annotations.get("summary") or alert.name,
        labels=labels,
        annotations=dict(alert.annotations),
    )
