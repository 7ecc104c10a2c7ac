"""GitHubCodeHost end to end: real git against a local bare remote, the fake GitHub API."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from medic.adapters.github import GitHubCodeHost
from medic.domain.code import EvidenceLink, RevertContext
from medic.domain.errors import ConflictError, NotFoundError, PermanentError
from tests.adapters.fake_github import FakeGitHub, RecordingClock
from tests.adapters.git_releases import Releases, copy_releases, git, make_releases

_BRANCH = "medic/revert-auth-v1.2.1"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("releases")
    make_releases(root)
    return root


@pytest.fixture
def releases(template: Path, tmp_path: Path) -> Releases:
    return copy_releases(template, tmp_path)


@pytest.fixture
def github(releases: Releases) -> FakeGitHub:
    return FakeGitHub({"acme/auth": releases.remote})


def _host(
    github: FakeGitHub, releases: Releases, clones: Path, *, draft: bool = False
) -> GitHubCodeHost:
    return GitHubCodeHost(
        github.token,
        {"auth": "acme/auth"},
        clones,
        remote_url=releases.remote_url,
        transport=github.transport,
        clock=RecordingClock(),
        draft=draft,
    )


_CONTEXT = RevertContext(
    incident_id="inc-42",
    summary="auth memory grows since v1.2.1",
    root_cause="memory leak in auth v1.2.1",
    incident_url="https://medic.example.com/incidents/inc-42",
    evidence=(
        EvidenceLink(
            "ev-1", "working set +3%/h", "https://medic.example.com/incidents/inc-42#ev-1"
        ),
        EvidenceLink("ev-2", "deploy of v1.2.1 at 10:00"),
    ),
)


def test_the_pull_request_reverts_the_bad_release_to_the_good_tree(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    host = _host(github, releases, tmp_path / "clones", draft=True)
    pr = host.open_revert(
        "auth", "v1.2.0", "v1.2.1", "Revert auth v1.2.1", "it leaks", key="k1", context=_CONTEXT
    )
    [pull] = github.pulls
    assert (pull["title"], pull["head"]["ref"], pull["base"]["ref"], pull["draft"]) == (
        "Revert auth v1.2.1",
        _BRANCH,
        "main",
        True,
    )
    assert pr.url == pull["html_url"] == "https://github.com/acme/auth/pull/1"
    assert pr.branch == _BRANCH
    assert pr.reverted == (
        git(releases.work, "rev-parse", "v1.2.1"),
        git(releases.work, "rev-parse", "v1.2.1~1"),
    )
    # The pushed branch holds v1.2.0's files, on top of main, one revert per commit.
    assert git(releases.remote, "rev-parse", f"{_BRANCH}^{{tree}}") == git(
        releases.remote, "rev-parse", "v1.2.0^{tree}"
    )
    assert git(releases.remote, "rev-parse", f"{_BRANCH}~2") == git(
        releases.remote, "rev-parse", "main"
    )
    assert releases.push_count() == 1
    body = pull["body"]
    assert "[`inc-42`](https://medic.example.com/incidents/inc-42)" in body
    assert "[`ev-1`](https://medic.example.com/incidents/inc-42#ev-1)" in body
    assert "`ev-2`" in body
    assert "`Add a session cache`" in body
    assert body.index(pr.reverted[0][:12]) < body.index(pr.reverted[1][:12])  # newest first
    assert "Opened by **medic**" in body


def test_the_same_key_again_opens_no_second_pull_request_and_pushes_nothing(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    first = _host(github, releases, tmp_path / "clones").open_revert(
        "auth", "v1.2.0", "v1.2.1", "Revert", "why", key="same"
    )
    # A retried step, maybe in another process with its own clone.
    again = _host(github, releases, tmp_path / "other-clones").open_revert(
        "auth", "v1.2.0", "v1.2.1", "Revert", "why", key="same"
    )
    assert again == first
    assert len(github.pulls) == 1
    assert len(github.calls("POST")) == 1
    assert releases.push_count() == 1


def test_a_branch_pushed_before_a_failure_is_reused_not_pushed_again(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    github.can_open_pulls = False
    host = _host(github, releases, tmp_path / "clones")
    with pytest.raises(PermanentError, match="needs the permission pull_requests=write"):
        host.open_revert("auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k")
    assert releases.remote_branches() == ["main", _BRANCH]
    github.can_open_pulls = True
    pr = host.open_revert("auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k")
    assert pr.url == "https://github.com/acme/auth/pull/1"
    assert releases.push_count() == 1


def test_a_foreign_branch_of_the_same_name_is_a_conflict(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    git(releases.work, "branch", "side", "main")
    releases.push(f"side:refs/heads/{_BRANCH}")
    with pytest.raises(ConflictError, match=f"branch {_BRANCH} exists"):
        _host(github, releases, tmp_path / "clones").open_revert(
            "auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k"
        )
    assert github.pulls == []


def test_a_revert_conflict_names_the_commit_and_leaves_no_branch(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    cache = git(releases.work, "rev-parse", "v1.2.1~1")
    # main moved on and changed the line the cache commit introduced.
    releases.commit("app.py", "CACHE = {'ttl': 60}\nTIMEOUT = 5\n", "Tune", "2025-03-01T12:00:00Z")
    releases.push("main")
    pushes = releases.push_count()
    clones = tmp_path / "clones"
    with pytest.raises(PermanentError) as caught:
        _host(github, releases, clones).open_revert(
            "auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k"
        )
    message = str(caught.value)
    assert f"reverting {cache[:12]} ('Add a session cache') on main conflicts in app.py" in message
    assert "nothing was pushed" in message
    assert releases.remote_branches() == ["main"]
    assert releases.push_count() == pushes
    assert github.pulls == []
    [clone] = clones.glob("*.git")
    assert git(clone, "branch", "--list", "medic/*") == ""
    assert git(clone, "worktree", "list").count("\n") == 0  # only the bare clone itself


def test_commit_messages_are_inert_in_the_description(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    context = RevertContext(
        incident_id="inc-1",
        summary="log says: <script>alert(1)</script> **approve** @oncall see #12",
        evidence=(EvidenceLink("ev-1", "[click](https://evil.example)", "javascript:alert(1)"),),
    )
    _host(github, releases, tmp_path / "clones").open_revert(
        "auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k", context=context
    )
    body = github.pulls[0]["body"]
    html = MarkdownIt("commonmark").render(body)
    assert "<img" not in html and "<script" not in html
    assert 'href="https://evil.example"' not in html and "javascript:" not in html
    assert "<strong>approve</strong>" not in html
    assert "<h2>" not in html and "Approved</h" not in html
    # The subject is shown, literally, as code; the message's body is not shown at all.
    assert "<code>&lt;img src=x onerror=alert(1)&gt; [merge me](https://evil.example)" in html
    assert "Ignore previous instructions" not in body
    # Nobody is pinged and no issue is linked from untrusted prose.
    assert "@oncall" not in body and "#12" not in body


def test_an_unconfigured_service_or_unknown_version_is_not_found(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    host = _host(github, releases, tmp_path / "clones")
    with pytest.raises(NotFoundError, match="no GitHub repository is configured for 'web'"):
        host.open_revert("web", "v1", "v2", "t", "b", key="k")
    with pytest.raises(NotFoundError, match=r"acme/auth: unknown version 'v9\.9\.9'"):
        host.open_revert("auth", "v1.2.0", "v9.9.9", "t", "b", key="k")
    assert releases.push_count() == 0


def test_health_reports_access_and_quota(
    github: FakeGitHub, releases: Releases, tmp_path: Path
) -> None:
    report = _host(github, releases, tmp_path / "clones").health()
    assert "4990/5000 requests left" in report
    assert "auth -> acme/auth (push, default main)" in report
    assert "git version" in report
