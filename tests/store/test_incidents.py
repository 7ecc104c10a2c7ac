"""Incidents: created, found by group key, moved through states, linked to signals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from medic.domain import ConflictError, IncidentState, NotFoundError
from medic.store import Store
from tests.store import builders
from tests.store.builders import T0


def test_an_incident_is_stored_and_read_back_as_it_was(store: Store) -> None:
    incident = builders.incident()
    assert store.create_incident(incident) == incident
    assert store.get_incident("inc-1") == incident


def test_an_incident_id_cannot_be_used_twice(store: Store) -> None:
    store.create_incident(builders.incident())
    with pytest.raises(ConflictError, match="inc-1"):
        store.create_incident(builders.incident())


def test_an_unknown_incident_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no incident 'nope'"):
        store.get_incident("nope")
    with pytest.raises(NotFoundError, match="no incident 'nope'"):
        store.set_state("nope", IncidentState.RESOLVED, T0)


def test_the_lifecycle_moves_the_state_and_the_open_incident_for_its_group(store: Store) -> None:
    store.create_incident(builders.incident())
    assert store.open_incident_for("production/auth-service") is not None

    for minute, state in enumerate(
        [IncidentState.DIAGNOSING, IncidentState.AWAITING_APPROVAL, IncidentState.RESOLVED], 1
    ):
        updated = store.set_state("inc-1", state, T0 + timedelta(minutes=minute))
        assert (updated.state, updated.updated_at) == (state, T0 + timedelta(minutes=minute))
        assert store.get_incident("inc-1") == updated

    # Resolved is terminal: a new alert for the group must open a new incident.
    assert store.open_incident_for("production/auth-service") is None


def test_the_open_incident_for_a_group_is_the_newest_non_terminal_one(store: Store) -> None:
    group = "production/auth-service"
    store.create_incident(builders.incident("old", group, T0))
    store.create_incident(builders.incident("new", group, T0 + timedelta(hours=1)))
    store.create_incident(builders.incident("other", "production/catalog", T0 + timedelta(hours=2)))
    store.create_incident(
        builders.incident("done", group, T0 + timedelta(hours=3), IncidentState.ESCALATED)
    )
    found = store.open_incident_for(group)
    assert found is not None and found.id == "new"
    assert store.open_incident_for("production/nothing") is None


def test_incidents_are_listed_newest_first_and_filtered_by_state(store: Store) -> None:
    for hour, incident_id in enumerate(["a", "b", "c"]):
        store.create_incident(builders.incident(incident_id, opened_at=T0 + timedelta(hours=hour)))
    store.set_state("b", IncidentState.AWAITING_APPROVAL, T0 + timedelta(hours=3))

    assert [i.id for i in store.list_incidents()] == ["c", "b", "a"]
    assert [i.id for i in store.list_incidents(limit=2)] == ["c", "b"]
    waiting = store.incidents_in({IncidentState.AWAITING_APPROVAL})
    assert [i.id for i in waiting] == ["b"]
    assert store.incidents_in([]) == []


def test_signals_attach_to_an_incident_once_in_order(store: Store) -> None:
    store.create_incident(builders.incident())
    first, second = builders.signal("f1"), builders.signal("f2")
    first_id, _ = store.record_signal(first)
    second_id, _ = store.record_signal(second)

    store.attach_signal("inc-1", first_id)
    store.attach_signal("inc-1", second_id)
    store.attach_signal("inc-1", first_id)  # a retried step

    assert store.signals_of("inc-1") == [first, second]
    assert store.incident_of_signal(second_id) == "inc-1"


def test_a_signal_not_yet_attached_has_no_incident(store: Store) -> None:
    signal_id, _ = store.record_signal(builders.signal())
    assert store.incident_of_signal(signal_id) is None
    assert store.signals_of("inc-1") == []


def test_attaching_needs_both_the_incident_and_the_signal(store: Store) -> None:
    signal_id, _ = store.record_signal(builders.signal())
    with pytest.raises(NotFoundError, match="no incident 'inc-1'"):
        store.attach_signal("inc-1", signal_id)
    store.create_incident(builders.incident())
    with pytest.raises(NotFoundError, match="no signal 'missing'"):
        store.attach_signal("inc-1", "missing")
