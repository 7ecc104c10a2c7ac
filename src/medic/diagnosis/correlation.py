"""Change correlation: which deploy or config change, if any, started the trouble.

A change is held responsible only when its own service went anomalous and the
change landed shortly *before* that service's onset. A change to a service whose
metrics stayed healthy, or one that landed after the trouble had begun, is
rejected, and the rejection says why: an SRE reading the diagnosis should see that
the distractor was considered, not overlooked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.diagnosis.anomaly import ANOMALY_Z, ServiceAnomaly
from medic.domain.model import Change, ChangeKind

__all__ = ["BLAME_WINDOW_S", "Culprit", "change_label", "correlate"]

# A change is held responsible for an onset at most this long after it.
BLAME_WINDOW_S = 30 * 60.0
# Onsets are estimates from noisy data: a change up to this much after the
# estimated onset may still be the one that started it.
_ONSET_UNCERTAINTY_S = 180.0


# "config KEY=VALUE", "set KEY=VALUE": the key a config change set.
_CONFIG_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]{0,100})=")


@dataclass(frozen=True)
class Culprit:
    change: Change
    evidence_id: str
    seconds_before_onset: float  # negative within the onset's uncertainty


def change_label(change: Change) -> str:
    """What the change introduced: the config key of a config change, else the version
    (or, failing both, the description)."""
    if change.kind is ChangeKind.CONFIG_CHANGE:
        found = _CONFIG_KEY.search(change.description)
        if found:
            return found.group(1)
    return change.version or change.description or change.kind.value


def correlate(
    changes: Sequence[tuple[str, Change]],
    anomalies: Mapping[str, ServiceAnomaly],
    now: datetime,
) -> tuple[dict[str, Culprit], list[str]]:
    """The change to blame per service, and a reason for every change not blamed."""
    culprits: dict[str, Culprit] = {}
    rejected: list[str] = []
    for evidence_id, change in changes:
        if change.kind is ChangeKind.SCALE:
            continue  # scaling is an operator's response, not a cause we can revert
        anomaly = anomalies.get(change.service)
        what = _describe(change, now)
        if anomaly is None or not anomaly.anomalous or anomaly.worst is None:
            rejected.append(f"{what} rejected: {_healthy(change.service, anomaly)}")
            continue
        onset = datetime.fromtimestamp(anomaly.worst.onset, tz=UTC)
        gap = (onset - change.at).total_seconds()
        if gap < -_ONSET_UNCERTAINTY_S:
            rejected.append(
                f"{what} rejected: it landed {-gap / 60:.0f} min after {change.service}'s "
                f"trouble began at {onset:%H:%M} UTC, so it cannot have caused it"
            )
        elif gap > BLAME_WINDOW_S:
            rejected.append(
                f"{what} rejected: it landed {gap / 60:.0f} min before {change.service}'s "
                f"onset at {onset:%H:%M} UTC, longer than the {BLAME_WINDOW_S / 60:.0f} min "
                "a change is held responsible for"
            )
        else:
            previous = culprits.get(change.service)
            if previous is not None:
                rejected.append(
                    f"{_describe(previous.change, now)} rejected: a later change "
                    f"({change_label(change)}) is closer to the onset"
                )
            culprits[change.service] = Culprit(change, evidence_id, gap)
    return culprits, rejected


def _describe(change: Change, now: datetime) -> str:
    ago = (now - change.at).total_seconds() / 60
    kind = "deploy" if change.kind is ChangeKind.DEPLOY else change.kind.value.replace("_", " ")
    return (
        f"{kind} of {change.service} {change_label(change)} "
        f"at {change.at:%H:%M} UTC ({ago:.0f} min ago)"
    )


def _healthy(service: str, anomaly: ServiceAnomaly | None) -> str:
    if anomaly is None or anomaly.worst is None:
        return f"no metrics of {service} moved (or none could be read)"
    worst = anomaly.worst
    return (
        f"{service}'s own metrics stayed healthy after it "
        f"(largest deviation: {worst.metric} at {worst.score:.1f} robust sigmas, "
        f"below the {ANOMALY_Z:g} that counts as anomalous)"
    )
