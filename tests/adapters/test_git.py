"""GitCodeHost on real git repositories, as the sandbox creates them."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.adapters.git import GitCodeHost
from medic.domain.errors import ConflictError, PermanentError
from medic.sandbox import ManualClock, Sandbox

_SCENARIO = """
name: two-releases
history: 3h
services:
  - {name: web, entry_rps: 5, calls: [auth]}
  - {name: auth, version: v1.0.0}
timeline:
  - at: -2h
    deploy:
      service: auth
      version: v1.1.0
      commit: {sha: aaaaaaa, message: "Add a session cache", author: ann@example.com}
  - at: -1h
    deploy:
      service: auth
      version: v1.2.0
      commit: {sha: bbbbbbb, message: "Grow the session cache", author: bob@example.com}
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    path = tmp_path / "two-releases.yaml"
    path.write_text(_SCENARIO, encoding="utf-8")
    clock = ManualClock(datetime(2025, 3, 1, 12, tzinfo=UTC))
    return Sandbox.open(str(path), tmp_path / "state", clock=clock).repos_dir


def test_the_revert_branch_has_the_good_versions_tree(repos: Path) -> None:
    host = GitCodeHost(repos)
    repo = repos / "auth"
    head_before = _git(repo, "rev-parse", "HEAD")
    pr = host.open_revert("auth", "v1.0.0", "v1.2.0", "Revert auth to v1.0.0", "Leaks.", key="k1")
    assert pr.branch == "medic/revert-auth-v1.2.0"
    assert pr.url == f"file://{repo}#medic/revert-auth-v1.2.0"
    assert pr.reverted == (
        _git(repo, "rev-parse", "v1.2.0^{commit}"),
        _git(repo, "rev-parse", "v1.1.0^{commit}"),
    )
    assert _git(repo, "rev-parse", f"{pr.branch}^{{tree}}") == _git(
        repo, "rev-parse", "v1.0.0^{tree}"
    )
    # The reverts sit on top of the bad version, newest first, one commit each.
    log = _git(repo, "log", "--format=%s", "-2", pr.branch).splitlines()
    assert log == ['Revert "Add a session cache"', 'Revert "Grow the session cache"']
    assert _git(repo, "config", f"branch.{pr.branch}.description").startswith(
        "Revert auth to v1.0.0"
    )
    # The repository's own checkout is untouched.
    assert _git(repo, "rev-parse", "HEAD") == head_before
    assert _git(repo, "status", "--porcelain") == ""


def test_a_second_call_with_the_same_key_returns_the_same_pull_request(repos: Path) -> None:
    host = GitCodeHost(repos)
    first = host.open_revert("auth", "v1.1.0", "v1.2.0", "Revert", "body", key="same")
    tip = _git(repos / "auth", "rev-parse", first.branch)
    again = GitCodeHost(repos).open_revert("auth", "v1.1.0", "v1.2.0", "Revert", "body", key="same")
    assert again == first
    assert _git(repos / "auth", "rev-parse", first.branch) == tip
    with pytest.raises(ConflictError, match="already exists"):
        host.open_revert("auth", "v1.1.0", "v1.2.0", "Revert", "body", key="other")


def test_errors_name_the_repository_and_what_git_said(repos: Path, tmp_path: Path) -> None:
    host = GitCodeHost(repos)
    with pytest.raises(PermanentError, match="no git repository for 'nope'"):
        host.open_revert("nope", "v1", "v2", "t", "b", key="x")
    with pytest.raises(PermanentError, match=r"auth: unknown version 'v9\.9\.9'"):
        host.open_revert("auth", "v1.0.0", "v9.9.9", "t", "b", key="y")


def test_a_failed_revert_leaves_no_branch_behind(repos: Path) -> None:
    repo = repos / "auth"
    env_commit = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    # A merge commit cannot be reverted without choosing a parent: git refuses.
    _git(repo, "checkout", "--quiet", "-b", "side", "v1.0.0")
    (repo / "SIDE").write_text("side\n", encoding="utf-8")
    _git(repo, "add", "SIDE")
    _git(repo, *env_commit, "commit", "--quiet", "-m", "side work")
    _git(repo, "checkout", "--quiet", "main")
    _git(repo, *env_commit, "merge", "--quiet", "--no-ff", "-m", "merge side", "side")
    _git(repo, "tag", "v1.3.0")
    host = GitCodeHost(repos)
    with pytest.raises(PermanentError, match="revert") as caught:
        host.open_revert("auth", "v1.2.0", "v1.3.0", "t", "b", key="merge")
    assert "is a merge" in str(caught.value)
    assert _git(repo, "branch", "--list", "medic/*") == ""


def test_health_lists_the_repositories(repos: Path, tmp_path: Path) -> None:
    assert "1 repositories" in GitCodeHost(repos).health()
    assert "auth" in GitCodeHost(repos).health()
    with pytest.raises(PermanentError, match="does not exist"):
        GitCodeHost(tmp_path / "missing").health()
