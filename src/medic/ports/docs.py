"""The documentation port: where post-mortems are published besides the data folder."""

from typing import Protocol

from medic.domain.model import Postmortem

__all__ = ["DocStore"]


class DocStore(Protocol):
    name: str  # "confluence", "github": how the published link is labelled

    def publish(self, postmortem: Postmortem) -> str:
        """Create the incident's page, or update it when it exists; return its URL.

        Idempotent by `postmortem.incident_id`: publishing again (a re-rendered
        post-mortem) updates the same page. Raises TransientError when the service is
        unreachable, PermanentError when it refuses.
        """
        ...

    def health(self) -> str:
        """What `medic doctor` shows; raises a MedicError when the service refuses."""
        ...
