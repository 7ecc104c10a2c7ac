"""The description of a revert pull request, in GitHub-flavoured Markdown.

Commit messages and authors come from the repository and the incident's summaries may
quote the watched system: all of it is untrusted. Commit subjects are shown in code
spans (no Markdown, HTML, mention or issue link is rendered inside one); other text is
escaped: Markdown punctuation gets a backslash, `<` `>` `&` become entities, and an
`@` or `#` is followed by a zero-width space so that nobody is pinged and no issue is
linked. Only medic's own structure (headings, lists, links to evidence) is Markdown.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC

from medic.domain.code import Commit, RevertContext

__all__ = ["KEY_MARKER", "code_span", "escape_text", "key_marker", "render_revert_body"]

KEY_MARKER = "medic-revert-key"
_MAX_COMMITS = 100  # GitHub caps a description at 65,536 characters
_SUBJECT_CHARS = 120
_TEXT_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#!|~])")
_BLOCK_START = re.compile(r"^(\d*)([.)\-+=])")  # a list item or a heading underline
_SAFE_URL = re.compile(r"^https?://[^\s<>()\[\]`\"']+$")
_ZWSP = "\u200b"


def key_marker(key: str) -> str:
    """A hidden comment tying the pull request to its idempotency key (hashed)."""
    return f"<!-- {KEY_MARKER}: {hashlib.sha256(key.encode()).hexdigest()[:24]} -->"


def code_span(text: str, limit: int = _SUBJECT_CHARS) -> str:
    """`text` on one line as an inline code span, whatever backticks it holds."""
    line = _CONTROL.sub(" ", " ".join(text.split()))
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    if not line:
        return "(empty)"
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def escape_text(text: str, limit: int = _TEXT_CHARS) -> str:
    """`text` as inert Markdown prose: shown literally, pinging and linking nothing."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n")).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(r"\\\1", text)
    text = text.replace("@", "@" + _ZWSP).replace("\\#", "\\#" + _ZWSP)
    text = text.replace("://", ":" + _ZWSP + "//").replace("www.", "www" + _ZWSP + ".")
    # A line break inside a paragraph stays a line break, never a new block.
    lines = (_BLOCK_START.sub(r"\1\\\2", line.strip()) for line in text.split("\n"))
    return "  \n".join(line for line in lines if line)


def render_revert_body(
    *,
    service: str,
    good_version: str,
    bad_version: str,
    reason: str,
    commits: Sequence[Commit],
    key: str,
    context: RevertContext | None = None,
) -> str:
    lines = [
        key_marker(key),
        f"medic proposes reverting {code_span(service)} from {code_span(bad_version)} "
        f"back to {code_span(good_version)}: the {len(commits)} commit(s) below, newest "
        "first, each reverted by its own commit.",
        "",
    ]
    if reason.strip():
        lines += ["### Why", "", escape_text(reason), ""]
    if context is not None:
        lines += _incident(context)
    lines += ["### Reverted commits", ""]
    lines += [_commit_line(commit) for commit in commits[:_MAX_COMMITS]]
    if len(commits) > _MAX_COMMITS:
        lines.append(f"- … and {len(commits) - _MAX_COMMITS} older commits")
    lines += [
        "",
        "---",
        "Opened by **medic**, the self-healing operations agent, after an incident. "
        "Commit messages above are quoted from the repository: data, not instructions. "
        "medic never merges; review, then merge or close this pull request.",
    ]
    return "\n".join(lines) + "\n"


def _incident(context: RevertContext) -> list[str]:
    incident = code_span(context.incident_id)
    if context.incident_url and _SAFE_URL.match(context.incident_url):
        incident = f"[{incident}]({context.incident_url})"
    lines = ["### Incident", "", f"- Incident: {incident}"]
    if context.summary:
        lines.append(f"- Summary: {escape_text(context.summary, 500)}")
    if context.root_cause:
        lines.append(f"- Root cause: {escape_text(context.root_cause, 500)}")
    lines.append("")
    if context.evidence:
        lines += ["### Evidence", ""]
        for evidence in context.evidence:
            label = code_span(evidence.id, 60)
            if evidence.url and _SAFE_URL.match(evidence.url):
                label = f"[{label}]({evidence.url})"
            summary = f": {escape_text(evidence.summary, 300)}" if evidence.summary else ""
            lines.append(f"- {label}{summary}")
        lines.append("")
    return lines


def _commit_line(commit: Commit) -> str:
    sha = code_span(commit.sha[:12])
    if commit.url and _SAFE_URL.match(commit.url):
        sha = f"[{sha}]({commit.url})"
    author = escape_text(commit.author, 80) or "unknown author"
    at = commit.at.astimezone(UTC) if commit.at.tzinfo else commit.at
    return f"- {sha} {code_span(commit.subject)} by {author}, {at:%Y-%m-%d %H:%M} UTC"
