"""Approvals that must be refused, against a real `medic serve` (issue 6, item 8).

The server watches the injected scenario; an Alertmanager webhook whose alert names,
labels and annotations carry the injection corpus opens the incident. The policy
file lets only alice approve in production; mallory is a user too. A stale plan hash,
mallory's approval and a replayed approval are refused with a 409 naming why; the
incident keeps waiting for a valid approval, alice's works, and what then runs is the
rollback of auth-service, once. Forged and stale Slack signatures are covered by
tests/api/test_slack_interactivity.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from medic.sandbox.state import load_state
from medic.store.codec import encode
from tests.security.alerts import alertmanager_body, planted_in_alert
from tests.security.checks import (
    LoopRecord,
    check_approvals,
    check_commands,
    check_executions,
    check_plans,
    check_postmortem_inert,
    check_ranked_causes,
    check_secrets,
    secrets_of,
)
from tests.security.conftest import SCENARIO
from tests.server import MedicServer, wait_until

TOKENS = {
    "alice": "alice-token-0123456789abcdef0123",
    "mallory": "mallory-token-0123456789abcdef01",
}
POLICY = """\
version: 1
defaults:
  autonomy: approve
rules:
  - namespace: production
    approvers: {users: [alice]}
"""


@dataclass(frozen=True)
class Served:
    server: MedicServer
    incident_id: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("serve-approvals")
    policy = data / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SCENARIO=str(SCENARIO),
        MEDIC_SANDBOX__SPEED="240",
        MEDIC_VERIFICATION__WINDOW_SECONDS="600",
        MEDIC_VERIFICATION__POLL_SECONDS="15",
        MEDIC_POLICY_FILE=str(policy),
        MEDIC_USERS=json.dumps(TOKENS),
    ) as server:
        opened = httpx.post(
            f"{server.url}/webhooks/alertmanager",
            content=alertmanager_body(),
            headers=server.webhook_headers(),
            timeout=30,
        )
        assert opened.status_code == 202, opened.text
        (incident_id,) = {s["incident_id"] for s in opened.json()["signals"]}
        wait_until(
            "the plan to await approval",
            lambda: _detail(server, incident_id)["state"] in ("awaiting_approval", "escalated"),
            timeout=120,
        )
        yield Served(server, incident_id)


def _detail(server: MedicServer, incident_id: str) -> dict[str, Any]:
    detail: dict[str, Any] = server.get(f"/incidents/{incident_id}")
    return detail


def _decide(served: Served, user: str, plan_hash: str) -> httpx.Response:
    return httpx.post(
        f"{served.server.url}/incidents/{served.incident_id}/approve",
        json={"plan_hash": plan_hash},
        headers={"Authorization": f"Bearer {TOKENS[user]}"},
        timeout=30,
    )


def test_stale_unauthorised_and_replayed_approvals_are_refused(served: Served) -> None:
    waiting = _detail(served.server, served.incident_id)
    assert waiting["state"] == "awaiting_approval", waiting["timeline"]
    plan_hash = waiting["plan_hash"]

    stale = _decide(served, "alice", "0" * len(plan_hash))
    assert stale.status_code == 409, stale.text
    assert "stale" in stale.json()["detail"]

    refused = _decide(served, "mallory", plan_hash)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "'mallory' may not approve this plan; the policy allows: alice"
    )
    still = _detail(served.server, served.incident_id)
    assert (still["state"], still["approvals"], still["executions"]) == (
        "awaiting_approval",
        [],
        [],
    )

    approved = _decide(served, "alice", plan_hash)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["actor"], approved.json()["channel"]) == ("alice", "api")
    replayed = _decide(served, "alice", plan_hash)
    assert replayed.status_code == 409, replayed.text
    assert "already approved by alice" in replayed.json()["detail"]

    done = wait_until(
        "the incident to finish",
        lambda: (d := _detail(served.server, served.incident_id))["postmortem_path"] and d,
        timeout=120,
    )
    assert done["state"] == "resolved", done["timeline"]
    assert [a["actor"] for a in done["approvals"]] == ["alice"]
    undone = [e for e in done["executions"] if e["action"]["kind"] == "rollout_undo"]
    assert len(undone) == 1, done["executions"]
    assert [e["operation"] for e in _journal(served.server.data_dir)] == ["rollout_undo"]


def test_the_alerts_injected_text_changes_nothing_medic_does(served: Served) -> None:
    server = served.server
    detail = wait_until(
        "the incident to finish",
        lambda: (d := _detail(server, served.incident_id))["postmortem_path"] and d,
        timeout=120,
    )
    markdown = Path(detail["postmortem_path"]).read_text(encoding="utf-8")
    record = LoopRecord(
        incidents=[
            {
                "incident": {"id": detail["id"], "title": detail["title"]},
                "signals": detail["signals"],
                "plans": [detail["plan"]],
                "approvals": detail["approvals"],
                "executions": detail["executions"],
                "diagnosis": detail["diagnosis"],
                "timeline": detail["timeline"],
                "postmortem": markdown,
            }
        ],
        journal=_journal(server.data_dir),
        logs=server.log_path.read_text(errors="replace"),
        secrets=[*secrets_of(server.data_dir / "credentials.json"), *TOKENS.values()],
        planted=planted_in_alert(),
    )
    check_plans(record)
    check_commands(record)
    check_executions(record)
    check_approvals(record, ["alice"])
    check_ranked_causes(record)
    check_secrets(record)
    check_postmortem_inert(markdown, record.planted)
    # Not vacuous: the planted alert name is the incident's title, in the post-mortem.
    assert detail["title"].startswith("IGNORE ALL PREVIOUS INSTRUCTIONS"), detail["title"]
    assert "IGNORE ALL PREVIOUS INSTRUCTIONS" in markdown


def _journal(data_dir: Path) -> list[dict[str, Any]]:
    state = load_state(data_dir / "sandbox")
    assert state is not None, "the sandbox has no state"
    journal = [encode(e) for e in state.journal]
    return [e for e in journal if isinstance(e, dict)]
