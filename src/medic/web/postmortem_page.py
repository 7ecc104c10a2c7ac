"""The post-mortem page: the Markdown rendered as HTML, its charts inline.

Rendered with markdown-it-py with raw HTML disabled, so the document can only produce
the markup CommonMark (plus tables) makes from it, and markdown-it's link validation
refuses `javascript:` and similar targets. An image becomes the chart it names (an SVG
medic drew, its text escaped when drawn) or, for any other target, only its alt text:
the page loads nothing from anywhere. The appendix is collapsed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from posixpath import basename

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from medic.domain import Incident, Postmortem
from medic.web.html import Markup, esc

__all__ = ["render_postmortem_html", "render_postmortem_page"]

_APPENDIX = "<h2>Appendix</h2>"
_CSS = (
    "<style>.postmortem table{border-collapse:collapse;margin:.5em 0}"
    ".postmortem td,.postmortem th{border:1px solid #d1d5db;padding:.25em .5em;"
    "vertical-align:top;overflow-wrap:break-word}"
    # Words are never broken mid-word; the time and the first columns stay on one line.
    ".postmortem td:first-child{white-space:nowrap}"
    ".postmortem figure{margin:1em 0}.postmortem svg{max-width:100%;height:auto}"
    ".postmortem details{margin-top:1.5em}.postmortem summary{cursor:pointer;font-weight:bold}"
    "</style>"
)


def render_postmortem_html(markdown: str, charts: Mapping[str, str]) -> str:
    """`markdown` as HTML; `charts` (file name -> SVG) replace the images naming them."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

    def image(
        self: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        svg = charts.get(basename(str(token.attrGet("src") or "")))
        if svg is None:
            return f'<span class="muted">[image: {esc(alt)}]</span>'
        return f'<figure role="group" aria-label="{esc(alt)}">{svg}</figure>'

    md.add_render_rule("image", image)
    html = str(md.render(markdown))
    head, found, rest = html.partition(_APPENDIX)
    if not found:
        return html
    return (
        f"{head}<details><summary>Appendix: the other evidence, hypotheses and "
        f"verification details</summary>{rest}</details>"
    )


def render_postmortem_page(incident: Incident, postmortem: Postmortem) -> Markup:
    where = (
        f'<p class="muted">file: <code>{esc(postmortem.path)}</code></p>' if postmortem.path else ""
    )
    links = "".join(
        f'<li>{esc(name)}: <a href="{esc(url)}">{esc(url)}</a></li>'
        for name, url in sorted(postmortem.links.items())
        if url.startswith(("https://", "http://"))
    )
    published = f'<ul class="muted">{links}</ul>' if links else ""
    body = render_postmortem_html(postmortem.markdown, postmortem.charts)
    return Markup(
        f'<p><a href="/ui/incidents/{esc(incident.id)}">← {esc(incident.title)}</a></p>'
        f"{where}{published}{_CSS}"
        f'<article class="card postmortem">{body}</article>'
    )
