"""GitHub's Issues REST API as an httpx MockTransport, from the documented wire format:
`GET /repos/{owner}/{repo}` , `GET/POST /repos/{owner}/{repo}/issues` (labels, state,
per_page, page filters), `PATCH /repos/{owner}/{repo}/issues/{number}`; bearer token
(401 "Bad credentials" otherwise); 410 when the repository has issues switched off."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

__all__ = ["FakeGitHubIssues"]


class FakeGitHubIssues:
    def __init__(self, repo: str = "acme/postmortems", token: str = "gh-token") -> None:
        self.repo = repo
        self.token = token
        self.issues: list[dict[str, Any]] = []
        self.has_issues = True
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"message": "Bad credentials"})
        path, method = request.url.path, request.method
        base = f"/repos/{self.repo}"
        if path == base and method == "GET":
            return httpx.Response(200, json={"full_name": self.repo, "has_issues": self.has_issues})
        if not path.startswith(base):
            return httpx.Response(404, json={"message": "Not Found"})
        if not self.has_issues:
            return httpx.Response(410, json={"message": "Issues are disabled for this repo"})
        if path == f"{base}/issues" and method == "GET":
            return self._list(request)
        if path == f"{base}/issues" and method == "POST":
            return self._create(json.loads(request.content))
        found = re.fullmatch(rf"{base}/issues/(\d+)", path)
        if found and method == "PATCH":
            return self._update(int(found.group(1)), json.loads(request.content))
        return httpx.Response(404, json={"message": "Not Found"})

    def _list(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        label, per_page, page = q.get("labels"), int(q.get("per_page", 30)), int(q.get("page", 1))
        chosen = [
            i
            for i in self.issues
            if (not label or label in [lb["name"] for lb in i["labels"]])
            and (q.get("state", "open") == "all" or i["state"] == q.get("state", "open"))
        ]
        return httpx.Response(200, json=chosen[(page - 1) * per_page : page * per_page])

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        if not body.get("title"):
            return httpx.Response(422, json={"message": "Validation Failed"})
        number = len(self.issues) + 1
        issue = {
            "number": number,
            "title": body["title"],
            "body": body.get("body", ""),
            "state": "open",
            "labels": [{"name": n} for n in body.get("labels", [])],
            "html_url": f"https://github.com/{self.repo}/issues/{number}",
        }
        self.issues.append(issue)
        return httpx.Response(201, json=issue)

    def _update(self, number: int, body: dict[str, Any]) -> httpx.Response:
        for issue in self.issues:
            if issue["number"] == number:
                issue.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
                return httpx.Response(200, json=issue)
        return httpx.Response(404, json={"message": "Not Found"})
