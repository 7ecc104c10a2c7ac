"""Local git repositories: `GitCodeHost` (a revert "pull request" is a branch) and
`GitCommits` (the commits between two versions), both through the `git` command.

For a service, `repos_dir/<service>` is a git repository whose tags are the deployed
versions (the sandbox creates such repositories; any local clone with version tags
works). Opening a revert creates `medic/revert-<service>-<bad>` from the bad tag,
reverts every commit of good..bad (newest first) and records the title and body as
the branch description and in `.git/medic-prs/`, where a reviewer (or a later push to
a real host) finds them.

`run_git` is the one way these adapters (and `github`) call git: a timeout, no
terminal prompt, and errors naming the repository and git's own stderr.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from medic.domain.code import Commit, RevertContext
from medic.domain.errors import ConflictError, NotFoundError, PermanentError, TransientError
from medic.ports.code import PullRequest

__all__ = ["GitCodeHost", "GitCommits", "parse_log", "run_git", "LOG_FORMAT"]

_PR_DIR = "medic-prs"
_TIMEOUT_SECONDS = 60.0


class GitCodeHost:
    def __init__(
        self,
        repos_dir: Path,
        *,
        author_name: str = "medic",
        author_email: str = "medic@localhost",
    ) -> None:
        self.repos_dir = Path(repos_dir)
        self._identity = {
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
        }
        self._lock = threading.Lock()  # one revert at a time: they share working state

    def health(self) -> str:
        """A one-line status; raises PermanentError when git or the repositories are missing."""
        version = self._git(self.repos_dir.parent, "--version").strip()
        if not self.repos_dir.is_dir():
            raise PermanentError(f"repositories folder {self.repos_dir} does not exist")
        repos = sorted(p.name for p in self.repos_dir.iterdir() if (p / ".git").is_dir())
        return f"{version}; {len(repos)} repositories in {self.repos_dir}: {', '.join(repos)}"

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
        if context is not None:  # a local branch's description is plain text
            cited = ", ".join(e.id for e in context.evidence)
            body += f"\n\nIncident {context.incident_id}: {context.summary}".rstrip(": ")
            body += f"\nRoot cause: {context.root_cause}" if context.root_cause else ""
            body += f"\nEvidence: {cited}" if cited else ""
        repo = self.repos_dir / service
        if not (repo / ".git").is_dir():
            raise PermanentError(f"no git repository for {service!r} at {repo}")
        with self._lock:
            existing = self._recorded(repo, key)
            if existing is not None:
                return existing
            branch = f"medic/revert-{service}-{bad_version}"
            if self._has_ref(repo, f"refs/heads/{branch}"):
                raise ConflictError(
                    f"{repo}: branch {branch} already exists for another request (not key {key!r})"
                )
            good = self._resolve(repo, good_version)
            bad = self._resolve(repo, bad_version)
            shas = self._git(repo, "rev-list", "--topo-order", f"{good}..{bad}").split()
            if not shas:
                raise PermanentError(
                    f"{repo}: nothing to revert between {good_version} and {bad_version}"
                )
            self._revert_on_branch(repo, branch, bad, shas)
            self._git(repo, "config", f"branch.{branch}.description", f"{title}\n\n{body}")
            pr = PullRequest(
                branch=branch, title=title, url=f"file://{repo}#{branch}", reverted=tuple(shas)
            )
            self._record(repo, key, pr, body)
            return pr

    def _revert_on_branch(self, repo: Path, branch: str, start: str, shas: list[str]) -> None:
        # A separate worktree leaves the repository's own checkout untouched.
        work = Path(tempfile.mkdtemp(prefix="medic-revert-"))
        shutil.rmtree(work)
        self._git(repo, "worktree", "add", "--quiet", "-b", branch, str(work), start)
        try:
            for sha in shas:
                self._git(work, "-c", "commit.gpgSign=false", "revert", "--no-edit", sha)
        except PermanentError:
            self._git_quiet(work, "revert", "--abort")
            self._git_quiet(repo, "worktree", "remove", "--force", str(work))
            self._git_quiet(repo, "branch", "-D", branch)
            raise
        self._git(repo, "worktree", "remove", "--force", str(work))

    def _resolve(self, repo: Path, version: str) -> str:
        for ref in (f"refs/tags/{version}", f"refs/heads/{version}"):
            if self._has_ref(repo, ref):
                return self._git(repo, "rev-parse", f"{ref}^{{commit}}").strip()
        raise PermanentError(f"{repo}: unknown version {version!r} (no such tag or branch)")

    def _has_ref(self, repo: Path, ref: str) -> bool:
        try:
            self._git(repo, "show-ref", "--verify", "--quiet", ref)
        except PermanentError:
            return False
        return True

    def _record_path(self, repo: Path, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        return repo / ".git" / _PR_DIR / f"{digest}.json"

    def _recorded(self, repo: Path, key: str) -> PullRequest | None:
        path = self._record_path(repo, key)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise PermanentError(f"{path}: unreadable pull request record: {e}") from e
        return PullRequest(
            branch=str(raw["branch"]),
            title=str(raw["title"]),
            url=str(raw["url"]),
            reverted=tuple(str(s) for s in raw["reverted"]),
        )

    def _record(self, repo: Path, key: str, pr: PullRequest, body: str) -> None:
        path = self._record_path(repo, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "key": key,
            "branch": pr.branch,
            "title": pr.title,
            "body": body,
            "url": pr.url,
            "reverted": list(pr.reverted),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def _git(self, cwd: Path, *args: str) -> str:
        env = {**os.environ, **self._identity}
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_SECONDS,
            )
        except FileNotFoundError as e:
            raise PermanentError("git is not installed (or not on PATH)") from e
        except subprocess.TimeoutExpired as e:
            raise TransientError(f"git {' '.join(args)} timed out in {cwd}") from e
        except subprocess.CalledProcessError as e:
            detail = (e.stderr or e.stdout or "").strip()
            raise PermanentError(f"git {' '.join(args)} failed in {cwd}: {detail}") from e
        return done.stdout

    def _git_quiet(self, cwd: Path, *args: str) -> None:
        """Best-effort cleanup after a failure: its own errors would hide the real one."""
        with contextlib.suppress(PermanentError, TransientError):
            self._git(cwd, *args)


# One record per commit: fields split by US (0x1f), records ended by RS (0x1e), which
# no commit message of a sane repository contains.
LOG_FORMAT = "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e"


def run_git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = _TIMEOUT_SECONDS,
    redact: Callable[[str], str] = lambda text: text,
) -> str:
    """git's stdout; TransientError on a timeout, PermanentError naming `cwd` and stderr.

    `redact` scrubs secrets (a token in a remote URL) from what an error repeats.
    """
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    shown = redact(" ".join(args))
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError as e:
        if not Path(cwd).is_dir():
            raise PermanentError(f"{cwd} does not exist (git {shown})") from e
        raise PermanentError("git is not installed (or not on PATH)") from e
    except subprocess.TimeoutExpired as e:
        raise TransientError(f"git {shown} timed out after {timeout:g}s in {cwd}") from e
    except subprocess.CalledProcessError as e:
        detail = redact((e.stderr or e.stdout or "").strip())[:_ERROR_CHARS]
        raise PermanentError(f"git {shown} failed in {cwd}: {detail}") from e
    return done.stdout


_ERROR_CHARS = 600


def parse_log(output: str, url_of: Callable[[str], str | None] = lambda sha: None) -> list[Commit]:
    """Commits from `git log LOG_FORMAT` output, in git's order."""
    commits = []
    for record in output.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, name, email, at, message = record.split("\x1f", 4)
        commits.append(
            Commit(
                sha=sha,
                message=message.rstrip("\n"),
                author=name,
                email=email,
                at=datetime.fromisoformat(at),
                url=url_of(sha),
            )
        )
    return commits


class GitCommits:
    """`CommitSource` on local clones: `repos[service]`, or `repos_dir/<service>`.

    With `fetch=True` each call first fetches the clone's remote (branches and tags),
    so a clone that tracks the real repository sees new releases. `commit_url` (with
    `{service}` and `{sha}`) links each commit to where a human reads it.
    """

    def __init__(
        self,
        repos: Path | Mapping[str, Path],
        *,
        fetch: bool = False,
        commit_url: str | None = None,
        max_commits: int = 500,
        timeout: float = _TIMEOUT_SECONDS,
    ) -> None:
        self._repos = Path(repos) if isinstance(repos, str | Path) else dict(repos)
        self.fetch = fetch
        self.commit_url = commit_url
        self.max_commits = max_commits
        self.timeout = timeout

    def repo(self, service: str) -> Path:
        if isinstance(self._repos, Path):
            path = self._repos / service
        elif service in self._repos:
            path = Path(self._repos[service])
        else:
            raise NotFoundError(f"no git repository is configured for service {service!r}")
        if not (path / ".git").exists() and not (path / "HEAD").is_file():
            raise NotFoundError(f"no git repository for {service!r} at {path}")
        return path

    def health(self) -> str:
        """One line per configured repository: its path and newest tag; raises if unusable."""
        version = self._git(Path.cwd(), "--version").strip()
        if isinstance(self._repos, Path):
            if not self._repos.is_dir():
                raise PermanentError(f"repositories folder {self._repos} does not exist")
            services = sorted(p.name for p in self._repos.iterdir() if (p / ".git").exists())
        else:
            services = sorted(self._repos)
        found = []
        for service in services:
            repo = self.repo(service)
            tags = self._git(repo, "tag", "--sort=-creatordate").split()
            found.append(
                f"{service} ({repo}, {len(tags)} tags{', newest ' + tags[0] if tags else ''})"
            )
        return f"{version}; {len(found)} repositories: {'; '.join(found) or 'none'}"

    def commits_between(self, service: str, good_version: str, bad_version: str) -> list[Commit]:
        repo = self.repo(service)
        if self.fetch:
            self._git(repo, "fetch", "--quiet", "--tags", "--prune")
        good = self._resolve(repo, good_version)
        bad = self._resolve(repo, bad_version)
        output = self._git(
            repo,
            "log",
            "--topo-order",
            f"--max-count={self.max_commits}",
            LOG_FORMAT,
            f"{good}..{bad}",
        )
        return parse_log(output, self._url_of(service))

    def _url_of(self, service: str) -> Callable[[str], str | None]:
        template = self.commit_url
        if template is None:
            return lambda sha: None
        return lambda sha: template.format(service=service, sha=sha)

    def _resolve(self, repo: Path, version: str) -> str:
        if version.startswith("-"):
            raise NotFoundError(f"{repo}: {version!r} is not a version")
        try:
            return self._git(
                repo, "rev-parse", "--verify", "--quiet", f"{version}^{{commit}}"
            ).strip()
        except PermanentError as e:
            raise NotFoundError(
                f"{repo}: unknown version {version!r} (no such tag, branch or commit)"
            ) from e

    def _git(self, cwd: Path, *args: str) -> str:
        return run_git(cwd, *args, timeout=self.timeout)
