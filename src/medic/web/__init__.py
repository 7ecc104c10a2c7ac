"""The web UI: server-rendered pages for humans (incidents, evidence charts, approvals).

Owns: HTML rendering (every value escaped: text from the watched system is untrusted),
inline SVG charts, the login form and its signed session cookie, CSRF tokens, and the
approve/reject forms, which hand decisions to `medic.workflows.approvals.decide`.
Everything is inline (CSS, SVG); no JavaScript library, no CDN: it works offline.

Must not: hold domain logic. Whether a decision is admissible is decided by
`decide` (the approval gate); this package only shows its answer.
"""

from medic.web.routes import WebContext, web_router

__all__ = ["WebContext", "web_router"]
