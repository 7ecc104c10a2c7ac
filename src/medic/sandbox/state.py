"""The sandbox's durable state: the timeline's anchor and the journal of applied writes.

Stored as `sandbox.json` in the state directory, rewritten atomically (temp file,
fsync, rename) on every write, so a process killed at any moment leaves either the
old or the new state, and a restarted process never applies a key twice.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from medic.domain.errors import InvalidInputError, PermanentError

__all__ = ["JournalEntry", "SandboxState", "load_state", "save_state"]

STATE_FILE = "sandbox.json"
_FORMAT = 1

Param = int | float | str


@dataclass(frozen=True)
class JournalEntry:
    """One applied write: its idempotency key, what it did, to what, and when."""

    key: str
    operation: str  # "rollout_undo", "rollout_restart", "scale", "set_memory_limit"
    namespace: str
    target: str  # the deployment
    at: datetime  # simulated time it was applied
    offset: float  # seconds after the scenario's "now = 0"
    params: Mapping[str, Param] = field(default_factory=dict)


@dataclass(frozen=True)
class SandboxState:
    scenario: str
    origin: datetime  # the simulated moment of the scenario's "now = 0"
    anchor_wall: float  # Unix seconds at which the simulated clock read `anchor_sim`
    anchor_sim: datetime
    speed: float
    journal: tuple[JournalEntry, ...] = ()


def load_state(state_dir: Path) -> SandboxState | None:
    path = state_dir / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise PermanentError(f"{path}: cannot read the sandbox state: {e}") from e
    try:
        return _decode(raw)
    except (KeyError, TypeError, ValueError) as e:
        raise InvalidInputError(f"{path}: malformed sandbox state: {e}") from e


def save_state(state_dir: Path, state: SandboxState) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    body = json.dumps(_encode(state), indent=2, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".sandbox-", suffix=".json", dir=state_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, state_dir / STATE_FILE)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise PermanentError(
            f"{state_dir / STATE_FILE}: cannot write the sandbox state: {e}"
        ) from e
    _fsync_dir(state_dir)


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(state: SandboxState) -> dict[str, object]:
    return {
        "format": _FORMAT,
        "scenario": state.scenario,
        "origin": state.origin.isoformat(),
        "clock": {
            "anchor_wall": state.anchor_wall,
            "anchor_sim": state.anchor_sim.isoformat(),
            "speed": state.speed,
        },
        "journal": [
            {
                "key": e.key,
                "operation": e.operation,
                "namespace": e.namespace,
                "target": e.target,
                "at": e.at.isoformat(),
                "offset": e.offset,
                "params": dict(e.params),
            }
            for e in state.journal
        ],
    }


def _decode(raw: dict[str, object]) -> SandboxState:
    if raw.get("format") != _FORMAT:
        raise ValueError(f"unsupported format {raw.get('format')!r}")
    clock = raw["clock"]
    journal = raw["journal"]
    if not isinstance(clock, dict) or not isinstance(journal, list):
        raise TypeError("clock must be a mapping and journal a list")
    return SandboxState(
        scenario=str(raw["scenario"]),
        origin=_time(raw["origin"]),
        anchor_wall=float(clock["anchor_wall"]),
        anchor_sim=_time(clock["anchor_sim"]),
        speed=float(clock["speed"]),
        journal=tuple(
            JournalEntry(
                key=str(e["key"]),
                operation=str(e["operation"]),
                namespace=str(e["namespace"]),
                target=str(e["target"]),
                at=_time(e["at"]),
                offset=float(e["offset"]),
                params=dict(e["params"]),
            )
            for e in journal
        ),
    )


def _time(value: object) -> datetime:
    when = datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise ValueError(f"time without a timezone: {value!r}")
    return when.astimezone(UTC)
