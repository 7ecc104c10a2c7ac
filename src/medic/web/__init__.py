"""The web UI: server-rendered pages for humans (incidents, evidence charts, approvals).

Owns: HTML rendering (every value escaped: text from the watched system is untrusted),
inline SVG charts, the login form and its signed session cookie, CSRF tokens, and the
approve/reject forms, which hand decisions to `medic.workflows.approvals.decide`.
CSS and SVG are inline; the one script is medic's own `static/console.js` (live
updates, chart hover), served by medic, never inline: no library, no CDN, it works
offline, and every page reads without it.

Must not: hold domain logic. Whether a decision is admissible is decided by
`decide` (the approval gate); this package only shows its answer.
"""

from medic.web.routes import WebContext, web_router

__all__ = ["WebContext", "web_router"]
