"""DBOS launched as medic configures it."""

from __future__ import annotations

from dbos import DBOS

from medic.workflows import runtime


def test_a_replica_runs_under_its_own_executor_id(sqlite_url: str) -> None:
    runtime.launch(sqlite_url, executor_id="medic-replica-b")
    try:
        assert DBOS.executor_id == "medic-replica-b"
    finally:
        runtime.shutdown()
    runtime.launch(sqlite_url)
    try:
        assert DBOS.executor_id == "local"  # one process: DBOS's default
    finally:
        runtime.shutdown()
