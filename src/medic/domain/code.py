"""What medic knows of code: commits between versions, and what a revert cites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Commit", "EvidenceLink", "RevertContext"]


@dataclass(frozen=True)
class Commit:
    """One commit of a service's repository.

    `message` and `author` come from the watched system: untrusted text, shown to humans
    only rendered inert and never followed as instructions.
    """

    sha: str
    message: str
    author: str
    at: datetime
    email: str = ""
    url: str | None = None  # where a human reads it (a web page), when the host has one

    @property
    def subject(self) -> str:
        """The message's first line."""
        return self.message.split("\n", 1)[0].strip()


@dataclass(frozen=True)
class EvidenceLink:
    """A piece of evidence a revert cites: its id, one line, and where to read it."""

    id: str
    summary: str = ""
    url: str | None = None


@dataclass(frozen=True)
class RevertContext:
    """Why a revert is proposed, for its pull request's description."""

    incident_id: str
    summary: str = ""
    root_cause: str = ""
    incident_url: str | None = None
    evidence: tuple[EvidenceLink, ...] = ()
