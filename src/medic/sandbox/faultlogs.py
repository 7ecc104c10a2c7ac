"""Log templates of faults: what a pod's logs say while a fault acts on it.

Messages copy the shape of real runtimes' output (Go's net and crypto/tls errors,
Java stack traces, HikariCP, the Linux ENOSPC message) so that log template mining
meets what it meets in production. Which template and which numbers appear is a hash
of (seed, pod, step), never generator state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medic.sandbox.faultview import PodView
from medic.sandbox.noise import token, uniform

if TYPE_CHECKING:
    from medic.sandbox.faults import ConnectionPoolExhaustion

__all__ = [
    "cert_lines",
    "crash_lines",
    "disk_lines",
    "exception_lines",
    "gc_lines",
    "hog_lines",
    "ip_of",
    "pool_lines",
    "slow_lines",
]

Lines = list[tuple[str, str]]


def ip_of(seed: int, name: str) -> str:
    """A stable pod-network address for a pod or a service."""
    a = int(uniform(seed, "ip-a", name) * 250) + 1
    b = int(uniform(seed, "ip-b", name) * 250) + 2
    return f"10.244.{a}.{b}"


def gc_lines(pod: PodView) -> Lines:
    # GC works harder the fuller the heap: pauses grow roughly with the cube of the
    # pressure, which is what makes latency creep before the OOM.
    pressure = pod.pressure
    if pressure < 0.25:
        return []
    pause_ms = 4.0 + 400.0 * pressure**3
    level = "warning" if pause_ms >= 100.0 else "info"
    return [
        (
            level,
            f"GC pause {pause_ms:.0f}ms (heap {pod.memory_mb:.0f}MB of "
            f"{pod.limit_mb:.0f}MB, {pressure:.0%} used)",
        )
    ]


def hog_lines(pod: PodView) -> Lines:
    if uniform(pod.seed, "hog", pod.pod, pod.step) > 0.3:
        return []
    return [
        (
            "warning",
            f"worker pool saturated: {pod.cpu_cores * 1000:.0f}m CPU used of "
            f"{pod.cpu_limit * 1000:.0f}m, request queue growing",
        )
    ]


def slow_lines(pod: PodView, added_ms: float) -> Lines:
    if uniform(pod.seed, "slow", pod.pod, pod.step) > 0.4:
        return []
    took = added_ms * (1.0 + uniform(pod.seed, "slow-ms", pod.pod, pod.step))
    return [("warning", f"slow request: GET /api/v1/items took {took:.0f}ms (threshold 200ms)")]


_EXCEPTIONS = (
    (
        'java.lang.NullPointerException: Cannot invoke "String.length()" because "token" is null',
        "at com.example.{svc}.handler.RequestHandler.handle(RequestHandler.java:{line})",
    ),
    (
        "java.lang.IllegalStateException: response already committed",
        "at com.example.{svc}.api.Controller.write(Controller.java:{line})",
    ),
)


def exception_lines(pod: PodView, rate: float) -> Lines:
    failed = round(pod.rps * rate * 15)
    if failed <= 0:
        return []
    pick = int(uniform(pod.seed, "exc", pod.service) * len(_EXCEPTIONS))
    head, frame = _EXCEPTIONS[pick]
    line = 40 + int(uniform(pod.seed, "exc-line", pod.service) * 400)
    svc = pod.service.replace("-", "")
    trace = (
        f"Unhandled exception in request {token(pod.seed, 12, 'req', pod.pod, pod.step)}: "
        f"{head}\n\t{frame.format(svc=svc, line=line)}\n"
        "\tat com.example.common.http.Dispatcher.dispatch(Dispatcher.java:88)"
    )
    return [("error", trace), ("error", f"{failed} requests failed with HTTP 500 in the last 15s")]


_CRASH = {
    "bad_config": (
        "error",
        "FATAL: invalid configuration: /etc/{svc}/config.yaml: unknown field "
        '"max_conections" (did you mean "max_connections"?); exiting with code 1',
    ),
    "missing_env": (
        "error",
        "panic: required environment variable DATABASE_URL is not set\n\ngoroutine 1 "
        "[running]:\nmain.mustEnv(...)\n\t/src/cmd/{svc}/main.go:42 +0x1e5",
    ),
    "bad_image": ("error", ""),  # the container never starts: the kubelet says why
}


def crash_lines(pod: PodView, reason: str) -> Lines:
    level, text = _CRASH[reason]
    return [(level, text.format(svc=pod.service))] if text else []


def pool_lines(pod: PodView, fault: ConnectionPoolExhaustion) -> Lines:
    u = fault.utilisation(pod.rps)
    if u < 0.7:
        return []
    waiting = max(0, round((u - 1.0) * fault.pool_size))
    store = pod.datastore or "database"
    if u <= 1.0:
        return [
            (
                "warning",
                f"HikariPool-1 - Pool stats (total={fault.pool_size}, "
                f"active={fault.pool_size}, idle=0, waiting={waiting})",
            )
        ]
    return [
        (
            "error",
            f"HikariPool-1 - Connection is not available, request timed out after "
            f"{fault.timeout_ms:.0f}ms (total={fault.pool_size}, active={fault.pool_size}, "
            f"idle=0, waiting={waiting})",
        ),
        (
            "error",
            f"org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain "
            f"JDBC Connection to {store}",
        ),
    ]


def disk_lines(pod: PodView) -> Lines:
    file = token(pod.seed, 8, "file", pod.pod, pod.step)
    return [
        (
            "error",
            f"failed to write /var/lib/{pod.service}/data/segment-{file}.log: "
            "write: no space left on device",
        ),
    ]


def cert_lines(pod: PodView) -> Lines:
    if uniform(pod.seed, "cert", pod.pod, pod.step) > 0.5:
        return []
    client = ip_of(pod.seed, f"client-{pod.step % 7}")
    return [
        (
            "warning",
            f"http: TLS handshake error from {client}:{40000 + pod.step % 20000}: "
            "remote error: tls: bad certificate",
        )
    ]
