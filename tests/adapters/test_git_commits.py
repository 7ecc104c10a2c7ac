"""GitCommits on real git clones: the commits between two releases, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.adapters.git import GitCodeHost, GitCommits
from medic.domain.code import EvidenceLink, RevertContext
from medic.domain.errors import NotFoundError, PermanentError
from tests.adapters.git_releases import INJECTION, Releases, copy_releases, git, make_releases


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("releases")
    make_releases(root)
    return root


@pytest.fixture
def releases(template: Path, tmp_path: Path) -> Releases:
    return copy_releases(template, tmp_path)


def test_the_commits_of_a_release_newest_first_with_their_messages_verbatim(
    releases: Releases,
) -> None:
    source = GitCommits(
        {"auth": releases.work}, commit_url="https://github.com/acme/{service}/commit/{sha}"
    )
    commits = source.commits_between("auth", "v1.2.0", "v1.2.1")
    assert [c.subject for c in commits] == [INJECTION.splitlines()[0], "Add a session cache"]
    assert commits[0].message == INJECTION.rstrip("\n")  # kept whole, as data
    assert commits[0].sha == git(releases.work, "rev-parse", "v1.2.1")
    assert commits[1].author == "Ann Example"
    assert commits[1].email == "ann@example.com"
    assert commits[1].at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert commits[1].url == f"https://github.com/acme/auth/commit/{commits[1].sha}"
    assert source.commits_between("auth", "v1.2.1", "v1.2.1") == []


def test_a_repositories_folder_names_each_clone_after_its_service(
    releases: Releases,
) -> None:
    source = GitCommits(releases.work.parent)
    assert len(source.commits_between("auth", "v1.2.0", "v1.2.1")) == 2
    assert "auth (" in source.health()
    assert "newest v1.2.1" in source.health()


def test_with_fetch_a_release_pushed_elsewhere_is_seen(releases: Releases, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(releases.remote), str(clone))
    source = GitCommits({"auth": clone}, fetch=True)
    releases.commit(
        "app.py", "CACHE = {}\nTIMEOUT = 9\n", "Raise the timeout", "2025-03-02T09:00:00Z"
    )
    git(releases.work, "tag", "v1.2.2")
    releases.push("main", "v1.2.2")
    assert [c.subject for c in source.commits_between("auth", "v1.2.1", "v1.2.2")] == [
        "Raise the timeout"
    ]


def test_unknown_versions_and_services_say_what_is_missing(
    releases: Releases, tmp_path: Path
) -> None:
    source = GitCommits({"auth": releases.work, "ghost": tmp_path / "nowhere"})
    with pytest.raises(NotFoundError, match=r"auth: unknown version 'v9\.9\.9'"):
        source.commits_between("auth", "v1.2.0", "v9.9.9")
    with pytest.raises(NotFoundError, match="not a version"):
        source.commits_between("auth", "--output=/tmp/x", "v1.2.1")
    with pytest.raises(NotFoundError, match="no git repository is configured for service 'web'"):
        source.commits_between("web", "v1", "v2")
    with pytest.raises(NotFoundError, match="no git repository for 'ghost'"):
        source.commits_between("ghost", "v1", "v2")
    with pytest.raises(PermanentError, match="does not exist"):
        GitCommits(tmp_path / "missing").health()


def test_the_local_code_host_records_the_incident_it_reverts_for(releases: Releases) -> None:
    host = GitCodeHost(releases.work.parent)
    context = RevertContext("inc-7", "auth leaks", "memory leak", evidence=(EvidenceLink("ev-1"),))
    pr = host.open_revert("auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k", context=context)
    description = git(releases.work, "config", f"branch.{pr.branch}.description")
    assert description.endswith(
        "Incident inc-7: auth leaks\nRoot cause: memory leak\nEvidence: ev-1"
    )
