"""What a series *is*, read from its name, and in which direction it hurts.

Every backend names its series differently (`container_memory_working_set_bytes`,
`carts_mem`, `http.server.request.duration`, `front-end_latency-90`), but the words
in the name say what was measured. A name is split into lower-case words (at
punctuation, digits-to-letters and camelCase boundaries) and the first kind whose
vocabulary it uses wins, in an order that puts the specific before the general
(`cpu_seconds` is CPU, not latency; `error_count` is errors, not throughput).

Each kind carries how much a rise and a fall count as harm (1 = fully, 0 = not at
all): latency, errors, restarts and resource use hurt when they rise; availability
and served throughput when they fall. Throughput that rises is a surge, which is a
cause where it enters, so it counts half. A kind that cannot be told counts both
ways, at half weight: a move of an unknown series is evidence, but weaker than a move
that is known to hurt. These are facts about what metrics mean, the same for every
system; nothing here knows a dataset, a service or a column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

__all__ = ["PROPAGATING", "Harm", "SeriesKind", "harm_of", "kind_of"]


class SeriesKind(StrEnum):
    REPLICAS = "replicas"  # a service's own running instances
    AVAILABILITY = "availability"
    ERRORS = "errors"
    RESTARTS = "restarts"
    LATENCY = "latency"
    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    NETWORK = "network"
    SATURATION = "saturation"
    THROUGHPUT = "throughput"
    LOGS = "logs"  # new or jumped log templates (counts of lines)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Harm:
    """How much a rise and a fall of a series of this kind count as trouble."""

    up: float
    down: float

    @property
    def one_sided(self) -> bool:
        return self.up == 0.0 or self.down == 0.0


# Ordered: the first kind whose words appear in a name wins.
_VOCABULARY: tuple[tuple[SeriesKind, frozenset[str]], ...] = (
    (SeriesKind.LOGS, frozenset({"log", "logs", "template", "templates"})),
    (
        SeriesKind.ERRORS,
        frozenset(
            {
                "error",
                "errors",
                "err",
                "errs",
                "fail",
                "failed",
                "failure",
                "failures",
                "5xx",
                "exception",
                "exceptions",
                "fault",
                "faults",
                "timeout",
                "timeouts",
            }
        ),
    ),
    (
        SeriesKind.RESTARTS,
        frozenset({"restart", "restarts", "oom", "oomkilled", "crash", "crashes", "crashloop"}),
    ),
    (SeriesKind.REPLICAS, frozenset({"replicas", "replica", "pods", "instances"})),
    (
        SeriesKind.AVAILABILITY,
        frozenset(
            {
                "available",
                "availability",
                "avail",
                "free",
                "ready",
                "up",
                "healthy",
                "health",
                "uptime",
                "success",
                "apdex",
                "sli",
            }
        ),
    ),
    (SeriesKind.CPU, frozenset({"cpu", "cpus", "throttled", "throttling", "millicores", "cores"})),
    (
        SeriesKind.MEMORY,
        frozenset({"mem", "memory", "rss", "heap", "working", "swap", "gc", "resident"}),
    ),
    (
        SeriesKind.LATENCY,
        frozenset(
            {
                "latency",
                "lat",
                "duration",
                "delay",
                "rt",
                "response",
                "wait",
                "p50",
                "p75",
                "p90",
                "p95",
                "p99",
                "p999",
                "quantile",
                "elapsed",
            }
        ),
    ),
    (
        SeriesKind.DISK,
        frozenset(
            {
                "disk",
                "disks",
                "fs",
                "filesystem",
                "io",
                "diskio",
                "iops",
                "inode",
                "inodes",
                "volume",
                "storage",
            }
        ),
    ),
    (
        SeriesKind.NETWORK,
        frozenset(
            {
                "net",
                "network",
                "rx",
                "tx",
                "receive",
                "transmit",
                "packets",
                "bandwidth",
                "socket",
                "sockets",
            }
        ),
    ),
    (
        SeriesKind.SATURATION,
        frozenset(
            {
                "queue",
                "queued",
                "saturation",
                "pool",
                "connections",
                "conns",
                "threads",
                "backlog",
                "pending",
                "inflight",
                "loadavg",
                "utilisation",
                "utilization",
            }
        ),
    ),
    (
        SeriesKind.THROUGHPUT,
        frozenset(
            {
                "request",
                "requests",
                "rps",
                "qps",
                "tps",
                "throughput",
                "workload",
                "calls",
                "ops",
                "served",
                "rate",
                "hits",
            }
        ),
    ),
)

_HARM: dict[SeriesKind, Harm] = {
    SeriesKind.REPLICAS: Harm(up=0.0, down=1.0),
    SeriesKind.AVAILABILITY: Harm(up=0.0, down=1.0),
    SeriesKind.ERRORS: Harm(up=1.0, down=0.0),
    SeriesKind.RESTARTS: Harm(up=1.0, down=0.0),
    SeriesKind.LATENCY: Harm(up=1.0, down=0.0),
    SeriesKind.CPU: Harm(up=1.0, down=0.0),
    SeriesKind.MEMORY: Harm(up=1.0, down=0.0),
    SeriesKind.DISK: Harm(up=1.0, down=0.0),
    SeriesKind.SATURATION: Harm(up=1.0, down=0.0),
    SeriesKind.LOGS: Harm(up=1.0, down=0.0),
    # Traffic that rises is a surge (a cause where it enters); served traffic that
    # falls is users not being served.
    SeriesKind.THROUGHPUT: Harm(up=0.5, down=1.0),
    SeriesKind.NETWORK: Harm(up=0.5, down=0.5),
    SeriesKind.UNKNOWN: Harm(up=0.5, down=0.5),
}

# What a caller shows when something it calls breaks: it gets slow, fails, serves
# less, queues, or logs it. Its own CPU, memory, disk, restarts or running replicas
# are its own. A kind that cannot be told may be either.
PROPAGATING = frozenset(
    {
        SeriesKind.LATENCY,
        SeriesKind.ERRORS,
        SeriesKind.AVAILABILITY,
        SeriesKind.THROUGHPUT,
        SeriesKind.SATURATION,
        SeriesKind.NETWORK,
        SeriesKind.LOGS,
        SeriesKind.UNKNOWN,
    }
)

_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_DIGIT_WORD = re.compile(r"(?<=[0-9])(?=[a-z])|(?<=[a-z])(?=[0-9])")


def _words(name: str) -> set[str]:
    spaced = _CAMEL.sub(" ", name).lower()
    words = {w for w in _SPLIT.split(spaced) if w}
    # `lat90`, `p99`: keep the whole word and its parts (`p99` is a quantile word)
    parts = {p for w in words for p in _DIGIT_WORD.sub(" ", w).split() if p}
    return words | parts


@lru_cache(maxsize=4096)
def kind_of(metric: str) -> SeriesKind:
    """The kind of the series named `metric` (UNKNOWN when its words say nothing)."""
    words = _words(metric)
    for kind, vocabulary in _VOCABULARY:
        if words & vocabulary:
            return kind
    return SeriesKind.UNKNOWN


def harm_of(kind: SeriesKind) -> Harm:
    return _HARM[kind]
