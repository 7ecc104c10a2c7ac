"""The Datadog webhook integration, through the payload template medic documents.

Datadog's webhook body is whatever template the user configures, filled from
documented `$VARIABLES`; the README gives the template medic expects (one key per
variable: `alert_transition` from $ALERT_TRANSITION, `date` from $DATE, ...). Metric,
anomaly and Watchdog monitors all come through the same template; the kind of monitor
is read from $EVENT_TYPE, the title and the query. Unknown keys are ignored; a variable
Datadog left unfilled (empty, or still `$NAME`) counts as absent. Everything in it is
untrusted text from the watched system.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medic.domain.errors import InvalidInputError
from medic.domain.model import Severity, Signal, SignalSource
from medic.signals.payload import (
    Identifier,
    LongText,
    Parsed,
    ShortText,
    check_labels,
    describe,
    label_fingerprint,
    load_json,
    severity_of,
)

__all__ = ["DatadogEvent", "parse_datadog"]

# $ALERT_TRANSITION values that end an alert; every other transition (Triggered,
# Re-Triggered, Warn, Re-Warn, No Data, Re-No Data, Renotify) means it is firing.
RESOLVED_TRANSITIONS = frozenset({"recovered", "success", "ok", "resolved"})
_WARN_TRANSITIONS = frozenset({"warn", "re-warn", "no data", "re-no data"})
# "[Triggered on {host:a}] ", "[Re-Warn] ", "[P1] ": notification decorations, not the name.
_DECORATION = re.compile(
    r"^\s*\[(?:re-)?(?:triggered|recovered|warn|no data|renotify|p\d)\b[^\]]*\]\s*", re.I
)
_UNFILLED = re.compile(r"^\$[A-Z_]+$")
# Milliseconds since the epoch up to the last one of year 9999 (what a datetime holds).
_EpochMs = Annotated[int, Field(ge=0, le=253_402_300_799_999)]


class DatadogEvent(BaseModel):
    """The keys of medic's Datadog template; all optional but `date` and a transition."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Identifier = ""
    event_type: ShortText = ""
    title: LongText = ""
    body: LongText = ""
    date: _EpochMs
    last_updated: _EpochMs | None = None
    alert_id: Identifier = ""
    alert_title: LongText = ""
    alert_transition: ShortText = ""
    alert_status: LongText = ""
    alert_type: ShortText = ""
    alert_priority: ShortText = ""
    alert_query: LongText = ""
    alert_scope: LongText = ""
    alert_cycle_key: Identifier = ""
    aggreg_key: Identifier = ""
    tags: LongText = ""
    hostname: ShortText = ""
    priority: ShortText = ""
    org_id: Identifier = ""
    link: ShortText = ""

    @field_validator(
        "id",
        "alert_id",
        "org_id",
        "event_type",
        "title",
        "body",
        "alert_title",
        "alert_transition",
        "alert_status",
        "alert_type",
        "alert_priority",
        "alert_query",
        "alert_scope",
        "alert_cycle_key",
        "aggreg_key",
        "tags",
        "hostname",
        "priority",
        "link",
        mode="before",
    )
    @classmethod
    def _text(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and _UNFILLED.match(value.strip())):
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # $ALERT_ID and $ID unquoted in a template arrive as numbers
        return value

    @field_validator("date", "last_updated", mode="before")
    @classmethod
    def _epoch_ms(cls, value: object) -> object:
        if isinstance(value, str) and _UNFILLED.match(value.strip()):
            return None
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value


def parse_datadog(body: bytes) -> Parsed:
    """One Signal per Datadog notification. Raises InvalidInputError naming the problem."""
    raw = load_json(body)
    if not isinstance(raw, dict):
        raise InvalidInputError(f"body must be a JSON object, not {type(raw).__name__}")
    try:
        event = DatadogEvent.model_validate(raw)
    except ValidationError as e:
        raise InvalidInputError(describe(e)) from e
    transition = _transition(event)
    if not transition:
        raise InvalidInputError(
            "alert_transition: field required (map it to $ALERT_TRANSITION in the template)"
        )
    if not (event.alert_id or event.aggreg_key or event.id):
        raise InvalidInputError("alert_id: field required (map it to $ALERT_ID in the template)")
    return Parsed((_to_signal(event, transition),))


def _to_signal(event: DatadogEvent, transition: str) -> Signal:
    tags = _tags(event.tags)
    scope = _tags(event.alert_scope)
    labels = check_labels({**tags, **scope}, "tags")
    name = _name(event)[:500]
    kind = _kind(event)
    labels.update(
        {
            "alertname": name,
            "datadog_monitor_kind": kind,
            "datadog_transition": transition,
        }
    )
    for key, value in (
        ("datadog_alert_id", event.alert_id),
        ("datadog_event_type", event.event_type),
        ("datadog_priority", event.alert_priority),
        ("host", event.hostname),
    ):
        if value:
            labels[key] = value
    annotations = {
        key: value
        for key, value in (
            ("summary", event.alert_status),
            ("description", event.body),
            ("query", event.alert_query),
            ("link", event.link),
            ("event_id", event.id),
            ("alert_cycle_key", event.alert_cycle_key),
        )
        if value
    }
    at = datetime.fromtimestamp(event.date / 1000, tz=UTC)
    firing = transition.lower() not in RESOLVED_TRANSITIONS
    identity = event.alert_id or event.aggreg_key or event.id
    return Signal(
        source=SignalSource.DATADOG,
        # One monitor alerts once per group (host, service, ...): the scope tells them apart.
        fingerprint=label_fingerprint({"alert": identity, "scope": event.alert_scope}),
        name=name,
        starts_at=at,
        service=labels.get("service") or None,
        namespace=labels.get("kube_namespace") or labels.get("namespace") or None,
        severity=_severity(event, transition),
        firing=firing,
        ends_at=None if firing else at,
        summary=event.alert_status or event.title or name,
        labels=labels,
        annotations=annotations,
    )


def _transition(event: DatadogEvent) -> str:
    if event.alert_transition:
        return event.alert_transition.strip()
    # Without $ALERT_TRANSITION, the event title still starts with it: "[Recovered] ...".
    match = re.match(r"^\s*\[([^\]]+)\]", event.title)
    return match.group(1).split(" on ")[0].strip() if match else ""


def _name(event: DatadogEvent) -> str:
    for text in (event.alert_title, event.title):
        name = text
        while True:
            stripped = _DECORATION.sub("", name, count=1)
            if stripped == name:
                break
            name = stripped
        if name.strip():
            return " ".join(name.split())
    return f"datadog monitor {event.alert_id}" if event.alert_id else "datadog event"


def _kind(event: DatadogEvent) -> str:
    text = f"{event.event_type} {event.title} {event.alert_title}".lower()
    if "watchdog" in text:
        return "watchdog"
    query = event.alert_query.lower()
    if "anomalies(" in query or "anomal" in text:
        return "anomaly"
    if "outliers(" in query:
        return "outlier"
    return "monitor"


def _severity(event: DatadogEvent, transition: str) -> Severity:
    if transition.lower() in _WARN_TRANSITIONS:
        return Severity.WARNING
    priority = event.alert_priority.lower()
    if priority in {"p1", "p2"}:
        return Severity.CRITICAL
    return severity_of(event.alert_type, default=Severity.WARNING)


def _tags(text: str) -> dict[str, str]:
    """`key:value` tags, comma separated; a bare tag becomes `tag: ""`."""
    tags: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(":")
        tags.setdefault(key.strip(), value.strip())
    return tags
