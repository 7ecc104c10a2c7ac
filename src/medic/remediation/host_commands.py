"""What a human runs on hosts (machines scraped by node_exporter, services run by systemd)
in place of the `kubectl` command of an action: the same intent, shaped for a host.

medic knows a host by its scrape address, not which process or unit misbehaves, so
each command first shows the culprit (the biggest, the busiest process, with the
systemd unit it belongs to; the fullest filesystem and what fills it) and then the
fix a human completes with what they saw (`UNIT`). The commands are for pasting
into a terminal: every host name is checked against what a DNS name or an IP address
may contain (labels are untrusted text), and one that is not is left as `HOST`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from medic.domain import Action, ActionKind

__all__ = ["host_command", "triage_command"]

# A DNS name, an IPv4 address, or a bracketed IPv6 address, without a port.
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")
_MAX_HOSTS = 5
# A version, a config key or a service name shown in a comment: nothing that ends it.
_WORD = re.compile(r"^[A-Za-z0-9._/:@+-]{1,200}$")

_BIGGEST = "ps -eo pid,rss,unit,args --sort=-rss | head -6"
_BUSIEST = "ps -eo pid,pcpu,unit,args --sort=-pcpu | head -6"
_DISKS = (
    "df -h -x tmpfs -x devtmpfs -x overlay; "
    "sudo du -xh --max-depth=2 / 2>/dev/null | sort -h | tail -15"
)
_GENERAL = (
    "uptime; free -m; df -h -x tmpfs -x devtmpfs; "
    "journalctl -p err --since -30min --no-pager | tail -50"
)
# What a fault's escalation shows first, when no action of the catalogue fits.
_TRIAGE = {
    "disk_full": _DISKS + "; sudo journalctl --disk-usage",
    "memory_leak": _BIGGEST,
    "cpu_hog": _BUSIEST,
    "traffic_surge": _BUSIEST,
    "crashloop": "systemctl --failed; journalctl -p err --since -30min --no-pager | tail -50",
}


def _word(value: object, placeholder: str) -> str:
    text = str(value) if value is not None else ""
    return text if _WORD.match(text) else placeholder


def _on(hosts: Sequence[str], command: str) -> str:
    """`command` run over ssh on each host (one host: a plain `ssh`)."""
    names = [h for h in hosts if _HOST.match(h)][:_MAX_HOSTS] or ["HOST"]
    remote = shlex.quote(command)
    if len(names) == 1:
        return f"ssh {names[0]} {remote}"
    return f'for h in {" ".join(names)}; do echo "== $h"; ssh "$h" {remote}; done'


def triage_command(fault: str | None, hosts: Sequence[str]) -> str:
    """What to look at first on the hosts for `fault` (a general look when unknown)."""
    return _on(hosts, _TRIAGE.get(fault or "", _GENERAL))


def host_command(action: Action, fault: str | None, hosts: Sequence[str]) -> str:
    """The host-shaped counterpart of `action`'s command (unchanged for a pull request,
    which is about code, not where it runs)."""
    kind = action.kind
    if kind is ActionKind.REVERT_PR:
        return action.command
    if kind is ActionKind.ROLLOUT_RESTART:
        look = _BIGGEST if fault == "memory_leak" else _BUSIEST
        return f"{_on(hosts, look)}  # then, with the UNIT it shows: " + _on(
            hosts, "sudo systemctl restart UNIT"
        )
    if kind is ActionKind.RAISE_LIMITS:
        limit = action.params.get("limit_mb")
        memory = f"{limit}M" if isinstance(limit, int) else "SIZE"
        return f"{_on(hosts, _BIGGEST)}  # then: " + _on(
            hosts, f"sudo systemctl set-property UNIT MemoryMax={memory}"
        )
    if kind is ActionKind.SCALE_OUT:
        return (
            f"{_on(hosts, _BUSIEST)}  # then add a host like these behind the load balancer, "
            "or move the busiest unit elsewhere"
        )
    if kind is ActionKind.ROLLOUT_UNDO:
        version = _word(action.params.get("to_version"), "PREVIOUS")
        return (
            f"{_on(hosts, 'systemctl list-units --type=service --state=running')}  # then "
            f"redeploy version {version} of {_word(action.target, 'the service')} with your "
            "deploy tool"
        )
    if kind is ActionKind.REVERT_CONFIG:
        key = _word(action.params.get("key"), "the setting")
        return (
            f"{_on(hosts, 'systemctl show UNIT -p Environment -p EnvironmentFiles')}  # then "
            f"restore {key} in the unit's environment and: "
            + _on(hosts, "sudo systemctl restart UNIT")
        )
    if kind is ActionKind.CORDON_NODE:
        names = " ".join(h for h in hosts if _HOST.match(h)) or _word(action.target, "HOST")
        return f"take {names} out of its load balancer's pool"
    return triage_command(fault, hosts)
