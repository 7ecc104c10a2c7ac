"""The JSON codec: every domain object survives encode -> JSON text -> decode unchanged."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest

import medic.domain
from medic.domain import (
    ActionKind,
    Criterion,
    Incident,
    IncidentState,
    InvalidInputError,
    Plan,
    Point,
    Signal,
    TimelineEntry,
)
from medic.store import decode, encode
from tests.store import builders


def _through_json(obj: object) -> object:
    return decode(type(obj), json.loads(json.dumps(encode(obj))))


def _domain_dataclasses() -> set[type]:
    return {
        obj
        for name in medic.domain.__all__
        if isinstance(obj := getattr(medic.domain, name), type) and dataclasses.is_dataclass(obj)
    }


def test_the_samples_cover_every_domain_dataclass() -> None:
    # A new domain type needs a sample here, or its round trip goes untested.
    assert {type(s) for s in builders.samples()} == _domain_dataclasses()


@pytest.mark.parametrize("sample", builders.samples(), ids=lambda s: type(s).__name__)
def test_every_domain_object_round_trips_through_json_text(sample: object) -> None:
    assert _through_json(sample) == sample


def test_plan_hash_is_the_same_after_a_round_trip() -> None:
    plan = builders.plan()
    again = _through_json(plan)
    assert isinstance(again, Plan)
    assert again.hash == plan.hash
    # The hash is over the values: an int written where a float is declared stays an int.
    criterion = again.immediate[0].verification[0]
    assert criterion.upper == 500 and isinstance(criterion.upper, int)


def test_a_different_plan_has_a_different_hash() -> None:
    assert builders.plan(rationale="other").hash != builders.plan().hash


def test_encoded_form_is_plain_readable_json() -> None:
    data = encode(builders.signal())
    assert isinstance(data, dict)
    assert data["source"] == "alertmanager"
    assert data["severity"] == "critical"
    assert data["starts_at"] == "2026-03-14T09:26:53.589793+00:00"
    assert data["labels"] == {"alertname": "KubePodMemoryHigh", "service": "auth-service"}
    evidence = data["evidence"]
    assert isinstance(evidence, list) and isinstance(evidence[0], dict)
    assert evidence[0]["series"] == [
        {
            "metric": "memory_working_set_bytes",
            "service": "auth-service",
            "points": [{"t": 1_773_480_000, "v": 3.1e8}, {"t": 1_773_480_015.5, "v": 3.2e8}],
            "labels": {"pod": "auth-service-7d9f-x2"},
            "unit": "bytes",
        }
    ]


def test_scalar_unions_keep_the_kind_of_each_value() -> None:
    entry = TimelineEntry(
        at=datetime(2026, 1, 1, tzinfo=UTC),
        kind="x",
        message="m",
        data={"flag": True, "count": 1, "ratio": 1.0, "none": None, "text": "1"},
    )
    again = _through_json(entry)
    assert isinstance(again, TimelineEntry)
    assert [type(v) for v in again.data.values()] == [bool, int, float, type(None), str]


def test_datetimes_keep_their_instant_and_offset() -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    entry = _through_json(TimelineEntry(at=at, kind="x", message="m"))
    assert isinstance(entry, TimelineEntry)
    assert entry.at == at and entry.at.utcoffset() == timedelta(hours=2)


def test_missing_optional_fields_take_their_defaults_and_unknown_keys_are_ignored() -> None:
    data = {
        "source": "watchdog",
        "fingerprint": "f",
        "name": "leak",
        "starts_at": "2026-01-01T00:00:00+00:00",
        "added_by_a_newer_medic": 1,
    }
    signal = decode(Signal, data)
    assert signal.labels == {} and signal.evidence == () and signal.firing is True


def test_enum_values_are_checked() -> None:
    with pytest.raises(InvalidInputError, match=r"state"):
        decode(Incident, {**_incident_json(), "state": "sleeping"})
    assert decode(IncidentState, "resolved") is IncidentState.RESOLVED
    assert decode(ActionKind, "rollout_undo") is ActionKind.ROLLOUT_UNDO


def _incident_json() -> dict[str, object]:
    data = encode(builders.incident())
    assert isinstance(data, dict)
    return dict(data)


@pytest.mark.parametrize(
    ("cls", "data", "where"),
    [
        (Point, {"t": "1", "v": 2.0}, "Point.t"),
        (Point, {"t": True, "v": 2.0}, "Point.t"),
        (Point, {"v": 2.0}, "'t'"),
        (Criterion, {"metric": "m", "service": "s", "upper": "high"}, "Criterion.upper"),
        (Signal, [], "Signal"),
    ],
)
def test_malformed_data_is_an_invalid_input_error_naming_the_field(
    cls: type, data: object, where: str
) -> None:
    with pytest.raises(InvalidInputError, match=where):
        decode(cls, data)


def test_a_datetime_that_is_not_iso_8601_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match=r"TimelineEntry\.at"):
        decode(TimelineEntry, {"at": "yesterday", "kind": "x", "message": "m"})


@dataclass(frozen=True)
class _Nested:
    pair: tuple[int, str]
    by_kind: dict[ActionKind, float] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    items: list[Point] = field(default_factory=list)


def test_other_container_shapes_round_trip() -> None:
    value = _Nested(
        pair=(1, "a"),
        by_kind={ActionKind.SCALE_OUT: 2.5},
        tags=frozenset({"x", "y"}),
        items=[Point(t=1.0, v=2.0)],
    )
    assert _through_json(value) == value


def test_objects_that_are_not_json_are_refused() -> None:
    with pytest.raises(TypeError, match="bytes"):
        encode(b"raw")
    with pytest.raises(TypeError, match="object"):
        encode(object())
