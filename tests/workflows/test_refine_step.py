"""The refine step: whatever the LLM agent does, the incident goes on, and its record
says what the agent did."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from medic.diagnosis import diagnose
from medic.domain import AgentReview, AgentStatus, Diagnosis, Incident
from medic.store import Store
from medic.workflows.context import Refiner, deps, install, uninstall
from medic.workflows.diagnose_steps import refine
from tests.store import builders
from tests.workflows.sandbox_deps import install_sandbox_deps


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Iterator[tuple[Incident, Diagnosis]]:
    sandbox = install_sandbox_deps(store, tmp_path)
    incident = store.create_incident(
        replace(builders.incident(), service="auth-service", namespace="production")
    )
    now = sandbox.clock.now()
    diagnosis = diagnose(incident, [], sandbox.metrics, sandbox.changes, sandbox.cluster, None, now)
    store.save_diagnosis(diagnosis)
    yield incident, diagnosis
    uninstall()


def _with_refiner(refiner: Refiner) -> None:
    install(replace(deps(), refiner=refiner))


def test_an_agent_that_raises_leaves_the_deterministic_diagnosis_and_says_so(
    store: Store, seeded: tuple[Incident, Diagnosis]
) -> None:
    incident, diagnosis = seeded

    def broken(diagnosis: Diagnosis, incident: Incident) -> Diagnosis:
        raise IndexError("list index out of range")

    _with_refiner(broken)
    refined = refine(incident.id, diagnosis)
    assert refined.hypotheses == diagnosis.hypotheses
    assert refined.agent is not None and refined.agent.status is AgentStatus.MODEL_ERROR
    stored = store.diagnosis(incident.id)
    assert stored is not None and stored.agent == refined.agent
    (entry,) = [e for e in store.timeline(incident.id) if e.kind == "llm"]
    assert entry.message.startswith("LLM agent failed (model_error): the deterministic")
    assert "IndexError" in entry.message
    assert entry.data["llm_status"] == "model_error"


def test_the_timeline_and_the_record_say_what_an_applied_agent_did(
    store: Store, seeded: tuple[Incident, Diagnosis]
) -> None:
    incident, diagnosis = seeded
    review = AgentReview(
        AgentStatus.APPLIED,
        "1 claim(s) accepted, 1 rejected",
        requests=2,
        tool_calls=1,
        input_tokens=4500,
        output_tokens=300,
        token_limit=20_000,
        accepted=("auth-service: bad_deploy v1.2.1, citing ev-1",),
        rejected=("LLM claim against catalog rejected: it cites no evidence",),
        narrative="auth-service v1.2.1 leaks memory.",
        check_next=("heap profile of auth-service",),
    )
    _with_refiner(lambda diagnosis, incident: replace(diagnosis, agent=review))
    refine(incident.id, diagnosis)
    stored = store.diagnosis(incident.id)
    assert stored is not None and stored.agent == review
    (entry,) = [e for e in store.timeline(incident.id) if e.kind == "llm"]
    assert entry.message == (
        "LLM agent applied: 1 claim(s) accepted, 1 rejected; "
        "2 requests, 1 tool call, 4,800 tokens (limit 20,000)"
    )
    assert entry.data["llm_tokens"] == 4800
