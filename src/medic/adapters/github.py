"""GitHub: `GitHubCommits` (a `CommitSource` through the compare API) and
`GitHubCodeHost` (a `CodeHost` whose revert is a real branch and pull request).

`repos` maps each service to its repository, `"owner/name"`. Opening a revert:

1. keeps a bare clone of the repository under `clone_dir` and fetches it (the remote
   is `remote_url` with `{repo}`; tests use a local bare repository through `file://`);
2. resolves the commits good..bad (first parent: a merged pull request is reverted
   as one merge commit, `-m 1`), newest first;
3. returns the open pull request whose head is `medic/revert-<service>-<bad>` if there
   is one (a retried step, or another incident on the same bad version);
4. otherwise creates that branch from the default branch in a temporary worktree,
   `git revert`s each commit (a conflict: PermanentError naming the commit and files,
   nothing pushed, no branch left), and pushes it, unless the branch already exists
   on the remote reverting exactly those commits (then it is reused, not pushed again);
5. opens the pull request (draft if configured) with a description that quotes the
   commits inertly (see `github_body`).

The token reaches git as an HTTP header in the environment, never in a URL, a config
file or an error message.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from medic.adapters.git import LOG_FORMAT, parse_log, run_git
from medic.adapters.github_api import GitHubApi, describe_error
from medic.adapters.github_body import render_revert_body
from medic.domain.code import Commit, RevertContext
from medic.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from medic.ports.clock import Clock
from medic.ports.code import PullRequest

__all__ = ["GitHubCodeHost", "GitHubCommits"]

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{40})")
_PER_PAGE = 100
_GIT_TIMEOUT_S = 120.0


def _check_repos(repos: Mapping[str, str]) -> dict[str, str]:
    for service, repo in repos.items():
        if not _REPO.match(repo):
            raise InvalidInputError(f"repository of {service!r} must be 'owner/name', not {repo!r}")
    return dict(repos)


class _GitHubBase:
    def __init__(
        self,
        token: str,
        repos: Mapping[str, str],
        *,
        api_url: str = "https://api.github.com",
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
        attempts: int = 4,
    ) -> None:
        self.repos = _check_repos(repos)
        self.api = GitHubApi(
            token,
            api_url=api_url,
            clock=clock,
            transport=transport,
            timeout_s=timeout_s,
            attempts=attempts,
        )

    def close(self) -> None:
        self.api.close()

    def repo(self, service: str) -> str:
        try:
            return self.repos[service]
        except KeyError:
            raise NotFoundError(f"no GitHub repository is configured for {service!r}") from None

    def health(self) -> str:
        """One line: the quota left and each repository's access; raises if any fails."""
        limits = self.api.get("/rate_limit", "read the rate limit")
        core = (limits or {}).get("resources", {}).get("core", {})
        seen = []
        for service, repo in sorted(self.repos.items()):
            data = self.api.get(f"/repos/{repo}", f"read repository {repo}")
            permissions = data.get("permissions") or {}
            access = "push" if permissions.get("push") else "read"
            seen.append(f"{service} -> {repo} ({access}, default {data.get('default_branch')})")
        return (
            f"GitHub at {self.api.api_url}: {core.get('remaining', '?')}/{core.get('limit', '?')} "
            f"requests left; {'; '.join(seen) or 'no repositories configured'}"
        )


class GitHubCommits(_GitHubBase):
    """`CommitSource` through GET /repos/{owner}/{repo}/compare/{good}...{bad}."""

    max_commits = 1000
    per_page = _PER_PAGE

    def commits_between(self, service: str, good_version: str, bad_version: str) -> list[Commit]:
        repo = self.repo(service)
        basehead = f"{quote(good_version, safe='')}...{quote(bad_version, safe='')}"
        what = f"compare {good_version}...{bad_version} in {repo}"
        commits: list[Commit] = []
        page = 1
        while len(commits) < self.max_commits:
            data = self.api.get(
                f"/repos/{repo}/compare/{basehead}", what, {"per_page": self.per_page, "page": page}
            )
            raw = data.get("commits") if isinstance(data, dict) else None
            if not isinstance(raw, list):
                raise PermanentError(f"{what}: GitHub answered no commits list")
            commits += [_commit(item, what) for item in raw]
            total = int(data.get("total_commits") or 0)
            if not raw or len(commits) >= total:
                break
            page += 1
        return commits[::-1]  # GitHub lists them oldest first


def _commit(item: Any, what: str) -> Commit:
    try:
        author = item["commit"].get("author") or {}
        return Commit(
            sha=str(item["sha"]),
            message=str(item["commit"]["message"]),
            author=str(author.get("name") or ""),
            email=str(author.get("email") or ""),
            at=_date(str(author["date"])),
            url=str(item["html_url"]) if item.get("html_url") else None,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise PermanentError(f"{what}: GitHub answered a malformed commit: {e!r}") from e


def _web_url(api_url: str) -> str:
    """Where humans browse: github.com, or a GitHub Enterprise Server's own host."""
    api_url = api_url.rstrip("/")
    if api_url == "https://api.github.com":
        return "https://github.com"
    return api_url.removesuffix("/api/v3")


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class GitHubCodeHost(_GitHubBase):
    def __init__(
        self,
        token: str,
        repos: Mapping[str, str],
        clone_dir: Path,
        *,
        api_url: str = "https://api.github.com",
        remote_url: str = "https://github.com/{repo}.git",
        draft: bool = False,
        author_name: str = "medic",
        author_email: str = "medic@localhost",
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
        attempts: int = 4,
    ) -> None:
        super().__init__(
            token,
            repos,
            api_url=api_url,
            clock=clock,
            transport=transport,
            timeout_s=timeout_s,
            attempts=attempts,
        )
        self.clone_dir = Path(clone_dir)
        self.remote_url = remote_url
        self.web_url = _web_url(api_url)
        self.draft = draft
        self._token = token
        self._env = {
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
        }
        if token and remote_url.startswith("https://"):
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            self._env |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            }

    def health(self) -> str:
        """The API's health, plus git's version and where the clones are kept."""
        version = self._git(Path.cwd(), "--version").strip()
        return f"{super().health()}; {version}, clones in {self.clone_dir}"

    def open_revert(
        self,
        service: str,
        good_version: str,
        bad_version: str,
        title: str,
        body: str,
        key: str,
        *,
        context: RevertContext | None = None,
    ) -> PullRequest:
        repo = self.repo(service)
        branch = f"medic/revert-{service}-{bad_version}"
        info = self.api.get(f"/repos/{repo}", f"read repository {repo}")
        base = str(info.get("default_branch") or "main")
        with self._locked(repo) as clone:
            self._git(clone, "check-ref-format", f"refs/heads/{branch}")
            commits = self._commits(clone, repo, good_version, bad_version)
            shas = tuple(c.sha for c in commits)
            existing = self._open_pull(repo, branch)
            if existing is not None:
                return PullRequest(
                    branch, str(existing.get("title") or title), existing["html_url"], shas
                )
            if not self._pushed(clone, repo, base, branch, shas):
                self._revert_and_push(clone, repo, base, branch, commits)
        text = render_revert_body(
            service=service,
            good_version=good_version,
            bad_version=bad_version,
            reason=body,
            commits=commits,
            key=key,
            context=context,
        )
        created = self._create_pull(repo, branch, base, title, text)
        return PullRequest(branch, str(created.get("title") or title), created["html_url"], shas)

    # -- the clone --------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, repo: str) -> Iterator[Path]:
        """The repository's bare clone, fetched, held by this process alone meanwhile."""
        clone = self.clone_dir / f"{repo.replace('/', '__')}.git"
        clone.parent.mkdir(parents=True, exist_ok=True)
        with open(clone.with_suffix(".lock"), "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # medic processes sharing clone_dir take turns
            if not (clone / "HEAD").is_file():
                self._git(clone.parent, "init", "--quiet", "--bare", str(clone))
            self._git(
                clone,
                "fetch",
                "--quiet",
                "--prune",
                "--force",
                self._url(repo),
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            )
            yield clone

    def _commits(self, clone: Path, repo: str, good: str, bad: str) -> list[Commit]:
        ends = [self._resolve(clone, repo, v) for v in (good, bad)]
        output = self._git(
            clone, "log", "--first-parent", "--topo-order", LOG_FORMAT, f"{ends[0]}..{ends[1]}"
        )
        commits = parse_log(output, lambda sha: f"{self.web_url}/{repo}/commit/{sha}")
        if not commits:
            raise PermanentError(f"{repo}: nothing to revert between {good} and {bad}")
        return commits

    def _resolve(self, clone: Path, repo: str, version: str) -> str:
        for ref in (f"refs/tags/{version}", f"refs/remotes/origin/{version}"):
            with contextlib.suppress(PermanentError):
                return self._git(
                    clone, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"
                ).strip()
        raise NotFoundError(f"{repo}: unknown version {version!r} (no such tag or branch)")

    def _pushed(
        self, clone: Path, repo: str, base: str, branch: str, shas: tuple[str, ...]
    ) -> bool:
        """Whether the remote branch already reverts exactly `shas`; ConflictError if it differs."""
        ref = f"refs/remotes/origin/{branch}"
        try:
            self._git(clone, "rev-parse", "--verify", "--quiet", ref)
        except PermanentError:
            return False
        messages = self._git(clone, "log", "--format=%B", f"refs/remotes/origin/{base}..{ref}")
        # The branch's newest commit reverts the oldest of `shas`: read it backwards.
        if tuple(_REVERTS.findall(messages))[::-1] == shas:
            return True
        raise ConflictError(
            f"{repo}: branch {branch} exists and does not revert exactly "
            f"{', '.join(s[:12] for s in shas)}; delete it or merge its pull request first"
        )

    def _revert_and_push(
        self, clone: Path, repo: str, base: str, branch: str, commits: list[Commit]
    ) -> None:
        work = Path(tempfile.mkdtemp(prefix="medic-revert-"))
        shutil.rmtree(work)
        self._git(
            clone,
            "worktree",
            "add",
            "--quiet",
            "-B",
            branch,
            str(work),
            f"refs/remotes/origin/{base}",
        )
        try:
            for commit in commits:
                self._revert(work, repo, base, commit)
            self._git(work, "push", "--quiet", self._url(repo), f"HEAD:refs/heads/{branch}")
        finally:
            with contextlib.suppress(PermanentError, TransientError):
                self._git(clone, "worktree", "remove", "--force", str(work))
            with contextlib.suppress(PermanentError, TransientError):
                self._git(clone, "branch", "--quiet", "-D", branch)
            shutil.rmtree(work, ignore_errors=True)

    def _revert(self, work: Path, repo: str, base: str, commit: Commit) -> None:
        parents = self._git(work, "rev-list", "--parents", "-n", "1", commit.sha).split()[1:]
        mainline = ["-m", "1"] if len(parents) > 1 else []
        try:
            self._git(
                work, "-c", "commit.gpgSign=false", "revert", "--no-edit", *mainline, commit.sha
            )
        except PermanentError as e:
            files = self._git(work, "diff", "--name-only", "--diff-filter=U").split()
            with contextlib.suppress(PermanentError, TransientError):
                self._git(work, "revert", "--abort")
            where = f" in {', '.join(files[:10])}" if files else ""
            raise PermanentError(
                f"{repo}: reverting {commit.sha[:12]} ({commit.subject[:80]!r}) on {base} "
                f"conflicts{where}; nothing was pushed, a human must revert it by hand"
            ) from e

    # -- pull requests --------------------------------------------------------

    def _open_pull(self, repo: str, branch: str) -> dict[str, Any] | None:
        owner = repo.split("/")[0]
        pulls = self.api.get(
            f"/repos/{repo}/pulls",
            f"list open pull requests of {repo} from {branch}",
            {"head": f"{owner}:{branch}", "state": "open"},
        )
        for pull in pulls or []:
            if isinstance(pull, dict) and (pull.get("head") or {}).get("ref") == branch:
                return pull
        return None

    def _create_pull(
        self, repo: str, branch: str, base: str, title: str, body: str
    ) -> dict[str, Any]:
        what = f"open a pull request {branch} -> {base} in {repo}"
        reply = self.api.call(
            "POST",
            f"/repos/{repo}/pulls",
            what,
            json={
                "title": title[:256],
                "head": branch,
                "base": base,
                "body": body,
                "draft": self.draft,
            },
            allow=(422,),
        )
        if reply.status == 201 and isinstance(reply.body, dict):
            return reply.body
        # A retried request whose first attempt did open it: GitHub says it exists.
        existing = self._open_pull(repo, branch)
        if existing is not None:
            return existing
        raise InvalidInputError(f"{what}: GitHub refused it (422): {describe_error(reply.body)}")

    # -- git ----------------------------------------------------------------

    def _url(self, repo: str) -> str:
        return self.remote_url.format(repo=repo)

    def _git(self, cwd: Path, *args: str) -> str:
        return run_git(cwd, *args, env=self._env, timeout=_GIT_TIMEOUT_S, redact=self._redact)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text
