"""Layer 2, the scribe: the incident's timeline and its post-mortem.

Owns building timeline entries from the loop's records, rendering the post-mortem as
Markdown with SVG charts (values with units, durations in wall time), writing it to the
post-mortem folder and publishing it through `DocStore`s. Everything that came from
the watched system (alert text, log lines, commit messages, labels) is rendered inert:
escaped where Markdown or HTML would act, unable to add headings, links or markup.

Must not: change the system, or decide anything; it only writes down what happened.
"""

from medic.scribe.markdown import cell, code, plain, text
from medic.scribe.postmortem import Rendered, build_postmortem, render_postmortem
from medic.scribe.publish import IncidentRecords, Published, Scribe, gather
from medic.scribe.record import PostmortemRecord, Slo
from medic.scribe.timeline import (
    decided,
    diagnosed,
    executed,
    merged,
    opened,
    planned,
    signalled,
    verified,
)

__all__ = [
    "IncidentRecords",
    "PostmortemRecord",
    "Published",
    "Rendered",
    "Scribe",
    "Slo",
    "build_postmortem",
    "cell",
    "code",
    "decided",
    "diagnosed",
    "executed",
    "gather",
    "merged",
    "opened",
    "plain",
    "planned",
    "render_postmortem",
    "signalled",
    "text",
    "verified",
]
