"""GitHub: `GitHubIssues`, a `DocStore` publishing each post-mortem as an issue.

Through the REST API (`GitHubApi`, the one seam): the issue of an incident carries the
label `medic-postmortem` and a first line `<!-- medic-postmortem: <incident id> -->`;
publishing finds it among the label's issues (`GET /repos/{repo}/issues?labels=&state=all`)
and updates it (`PATCH /repos/{repo}/issues/{number}`), or creates it
(`POST /repos/{repo}/issues`). Needs a token with Issues read/write on the repository.

The Markdown is medic's own (untrusted text already escaped by the scribe). Its chart
images point at files beside the Markdown, which GitHub cannot show: each becomes a
line naming the chart and where to see it. A body over GitHub's 65,536 characters is cut
with a note saying so.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from medic.adapters.github_api import GitHubApi
from medic.domain.errors import InvalidInputError
from medic.domain.model import Postmortem
from medic.ports.clock import Clock

__all__ = ["LABEL", "GitHubIssues"]

LABEL = "medic-postmortem"
_MAX_BODY = 65_536
_PAGES = 10
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_IMAGE = re.compile(r"^!\[(?P<alt>[^\]\n]*)\]\((?P<src>[^)\n]*)\)$", re.MULTILINE)
_CUT = "\n\n*(cut here: the whole post-mortem is in medic's console and its Markdown file)*\n"


class GitHubIssues:
    name = "github"

    def __init__(
        self,
        token: str,
        repo: str,
        *,
        api_url: str = "https://api.github.com",
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
        attempts: int = 1,
    ) -> None:
        if not _REPO.match(repo):
            raise InvalidInputError(f"github.postmortem_repo must be 'owner/name', not {repo!r}")
        self.repo = repo
        # One attempt: the workflow step is the one that retries (TransientError).
        self._api = GitHubApi(
            token,
            api_url=api_url,
            clock=clock,
            transport=transport,
            timeout_s=timeout_s,
            attempts=attempts,
        )

    def close(self) -> None:
        self._api.close()

    def health(self) -> str:
        repo = self._api.get(f"/repos/{self.repo}", f"read {self.repo}")
        if not repo.get("has_issues", True):
            return f"GitHub {self.repo}: issues are switched off, post-mortems cannot be published"
        return f"GitHub {self.repo}: post-mortems become issues labelled {LABEL}"

    def publish(self, postmortem: Postmortem) -> str:
        marker = f"<!-- medic-postmortem: {postmortem.incident_id} -->"
        body = issue_body(marker, postmortem)
        title = postmortem.title[:256]
        existing = self._find(marker)
        if existing is None:
            created = self._api.call(
                "POST",
                f"/repos/{self.repo}/issues",
                f"open the post-mortem issue in {self.repo}",
                json={"title": title, "body": body, "labels": [LABEL]},
            ).body
            return str(created["html_url"])
        number = existing["number"]
        updated = self._api.call(
            "PATCH",
            f"/repos/{self.repo}/issues/{number}",
            f"update post-mortem issue #{number} in {self.repo}",
            json={"title": title, "body": body},
        ).body
        return str(updated["html_url"])

    def _find(self, marker: str) -> dict[str, Any] | None:
        for page in range(1, _PAGES + 1):
            issues = self._api.get(
                f"/repos/{self.repo}/issues",
                f"list post-mortem issues in {self.repo}",
                params={"labels": LABEL, "state": "all", "per_page": 100, "page": page},
            )
            for issue in issues:
                if "pull_request" not in issue and str(issue.get("body") or "").startswith(marker):
                    return dict(issue)
            if len(issues) < 100:
                return None
        return None


def issue_body(marker: str, postmortem: Postmortem) -> str:
    def chart(match: re.Match[str]) -> str:
        name = match.group("src").rsplit("/", 1)[-1]
        if name not in postmortem.charts:
            return match.group(0)
        where = "in medic's console and beside the Markdown file"
        return f"*Chart: {match.group('alt')} (`{name}`, {where}).*"

    body = f"{marker}\n\n{_IMAGE.sub(chart, postmortem.markdown)}"
    if len(body) > _MAX_BODY:
        body = body[: _MAX_BODY - len(_CUT)] + _CUT
    return body
