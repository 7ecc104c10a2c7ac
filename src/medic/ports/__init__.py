"""Ports: the interfaces through which the loop sees and touches the world.

Owns `typing.Protocol`s only: Clock, MetricsSource, LogSource, ChangeSource,
ClusterReader, ClusterWriter, PodReader, PodMetricsSource, EventSource, CodeHost,
DocStore.
Adapters (real systems) and the sandbox
implement them; layers 1-3 depend on them.

Must not: contain logic, or use `Any`.
"""

from medic.ports.chatops import ChatOps, MessageRef
from medic.ports.clock import Clock
from medic.ports.cluster import ClusterReader, ClusterWriter, PodReader
from medic.ports.code import CodeHost, CommitSource, PullRequest
from medic.ports.docs import DocStore
from medic.ports.telemetry import (
    ChangeSource,
    EventSource,
    LogSource,
    MetricsSource,
    PodMetricsSource,
)

__all__ = [
    "ChangeSource",
    "ChatOps",
    "CommitSource",
    "DocStore",
    "MessageRef",
    "Clock",
    "ClusterReader",
    "ClusterWriter",
    "CodeHost",
    "EventSource",
    "LogSource",
    "MetricsSource",
    "PodMetricsSource",
    "PodReader",
    "PullRequest",
]
