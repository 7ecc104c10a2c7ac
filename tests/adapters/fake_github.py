"""A fake GitHub REST API (an httpx `MockTransport` handler), from GitHub's documented
wire format, backed by real bare git repositories standing for the remotes.

Endpoints: GET /rate_limit, GET /repos/{o}/{r}, GET /repos/{o}/{r}/compare/{base}...{head}
(paginated by per_page/page, commits oldest first), GET /repos/{o}/{r}/commits,
GET and POST /repos/{o}/{r}/pulls. Every answer carries the x-ratelimit-* headers;
errors are `{"message", "documentation_url"}` (422 adds `errors[]`). A wrong token
gets 401 "Bad credentials"; `can_open_pulls=False` makes POST /pulls a 403 naming the
permission, as fine-grained tokens do. `script(...)` queues canned answers (a 429, a
502) for the next matching requests.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

__all__ = ["FakeGitHub", "RecordingClock", "Scripted"]

DOCS = "https://docs.github.com/rest"
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


class RecordingClock:
    """A clock for retries: records each sleep and moves time on by it."""

    def __init__(self) -> None:
        self.at = datetime(2025, 3, 1, 12, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)


@dataclass
class Scripted:
    method: str
    path: str  # a regular expression matched against the whole path
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


class FakeGitHub:
    def __init__(self, remotes: dict[str, Path], token: str = "ghp_test") -> None:
        self.remotes = remotes  # "owner/name" -> bare repository
        self.token = token
        self.can_open_pulls = True
        self.pulls: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.scripted: list[Scripted] = []
        self.reset_at = 1_900_000_000

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def script(self, answer: Scripted) -> None:
        self.scripted.append(answer)

    def calls(self, method: str, path_prefix: str = "") -> list[httpx.Request]:
        return [
            r for r in self.requests if r.method == method and r.url.path.startswith(path_prefix)
        ]

    # -- dispatch ---------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for answer in self.scripted:
            if (
                answer.times > 0
                and answer.method == request.method
                and re.fullmatch(answer.path, path)
            ):
                answer.times -= 1
                return self._reply(answer.status, answer.body, answer.headers)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._error(401, "Bad credentials")
        if request.headers.get("accept") != "application/vnd.github+json":
            return self._error(415, "Unsupported 'Accept' header")
        if path == "/rate_limit" and request.method == "GET":
            core = {"limit": 5000, "remaining": 4990, "reset": self.reset_at, "used": 10}
            return self._reply(200, {"resources": {"core": core}, "rate": core})
        routes = (
            ("GET", _REPO, self._repository),
            ("GET", _REPO + r"/compare/(?P<base>.+)\.\.\.(?P<head>.+)", self._compare),
            ("GET", _REPO + "/commits", self._commits),
            ("GET", _REPO + "/pulls", self._list_pulls),
            ("POST", _REPO + "/pulls", self._create_pull),
        )
        for method, pattern, route in routes:
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                repo = f"{match['owner']}/{match['name']}"
                if repo not in self.remotes:
                    return self._error(404, "Not Found")
                return route(request, repo, match.groupdict())
        return self._error(404, "Not Found")

    # -- endpoints ----------------------------------------------------------------

    def _repository(self, request: httpx.Request, repo: str, _: dict[str, str]) -> httpx.Response:
        head = self._git(repo, "symbolic-ref", "--short", "HEAD")
        return self._reply(
            200,
            {
                "id": 1,
                "name": repo.split("/")[1],
                "full_name": repo,
                "private": True,
                "html_url": f"https://github.com/{repo}",
                "default_branch": head,
                "permissions": {"admin": False, "push": True, "pull": True},
            },
        )

    def _compare(self, request: httpx.Request, repo: str, parts: dict[str, str]) -> httpx.Response:
        base, head = self._sha(repo, parts["base"]), self._sha(repo, parts["head"])
        if base is None or head is None:
            missing = parts["base"] if base is None else parts["head"]
            return self._error(404, f"No commit found for the ref {missing}")
        merge_base = self._git(repo, "merge-base", base, head)
        shas = self._git(repo, "rev-list", "--reverse", "--topo-order", f"{base}..{head}").split()
        behind = self._git(repo, "rev-list", "--count", f"{head}..{base}")
        per_page = min(int(request.url.params.get("per_page", "250")), 250)
        page = int(request.url.params.get("page", "1"))
        window = shas[(page - 1) * per_page : page * per_page]
        files = []
        for line in self._git(repo, "diff", "--name-status", merge_base, head).splitlines():
            status, name = line.split("\t", 1)
            kind = {"A": "added", "D": "removed"}.get(status[0], "modified")
            files.append({"filename": name, "status": kind})
        ahead = len(shas)
        status = (
            "identical"
            if not ahead and behind == "0"
            else "ahead"
            if behind == "0"
            else ("behind" if not ahead else "diverged")
        )
        return self._reply(
            200,
            {
                "url": f"https://api.github.com/repos/{repo}/compare/{base}...{head}",
                "html_url": f"https://github.com/{repo}/compare/{base}...{head}",
                "status": status,
                "ahead_by": ahead,
                "behind_by": int(behind),
                "total_commits": ahead,
                "base_commit": self._commit_json(repo, base),
                "merge_base_commit": self._commit_json(repo, merge_base),
                "commits": [self._commit_json(repo, sha) for sha in window],
                "files": files,
            },
        )

    def _commits(self, request: httpx.Request, repo: str, _: dict[str, str]) -> httpx.Response:
        start = self._sha(repo, request.url.params.get("sha", "HEAD"))
        if start is None:
            return self._error(404, "No commit found for SHA")
        per_page = int(request.url.params.get("per_page", "30"))
        shas = self._git(repo, "rev-list", f"--max-count={per_page}", start).split()
        return self._reply(200, [self._commit_json(repo, sha) for sha in shas])

    def _list_pulls(self, request: httpx.Request, repo: str, _: dict[str, str]) -> httpx.Response:
        head = request.url.params.get("head")
        state = request.url.params.get("state", "open")
        found = [
            p
            for p in self.pulls
            if p["_repo"] == repo
            and (state == "all" or p["state"] == state)
            and (head is None or p["head"]["label"] == head)
        ]
        return self._reply(200, [_public(p) for p in found])

    def _create_pull(self, request: httpx.Request, repo: str, _: dict[str, str]) -> httpx.Response:
        if not self.can_open_pulls:
            return self._error(
                403,
                "Resource not accessible by personal access token",
                {"x-accepted-github-permissions": "pull_requests=write"},
            )
        data = json.loads(request.content)
        owner = repo.split("/")[0]
        for key in ("title", "head", "base"):
            if not isinstance(data.get(key), str) or not data[key]:
                return self._invalid(
                    {"resource": "PullRequest", "field": key, "code": "missing_field"}
                )
        for key in ("head", "base"):
            if self._sha(repo, f"refs/heads/{data[key]}") is None:
                return self._invalid({"resource": "PullRequest", "field": key, "code": "invalid"})
        label = f"{owner}:{data['head']}"
        if any(p["head"]["label"] == label and p["state"] == "open" for p in self.pulls):
            return self._invalid(
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"A pull request already exists for {label}.",
                }
            )
        number = len(self.pulls) + 1
        pull = {
            "_repo": repo,
            "number": number,
            "state": "open",
            "title": data["title"],
            "body": data.get("body"),
            "draft": bool(data.get("draft", False)),
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "head": {
                "label": label,
                "ref": data["head"],
                "sha": self._sha(repo, f"refs/heads/{data['head']}"),
            },
            "base": {"label": f"{owner}:{data['base']}", "ref": data["base"]},
            "user": {"login": "medic-bot"},
        }
        self.pulls.append(pull)
        return self._reply(201, _public(pull))

    # -- helpers -----------------------------------------------------------------

    def _commit_json(self, repo: str, sha: str) -> dict[str, Any]:
        out = self._git(repo, "show", "-s", "--format=%an%x1f%ae%x1f%aI%x1f%B", sha)
        name, email, date, message = out.split("\x1f", 3)
        author = {"name": name, "email": email, "date": date}
        return {
            "sha": sha,
            "node_id": "C_" + sha[:10],
            "html_url": f"https://github.com/{repo}/commit/{sha}",
            "commit": {"author": author, "committer": author, "message": message.rstrip("\n")},
            "author": None,
            "parents": [],
        }

    def _sha(self, repo: str, ref: str) -> str | None:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=self.remotes[repo],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def _git(self, repo: str, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=self.remotes[repo], check=True, capture_output=True, text=True
        ).stdout.strip()

    def _headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4990",
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": "10",
            "x-ratelimit-resource": "core",
        }

    def _reply(
        self, status: int, body: object, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return httpx.Response(status, json=body, headers={**self._headers(), **(headers or {})})

    def _error(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self._reply(status, {"message": message, "documentation_url": DOCS}, headers)

    def _invalid(self, error: dict[str, str]) -> httpx.Response:
        body = {"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}
        return self._reply(422, body)


def _public(pull: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pull.items() if not k.startswith("_")}
