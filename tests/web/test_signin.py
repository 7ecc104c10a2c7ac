"""Signing in with a name and password (local users in the store), roles in the UI, and
sessions that end when their user is removed, demoted below reading, or changes password."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.credentials import hash_password
from medic.domain import InvalidInputError, Plan
from medic.domain.access import Role
from medic.store import Store
from tests.web.conftest import CREDENTIALS, TOKEN, FixedClock, sign_in
from tests.web.seed import StoreDecide

PAGE = "/ui/incidents/inc-web-1"
WHEN = datetime(2026, 5, 4, tzinfo=UTC)


def _add(store: Store, name: str, password: str, role: Role) -> None:
    store.users.put(name, role, hash_password(password), WHEN)


def _password_sign_in(client: TestClient, name: str, password: str) -> int:
    response = client.post("/ui/login", data={"username": name, "password": password, "next": PAGE})
    return response.status_code


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(PAGE).text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_the_store_keeps_a_hash_never_the_password(store: Store) -> None:
    _add(store, "priya", "correct horse battery", Role.APPROVER)
    kept = store.users.get("priya")
    assert kept is not None and kept.role is Role.APPROVER
    assert "correct horse battery" not in kept.password_hash
    assert kept.password_hash.startswith("$argon2id$")
    with pytest.raises(InvalidInputError):
        hash_password("short")


def test_the_sign_in_page_offers_a_password_and_a_token(client: TestClient) -> None:
    page = client.get("/ui/login").text
    assert 'name="username"' in page and 'name="password"' in page and 'name="token"' in page


def test_a_local_user_signs_in_with_a_password_and_decides_as_itself(
    client: TestClient, store: Store, plan: Plan, decide: StoreDecide
) -> None:
    _add(store, "priya", "correct horse battery", Role.APPROVER)
    assert _password_sign_in(client, "priya", "correct horse battery") == 303
    assert "priya" in client.get(PAGE).text
    response = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": _csrf(client)})
    assert response.status_code == 303, response.text
    assert [(c[3], c[4]) for c in decide.calls] == [("priya", "web")]
    assert [(a.actor, a.channel) for a in store.approvals("inc-web-1")] == [("priya", "web")]


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("priya", "wrong password!"),
        ("nobody", "correct horse battery"),
        ("priya", ""),
        ("priya", "x" * 5000),
    ],
)
def test_a_wrong_name_or_password_signs_nobody_in(
    client: TestClient, store: Store, name: str, password: str
) -> None:
    _add(store, "priya", "correct horse battery", Role.APPROVER)
    response = client.post("/ui/login", data={"username": name, "password": password})
    assert response.status_code == 401
    assert "Wrong name or password" in response.text
    assert "set-cookie" not in response.headers
    assert client.get("/ui").status_code == 303


def test_a_viewer_reads_but_its_decision_is_refused(
    client: TestClient, store: Store, plan: Plan, decide: StoreDecide
) -> None:
    _add(store, "vic", "just looking, thanks", Role.VIEWER)
    assert _password_sign_in(client, "vic", "just looking, thanks") == 303
    page = client.get(PAGE)
    assert page.status_code == 200
    # No approve or reject form is offered to a viewer; the page says who decides.
    assert f'action="{PAGE}/approve"' not in page.text
    assert f'action="{PAGE}/reject"' not in page.text
    assert "signed in as a viewer: an approver or an admin decides" in page.text
    live = client.get(f"{PAGE}/live").text
    assert "/approve" not in live and "viewer-only" in live
    # A hand-made request is still refused where the decision is taken.
    response = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": _csrf(client)})
    assert response.status_code == 403
    assert "deciding needs an approver" in response.text
    assert decide.calls == []
    assert store.approvals("inc-web-1") == []


def test_a_changed_password_or_a_removed_user_ends_the_session(
    client: TestClient, store: Store
) -> None:
    _add(store, "priya", "correct horse battery", Role.APPROVER)
    assert _password_sign_in(client, "priya", "correct horse battery") == 303
    assert client.get("/ui").status_code == 200
    _add(store, "priya", "a brand new secret", Role.APPROVER)
    assert client.get("/ui").status_code == 303

    assert _password_sign_in(client, "priya", "a brand new secret") == 303
    assert client.get("/ui").status_code == 200
    store.users.remove("priya")
    assert client.get("/ui").status_code == 303


def test_a_demotion_applies_to_the_open_session(
    client: TestClient, store: Store, plan: Plan, decide: StoreDecide
) -> None:
    _add(store, "priya", "correct horse battery", Role.APPROVER)
    assert _password_sign_in(client, "priya", "correct horse battery") == 303
    csrf = _csrf(client)
    kept = store.users.get("priya")
    assert kept is not None
    store.users.put("priya", Role.VIEWER, kept.password_hash, WHEN)
    response = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": csrf})
    assert response.status_code == 403
    assert decide.calls == []


def test_a_password_user_and_a_token_user_of_one_name_are_separate(
    client: TestClient, store: Store
) -> None:
    # "operator" is a token user; a password user of that name is not let in by the token.
    _add(store, "operator", "the other operator", Role.VIEWER)
    assert _password_sign_in(client, "operator", TOKEN) == 401
    sign_in(client)  # the token still signs in, as the token user
    assert client.get("/ui").status_code == 200


def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    client: TestClient, store: Store
) -> None:
    _add(store, "priya", "correct horse battery", Role.APPROVER)
    assert _password_sign_in(client, "priya", "correct horse battery") == 303
    forged = client.post("/ui/logout", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert client.get("/ui").status_code == 200
    out = client.post("/ui/logout", data={"csrf": _csrf(client)})
    assert out.status_code == 303
    assert client.get("/ui").status_code == 303


def test_the_session_cookie_is_secure_when_medic_is_served_over_https(
    store: Store, decide: StoreDecide, plan: Plan
) -> None:
    ctx = ApiContext(
        store,
        CREDENTIALS,
        FixedClock(),
        "https://medic.test",
        web_decide=decide,
        secure_cookie=True,
    )
    with TestClient(create_app(ctx), base_url="https://medic.test", follow_redirects=False) as c:
        response = c.post("/ui/login", data={"token": TOKEN, "next": "/ui"})
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()
