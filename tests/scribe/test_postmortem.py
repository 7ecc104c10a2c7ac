"""The post-mortem tells the whole story, and untrusted text cannot change its structure."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from medic.scribe import build_postmortem, code, plain, render_postmortem
from tests.scribe.records import INJECTION, Records, seed_records


def render(r: Records) -> str:
    return render_postmortem(
        r.incident, r.timeline, r.diagnosis, r.plan, r.approvals, r.executions, r.verification
    )


def tokens(markdown: str) -> list[Token]:
    flat: list[Token] = []
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        flat.append(token)
        flat.extend(token.children or ())
    return flat


def headings(markdown: str) -> list[str]:
    """Each heading's text as a reader sees it (code spans unwrapped)."""
    blocks = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [
        "".join(c.content for c in blocks[i + 1].children or ())
        for i, t in enumerate(blocks)
        if t.type == "heading_open"
    ]


def test_sections_in_order() -> None:
    assert headings(render(seed_records())) == [
        "Post-mortem: auth-service memory climbing",
        "Summary",
        "Timeline",
        "Root cause and evidence",
        "Evidence",
        "Rejected hypotheses",
        "Actions",
        "Approvals",
        "Verification",
        "Follow-ups",
    ]


def test_the_whole_timeline_is_a_table_in_utc_order() -> None:
    r = seed_records()
    md = render(r)

    rows = [line for line in md.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d ", line)]
    assert len(rows) == len(r.timeline) == 7
    times = [row.split("|")[1].strip() for row in rows]
    assert times == sorted(times)
    assert times[0] == "2025-03-01 11:40:00"
    kinds = [row.split("|")[2] for row in rows]
    assert "signal" in kinds[0] and "verification" in kinds[-1]


def test_root_cause_cites_evidence_and_names_the_rejected_hypotheses() -> None:
    md = render(seed_records())

    assert "` ev-1 `, ` ev-2 `" in md
    assert "working set +4 MiB/min" in md
    assert "catalog v3.0.1: deployed after the onset" in md
    assert "catalog deployed later" in md


def test_actions_show_the_exact_command_and_outcome() -> None:
    md = render(seed_records())

    assert "` kubectl rollout undo deployment/auth-service -n production `" in md
    assert "succeeded" in md
    assert "alice" in md
    assert "recovered after 240s" in md


def test_follow_ups_list_the_open_revert_pull_request() -> None:
    md = render(seed_records())

    follow_ups = md.split("## Follow-ups", 1)[1]
    assert "revert_pr" in follow_ups
    assert "still to be done" in follow_ups


def test_an_injected_commit_message_stays_inert() -> None:
    hostile = f"{INJECTION}\n\n{INJECTION}\n<script>alert(1)</script>\n| x | y |"
    md = render(seed_records(commit_message=hostile))
    toks = tokens(md)

    assert "Ignore previous instructions" in md  # still shown, as data
    assert not [h for h in headings(md) if "Ignore" in h]
    assert not [t for t in toks if t.type in ("link_open", "html_inline", "html_block")]
    assert not re.search(r"^\s*#+ Ignore", md, re.MULTILINE)
    spans = [t.content for t in toks if t.type == "code_inline"]
    assert any(INJECTION in s for s in spans)


def test_backticks_in_untrusted_text_cannot_close_the_code_span() -> None:
    hostile = "`` ` [click](http://evil) ` ``"
    md = render(seed_records(commit_message=hostile))

    assert not [t for t in tokens(md) if t.type == "link_open"]


def test_missing_parts_are_said_to_be_missing() -> None:
    r = seed_records()
    md = render_postmortem(r.incident, (), None, None, (), (), None)

    assert "No events were recorded." in md
    assert "No diagnosis was made." in md
    assert "No plan was made." in md
    assert "Recovery was not verified." in md


def test_build_postmortem_wraps_the_markdown() -> None:
    r = seed_records()

    pm = build_postmortem(
        r.incident, r.timeline, r.diagnosis, r.plan, r.approvals, r.executions, r.verification
    )

    assert pm.incident_id == "inc-1"
    assert pm.markdown == render(r)


def test_code_and_plain_helpers() -> None:
    assert code("a\nb") == "` a b `"
    assert code("x`y") == "`` x`y ``"
    assert code("") == "*(empty)*"
    assert code("x" * 10, limit=5) == "` xxxx… `"
    assert plain("# [a](b) <i>") == r"\# \[a\]\(b\) &lt;i&gt;"
