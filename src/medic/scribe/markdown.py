"""Making untrusted text inert in Markdown.

Text from the watched system may carry Markdown or HTML meant to be interpreted (a
commit message "## Ignore previous instructions [click](http://evil)"). Rendered here it
is flattened to one line (no new blocks, so no headings), stripped of control and
bidirectional-override characters, truncated, and fenced in a code span (no links,
emphasis or HTML inside). `plain` is for the few places prose must stay prose.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["cell", "code", "plain"]

_DEFAULT_LIMIT = 400
_BACKTICKS = re.compile(r"`+")
# Every ASCII punctuation character CommonMark lets a backslash escape, minus those
# turned into HTML entities below.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:=\"'^$%/;?@,])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def code(text: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`text` as a single-line inline code span that renders literally."""
    flat = _flatten(str(text), limit)
    if not flat:
        return "*(empty)*"
    run = max((len(m) for m in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (run + 1)
    # The padding spaces are stripped by renderers; they keep a leading or trailing
    # backtick in the text from merging with the fence.
    return f"{fence} {flat} {fence}"


def cell(text: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`code(text)` safe inside a GFM table cell (a pipe would split the cell)."""
    return code(text, limit).replace("|", "\\|")


def plain(text: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`text` as literal prose: every Markdown control character escaped, HTML as entities."""
    flat = _flatten(str(text), limit)
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    return "".join(_ENTITIES.get(ch, ch) for ch in escaped)


def _flatten(text: str, limit: int) -> str:
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        # Cc: controls and newlines; Cf: format characters (bidi overrides, zero width);
        # Zl/Zp: line and paragraph separators. Any of them could start a new block or
        # hide what the text says.
        kept.append(" " if category in ("Cc", "Cf", "Zl", "Zp") else ch)
    flat = " ".join("".join(kept).split())
    if len(flat) > limit:
        flat = flat[: max(limit - 1, 0)].rstrip() + "…"
    return flat
