"""Real git repositories for the scenario's services, so the code host has code to revert.

For every service with a commit in the scenario: an initial commit tagged with the
initial version, then one commit per deploy (its message, with the scenario's sha as
a `Scenario-Commit:` trailer) tagged with the deployed version. Identities and dates
are fixed, so it works without any git configuration and gives the same shas
everywhere. Created once: an existing repository is left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.domain.errors import PermanentError
from medic.sandbox.scenario import Deploy, Scenario

__all__ = ["ensure_repos", "services_with_commits"]

# Commit dates: this base plus the scenario time (history at -history).
_BASE = datetime(2024, 1, 1, tzinfo=UTC)
_COMMITTER = ("medic sandbox", "sandbox@medic.invalid")


def services_with_commits(scenario: Scenario) -> list[str]:
    names = {e.deploy.service for e in scenario.timeline if e.deploy and e.deploy.commit}
    return [s.name for s in scenario.services if s.name in names]


def ensure_repos(scenario: Scenario, repos_dir: Path) -> None:
    repos_dir.mkdir(parents=True, exist_ok=True)
    for service in services_with_commits(scenario):
        target = repos_dir / service
        if (target / ".git").is_dir():
            continue
        # Built aside and renamed, so a crash never leaves a half-made repository behind.
        building = repos_dir / f".building-{service}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        _build(scenario, service, building)
        building.rename(target)


def _build(scenario: Scenario, service: str, repo: Path) -> None:
    initial = scenario.service(service).version
    _git(repo, None, "init", "--quiet", "--initial-branch=main")
    (repo / "README.md").write_text(
        f"# {service}\n\nSource of the simulated `{service}` service (medic sandbox, "
        f"scenario `{scenario.name}`).\n",
        encoding="utf-8",
    )
    (repo / "VERSION").write_text(f"{initial}\n", encoding="utf-8")
    (repo / "CHANGELOG.md").write_text(
        f"# Changelog\n\n- {initial}: initial release\n", encoding="utf-8"
    )
    _commit(repo, -scenario.history, f"Release {initial}", None, initial)
    deploys = sorted(
        (e for e in scenario.timeline if e.deploy and e.deploy.service == service),
        key=lambda e: e.at,
    )
    for event in deploys:
        assert event.deploy is not None
        _release(repo, event.at, event.deploy)


def _release(repo: Path, at: float, deploy: Deploy) -> None:
    commit = deploy.commit
    summary = commit.message if commit and commit.message else f"Release {deploy.version}"
    (repo / "VERSION").write_text(f"{deploy.version}\n", encoding="utf-8")
    with (repo / "CHANGELOG.md").open("a", encoding="utf-8") as changelog:
        changelog.write(f"- {deploy.version}: {summary}\n")
    message = summary + (f"\n\nScenario-Commit: {commit.sha}\n" if commit else "\n")
    author = commit.author if commit and commit.author else None
    _commit(repo, at, message, author, deploy.version)


def _commit(repo: Path, at: float, message: str, author: str | None, tag: str) -> None:
    when = (_BASE + timedelta(seconds=at)).isoformat()
    name, email = _COMMITTER
    if author:
        name, email = author.split("@", 1)[0], author
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": _COMMITTER[0],
        "GIT_COMMITTER_EMAIL": _COMMITTER[1],
        "GIT_COMMITTER_DATE": when,
    }
    _git(repo, env, "add", "--all")
    _git(repo, env, "commit", "--quiet", "--no-verify", "-m", message)
    _git(repo, env, "tag", "--force", tag)


def _git(repo: Path, extra: dict[str, str] | None, *args: str) -> None:
    env = {
        **os.environ,
        # Ignore whatever the machine's git configuration says (signing, hooks, names).
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        **(extra or {}),
    }
    try:
        subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
        )
    except FileNotFoundError as e:
        raise PermanentError("the sandbox needs `git` to create its repositories") from e
    except subprocess.CalledProcessError as e:
        raise PermanentError(
            f"git {' '.join(args)} failed in {repo}: {e.stderr.strip() or e.stdout.strip()}"
        ) from e
