"""The diagnosis carries the log templates that changed at the onset (drain3), fenced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.diagnosis import diagnose
from medic.diagnosis.log_templates import with_log_patterns
from medic.domain import Incident, IncidentState
from medic.sandbox import ManualClock, Sandbox
from medic.workflows.context import uninstall
from tests.workflows.sandbox_deps import install_sandbox_deps


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    clock = ManualClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    sandbox = install_sandbox_deps(None, tmp_path, clock=clock, with_logs=True)
    clock.set(sandbox.origin)
    yield sandbox
    uninstall()


def test_the_leaking_service_s_new_log_templates_become_evidence(sandbox: Sandbox) -> None:
    now = sandbox.clock.now()
    incident = Incident(
        id="inc-1",
        title="MemoryLeakSuspected on auth-service (production)",
        state=IncidentState.DIAGNOSING,
        opened_at=now,
        updated_at=now,
        group_key="production/auth-service",
        service="auth-service",
        namespace="production",
    )
    plain = diagnose(
        incident, [], sandbox.metrics, sandbox.changes, sandbox.cluster, sandbox.logs, now
    )
    enriched = with_log_patterns(plain, sandbox.logs, "production", "auth-service", now)
    added = enriched.evidence[len(plain.evidence) :]
    assert added, "the GC pauses that began with v1.2.1 are a new log template"
    assert all(e.source == "logs" and e.id.startswith("logs:auth-service:") for e in added)
    assert any("GC" in str(e.data["template_untrusted"]) for e in added)
    assert all("(untrusted log text)" in e.summary for e in added)
    assert enriched.hypotheses == plain.hypotheses  # evidence for a human, not a new verdict
