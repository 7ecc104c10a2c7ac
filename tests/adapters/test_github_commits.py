"""GitHubCommits through the compare API, and how the GitHub seam treats GitHub's errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from medic.adapters.github import GitHubCodeHost, GitHubCommits
from medic.domain.errors import InvalidInputError, NotFoundError, PermanentError, TransientError
from tests.adapters.fake_github import FakeGitHub, RecordingClock, Scripted
from tests.adapters.git_releases import INJECTION, Releases, copy_releases, git, make_releases

_COMPARE = r"/repos/acme/auth/compare/.*"


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


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


def _commits(github: FakeGitHub, clock: RecordingClock, token: str | None = None) -> GitHubCommits:
    return GitHubCommits(
        github.token if token is None else token,
        {"auth": "acme/auth", "web": "acme/web"},
        transport=github.transport,
        clock=clock,
    )


def test_the_commits_of_a_release_newest_first(
    github: FakeGitHub, releases: Releases, clock: RecordingClock
) -> None:
    commits = _commits(github, clock).commits_between("auth", "v1.2.0", "v1.2.1")
    assert [c.subject for c in commits] == [INJECTION.splitlines()[0], "Add a session cache"]
    assert commits[0].message == INJECTION.rstrip("\n")
    assert commits[0].sha == git(releases.work, "rev-parse", "v1.2.1")
    assert commits[0].url == f"https://github.com/acme/auth/commit/{commits[0].sha}"
    assert (commits[1].author, commits[1].email) == ("Ann Example", "ann@example.com")
    assert commits[1].at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    [request] = github.calls("GET", "/repos/acme/auth/compare/")
    assert request.url.path == "/repos/acme/auth/compare/v1.2.0...v1.2.1"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def test_a_long_comparison_is_read_page_by_page(
    github: FakeGitHub, releases: Releases, clock: RecordingClock
) -> None:
    for n in range(5):
        releases.commit("n.txt", f"{n}\n", f"change {n}", f"2025-03-02T0{n}:00:00Z")
    git(releases.work, "tag", "v1.3.0")
    releases.push("main", "v1.3.0")
    source = _commits(github, clock)
    source.per_page = 2
    commits = source.commits_between("auth", "v1.2.0", "v1.3.0")
    assert [c.subject for c in commits][:5] == [f"change {n}" for n in (4, 3, 2, 1, 0)]
    assert len(commits) == 7
    assert len(github.calls("GET", "/repos/acme/auth/compare/")) == 4


def test_a_refused_token_is_a_permanent_error_that_says_so(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    with pytest.raises(PermanentError, match=r"refused the token \(401 Bad credentials\)"):
        _commits(github, clock, token="wrong").commits_between("auth", "v1.2.0", "v1.2.1")
    assert clock.slept == []  # not retried


def test_an_unknown_repository_or_ref_is_not_found(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    source = _commits(github, clock)
    with pytest.raises(NotFoundError, match=r"compare v1\.0\.0\.\.\.v1\.0\.1 in acme/web"):
        source.commits_between("web", "v1.0.0", "v1.0.1")
    with pytest.raises(NotFoundError, match=r"No commit found for the ref v9\.9\.9"):
        source.commits_between("auth", "v1.2.0", "v9.9.9")
    with pytest.raises(NotFoundError, match="no GitHub repository is configured for 'db'"):
        source.commits_between("db", "v1", "v2")


def test_a_rate_limit_is_waited_out_then_the_answer_is_read(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    limited = {"message": "API rate limit exceeded", "documentation_url": "https://docs"}
    github.script(Scripted("GET", _COMPARE, 429, limited, {"retry-after": "7"}))
    commits = _commits(github, clock).commits_between("auth", "v1.2.0", "v1.2.1")
    assert len(commits) == 2
    assert clock.slept == [7.0]


def test_an_exhausted_quota_waits_until_its_reset_or_gives_the_step_back(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    soon = str(int(clock.now().timestamp()) + 30)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": soon}
    body = {"message": "API rate limit exceeded for user ID 1.", "documentation_url": "d"}
    github.script(Scripted("GET", _COMPARE, 403, body, headers))
    assert len(_commits(github, clock).commits_between("auth", "v1.2.0", "v1.2.1")) == 2
    assert clock.slept == [30.0]
    # An hour away is longer than a step should hold a worker: a TransientError, no sleep.
    later = str(int(clock.now().timestamp()) + 3600)
    github.script(Scripted("GET", _COMPARE, 403, body, {**headers, "x-ratelimit-reset": later}))
    with pytest.raises(TransientError, match=r"rate limited; retry in 3600s"):
        _commits(github, clock).commits_between("auth", "v1.2.0", "v1.2.1")
    assert clock.slept == [30.0]


def test_a_secondary_rate_limit_without_headers_waits_a_minute(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    body = {"message": "You have exceeded a secondary rate limit.", "documentation_url": "d"}
    github.script(Scripted("GET", _COMPARE, 403, body))
    assert len(_commits(github, clock).commits_between("auth", "v1.2.0", "v1.2.1")) == 2
    assert clock.slept == [60.0]


def test_server_errors_and_timeouts_are_retried_then_transient(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    github.script(Scripted("GET", _COMPARE, 502, {"message": "Server Error"}, times=2))
    assert len(_commits(github, clock).commits_between("auth", "v1.2.0", "v1.2.1")) == 2
    assert clock.slept == [1.0, 2.0]

    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    source = GitHubCommits(
        "t", {"auth": "acme/auth"}, transport=httpx.MockTransport(timing_out), clock=clock
    )
    with pytest.raises(TransientError, match=r"GitHub at https://api\.github\.com timed out"):
        source.commits_between("auth", "v1.2.0", "v1.2.1")


def test_a_refused_pull_request_carries_githubs_message(
    github: FakeGitHub, releases: Releases, clock: RecordingClock, tmp_path: Path
) -> None:
    invalid = {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "field": "base", "code": "invalid"}],
        "documentation_url": "https://docs",
    }
    github.script(Scripted("POST", "/repos/acme/auth/pulls", 422, invalid))
    host = GitHubCodeHost(
        github.token,
        {"auth": "acme/auth"},
        tmp_path / "clones",
        remote_url=releases.remote_url,
        transport=github.transport,
        clock=clock,
    )
    with pytest.raises(InvalidInputError, match="Validation Failed: PullRequest base invalid"):
        host.open_revert("auth", "v1.2.0", "v1.2.1", "Revert", "why", key="k")
    assert github.pulls == []


def test_health_names_the_repository_it_cannot_read(
    github: FakeGitHub, clock: RecordingClock
) -> None:
    with pytest.raises(NotFoundError, match="read repository acme/web"):
        _commits(github, clock).health()
    healthy = GitHubCommits(
        github.token, {"auth": "acme/auth"}, transport=github.transport, clock=clock
    )
    assert "auth -> acme/auth (push, default main)" in healthy.health()


def test_a_malformed_repository_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="must be 'owner/name'"):
        GitHubCommits("t", {"auth": "https://github.com/acme/auth"})
