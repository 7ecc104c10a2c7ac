"""The audit log's key and checkpoints: what the database alone cannot be trusted with.

The key (32 random bytes, hex) lives in a file outside the database, created with mode
0600 on first use, or comes from the configuration (a secret store). Every entry is
sealed with it (`medic.domain.audit.entry_mac`), so rewriting an entry and recomputing
the chain needs the key, not only database access.

After each append the new head (seq, hash, time) is written, MACed with the key, as one
line to an append-only checkpoint file outside the database. Truncating the log (rows
and head deleted together) is then found: a checkpoint names an entry that is gone.
Replicas sharing PostgreSQL need the same key (configure it); each host's checkpoint
file covers the appends made there.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from medic.domain import PermanentError
from medic.domain.audit import AuditEntry, Checkpoint, checkpoint_mac

__all__ = ["AuditSeal", "audit_key", "load_key", "read_checkpoints"]

log = logging.getLogger(__name__)  # the store does not depend on medic.log

_KEY_BYTES = 32


@dataclass(frozen=True)
class AuditSeal:
    """What appenders seal entries with: the key, and where checkpoints go (or None)."""

    key: bytes
    checkpoints: Path | None = None

    def checkpoint(self, entry: AuditEntry) -> None:
        """Append the head after `entry` to the checkpoint file (one line, O_APPEND)."""
        if self.checkpoints is None:
            return
        at = entry.at.isoformat()
        line = json.dumps(
            {
                "seq": entry.seq,
                "hash": entry.hash,
                "at": at,
                "mac": checkpoint_mac(self.key, entry.seq, entry.hash, at),
            },
            sort_keys=True,
        )
        try:
            self.checkpoints.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.checkpoints, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())  # one write: lines never interleave
            finally:
                os.close(fd)
        except OSError as exc:
            # The entry is committed; a missing checkpoint only leaves it unproven.
            log.error("audit checkpoint not written to %s: %s", self.checkpoints, exc)


def audit_key(configured: str | None, path: Path, *, create: bool) -> bytes | None:
    """The audit key: `configured` (a secret from the settings), else the one in `path`
    (made there on first use with `create`); None when there is none."""
    if configured is not None:
        return configured.encode()
    return load_key(path, create=create)


def load_key(path: Path, *, create: bool) -> bytes | None:
    """The audit key in `path`; with `create`, a new one when there is none.

    PermanentError when the file is readable by others or is not a key."""
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(_KEY_BYTES) + "\n")
                file.flush()
                os.fsync(file.fileno())
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PermanentError(f"cannot read the audit key {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermanentError(
            f"the audit key {path} is accessible to other users (mode "
            f"{stat.S_IMODE(mode):04o}); make it private: chmod 600 {path}"
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise PermanentError(f"{path} does not hold an audit key (64 hexadecimal digits)")
    return key


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[int]]:
    """The checkpoints in `path` (none if it does not exist), and the numbers of the
    lines that are not checkpoints at all."""
    found: list[Checkpoint] = []
    bad: list[int] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return found, bad
    except OSError as exc:
        raise PermanentError(f"cannot read the audit checkpoints {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            found.append(
                Checkpoint(
                    int(record["seq"]), str(record["hash"]), str(record["at"]), str(record["mac"])
                )
            )
        except (ValueError, KeyError, TypeError):
            bad.append(number)
    return found, bad
