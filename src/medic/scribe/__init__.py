"""Layer 2, the scribe: the incident's timeline and its post-mortem.

Owns building timeline entries from the loop's records and rendering the post-mortem
as Markdown, with everything that came from the watched system (alert text, log lines,
commit messages) rendered inert: escaped, fenced in code spans, unable to inject
headings, links or HTML.

Must not: change the system, or decide anything; it only writes down what happened.
"""

from medic.scribe.markdown import cell, code, plain
from medic.scribe.postmortem import build_postmortem, render_postmortem
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
    "build_postmortem",
    "cell",
    "code",
    "decided",
    "diagnosed",
    "executed",
    "merged",
    "opened",
    "plain",
    "planned",
    "render_postmortem",
    "signalled",
    "verified",
]
