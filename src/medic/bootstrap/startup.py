"""What `medic serve` takes before anything starts: its data directory and its port.

One writer per data directory: an exclusive `flock` on a lock file there, held for the
process's life (the kernel drops it when the process dies, even by SIGKILL, so a stale
file never blocks a restart). With the SQLite store every server of the directory
takes the same lock, so a second one exits before it opens the store or launches the
workflow engine, naming the holder. With PostgreSQL replicas share the work through
DBOS, each with its own executor id; there the lock is per executor id, so two
processes never resume the same executor's workflows.

The port is bound next, also before the workflow engine launches: a server that cannot
listen exits without having run a step. `audit_seal` reads (or creates) the audit key.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from medic.domain import PermanentError
from medic.settings import Settings
from medic.store.audit_seal import AuditSeal, audit_key

__all__ = ["DataDirLock", "audit_seal", "listen", "lock_data_dir"]


@dataclass
class DataDirLock:
    """An exclusive lock on `path`, held until `release()` or the process ends."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1


def lock_data_dir(data_dir: Path, name: str = "serve") -> DataDirLock:
    """Take `data_dir/<name>.lock`; PermanentError naming the holder if it is taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise PermanentError(
            f"the data directory {data_dir} is in use by another medic serve ({holder}); "
            f"only one server may use it (lock file {path})"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise PermanentError(f"cannot lock {path}: {exc.strerror or exc}") from exc
    record = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
    return DataDirLock(path, fd)


def _holder(fd: int) -> str:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict) or "pid" not in record:
        return "holder unknown"
    return f"pid {record['pid']} on {record.get('host', '?')} since {record.get('since', '?')}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) and listening; PermanentError if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PermanentError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(is another server using the port? set MEDIC_PORT or --port)"
        ) from exc
    sock.set_inheritable(False)
    return sock


def audit_seal(settings: Settings) -> AuditSeal:
    """How `medic serve` seals the audit log: the key (created on first use) and the
    checkpoint file."""
    key = audit_key(settings.audit.key, settings.audit_key_path, create=True)
    if key is None:
        raise PermanentError(f"cannot create the audit key {settings.audit_key_path}")
    return AuditSeal(key, settings.audit_checkpoint_path)
