"""The typed action catalog: what each action kind risks, how a human would type it, how to undo it.

The rendered command is for humans (dry runs, approvals, post-mortems). The executor
acts on the typed `Action`, never on this string, so rendering is strict about names:
a target that is not a valid Kubernetes name is refused rather than quoted into a
command someone might paste.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from medic.domain import (
    Action,
    ActionKind,
    Criterion,
    InvalidInputError,
    MetricName,
    Risk,
)

__all__ = [
    "CATALOG",
    "ActionSpec",
    "make_action",
    "recovery_criterion",
    "render_command",
    "render_note",
    "risk_of",
    "undo_of",
]

Scalar = str | int | float | bool | None

# RFC 1123 subdomain, what Kubernetes accepts for deployments, namespaces and nodes.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# Versions, tags, shas and config keys: anything else is quoted when rendered.
_PLAIN = re.compile(r"^[A-Za-z0-9._/-]+$")

_MIB = 1024 * 1024


@dataclass(frozen=True)
class ActionSpec:
    """What the catalog knows of one action kind."""

    kind: ActionKind
    risk: Risk
    summary: str
    required: tuple[str, ...] = ()  # params the action must carry
    changes_system: bool = True  # False: only proposes (a PR) or hands over (escalate)
    rollout: bool = False  # the write starts a rollout the executor waits for


CATALOG: Mapping[ActionKind, ActionSpec] = MappingProxyType(
    {
        ActionKind.ROLLOUT_UNDO: ActionSpec(
            ActionKind.ROLLOUT_UNDO,
            Risk.MEDIUM,
            "Roll the deployment back to its previous revision",
            required=("to_revision",),
            rollout=True,
        ),
        ActionKind.ROLLOUT_RESTART: ActionSpec(
            ActionKind.ROLLOUT_RESTART,
            Risk.LOW,
            "Replace every pod of the deployment, one at a time",
            rollout=True,
        ),
        ActionKind.SCALE_OUT: ActionSpec(
            ActionKind.SCALE_OUT,
            Risk.LOW,
            "Add replicas to the deployment",
            required=("replicas",),
            rollout=True,
        ),
        ActionKind.RAISE_LIMITS: ActionSpec(
            ActionKind.RAISE_LIMITS,
            Risk.MEDIUM,
            "Raise the deployment's memory limit (restarts its pods)",
            required=("limit_mb",),
            rollout=True,
        ),
        ActionKind.REVERT_CONFIG: ActionSpec(
            ActionKind.REVERT_CONFIG,
            Risk.MEDIUM,
            "Set a configuration key back to its previous value",
            required=("key",),
            rollout=True,
        ),
        ActionKind.CORDON_NODE: ActionSpec(
            ActionKind.CORDON_NODE,
            Risk.MEDIUM,
            "Stop scheduling new pods on the node",
        ),
        ActionKind.REVERT_PR: ActionSpec(
            ActionKind.REVERT_PR,
            Risk.LOW,
            "Open a pull request reverting the bad change, for review",
            required=("service", "good_version", "bad_version"),
            changes_system=False,
        ),
        ActionKind.ESCALATE: ActionSpec(
            ActionKind.ESCALATE,
            Risk.LOW,
            "Hand the evidence to a human; change nothing",
            changes_system=False,
        ),
    }
)

# How far above the pre-onset baseline a metric may sit and still count as recovered:
# a relative band plus an absolute slack, so a near-zero baseline is not a hair trigger.
_BAND = 1.25
_SLACK: Mapping[MetricName, float] = MappingProxyType(
    {
        MetricName.MEMORY_WORKING_SET_BYTES: 32.0 * _MIB,
        MetricName.MEMORY_LIMIT_BYTES: 0.0,
        MetricName.CPU_USAGE_CORES: 0.05,
        MetricName.REQUEST_RATE: 1.0,
        MetricName.ERROR_RATIO: 0.01,
        MetricName.LATENCY_P99_SECONDS: 0.05,
        MetricName.RESTARTS: 1.0,
    }
)


def risk_of(kind: ActionKind) -> Risk:
    return CATALOG[kind].risk


def make_action(
    kind: ActionKind,
    target: str,
    namespace: str,
    reason: str,
    params: Mapping[str, Scalar] | None = None,
    verification: tuple[Criterion, ...] = (),
) -> Action:
    """A catalog action with its risk, command and undo filled in; refuses missing params."""
    spec = CATALOG[kind]
    given = dict(params or {})
    missing = [p for p in spec.required if given.get(p) is None]
    if missing:
        raise InvalidInputError(f"{kind} needs params {', '.join(missing)}")
    draft = Action(
        kind=kind,
        target=target,
        namespace=namespace,
        risk=spec.risk,
        reason=reason,
        params=given,
        verification=verification,
    )
    return Action(
        kind=kind,
        target=target,
        namespace=namespace,
        risk=spec.risk,
        reason=reason,
        command=render_command(draft),
        params=given,
        verification=verification,
        undo=undo_of(draft),
    )


def render_command(action: Action) -> str:
    """The exact command a human would type for `action` ("" for escalation)."""
    kind = action.kind
    if kind is ActionKind.ESCALATE:
        return ""
    if kind is ActionKind.CORDON_NODE:
        return f"kubectl cordon {_name(action.target)}"
    if kind is ActionKind.REVERT_PR:
        good = _word(_param(action, "good_version"))
        bad = _word(_param(action, "bad_version"))
        return f"git revert --no-edit {good}..{bad}"
    deployment = _deployment(action)
    if kind is ActionKind.ROLLOUT_UNDO:
        return f"kubectl rollout undo {deployment}"
    if kind is ActionKind.ROLLOUT_RESTART:
        return f"kubectl rollout restart {deployment}"
    if kind is ActionKind.SCALE_OUT:
        return f"kubectl scale {deployment} --replicas={_int(action, 'replicas')}"
    if kind is ActionKind.RAISE_LIMITS:
        return f"kubectl set resources {deployment} --limits=memory={_int(action, 'limit_mb')}Mi"
    if kind is ActionKind.REVERT_CONFIG:
        key = _param(action, "key")
        if action.params.get("value") is None:
            # No earlier value is on record: the key did not exist before the change.
            return f"kubectl set env {deployment} {shlex.quote(f'{key}-')}"
        value = _param(action, "value")
        return f"kubectl set env {deployment} {shlex.quote(f'{key}={value}')}"
    raise InvalidInputError(f"no command for action kind {kind}")


def render_note(action: Action) -> str:
    """What the plain command leaves implicit (the target revision, the replica change)."""
    params = action.params
    if action.kind is ActionKind.ROLLOUT_UNDO:
        to_revision = _int(action, "to_revision")
        to_version = params.get("to_version")
        from_version = params.get("from_version")
        note = f"to revision {to_revision}"
        if to_version is not None:
            note += f" ({to_version})"
        if from_version is not None:
            note += f", replacing {from_version}"
        pinned = f"kubectl rollout undo {_deployment(action)} --to-revision={to_revision}"
        return f"{note}; pinned form: {pinned}"
    if action.kind is ActionKind.SCALE_OUT and params.get("from_replicas") is not None:
        return f"from {params['from_replicas']} to {params['replicas']} replicas"
    if action.kind is ActionKind.RAISE_LIMITS and params.get("from_limit_mb") is not None:
        return f"memory limit from {params['from_limit_mb']}Mi to {params['limit_mb']}Mi"
    return ""


def undo_of(action: Action) -> str:
    """How to undo `action`, for humans and for the executor's rollback."""
    kind, params = action.kind, action.params
    if kind is ActionKind.ROLLOUT_UNDO:
        if params.get("from_revision") is not None:
            return (
                f"kubectl rollout undo {_deployment(action)} "
                f"--to-revision={_int(action, 'from_revision')}"
            )
        return f"roll {action.target} forward to {params.get('from_version', 'the newer revision')}"
    if kind is ActionKind.ROLLOUT_RESTART:
        return "none needed: a restart replaces pods with identical ones"
    if kind is ActionKind.SCALE_OUT and params.get("from_replicas") is not None:
        return f"kubectl scale {_deployment(action)} --replicas={_int(action, 'from_replicas')}"
    if kind is ActionKind.RAISE_LIMITS and params.get("from_limit_mb") is not None:
        return (
            f"kubectl set resources {_deployment(action)} "
            f"--limits=memory={_int(action, 'from_limit_mb')}Mi"
        )
    if kind is ActionKind.REVERT_CONFIG and params.get("from_value") is not None:
        setting = f"{_param(action, 'key')}={params['from_value']}"
        return f"kubectl set env {_deployment(action)} {shlex.quote(setting)}"
    if kind is ActionKind.CORDON_NODE:
        return f"kubectl uncordon {_name(action.target)}"
    if kind is ActionKind.REVERT_PR:
        return "close the pull request without merging"
    return ""


def recovery_criterion(
    metric: MetricName, service: str, baseline: float, window_s: float = 600.0
) -> Criterion:
    """`metric` back within a band around its pre-onset `baseline` within `window_s`.

    Available replicas recover upwards (at least the baseline); everything else must
    come back down to at most `baseline * 1.25` plus a small per-metric slack.
    """
    if metric is MetricName.AVAILABLE_REPLICAS:
        lower = max(baseline - 0.5, 0.5)  # replica counts are whole: all of them back
        return Criterion(
            metric=metric.value,
            service=service,
            upper=None,
            lower=lower,
            window_seconds=window_s,
            description=f"{service} {metric.value} >= {lower:g} (pre-onset {baseline:g})",
        )
    upper = baseline * _BAND + _SLACK.get(metric, 0.0)
    return Criterion(
        metric=metric.value,
        service=service,
        upper=upper,
        window_seconds=window_s,
        description=(
            f"{service} {metric.value} <= {upper:.6g} "
            f"(pre-onset median {baseline:.6g} x {_BAND:g} + slack) within {window_s:g}s"
        ),
    )


def _deployment(action: Action) -> str:
    return f"deployment/{_name(action.target)} -n {_name(action.namespace)}"


def _name(value: str) -> str:
    if not _K8S_NAME.match(value):
        raise InvalidInputError(f"{value!r} is not a valid Kubernetes name")
    return value


def _word(value: str) -> str:
    return value if _PLAIN.match(value) else shlex.quote(value)


def _param(action: Action, key: str) -> str:
    value = action.params.get(key)
    if value is None:
        raise InvalidInputError(f"{action.kind} needs param {key}")
    return str(value)


def _int(action: Action, key: str) -> int:
    value = action.params.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise InvalidInputError(f"{action.kind} param {key} must be a whole number, got {value!r}")
