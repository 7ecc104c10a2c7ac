"""The workflows' dependencies over the seed scenario's sandbox, for tests that call
steps and ingestion directly (without `bootstrap.build`)."""

from __future__ import annotations

from pathlib import Path

from medic.action import Policy
from medic.ports import Clock
from medic.sandbox import Sandbox
from medic.signals.grouping import GroupingRules
from medic.store import Store
from medic.workflows.context import Deps, install

SEED = "auth-memory-leak-after-deploy"


def install_sandbox_deps(
    store: Store | None,
    tmp_path: Path,
    *,
    clock: Clock | None = None,
    grouping: GroupingRules | None = None,
    with_logs: bool = False,
) -> Sandbox:
    """Open the seed sandbox under `tmp_path` and install Deps over it (approve policy)."""
    sandbox = Sandbox.open(SEED, tmp_path / "sandbox", clock=clock)
    install(
        Deps(
            store=store,  # type: ignore[arg-type]  # None: a test that needs no store
            clock=sandbox.clock,
            metrics=sandbox.metrics,
            changes=sandbox.changes,
            cluster=sandbox.cluster,
            writer=sandbox.cluster,
            logs=sandbox.logs if with_logs else None,
            namespace="production",
            postmortem_dir=tmp_path / "pm",
            policy=Policy(autonomy="approve"),
            grouping=grouping or GroupingRules(),
        )
    )
    return sandbox
