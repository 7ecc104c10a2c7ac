"""Read what the sandbox of a `medic serve` data directory has applied."""

from __future__ import annotations

from pathlib import Path

from medic.sandbox.state import load_state

__all__ = ["applied_writes"]


def applied_writes(data_dir: Path) -> list[dict[str, str]]:
    """Every write the sandbox applied, in order (its durable journal)."""
    state = load_state(data_dir / "sandbox")
    if state is None:
        return []
    return [{"key": e.key, "operation": e.operation, "target": e.target} for e in state.journal]
