"""Rich renderings of incidents for the terminal."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

__all__ = ["incident_panel", "incidents_table", "plan_panel"]


_NARROW = 110  # columns: below this, one incident per two lines instead of a table


def incidents_table(incidents: list[dict[str, Any]], width: int = 200) -> RenderableType:
    """Ids are never cut or wrapped, whatever the terminal's width: they are for copying.
    A wide terminal gets a table; a narrow one two plain lines per incident."""
    if width < _NARROW:
        lines: list[RenderableType] = []
        for i in incidents:
            lines.append(
                Text.assemble(
                    (i["id"], "bold"),
                    f"  {i['state']}  {i['severity']}  {i.get('service') or '-'}  "
                    f"{i['opened_at'][:16].replace('T', ' ')} UTC",
                    no_wrap=True,
                    overflow="ignore",
                )
            )
            lines.append(Text(f"  {i['title']}", overflow="fold"))
        return Group(*lines) if lines else Text("no incidents")
    table = Table(title="incidents", box=box.SIMPLE_HEAD, pad_edge=False)
    widest = max((len(i["id"]) for i in incidents), default=2)
    table.add_column("id", no_wrap=True, min_width=widest, overflow="ignore")
    table.add_column("state", no_wrap=True)
    table.add_column("service", overflow="fold")
    table.add_column("severity", no_wrap=True)
    table.add_column("opened (UTC)", no_wrap=True)
    table.add_column("title", overflow="fold", ratio=1)
    for i in incidents:
        table.add_row(
            i["id"],
            i["state"],
            escape(i.get("service") or "-"),
            i["severity"],
            i["opened_at"][:16].replace("T", " "),
            escape(i["title"]),
        )
    return table


def plan_panel(detail: dict[str, Any]) -> Panel:
    plan = detail.get("plan") or {}
    lines: list[str] = []
    for label in ("immediate", "long_term"):
        for action in plan.get(label, []):
            command = action.get("command") or action["kind"]
            lines.append(f"[bold]{label}[/]: {escape(action['kind'])} {escape(action['target'])}")
            lines.append(f"  $ {escape(command)}")
            lines.append(f"  risk {action['risk']}; why: {escape(action['reason'])}")
    lines.append(f"plan hash: {detail.get('plan_hash')}")
    return Panel("\n".join(lines), title="proposed plan")


def incident_panel(detail: dict[str, Any], page_url: str) -> RenderableType:
    """`page_url`: the incident's console page (what a person opens, not the JSON API)."""
    head = (
        f"[bold]{escape(detail['title'])}[/]\n"
        f"state: {detail['state']}   service: {escape(detail.get('service') or '-')}   "
        f"opened: {detail['opened_at'][:19]}\n{escape(page_url)}"
    )
    parts: list[RenderableType] = [Panel(head, title=detail["id"])]
    diagnosis = detail.get("diagnosis")
    if diagnosis:
        parts.append(Panel(escape(diagnosis["summary"]), title="diagnosis"))
    if detail.get("plan"):
        parts.append(plan_panel(detail))
    timeline = Table(title="timeline")
    for column in ("at (UTC)", "kind", "actor", "what"):
        timeline.add_column(column)
    for entry in detail["timeline"]:
        timeline.add_row(
            entry["at"][:19], entry["kind"], escape(entry["actor"]), escape(entry["message"])
        )
    parts.append(timeline)
    if detail.get("postmortem_path"):
        parts.append(f"post-mortem: {detail['postmortem_path']}")
    return Group(*parts)
