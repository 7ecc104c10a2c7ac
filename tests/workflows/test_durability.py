"""SIGKILL `medic serve` mid-incident, restart it: the incident completes, no finished
step runs again and no action is executed twice. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import MedicServer, wait_until
from tests.workflows.journal import applied_writes

pytestmark = pytest.mark.integration

# The sandbox runs faster than real time. While executing, it runs only 8x faster: a
# rollout (~35 simulated seconds) then lasts several real seconds, long enough to be
# killed in the middle of it even on a loaded machine.
FAST = "20"
SLOW = "8"


def _server(tmp_path: Path, database_url: str, speed: str = FAST) -> MedicServer:
    return MedicServer(
        tmp_path / "data",
        database_url,
        MEDIC_SANDBOX__SPEED=speed,
        MEDIC_WATCHDOG__INTERVAL_SECONDS="1",
        MEDIC_VERIFICATION__POLL_SECONDS="15",
    )


def _only_incident(server: MedicServer) -> dict[str, Any] | None:
    incidents: list[dict[str, Any]] = server.get("/incidents")
    return server.get(f"/incidents/{incidents[0]['id']}") if incidents else None


def _in_state(server: MedicServer, *states: str) -> dict[str, Any] | None:
    detail = _only_incident(server)
    return detail if detail and detail["state"] in states else None


def _finished(server: MedicServer) -> dict[str, Any] | None:
    """The incident once it is closed and its post-mortem written and noted in the
    timeline (the workflow's end: the record names the file a moment before the note)."""
    detail = _in_state(server, "resolved", "escalated", "rejected")
    if not detail or not detail["postmortem_path"]:
        return None
    noted = any(e["kind"] == "postmortem" for e in detail["timeline"])
    return detail if noted else None


def _approve(server: MedicServer, detail: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/incidents/{detail['id']}/approve",
        json={"plan_hash": detail["plan_hash"]},
        headers=server.user_headers(),
        timeout=10,
    )
    assert response.status_code == 200, response.text


def _assert_completed_once(server: MedicServer, detail: dict[str, Any]) -> None:
    assert detail["state"] == "resolved", detail["timeline"]
    assert detail["verification"]["outcome"] == "recovered"
    assert Path(detail["postmortem_path"]).is_file()
    undos = [w for w in applied_writes(server.data_dir) if w["operation"] == "rollout_undo"]
    assert len(undos) == 1, f"rollout_undo applied {len(undos)} times: {undos}"
    phases = Counter(e["kind"] for e in detail["timeline"])
    for phase in ("diagnosis", "plan", "verification", "postmortem"):
        assert phases[phase] == 1, f"{phase} recorded {phases[phase]} times"
    assert len(server.get("/incidents")) == 1


def _step_starts(server: MedicServer, incident_id: str) -> Counter[str]:
    return Counter(
        e["step"]
        for e in server.logs()
        if e.get("event") == "step.start" and e.get("incident_id") == incident_id
    )


def test_killed_while_awaiting_approval(tmp_path: Path, database_url: str) -> None:
    server = _server(tmp_path, database_url)
    server.start()
    try:
        waiting = wait_until(
            "the incident to await approval",
            lambda: _in_state(server, "awaiting_approval"),
            timeout=240,
        )
        server.kill()
        server.start()
        _approve(server, waiting)
        done = wait_until("the incident to finish", lambda: _finished(server), 240)
        _assert_completed_once(server, done)
        starts = _step_starts(server, done["id"])
        # Steps finished before the kill are not run again after the restart.
        for step in ("diagnose", "make_plan", "request_approval"):
            assert starts[step] == 1, f"{step} ran {starts[step]} times: {starts}"
    finally:
        server.stop()


def test_killed_while_executing(tmp_path: Path, database_url: str) -> None:
    server = _server(tmp_path, database_url, SLOW)
    server.start()
    try:
        waiting = wait_until(
            "the incident to await approval",
            lambda: _in_state(server, "awaiting_approval"),
            timeout=240,
        )
        _approve(server, waiting)
        # Kill after the rollback was applied but while the rollout is still in progress.
        wait_until(
            "the rollback to be applied",
            lambda: any(w["operation"] == "rollout_undo" for w in applied_writes(server.data_dir)),
            timeout=60,
            every=0.01,
        )
        assert _in_state(server, "executing"), "the kill must land during the execution step"
        server.kill()
        server.start()
        done = wait_until("the incident to finish", lambda: _finished(server), 240)
        _assert_completed_once(server, done)
        starts = _step_starts(server, done["id"])
        for step in ("diagnose", "make_plan", "request_approval", "read_decision"):
            assert starts[step] == 1, f"{step} ran {starts[step]} times: {starts}"
        # The rollout is watched in steps of their own: the write step ran again only if
        # the kill came before it was recorded (and then found its action already
        # applied); either way the rollback was written once and the polls went on.
        assert starts["execute_write"] in (1, 2), starts
        expected = "already_applied" if starts["execute_write"] == 2 else "succeeded"
        assert done["executions"][0]["status"] == expected
        assert starts["rollout_poll"] >= 1, starts
    finally:
        server.stop()
