"""The scribe's wiring: SLOs from the settings, and the post-mortem publishers
(Confluence, GitHub issues) with their `medic doctor` checks."""

from __future__ import annotations

from collections.abc import Callable

from medic.adapters.confluence import ConfluencePages
from medic.adapters.github_docs import GitHubIssues
from medic.domain import InvalidInputError
from medic.ports import DocStore
from medic.scribe import Slo
from medic.settings import Settings

__all__ = ["docstores", "slos"]


def slos(settings: Settings) -> dict[str, Slo]:
    return {
        service: Slo(
            service=service,
            availability=s.availability,
            latency_seconds=s.latency_seconds,
            latency_target=s.latency_target,
            window_days=s.window_days,
        )
        for service, s in settings.slo.items()
    }


def docstores(settings: Settings) -> tuple[tuple[DocStore, ...], dict[str, Callable[[], str]]]:
    """The configured publishers and their health checks, by name."""
    found: list[DocStore] = []
    c = settings.confluence
    if c.url:
        if not (c.space and c.username and c.api_token):
            raise InvalidInputError(
                "confluence.url is set: confluence.space, username and api_token are needed too"
            )
        found.append(
            ConfluencePages(
                c.url,
                c.space,
                c.username,
                c.api_token,
                parent_id=c.parent_id,
                timeout_s=c.timeout_seconds,
            )
        )
    g = settings.github
    if g.postmortem_repo:
        if not g.token:
            raise InvalidInputError("github.postmortem_repo is set: github.token is needed too")
        found.append(GitHubIssues(g.token, g.postmortem_repo, api_url=g.api_url))
    checks = {f"{d.name} (post-mortems)": d.health for d in found}
    return tuple(found), checks
