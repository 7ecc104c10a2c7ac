"""An incident's detail stays small whatever a storm attached to it; every `limit` and
`offset` is validated (a clear 422, never a 500, never "everything")."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.api.incidents import DETAIL_SIGNALS, DETAIL_TIMELINE, MAX_PAGE
from medic.credentials import Credentials
from medic.domain import TimelineEntry
from medic.store import Store
from tests.action.fakes import FakeClock
from tests.store import builders
from tests.store.builders import T0

STORM = 20_000
USER = {"Authorization": "Bearer reader-token"}
CREDENTIALS = Credentials(webhook_tokens={}, users={"reader": "reader-token"})


@pytest.fixture(scope="module")
def storm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One incident with 20,000 signals (each with its "signal" timeline entry)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('storm') / 'medic.sqlite'}"
    with Store(url) as store:
        store.migrate()
        store.create_incident(builders.incident("inc-storm"))
        store.add_timeline("inc-storm", TimelineEntry(T0, "incident", "incident opened"))
        signals = [
            (builders.signal(f"f{n:05d}", starts_at=T0 + timedelta(milliseconds=n)), None)
            for n in range(STORM)
        ]
        ids = [f"sig-{n:05d}" for n in range(STORM)]
        links = [
            ("inc-storm", sid, TimelineEntry(T0 + timedelta(seconds=1), "signal", sid), sid)
            for sid in ids
        ]
        store.record_signals(signals, links, ids)
        late = T0 + timedelta(minutes=5)
        store.add_timeline("inc-storm", TimelineEntry(late, "diagnosis", "diagnosed: a leak"))
        yield store


@pytest.fixture(scope="module")
def client(storm: Store) -> Iterator[TestClient]:
    app = create_app(ApiContext(storm, CREDENTIALS, FakeClock(), "http://medic.test"))
    with TestClient(app) as c:
        yield c


def test_the_detail_of_a_20k_signal_incident_is_bounded(client: TestClient) -> None:
    response = client.get("/incidents/inc-storm", headers=USER)
    assert response.status_code == 200
    detail = response.json()
    assert detail["signal_count"] == STORM
    assert len(detail["signals"]) == DETAIL_SIGNALS
    assert detail["timeline_count"] == STORM + 2
    assert len(detail["timeline"]) <= DETAIL_TIMELINE
    # The loop's own steps are all there, however many signals came between them.
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds[0] == "incident" and kinds[-1] == "diagnosis"
    assert detail["signals_url"] == "http://medic.test/incidents/inc-storm/signals"
    assert len(response.content) < 256 * 1024, len(response.content)


def test_signals_and_timeline_page_through_everything_once(client: TestClient) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        page = client.get(
            f"/incidents/inc-storm/signals?offset={offset}&limit={MAX_PAGE}", headers=USER
        ).json()
        assert page["total"] == STORM
        seen.extend(s["fingerprint"] for s in page["signals"])
        if len(page["signals"]) < MAX_PAGE:
            break
        offset += MAX_PAGE
    assert seen == [f"f{n:05d}" for n in range(STORM)]
    last = client.get("/incidents/inc-storm/timeline?offset=20001&limit=5", headers=USER).json()
    assert [e["kind"] for e in last["timeline"]] == ["diagnosis"]
    assert last["total"] == STORM + 2


@pytest.mark.parametrize(
    "query",
    [
        "/incidents?limit=-1",
        "/incidents?limit=0",
        "/incidents?limit=99999999999999999999",
        "/incidents?limit=abc",
        "/incidents?limit=1.5",
        "/incidents?limit=1001",
        "/webhooks/rejected?limit=-1.9e21",
        "/webhooks/rejected?limit=-1",
        "/webhooks/rejected?limit=99999999999999999999",
        "/audit?limit=-1",
        "/incidents/inc-storm/signals?limit=-1",
        "/incidents/inc-storm/signals?limit=100000",
        "/incidents/inc-storm/signals?offset=-1",
        "/incidents/inc-storm/signals?offset=99999999999999999999",
        "/incidents/inc-storm/timeline?limit=nan",
    ],
)
def test_a_bad_limit_or_offset_is_a_422(client: TestClient, query: str) -> None:
    response = client.get(query, headers=USER)
    assert response.status_code == 422, response.text


def test_pages_of_an_unknown_incident_are_404(client: TestClient) -> None:
    for path in ("/incidents/nope", "/incidents/nope/signals", "/incidents/nope/timeline"):
        assert client.get(path, headers=USER).status_code == 404


def test_a_limit_is_honoured_not_exceeded(client: TestClient, storm: Store) -> None:
    for n in range(3):
        extra = dataclasses.replace(builders.incident(f"inc-{n}"), group_key=f"g{n}")
        storm.create_incident(extra)
    listed = client.get("/incidents?limit=2", headers=USER).json()
    assert len(listed) == 2
