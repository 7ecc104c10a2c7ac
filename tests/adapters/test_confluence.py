"""ConfluencePages against a fake built from Confluence's documented REST API: one page
per incident, created then updated in place, charts attached, text kept inert."""

from __future__ import annotations

import pytest

from medic.adapters.confluence import ConfluencePages
from medic.domain import NotFoundError, PermanentError, Postmortem, TransientError
from medic.scribe import render_postmortem
from tests.adapters.fake_confluence import FakeConfluence
from tests.scribe.records import as_record, seed_records

URL = "https://acme.atlassian.net/wiki"


def _postmortem(commit_message: str = "Cache session tokens") -> Postmortem:
    rendered = render_postmortem(as_record(seed_records(commit_message)), chart_dir="inc-1/")
    return Postmortem(
        "inc-1",
        "Post-mortem: auth-service memory climbing",
        rendered.markdown,
        charts=dict(rendered.charts),
    )


def _pages(fake: FakeConfluence, parent_id: str | None = None) -> ConfluencePages:
    return ConfluencePages(
        URL, "OPS", "bot@example.com", "api-token", parent_id=parent_id, transport=fake.transport()
    )


def test_publishing_creates_a_page_then_updates_the_same_one() -> None:
    fake = FakeConfluence()
    pages = _pages(fake, parent_id="42")

    first = pages.publish(_postmortem())
    again = pages.publish(_postmortem("Cache session tokens, take two"))

    (page,) = fake.pages.values()
    assert first == again == f"{URL}/spaces/OPS/pages/{page.id}"
    assert page.title == "Post-mortem inc-1: auth-service memory climbing"
    assert page.version == 2 and page.ancestors == ["42"]
    assert "take two" in page.body
    assert "<h2>Summary</h2>" in page.body


def test_charts_are_attachments_the_page_shows() -> None:
    fake = FakeConfluence()
    _pages(fake).publish(_postmortem())

    (page,) = fake.pages.values()
    name = "auth-service-memory_working_set_bytes.svg"
    assert page.attachments[name].startswith(b"<svg")
    assert f'<ri:attachment ri:filename="{name}" />' in page.body
    assert "<img" not in page.body


def test_untrusted_text_stays_text_in_the_storage_format() -> None:
    fake = FakeConfluence()
    hostile = '<ac:structured-macro ac:name="html"><script>x</script> [a](http://evil)'
    _pages(fake).publish(_postmortem(hostile))

    (page,) = fake.pages.values()  # the fake parsed it as XHTML: well-formed
    assert "<ac:structured-macro" not in page.body and "<script>" not in page.body
    assert "&lt;ac:structured-macro" in page.body
    assert 'href="http://evil"' not in page.body


def test_health_names_the_space_and_a_refused_token_is_permanent() -> None:
    fake = FakeConfluence()
    assert _pages(fake).health() == f"Confluence space OPS (Operations) at {URL}"

    wrong = ConfluencePages(URL, "OPS", "bot@example.com", "wrong", transport=fake.transport())
    with pytest.raises(PermanentError, match=r"401.*api_token"):
        wrong.publish(_postmortem())
    with pytest.raises(NotFoundError, match="No space with key : NOPE"):
        ConfluencePages(
            URL, "NOPE", "bot@example.com", "api-token", transport=fake.transport()
        ).health()


def test_outages_and_edit_conflicts_are_transient() -> None:
    fake = FakeConfluence()
    pages = _pages(fake)
    fake.fail_next = 503
    with pytest.raises(TransientError, match="503"):
        pages.publish(_postmortem())
    fake.fail_next = 409
    with pytest.raises(TransientError, match="409"):
        pages.publish(_postmortem())
    assert pages.publish(_postmortem()).startswith(URL)  # the retry goes through
