"""`CodeHost` on local git repositories: a revert "pull request" is a branch.

For a service, `repos_dir/<service>` is a git repository whose tags are the deployed
versions (the sandbox creates such repositories; any local clone with version tags
works). Opening a revert creates `medic/revert-<service>-<bad>` from the bad tag,
reverts every commit of good..bad (newest first) and records the title and body as
the branch description and in `.git/medic-prs/`, where a reviewer (or a later push to
a real host) finds them.
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
from pathlib import Path

from medic.domain.errors import ConflictError, PermanentError, TransientError
from medic.ports.code import PullRequest

__all__ = ["GitCodeHost"]

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
    ) -> PullRequest:
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
