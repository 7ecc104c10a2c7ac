"""Waits that survive a crash: the approval deadline and the verification window are the
injected clock's, recorded once; verification polls one per step with recorded waits.

The approval expires by the injected clock, without waiting for it in real time; a
`medic serve` killed during verification resumes at the next poll, with the window
still measured from the recorded start."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medic.domain import ApprovalDecision
from medic.sandbox.clock import ManualClock
from medic.store import Store
from medic.workflows import approval_steps
from medic.workflows.context import deps, install
from tests.server import MedicServer, wait_until
from tests.web.seed import seed_incident

CLOCK = ManualClock(datetime(2026, 5, 4, 12, 0, tzinfo=UTC))


@pytest.fixture
def manual(store: Store) -> Store:
    install(replace(deps(), clock=CLOCK, approval_timeout_s=3600.0))
    return store


def test_the_approval_expires_by_the_injected_clock(manual: Store) -> None:
    plan = seed_incident(manual, "inc-x")
    deadline = approval_steps.approval_deadline("inc-x", 3600.0)
    assert deadline == CLOCK.now().timestamp() + 3600.0
    CLOCK.advance(3599)  # an hour of the injected clock, no real time
    left = approval_steps.seconds_left("inc-x", deadline)
    assert left == pytest.approx(1.0)
    assert approval_steps.read_decision("inc-x", plan.hash, left <= 0) is None
    CLOCK.advance(2)
    left = approval_steps.seconds_left("inc-x", deadline)
    assert left == 0.0
    expired = approval_steps.read_decision("inc-x", plan.hash, left <= 0)
    assert expired is not None and expired.decision is ApprovalDecision.EXPIRED
    assert expired.at == CLOCK.now() and manual.approvals("inc-x") == [expired]


# -- a real server killed during verification ------------------------------------------


def _detail(server: MedicServer) -> dict[str, Any] | None:
    incidents: list[dict[str, Any]] = server.get("/incidents")
    return server.get(f"/incidents/{incidents[0]['id']}") if incidents else None


def _events(server: MedicServer, event: str, incident_id: str) -> Counter[str]:
    return Counter(
        e["step"]
        for e in server.logs()
        if e.get("event") == event and e.get("incident_id") == incident_id
    )


@pytest.mark.integration
def test_killed_during_verification_resumes_at_the_next_poll(tmp_path: Path) -> None:
    import httpx

    data = tmp_path / "data"
    server = MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_SANDBOX__SPEED="4",  # slow enough to land the kill between polls
        MEDIC_WATCHDOG__INTERVAL_SECONDS="1",
        MEDIC_VERIFICATION__POLL_SECONDS="15",
        MEDIC_VERIFICATION__WINDOW_SECONDS="900",
    )
    server.start()
    try:
        waiting = wait_until(
            "the incident to await approval",
            lambda: (d := _detail(server)) and d["state"] == "awaiting_approval" and d,
            timeout=300,
        )
        incident_id = waiting["id"]
        approved = httpx.post(
            f"{server.url}/incidents/{incident_id}/approve",
            json={"plan_hash": waiting["plan_hash"]},
            headers=server.user_headers(),
            timeout=10,
        )
        assert approved.status_code == 200, approved.text
        wait_until(
            "two verification polls",
            lambda: _events(server, "step.done", incident_id)["verify_poll"] >= 2,
            timeout=300,
            every=0.02,
        )
        server.kill()
        done_before = _events(server, "step.done", incident_id)["verify_poll"]
        server.start()
        finished = wait_until(
            "the incident to finish",
            lambda: (d := _detail(server)) and d["postmortem_path"] and d,
            timeout=300,
        )
        starts = _events(server, "step.start", incident_id)
        assert starts["verify_begin"] == 1, starts  # the window's start is kept
        polls = finished["verification"]["observations"]["polls"]
        # Polls finished before the kill are not polled again: the count goes on from
        # them, and at most the one cut short runs twice.
        assert polls >= done_before
        assert starts["verify_poll"] <= polls + 1, (starts, polls)
        assert finished["verification"]["observations"]["elapsed_s"] <= 900 + 15
        assert finished["state"] in ("resolved", "escalated")
    finally:
        server.stop()
