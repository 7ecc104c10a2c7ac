"""GitHubIssues against a fake of GitHub's documented Issues API: one issue per
incident, created then edited in place, charts named instead of broken images."""

from __future__ import annotations

import pytest

from medic.adapters.github_docs import LABEL, GitHubIssues
from medic.domain import InvalidInputError, PermanentError, Postmortem
from medic.scribe import render_postmortem
from tests.adapters.fake_github_issues import FakeGitHubIssues
from tests.scribe.records import as_record, seed_records


def _postmortem(incident_id: str = "inc-1", message: str = "Cache tokens") -> Postmortem:
    rendered = render_postmortem(as_record(seed_records(message)), chart_dir=f"{incident_id}/")
    return Postmortem(
        incident_id,
        "Post-mortem: auth-service memory climbing",
        rendered.markdown,
        charts=dict(rendered.charts),
    )


def _issues(fake: FakeGitHubIssues, token: str = "gh-token") -> GitHubIssues:
    return GitHubIssues(token, fake.repo, transport=fake.transport())


def test_an_incident_gets_one_issue_updated_in_place() -> None:
    fake = FakeGitHubIssues()
    fake.issues.append(  # someone else's issue with the label is left alone
        {
            "number": 1,
            "title": "x",
            "body": "hand-written",
            "state": "open",
            "labels": [{"name": LABEL}],
            "html_url": "https://github.com/acme/postmortems/issues/1",
        }
    )
    issues = _issues(fake)

    first = issues.publish(_postmortem())
    again = issues.publish(_postmortem(message="Cache tokens, take two"))
    other = issues.publish(_postmortem("inc-2"))

    assert first == again == "https://github.com/acme/postmortems/issues/2"
    assert other == "https://github.com/acme/postmortems/issues/3"
    issue = fake.issues[1]
    assert issue["body"].startswith("<!-- medic-postmortem: inc-1 -->")
    assert "take two" in issue["body"]
    assert issue["labels"] == [{"name": LABEL}]
    assert fake.issues[0]["body"] == "hand-written"


def test_chart_images_become_a_note_github_can_show() -> None:
    fake = FakeGitHubIssues()
    _issues(fake).publish(_postmortem())

    body = fake.issues[0]["body"]
    assert "![" not in body
    assert "*Chart: memory_working_set_bytes of auth-service" in body


def test_health_and_refusals() -> None:
    fake = FakeGitHubIssues()
    assert "issues labelled medic-postmortem" in _issues(fake).health()
    fake.has_issues = False
    assert "issues are switched off" in _issues(fake).health()
    with pytest.raises(PermanentError):
        _issues(FakeGitHubIssues(), token="wrong").publish(_postmortem())
    with pytest.raises(InvalidInputError, match="owner/name"):
        GitHubIssues("t", "not-a-repo")
