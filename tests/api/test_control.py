"""The kill switch and the audit log over HTTP, in-process (FastAPI's TestClient)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.api.control import router
from medic.credentials import Credentials
from medic.domain.access import Role
from medic.store import Store
from tests.action.fakes import T0, FakeClock

ALICE = {"Authorization": "Bearer alice-token"}


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    with Store(sqlite_url) as store:
        store.migrate()
        ctx = ApiContext(
            store=store,
            credentials=Credentials(
                webhook_tokens={}, users={"alice": "alice-token"}, roles={"alice": Role.ADMIN}
            ),
            clock=FakeClock(),
            base_url="http://testserver",
            routers=(router,),
        )
        with TestClient(create_app(ctx)) as test_client:
            yield test_client


def test_pause_and_resume_are_recorded_with_the_user(client: TestClient) -> None:
    assert client.get("/control", headers=ALICE).json()["paused"] is False

    paused = client.post("/control/pause", json={"reason": "db migration"}, headers=ALICE)
    assert paused.status_code == 200
    assert paused.json() == {
        "paused": True,
        "actor": "alice",
        "reason": "db migration",
        "at": T0.isoformat().replace("+00:00", "Z"),
    }
    assert client.get("/control", headers=ALICE).json()["paused"] is True

    assert client.post("/control/resume", headers=ALICE).json()["paused"] is False
    audit = client.get("/audit?limit=10", headers=ALICE).json()
    assert [(e["seq"], e["kind"], e["outcome"], e["actor"]) for e in audit] == [
        (2, "control", "resumed", "alice"),
        (1, "control", "paused", "alice"),
    ]
    assert audit[1]["data"] == {"reason": "db migration"}
    assert audit[0]["prev_hash"] == audit[1]["hash"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/control"),
        ("POST", "/control/pause"),
        ("POST", "/control/resume"),
        ("GET", "/audit"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_only_authenticated_users_see_or_flip_the_switch(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    assert client.get("/control", headers=ALICE).json()["paused"] is False


def test_a_bad_limit_is_a_clear_client_error(client: TestClient) -> None:
    assert client.get("/audit?limit=0", headers=ALICE).status_code == 422
