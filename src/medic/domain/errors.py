"""The error tree: one root, split by what the caller should do next."""

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "MedicError",
    "NotFoundError",
    "PermanentError",
    "TransientError",
]


class MedicError(Exception):
    """Root of every error medic raises on purpose."""


class TransientError(MedicError):
    """A temporary failure: the step may be retried later (timeouts, 5xx, locks)."""


class PermanentError(MedicError):
    """A failure retrying will not fix: give up and tell a human."""


class InvalidInputError(PermanentError):
    """Input from outside (a webhook, a scenario file, a CLI argument) is malformed."""


class NotFoundError(PermanentError):
    """The thing asked for does not exist (an incident id, a deployment)."""


class ConflictError(PermanentError):
    """The request contradicts the current state (a stale plan hash, a second approval)."""
