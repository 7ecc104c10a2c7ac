"""Which log templates changed at an incident's onset: new since it, or at a jumped rate.

Templates come from the shared miner (`analysis.logtemplates.LogPatterns`, drain3). Both
the watchdog (a `NewLogPattern` signal) and the diagnosis (evidence for a human) use
these changes. Log text is untrusted data from the watched system: a template appears
only as data, fenced, in a summary; it is never interpreted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from medic.analysis.logtemplates import LogPatterns, Template, fence
from medic.domain.cluster import LogLine
from medic.domain.model import Evidence

__all__ = ["LogPatternChange", "log_pattern_changes", "log_pattern_evidence"]


@dataclass(frozen=True)
class LogPatternChange:
    """One template of one service: its line counts before and since the onset."""

    template: Template
    before: int
    after: int
    ratio: float  # smoothed rate since the onset over the rate before it

    @property
    def new(self) -> bool:
        return self.before == 0


def log_pattern_changes(
    lines: Sequence[LogLine],
    onset: datetime,
    start: datetime,
    end: datetime,
    *,
    min_count: int = 3,
    min_ratio: float = 3.0,
    prior: float = 1.0,
    miner: LogPatterns | None = None,
) -> list[LogPatternChange]:
    """Templates that are new since `onset`, or whose rate jumped, in [start, end].

    A template counts when it has at least `min_count` lines since the onset and its
    rate ratio, (after + prior) / after-seconds over (before + prior) / before-seconds,
    is at least `min_ratio`: the prior keeps a template seen once before from looking
    like a thousandfold jump. Strongest first.
    """
    first = min((line.at for line in lines), default=onset)
    if first >= onset:
        return []  # nothing from before the onset (none read, or cut to the newest): no "new"
    # The source may have cut the window to its newest lines: "before" begins at the
    # first line it returned, not at the start asked for.
    start = max(start, first)
    miner = miner or LogPatterns()
    templates = miner.parse(line.message for line in lines)
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    by_id: dict[str, Template] = {}
    for line, template in zip(lines, templates, strict=True):
        by_id[template.id] = template
        (after if line.at >= onset else before)[template.id] += 1
    before_s = max((onset - start).total_seconds(), 1.0)
    after_s = max((end - onset).total_seconds(), 1.0)
    out = []
    for template_id, count in after.items():
        ratio = ((count + prior) / after_s) / ((before[template_id] + prior) / before_s)
        if count >= min_count and ratio >= min_ratio:
            out.append(LogPatternChange(by_id[template_id], before[template_id], count, ratio))
    return sorted(out, key=lambda c: (-c.ratio, -c.after, c.template.id))


def log_pattern_evidence(namespace: str, service: str, change: LogPatternChange) -> Evidence:
    """The change as citable evidence; the template is untrusted text, fenced."""
    what = "New log pattern" if change.new else "Log pattern rate jumped"
    summary = (
        f"{what} in {service}: {change.after} lines since the onset, {change.before} before "
        f"(rate x{change.ratio:.1f}); template (untrusted log text): {fence(change.template.text)}"
    )
    return Evidence(
        id=f"logs:{service}:{change.template.id}",
        source="logs",
        query=f"log templates of {namespace}/{service} (template {change.template.id})",
        summary=summary,
        data={
            "template_id": change.template.id,
            "template_untrusted": change.template.text[:500],
            "before": change.before,
            "after": change.after,
            "rate_ratio": round(change.ratio, 2),
            "new": change.new,
        },
    )
