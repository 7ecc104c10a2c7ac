"""`decide` from two approvers of a high-risk plan at the same instant, as the API, the
web and Slack call it: one first approval, one final decision that wakes the workflow;
stale, replayed and repeated approvals are refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from dbos import DBOS, SetWorkflowID

from medic.action import Policy
from medic.action.policy_file import parse_policy_document
from medic.domain import Approval, ApprovalDecision, ConflictError
from medic.store import Store
from medic.workflows import runtime
from medic.workflows.approvals import decide
from medic.workflows.context import deps, install
from medic.workflows.incident import APPROVAL_TOPIC
from tests.web.seed import seed_incident

TRIALS = 8
TWO_APPROVERS = "rules:\n  - {autonomy: approve, second_approver_for: [medium]}\n"


@DBOS.workflow()
def awaiting_approval(incident_id: str) -> str:
    """Stands in for the incident workflow's wait: what woke it, if anything."""
    message = DBOS.recv(APPROVAL_TOPIC, timeout_seconds=120)
    return str(message["plan_hash"]) if isinstance(message, dict) else "nothing"


@pytest.fixture
def launched(store: Store, database_url: str) -> Iterator[Store]:
    policy = Policy.from_document(parse_policy_document(TWO_APPROVERS, "policy.yaml"))
    install(replace(deps(), policy=policy))
    runtime.launch(database_url)
    try:
        yield store
    finally:
        runtime.shutdown()


def _decide(incident_id: str, plan_hash: str, actor: str) -> Approval | ConflictError:
    try:
        return decide(incident_id, plan_hash, ApprovalDecision.APPROVED, actor, "api")
    except ConflictError as exc:
        return exc


def _race(incident_id: str, plan_hash: str, actors: list[str]) -> list[str]:
    barrier = threading.Barrier(len(actors))

    def one(actor: str) -> str:
        barrier.wait()
        result = _decide(incident_id, plan_hash, actor)
        return result.decision.value if isinstance(result, Approval) else "409"

    with ThreadPoolExecutor(max_workers=len(actors)) as pool:
        return sorted(pool.map(one, actors))


def test_two_approvers_at_once_decide_the_plan_and_wake_the_workflow(launched: Store) -> None:
    for n in range(TRIALS):
        incident_id = f"inc-two-{n}"
        plan = seed_incident(launched, incident_id)
        with SetWorkflowID(incident_id):
            waiting = DBOS.start_workflow(awaiting_approval, incident_id)
        assert _race(incident_id, plan.hash, ["alice", "bob"]) == ["approved", "pending"], n
        assert waiting.get_result() == plan.hash
        [decided] = launched.approvals(incident_id)
        first = launched.first_approval(incident_id, plan.hash)
        assert first is not None and {first.actor, decided.actor} == {"alice", "bob"}
        # Either one retrying now learns the plan is decided.
        again = _decide(incident_id, plan.hash, "alice")
        assert isinstance(again, ConflictError) and "already approved" in str(again)


def test_stale_repeated_and_unknown_approvals_are_refused(launched: Store) -> None:
    plan = seed_incident(launched, "inc-stale")
    stale = _decide("inc-stale", "0" * 64, "alice")
    assert isinstance(stale, ConflictError) and "stale" in str(stale)
    first = _decide("inc-stale", plan.hash, "alice")
    assert isinstance(first, Approval) and first.decision is ApprovalDecision.PENDING
    repeated = _decide("inc-stale", plan.hash, "alice")
    assert isinstance(repeated, ConflictError) and "different approver" in str(repeated)
    assert launched.approvals("inc-stale") == []
