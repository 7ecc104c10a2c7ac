"""`PodView`: what a fault may look at to describe one running pod at one step."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PodView"]


@dataclass(frozen=True)
class PodView:
    service: str
    pod: str
    memory_mb: float
    limit_mb: float
    node: str = ""
    version: str = ""
    seed: int = 0
    step: int = 0  # the step index: log variety is a hash of it, never a generator's state
    rps: float = 0.0  # requests per second this pod serves
    latency_ms: float = 0.0  # this pod's p99
    cpu_cores: float = 0.0
    cpu_limit: float = 1.0
    datastore: str = ""  # the first database-like service this one calls

    @property
    def pressure(self) -> float:
        return self.memory_mb / self.limit_mb if self.limit_mb > 0 else 0.0
