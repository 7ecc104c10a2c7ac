"""Ports: the interfaces through which the loop sees and touches the world.

Owns `typing.Protocol`s only: Clock, MetricsSource, LogSource, ChangeSource,
ClusterReader, ClusterWriter, CodeHost. Adapters (real systems) and the sandbox
implement them; layers 1-3 depend on them.

Must not: contain logic, or use `Any`.
"""

from medic.ports.clock import Clock
from medic.ports.cluster import ClusterReader, ClusterWriter
from medic.ports.code import CodeHost, PullRequest
from medic.ports.telemetry import ChangeSource, LogSource, MetricsSource

__all__ = [
    "ChangeSource",
    "Clock",
    "ClusterReader",
    "ClusterWriter",
    "CodeHost",
    "LogSource",
    "MetricsSource",
    "PullRequest",
]
