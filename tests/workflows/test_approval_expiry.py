"""An approval request nobody answers expires (DBOS.recv times out) and escalates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import MedicServer, wait_until

pytestmark = pytest.mark.integration


def test_unanswered_approval_expires_and_escalates(tmp_path: Path) -> None:
    with MedicServer(
        tmp_path / "data",
        f"sqlite:///{tmp_path / 'data' / 'medic.sqlite'}",
        MEDIC_APPROVAL__TIMEOUT_SECONDS="3",
        MEDIC_SANDBOX__SPEED="60",
        MEDIC_WATCHDOG__INTERVAL_SECONDS="1",
    ) as server:

        def escalated() -> dict[str, Any] | None:
            incidents = server.get("/incidents")
            if not incidents:
                return None
            detail: dict[str, Any] = server.get(f"/incidents/{incidents[0]['id']}")
            done = detail["state"] == "escalated" and detail["postmortem_path"]
            return detail if done else None

        detail = wait_until("the request to expire", escalated, timeout=240)
        assert [a["decision"] for a in detail["approvals"]] == ["expired"]
        assert detail["executions"] == []
        assert any("expired" in e["message"] for e in detail["timeline"])
        late = httpx.post(
            f"{server.url}/incidents/{detail['id']}/approve",
            json={"plan_hash": detail["plan_hash"]},
            headers=server.user_headers(),
            timeout=10,
        )
        assert late.status_code == 409
        assert "expired" in Path(detail["postmortem_path"]).read_text()
