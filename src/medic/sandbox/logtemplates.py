"""Log templates every pod writes: routine warnings and failed calls to dependencies.

A caller's failed calls are logged the way Go's net/http client reports them
(`dial tcp ...: connect: connection refused`, `x509: certificate has expired`), a few
lines per step, with the count: logs agree with the error ratio the metrics show.
"""

from __future__ import annotations

from medic.sandbox.edges import Edge
from medic.sandbox.faultlogs import ip_of
from medic.sandbox.faultview import PodView
from medic.sandbox.noise import uniform

__all__ = ["call_lines", "routine_lines"]

Lines = list[tuple[str, str]]

# (chance per pod and step, level, template): background noise of a healthy service.
_ROUTINE = (
    (0.02, "warning", "slow request: GET /api/v1/health took {ms}ms (threshold 200ms)"),
    (0.015, "warning", "retrying request to upstream (attempt 2/3): context deadline exceeded"),
    (0.01, "warning", "cache miss ratio {pct}% above target 20% over the last minute"),
    (0.01, "info", "config reloaded: 0 changes"),
    (0.008, "warning", "client closed connection before response was written"),
)


def routine_lines(pod: PodView) -> Lines:
    out: Lines = []
    for i, (chance, level, template) in enumerate(_ROUTINE):
        draw = uniform(pod.seed, "routine", pod.pod, pod.step, i)
        if draw < chance:
            ms = 200 + int(draw / chance * 300)
            out.append((level, template.format(ms=ms, pct=21 + int(draw / chance * 9))))
    return out


def call_lines(pod: PodView, edges: tuple[tuple[str, Edge], ...]) -> Lines:
    out: Lines = []
    for callee, e in edges:
        calls = round(pod.rps * 15)
        address = ip_of(pod.seed, callee)
        if e.refused > 0:
            failed = max(1, round(calls * e.refused))
            out.append(
                (
                    "error",
                    f'call to {callee} failed: Post "http://{callee}:8080/v1/rpc": dial tcp '
                    f"{address}:8080: connect: connection refused ({failed} failed calls)",
                )
            )
        if e.tls > 0:
            failed = max(1, round(calls * e.tls))
            out.append(
                (
                    "error",
                    f'call to {callee} failed: Post "https://{callee}:8443/v1/rpc": tls: '
                    "failed to verify certificate: x509: certificate has expired or is not "
                    f"yet valid ({failed} failed calls)",
                )
            )
        if e.added_ms > 0 and uniform(pod.seed, "slowcall", pod.pod, pod.step, callee) < 0.4:
            out.append(
                (
                    "warning",
                    f"slow call to {callee}: {e.added_ms:.0f}ms over its usual latency",
                )
            )
    return out
