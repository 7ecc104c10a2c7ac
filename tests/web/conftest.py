"""The UI assembled as `medic serve` will assemble it: the API app plus `web_router`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.credentials import Credentials
from medic.domain import Plan
from medic.store import Store
from tests.web.seed import NOW, StoreDecide, seed_incident

TOKEN = "operator-token-0123456789"
CREDENTIALS = Credentials(webhook_tokens={}, users={"operator": TOKEN, "oncall": "oncall-token"})


class FixedClock:
    def now(self) -> datetime:
        return NOW

    def sleep(self, seconds: float) -> None:
        raise AssertionError("the UI never sleeps")


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    with Store(sqlite_url) as opened:
        opened.migrate()
        yield opened


@pytest.fixture
def plan(store: Store) -> Plan:
    return seed_incident(store)


@pytest.fixture
def decide(store: Store) -> StoreDecide:
    return StoreDecide(store)


def ui_app(store: Store, decide: StoreDecide) -> FastAPI:
    app = create_app(
        ApiContext(store, CREDENTIALS, FixedClock(), "http://medic.test", web_decide=decide)
    )
    return app


@pytest.fixture
def client(store: Store, decide: StoreDecide, plan: Plan) -> Iterator[TestClient]:
    with TestClient(ui_app(store, decide), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, token: str = TOKEN) -> None:
    response = client.post("/ui/login", data={"token": token, "next": "/ui"})
    assert response.status_code == 303, response.text
