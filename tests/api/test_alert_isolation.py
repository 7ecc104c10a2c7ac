"""An alert the database itself refuses costs no other alert, on SQLite and PostgreSQL.

The limits of the parsers keep every known bad value away from the store; this is the
second wall, for what they do not foresee. The database is made to refuse one alert
for real (a trigger raising an error for its name), inside the transaction that
group commit shares between concurrent requests: the other alerts of its request,
and every concurrent request, are still stored and acknowledged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.api.hostile import Rig, rig, valid_alert, wrap

POISON = "PoisonPill"

_TRIGGERS = {
    "sqlite": [
        f"""CREATE TRIGGER medic_test_poison BEFORE INSERT ON medic_signals
        WHEN NEW.name = '{POISON}'
        BEGIN SELECT RAISE(ABORT, 'poisoned alert'); END"""
    ],
    "postgresql": [
        f"""CREATE FUNCTION medic_test_poison() RETURNS trigger AS $$
        BEGIN
            IF NEW.name = '{POISON}' THEN RAISE EXCEPTION 'poisoned alert'; END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER medic_test_poison BEFORE INSERT ON medic_signals
        FOR EACH ROW EXECUTE FUNCTION medic_test_poison()""",
    ],
}


@pytest.fixture
def poisoned(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    with rig(tmp_path / "data", database_url) as running:
        engine = create_engine(database_url)
        with engine.begin() as connection:
            for statement in _TRIGGERS[engine.dialect.name]:
                connection.execute(text(statement))
        engine.dispose()
        yield running


def test_the_refused_alert_is_answered_and_recorded_its_batch_mates_stored(
    poisoned: Rig,
) -> None:
    body = wrap("generic", [valid_alert("generic", n) for n in ("First", POISON, "Last")])
    response = poisoned.post("generic", body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 2
    [refused] = answer["rejected"]
    assert POISON in refused["reason"] and "poisoned alert" in refused["reason"]
    assert {"First", "Last"} <= poisoned.stored_names()
    assert POISON not in poisoned.stored_names()
    assert "poisoned alert" in poisoned.rejected()[0]["reason"]


def test_a_request_of_only_refused_alerts_is_a_400(poisoned: Rig) -> None:
    response = poisoned.post("generic", wrap("generic", [valid_alert("generic", POISON)]))
    assert response.status_code == 400, response.text
    assert "poisoned alert" in response.json()["detail"]


async def _storm(app: object, headers: dict[str, str], bodies: list[bytes]) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://medic") as client:
        responses = await asyncio.gather(
            *(client.post("/webhooks/generic", content=b, headers=headers) for b in bodies)
        )
    return [r.status_code for r in responses]


def test_75_concurrent_requests_with_bad_alerts_lose_no_valid_alert(poisoned: Rig) -> None:
    bodies: list[bytes] = []
    valid: set[str] = set()
    for request in range(75):
        alerts = [valid_alert("generic", f"Storm-{request}-{i}") for i in range(4)]
        valid.update(a["name"] for a in alerts)
        if request % 5 == 0:  # a database-refused alert in every fifth request
            alerts.insert(2, valid_alert("generic", POISON) | {"fingerprint": f"p{request}"})
        if request % 7 == 0:  # and a parser-refused one (NUL) in every seventh
            alerts.insert(1, valid_alert("generic", "Nul\x00Name"))
        bodies.append(json.dumps({"alerts": alerts}).encode())
    statuses = asyncio.run(_storm(poisoned.app, poisoned.headers("generic"), bodies))
    assert statuses == [202] * 75
    assert valid <= poisoned.stored_names()
