"""HTML building blocks: escaping, the page shell with its inline stylesheet, tables.

Every helper escapes what it is given; callers pass raw values and `Markup` only for
fragments this package built itself.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

__all__ = ["Markup", "badge", "esc", "page", "table", "when"]


class Markup(str):
    """A fragment of HTML built here from escaped parts: safe to insert as is."""

    __slots__ = ()


def esc(value: object) -> Markup:
    """The value as HTML text; `Markup` passes through, everything else is escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def when(at: datetime | None) -> Markup:
    if at is None:
        return Markup("—")
    return esc(at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


_STATE_COLOURS = {
    "awaiting_approval": "warn",
    "resolved": "ok",
    "self_resolved": "ok",
    "closed": "ok",
    "approved": "ok",
    "succeeded": "ok",
    "already_applied": "ok",
    "recovered": "ok",
    "escalated": "bad",
    "rejected": "bad",
    "failed": "bad",
    "not_recovered": "bad",
    "expired": "bad",
    "inconclusive": "warn",
    "high": "bad",
    "medium": "warn",
    "low": "ok",
    "critical": "bad",
    "warning": "warn",
}


def badge(value: str) -> Markup:
    colour = _STATE_COLOURS.get(value, "info")
    return Markup(f'<span class="badge {colour}">{esc(value.replace("_", " "))}</span>')


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> Markup:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return Markup('<p class="muted">none</p>')
    return Markup(
        f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


_CSS = """
:root{--fg:#1d2330;--muted:#5d6675;--line:#dde2ea;--bg:#f5f7fa;--card:#fff;--accent:#2357c6;
--ok:#1d7a46;--okbg:#e3f4ea;--warn:#8a5a00;--warnbg:#fff1d6;--bad:#a4262c;--badbg:#fde7e9;
--info:#35507a;--infobg:#e8eef8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
header.top{background:#1d2330;color:#fff;padding:.6rem 1.5rem;display:flex;align-items:center;
gap:1.5rem}
header.top a{color:#fff;text-decoration:none;font-weight:600}
header.top .who{margin-left:auto;font-size:.9rem;opacity:.85;display:flex;gap:.8rem;
align-items:center}
header.top form{margin:0}
main{max-width:1280px;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h1{font-size:1.45rem;margin:.4rem 0}
h2{font-size:1.1rem;margin:0 0 .6rem}
h3{font-size:.98rem;margin:.9rem 0 .3rem}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:1rem 1.2rem;margin:1rem 0}
.muted{color:var(--muted)}
.meta{display:flex;flex-wrap:wrap;gap:.4rem 1.4rem;color:var(--muted);font-size:.92rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);
vertical-align:top}
th{color:var(--muted);font-weight:600;white-space:nowrap}
td{overflow-wrap:break-word;word-break:normal;hyphens:none}
td.nowrap,td.id{white-space:nowrap}
tr:hover td{background:#fafbfd}
a{color:var(--accent)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86rem}
pre{background:#f0f3f7;border:1px solid var(--line);border-radius:6px;padding:.55rem .7rem;
white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
pre.cmd{background:#1d2330;color:#e8edf5;border-color:#1d2330}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;
font-weight:600;white-space:nowrap}
.badge.ok{color:var(--ok);background:var(--okbg)}.badge.warn{color:var(--warn);
background:var(--warnbg)}
.badge.bad{color:var(--bad);background:var(--badbg)}.badge.info{color:var(--info);
background:var(--infobg)}
.flash{padding:.6rem .9rem;border-radius:6px;margin:1rem 0;font-weight:500}
.flash.ok{background:var(--okbg);color:var(--ok)}.flash.bad{background:var(--badbg);
color:var(--bad)}
section.decide{border:2px solid #e0a526;background:#fffaf0}
.decide form{display:inline-flex;gap:.5rem;align-items:flex-start;margin:.4rem 1rem .2rem 0;
flex-wrap:wrap}
button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:.45rem 1.1rem;
cursor:pointer}
button.approve{background:var(--ok);color:#fff}button.reject{background:var(--bad);color:#fff}
button.plain{background:transparent;color:#fff;border:1px solid #fff6;padding:.2rem .7rem;
font-weight:500}
input[type=text],input[type=password],textarea{font:inherit;padding:.4rem .55rem;
border:1px solid #b9c1cd;border-radius:6px}
textarea{width:22rem;height:2.3rem}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:.8rem}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:.4rem .5rem;
background:#fff}
figcaption{font-size:.85rem;color:var(--muted);margin-bottom:.2rem}
figcaption b{color:var(--fg)}
svg.chart{width:100%;height:auto;display:block}
details summary{cursor:pointer;color:var(--accent);margin:.4rem 0}
.hash{font-family:ui-monospace,monospace;font-size:.85rem;overflow-wrap:anywhere}
.login{max-width:26rem;margin:4rem auto}
.login input{width:100%;margin:.3rem 0 .8rem}
table.evidence td:nth-child(-n+2){white-space:nowrap}
table.evidence code{font-size:.78rem;color:var(--muted)}
ol.hyp{margin:.2rem 0;padding-left:1.3rem}ol.hyp li{margin:.3rem 0}
header.top nav{display:flex;gap:1.1rem}
header.top nav a{font-weight:500;opacity:.9;padding:.15rem .2rem;border-radius:4px}
header.top nav a[aria-current=page]{opacity:1;border-bottom:2px solid #fff}
a:focus-visible,button:focus-visible,select:focus-visible,input:focus-visible,
textarea:focus-visible,summary:focus-visible,figure.panel:focus-visible{
outline:3px solid #f5b400;outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end;margin:0 0 .6rem}
.filters label{display:flex;flex-direction:column;font-size:.82rem;color:var(--muted)}
select,input[type=search]{font:inherit;padding:.35rem .5rem;border:1px solid #b9c1cd;
border-radius:6px;background:#fff;min-width:9rem}
button.primary,a.button{background:var(--accent);color:#fff;text-decoration:none;
border-radius:6px;padding:.45rem 1.1rem;font-weight:600;display:inline-block}
table.incidents td.id a{font-family:ui-monospace,monospace;font-size:.85rem}
table.timeline{table-layout:fixed}
table.timeline th:nth-child(1){width:12.5rem}table.timeline th:nth-child(2){width:7rem}
table.timeline th:nth-child(3){width:8rem}table.timeline td:nth-child(1){white-space:nowrap}
section.decided{border:2px solid var(--line)}
section.decided[data-state=resolved]{border-color:var(--ok);background:#f3fbf6}
section.decided[data-state=escalated],section.decided[data-state=rejected]{
border-color:var(--bad);background:#fff7f7}
section.decided[data-state=executing],section.decided[data-state=verifying]{
border-color:var(--accent);background:#f5f8ff}
.banner{font-size:1rem}
figure.panel{position:relative}
figure.panel .tip{position:absolute;top:2rem;pointer-events:none;background:#1d2330;
color:#fff;font-size:.8rem;padding:.2rem .45rem;border-radius:4px;white-space:nowrap;
display:none}
figure.panel .tip.on{display:block}
.spinner{display:inline-block;width:.8rem;height:.8rem;border:2px solid var(--accent);
border-right-color:transparent;border-radius:50%;animation:spin 1s linear infinite;
vertical-align:-1px}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spinner{animation:none}}
pre.policy{max-height:28rem;overflow:auto}
ul.legend{list-style:none;margin:.2rem 0 0;padding:0;display:flex;flex-wrap:wrap;
gap:.1rem 1rem;font-size:.8rem;color:var(--muted)}
ul.legend .swatch{display:inline-block;width:.7rem;height:.18rem;margin-right:.3rem;
vertical-align:middle}
"""


def page(title: str, body: Markup, user: str | None = None, logout_csrf: str = "") -> str:
    """A whole HTML document; `body` is already-built markup."""
    who = ""
    if user is not None:
        who = (
            f'<span class="who">signed in as <b>{esc(user)}</b>'
            f'<form method="post" action="/ui/logout"><input type="hidden" name="csrf" '
            f'value="{esc(logout_csrf)}"><button class="plain">Sign out</button></form></span>'
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)} · medic</title><style>{_CSS}</style></head><body>"
        f'<header class="top"><a href="/ui">medic</a><nav aria-label="console">'
        '<a href="/ui">Incidents</a><a href="/ui/audit">Audit log</a>'
        f'<a href="/ui/control">Policy and kill switch</a></nav>{who}</header>'
        f"<main>{body}</main>"
        # medic's own script, never inline: the page reads fully without it.
        '<script src="/ui/static/console.js" defer></script></body></html>'
    )
