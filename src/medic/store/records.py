"""Records the store keeps that are not domain objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["MAX_REJECTED_BODY_BYTES", "RejectedWebhook"]

# Enough to see what a sender got wrong; a huge or hostile body is not kept whole.
MAX_REJECTED_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RejectedWebhook:
    """A webhook that could not be parsed, kept so that a human can see why."""

    id: str
    source: str
    reason: str
    body: str  # the request body as text (invalid UTF-8 replaced), at most 64 KiB of it
    at: datetime
