"""What keeps the console current without a reload: small JSON answers and the script.

`/ui/incidents.json` gives the list's rows (with the same filters as the page);
`/ui/incidents/{id}/live` the incident page's changing fragments, already rendered and
escaped here, so the script only swaps markup medic built; `?charts=1` adds the charts,
continued to now. `/ui/static/console.js` is the script itself, served by medic (no
CDN, works offline). Without a session the JSON answers are 401s, never data.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from medic.domain import NotFoundError
from medic.domain.access import Role
from medic.web.incident_page import live_sections, render_charts
from medic.web.incident_view import chart_specs, load_view
from medic.web.pages import ListFilter, list_note, list_rows

if TYPE_CHECKING:
    from medic.web.routes import Ui

__all__ = ["add_live_routes", "console_script"]

_JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def console_script() -> str:
    return files("medic.web").joinpath("static/console.js").read_text(encoding="utf-8")


def add_live_routes(router: APIRouter, ui: Ui) -> None:
    script = console_script()

    def console_js() -> Response:
        return Response(
            script,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    def rows(request: Request) -> Response:
        s = ui.current(request)
        if s is None:
            return _unauthorized()
        chosen = ListFilter.of(request.query_params)
        listed = ui.ctx.store.list_incidents(limit=500)
        now = ui.ctx.telemetry.current_time()
        return JSONResponse(
            {"rows": list_rows(listed, chosen, now), "note": list_note(listed, chosen)},
            headers=_JSON_HEADERS,
        )

    async def live(request: Request, incident_id: str, charts: int = 0) -> Response:
        s = ui.current(request)
        if s is None:
            return _unauthorized()
        ctx = ui.ctx
        try:
            view = await run_in_threadpool(load_view, ctx.store, incident_id, ctx.telemetry)
        except NotFoundError as e:
            return JSONResponse({"detail": str(e)}, status_code=404, headers=_JSON_HEADERS)
        body: dict[str, object] = {
            "version": view.version,
            "state": view.incident.state.value,
            "terminal": view.incident.state.terminal,
            "sections": live_sections(view, s.csrf, s.allows(Role.APPROVER)),
        }
        if charts:
            specs = await run_in_threadpool(chart_specs, view, ctx.telemetry)
            body["charts"] = render_charts(view.diagnosis, specs)
        return JSONResponse(body, headers=_JSON_HEADERS)

    router.add_api_route("/static/console.js", console_js, methods=["GET"])
    router.add_api_route("/incidents.json", rows, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}/live", live, methods=["GET"])


def _unauthorized() -> Response:
    return JSONResponse({"detail": "sign in first"}, status_code=401, headers=_JSON_HEADERS)
