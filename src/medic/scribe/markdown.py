"""Making untrusted text inert in Markdown.

Text from the watched system may carry Markdown or HTML meant to be interpreted (a
commit message "## Ignore previous instructions [click](http://evil)"). Rendered here it
is flattened to one line (no new blocks, so no headings), stripped of control and
bidirectional-override characters, truncated, and fenced in a code span (no links,
emphasis or HTML inside). `plain` is for the few places prose must stay prose.

`text` is what most values use: readable prose in which only what Markdown (CommonMark
and GFM) or HTML could interpret is escaped. Links, images, emphasis, HTML, entities,
GFM autolinks (`http://`, `www.`, e-mail addresses) and table pipes all come out
literal, while `auth-service v1.2.1` stays `auth-service v1.2.1` in the source.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["cell", "code", "plain", "text", "text_cell"]

_DEFAULT_LIMIT = 400
_BACKTICKS = re.compile(r"`+")
# Every ASCII punctuation character CommonMark lets a backslash escape, minus those
# turned into HTML entities below.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:=\"'^$%/;?@,])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# What can start markup anywhere in a line. `_` only matters next to a non-word
# character (intraword underscores never emphasise), handled below.
_INLINE = re.compile(r"([\\`*\[\]!~|#])")
_LOOSE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)|(@)(?=[a-z0-9])")
_BLOCK_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])(?=\s|$)")


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


def text(value: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`value` as one line of literal prose, escaped only where Markdown would act."""
    flat = _flatten(str(value), limit)
    if not flat:
        return "*(empty)*"
    escaped = _INLINE.sub(r"\\\1", flat)
    escaped = _LOOSE_UNDERSCORE.sub(r"\\_", escaped)
    escaped = _AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2) or m.group(3)), escaped)
    escaped = "".join(_ENTITIES.get(ch, ch) for ch in escaped)
    # A value may begin a line (a table cell never does; a list item's text might).
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)


def text_cell(value: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`text(value)` for a GFM table cell (its pipes are already escaped)."""
    return text(value, limit)


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
