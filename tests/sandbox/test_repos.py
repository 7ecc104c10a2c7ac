"""The sandbox creates one real git repository per service with commits in the scenario."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.sandbox.helpers import open_seed


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_repository_with_a_tag_per_version(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    repo = sandbox.repos_dir / "auth-service"
    assert sorted(p.name for p in sandbox.repos_dir.iterdir()) == ["auth-service"]
    assert _git(repo, "tag", "--list").split() == ["v1.2.0", "v1.2.1"]
    assert _git(repo, "show", "v1.2.1:VERSION") == "v1.2.1"
    message = _git(repo, "log", "-1", "--format=%B", "v1.2.1")
    assert message.startswith("Cache session tokens in memory")
    assert "Scenario-Commit: 9f3c2ab" in message
    assert _git(repo, "log", "-1", "--format=%ae", "v1.2.1") == "dev@example.com"


def test_repositories_are_created_once_and_identically(tmp_path: Path) -> None:
    first, _ = open_seed(tmp_path / "a")
    head = _git(first.repos_dir / "auth-service", "rev-parse", "HEAD")
    again, _ = open_seed(tmp_path / "a")
    assert _git(again.repos_dir / "auth-service", "rev-parse", "HEAD") == head
    other, _ = open_seed(tmp_path / "b")
    # Fixed identities and dates: the same scenario gives the same history everywhere.
    assert _git(other.repos_dir / "auth-service", "rev-parse", "HEAD") == head
