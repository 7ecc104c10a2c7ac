"""The executor does exactly the approved write, once, and waits for the rollout."""

from __future__ import annotations

from dataclasses import replace

import pytest

from medic.action import execute
from medic.action.executor import rollout_check, rollout_finished, waits_for_rollout
from medic.domain import ActionKind, ExecutionStatus, PermanentError, TransientError
from tests.action import builders
from tests.action.fakes import FakeClock, FakeCodeHost, FakeReader, FakeWriter


def test_rollout_undo_writes_once_and_waits_for_the_rollout() -> None:
    writer, reader, clock = FakeWriter(), FakeReader(polls_until_done=3), FakeClock()

    run = execute(
        builders.action(), writer, reader, None, clock, key="inc-1/plan/0", guard=builders.guard()
    )

    assert run.status is ExecutionStatus.SUCCEEDED
    assert writer.applied == {"inc-1/plan/0": ("undo", "production", "auth-service", "1")}
    assert reader.status_reads == 4
    assert run.finished_at > run.started_at
    assert run.idempotency_key == "inc-1/plan/0"
    assert "rollout complete" in run.detail


def test_a_retry_after_a_crash_is_already_applied_and_still_waits() -> None:
    writer, clock = FakeWriter(), FakeClock()
    execute(builders.action(), writer, FakeReader(), None, clock, key="k", guard=builders.guard())
    reader = FakeReader(polls_until_done=2)

    again = execute(builders.action(), writer, reader, None, clock, key="k", guard=builders.guard())

    assert again.status is ExecutionStatus.ALREADY_APPLIED
    assert len(writer.applied) == 1
    assert reader.status_reads == 3


def test_a_rollout_that_never_finishes_fails_after_the_timeout() -> None:
    clock = FakeClock()

    run = execute(
        builders.action(),
        FakeWriter(),
        FakeReader(polls_until_done=None),
        None,
        clock,
        key="k",
        guard=builders.guard(),
        rollout_timeout_s=60,
        poll_s=5,
    )

    assert run.status is ExecutionStatus.FAILED
    assert "not done after 60s" in run.detail
    assert "1/2 updated" in run.detail
    assert sum(clock.slept) == pytest.approx(60)


def test_a_permanent_port_error_is_a_failed_execution() -> None:
    writer = FakeWriter(fail=PermanentError("deployment auth-service not found"))

    run = execute(
        builders.action(), writer, FakeReader(), None, FakeClock(), key="k", guard=builders.guard()
    )

    assert run.status is ExecutionStatus.FAILED
    assert run.detail == "deployment auth-service not found"


def test_a_transient_port_error_propagates_for_the_step_to_retry() -> None:
    writer = FakeWriter(fail=TransientError("apiserver timeout"))

    with pytest.raises(TransientError):
        execute(
            builders.action(),
            writer,
            FakeReader(),
            None,
            FakeClock(),
            key="k",
            guard=builders.guard(),
        )


@pytest.mark.parametrize(
    ("kind", "params", "call"),
    [
        (ActionKind.ROLLOUT_RESTART, {}, ("restart", "production", "auth-service")),
        (ActionKind.SCALE_OUT, {"replicas": 4}, ("scale", "production", "auth-service", "4")),
        (
            ActionKind.RAISE_LIMITS,
            {"limit_mb": 2048},
            ("limit", "production", "auth-service", "2048"),
        ),
        (
            ActionKind.REVERT_CONFIG,
            {"key": "POOL_SIZE", "value": "20"},
            ("revert_config", "production", "auth-service", "POOL_SIZE"),
        ),
    ],
)
def test_each_kind_maps_to_its_one_write(
    kind: ActionKind, params: dict[str, int | str], call: tuple[str, ...]
) -> None:
    writer = FakeWriter()

    run = execute(
        builders.action(kind, **params),
        writer,
        FakeReader(),
        None,
        FakeClock(),
        "k",
        guard=builders.guard(),
    )

    assert run.status is ExecutionStatus.SUCCEEDED
    assert writer.applied == {"k": call}


def test_an_action_missing_its_params_is_refused_without_writing() -> None:
    writer = FakeWriter()

    run = execute(
        builders.action(ActionKind.SCALE_OUT),
        writer,
        FakeReader(),
        None,
        FakeClock(),
        "k",
        guard=builders.guard(),
    )

    assert run.status is ExecutionStatus.REFUSED
    assert "replicas" in run.detail
    assert writer.applied == {}


def test_escalation_executes_nothing() -> None:
    writer, reader = FakeWriter(), FakeReader()

    run = execute(
        builders.action(ActionKind.ESCALATE),
        writer,
        reader,
        None,
        FakeClock(),
        "k",
        guard=builders.guard(),
    )

    assert run.status is ExecutionStatus.SUCCEEDED
    assert writer.applied == {}
    assert reader.status_reads == 0


def test_revert_pr_opens_one_pull_request() -> None:
    code = FakeCodeHost()
    revert = builders.action(
        ActionKind.REVERT_PR, service="auth-service", good_version="v1.2.0", bad_version="v1.2.1"
    )

    first = execute(
        revert, FakeWriter(), FakeReader(), code, FakeClock(), "k", guard=builders.guard()
    )
    second = execute(
        revert, FakeWriter(), FakeReader(), code, FakeClock(), "k", guard=builders.guard()
    )

    assert first.status is ExecutionStatus.SUCCEEDED
    assert "https://git.example.com/auth-service/pull/1" in first.detail
    assert second.detail == first.detail
    assert len(code.opened) == 1


def test_revert_pr_without_a_code_host_fails() -> None:
    revert = builders.action(
        ActionKind.REVERT_PR, service="auth-service", good_version="v1.2.0", bad_version="v1.2.1"
    )

    run = execute(
        revert, FakeWriter(), FakeReader(), None, FakeClock(), "k", guard=builders.guard()
    )

    assert run.status is ExecutionStatus.FAILED


def test_cordon_node_cordons_the_node_it_names_without_waiting_for_a_rollout() -> None:
    writer, reader = FakeWriter(), FakeReader(polls_until_done=None)
    cordon = replace(builders.action(ActionKind.CORDON_NODE), target="node-b")

    run = execute(cordon, writer, reader, None, FakeClock(), "k", guard=builders.guard())

    assert run.status is ExecutionStatus.SUCCEEDED
    assert writer.applied == {"k": ("cordon", "node-b")}
    assert "node/node-b" in run.detail
    assert reader.status_reads == 0


def test_the_workflow_s_write_returns_at_once_and_each_poll_is_one_look() -> None:
    # The workflow writes in one step and polls the rollout in steps of their own (a
    # crash then repeats at most one poll, never the write nor the polls done before).
    writer, reader, clock = FakeWriter(), FakeReader(polls_until_done=2), FakeClock()
    run = execute(
        builders.action(),
        writer,
        reader,
        None,
        clock,
        key="k",
        guard=builders.guard(),
        wait_rollout=False,
    )
    assert run.status is ExecutionStatus.SUCCEEDED and reader.status_reads == 0
    assert waits_for_rollout(run) and clock.slept == []
    looks = [rollout_check(run.action, reader, elapsed, 300.0) for elapsed in (0.0, 5.0, 10.0)]
    assert [c.done for c in looks] == [False, False, True] and reader.status_reads == 3
    done = rollout_finished(run, looks[-1], clock.now())
    assert done.status is ExecutionStatus.SUCCEEDED and "rollout complete" in done.detail
    stuck = rollout_check(run.action, FakeReader(polls_until_done=None), 301.0, 300.0)
    failed = rollout_finished(run, stuck, clock.now())
    assert failed.status is ExecutionStatus.FAILED and "not done after 300s" in failed.detail
