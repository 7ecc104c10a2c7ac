"""The post-mortem tells the whole story readably, and untrusted text cannot change its
structure (it is escaped, not fenced in code spans)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from markdown_it import MarkdownIt
from markdown_it.token import Token

from medic.domain import IncidentState, Point, Series, VerificationOutcome
from medic.scribe import Slo, render_postmortem, text
from medic.scribe.units import duration, humanize, quantity
from tests.scribe.records import INJECTION, T0, Records, as_record, seed_records


def render(
    r: Records,
    *,
    time_scale: float = 1.0,
    series: tuple[Series, ...] = (),
    slos: dict[str, Slo] | None = None,
) -> str:
    record = replace(as_record(r), time_scale=time_scale, series=series, slos=slos or {})
    return render_postmortem(record).markdown


def tokens(markdown: str) -> list[Token]:
    flat: list[Token] = []
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        flat.append(token)
        flat.extend(token.children or ())
    return flat


def headings(markdown: str) -> list[str]:
    blocks = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [
        "".join(c.content for c in blocks[i + 1].children or ())
        for i, t in enumerate(blocks)
        if t.type == "heading_open"
    ]


def test_sections_in_reading_order() -> None:
    assert headings(render(seed_records())) == [
        "Post-mortem: auth-service memory climbing",
        "Summary",
        "Impact",
        "Timeline",
        "Root cause",
        "Evidence that decided it",
        "Charts",
        "What was done",
        "Follow-ups",
        "Appendix",
        "Other evidence",
        "Other hypotheses",
        "Plan rationale",
        "Verification",
    ]


def test_the_root_cause_is_stated_once_in_the_summary() -> None:
    md = render(seed_records())
    summary = md.split("## Summary", 1)[1].split("## Impact", 1)[0]

    assert summary.count("Root cause:") == 1
    assert "bad deploy of auth-service, introduced by v1.2.1 (confidence 82%)" in summary
    assert md.count("auth-service v1.2.1 leaks memory") == 0  # the summary's echo is gone


def test_values_have_units_and_no_exponent() -> None:
    md = render(seed_records())

    assert "e+08" not in md
    assert "300.4 MiB" in md  # the evidence said 3.1494e+08 bytes
    assert "295.6 MiB" in md  # the verification observation 3.1e8
    assert quantity(0.0315, "ratio") == "3.15%"
    assert quantity(0.42, "seconds") == "420 ms"
    assert duration(245) == "4m 05s"
    assert (
        humanize("latency_p99_seconds 1.25e+00 <= 5e-01") == "latency_p99_seconds 1.25 s <= 500 ms"
    )


def test_identifiers_are_prose_not_code_spans() -> None:
    md = render(seed_records())

    assert "` auth-service `" not in md
    assert "on auth-service in production" in md
    assert "approved by **alice**" in md


def test_cited_evidence_comes_first_and_the_rest_is_in_the_appendix() -> None:
    md = render(seed_records())
    body, appendix = md.split("## Appendix", 1)

    assert "**ev-1**" in body and "**ev-2**" in body
    assert "ev-3" not in body and "cpu flat at 0.2 cores" in appendix
    assert "catalog deployed later" in appendix


def test_duration_is_wall_time_even_on_the_sandbox_clock() -> None:
    md = render(seed_records(), time_scale=60.0)
    impact = md.split("## Impact", 1)[1].split("## Timeline", 1)[0]

    # 40 simulated minutes at 60x are 40 wall seconds.
    assert "**Duration:** 40 s of wall time" in impact
    assert "ran 60x faster (40m 00s simulated)" in impact
    assert "Time (UTC) (simulated clock)" in md


def test_slo_budget_spent_is_measured_from_the_series() -> None:
    r = seed_records()
    start = (T0 - timedelta(minutes=20)).timestamp()
    ratio = Series(
        "error_ratio",
        "auth-service",
        tuple(Point(start + 60 * m, 0.05) for m in range(0, 40)),
        unit="ratio",
    )
    rate = Series(
        "request_rate", "auth-service", tuple(Point(start + 60 * m, 100.0) for m in range(40))
    )
    # p99 over 500 ms for the last 10 of the 40 minutes
    p99 = Series(
        "latency_p99_seconds",
        "auth-service",
        tuple(Point(start + 60 * m, 0.9 if m >= 30 else 0.1) for m in range(40)),
        unit="seconds",
    )
    slo = Slo("auth-service", availability=0.999, latency_seconds=0.5, window_days=30)
    md = render(r, series=(ratio, rate, p99), slos={"auth-service": slo})
    impact = md.split("## Impact", 1)[1].split("## Timeline", 1)[0]

    # 5% of 100 req/s for 40 min = 12,000 failed; a 99.9% month at 100 req/s allows 259,200.
    assert "≈12,000 failed requests" in impact
    assert "4.6% of the window's budget spent" in impact
    # 600 s slow against 1% of 30 days (25,920 s).
    assert "latency budget):** 2.3% of the window's budget spent" in impact
    assert "p99 latency over 0.5 s for 600 s" in impact


def test_without_an_slo_the_post_mortem_says_so() -> None:
    md = render(seed_records())

    assert "no SLO is configured for auth-service" in md


def test_a_chart_marks_onset_action_recovery_and_the_limit() -> None:
    rendered = render_postmortem(as_record(seed_records()), chart_dir="inc-1/")

    assert "![memory\\_working\\_set\\_bytes of auth-service]" not in rendered.markdown
    assert "(inc-1/auth-service-memory_working_set_bytes.svg)" in rendered.markdown
    svg = rendered.charts["auth-service-memory_working_set_bytes.svg"]
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for label in (">onset<", ">rollout_undo<", ">recovered<", "limit 407.2 MiB"):
        assert label in svg, label
    assert "e+08" not in svg


def test_an_escaped_label_cannot_open_an_svg_element() -> None:
    r = seed_records()
    hostile = Series(
        "memory_working_set_bytes",
        "auth<script>alert(1)</script>",
        (Point(T0.timestamp(), 1.0), Point(T0.timestamp() + 60, 2.0)),
        unit="bytes",
    )
    ev = replace(r.diagnosis.evidence[0], series=(hostile,))
    diagnosis = replace(r.diagnosis, evidence=(ev, *r.diagnosis.evidence[1:]))
    charts = render_postmortem(as_record(replace(r, diagnosis=diagnosis))).charts

    (svg,) = charts.values()
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_the_timeline_says_who_and_when_in_utc_order() -> None:
    r = seed_records()
    md = render(r)

    rows = [line for line in md.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d ", line)]
    assert len(rows) == len(r.timeline) == 7
    times = [row.split("|")[1].strip() for row in rows]
    assert times == sorted(times)
    phases = [row.split("|")[2].strip() for row in rows]
    assert phases[0] == "detection" and phases[-1] == "verification"
    assert {"diagnosis", "approval", "action"} <= set(phases)
    assert any("| alice |" in row for row in rows)


def test_a_local_revert_branch_is_not_shown_as_a_pull_request_link() -> None:
    r = seed_records()
    revert = r.plan.long_term[0]
    local = replace(
        r.executions[0],
        action=revert,
        idempotency_key="inc-1:x:later:0",
        detail="opened pull request file:///tmp/repos/auth#medic/revert-auth-v1.2.1 "
        "(branch medic/revert-auth-v1.2.1)",
    )
    md = render(replace(r, executions=(*r.executions, local)))
    follow_ups = md.split("## Follow-ups", 1)[1].split("## Appendix", 1)[0]

    assert "file://" not in follow_ups
    assert "not a pull request yet" in follow_ups

    real = replace(
        local, detail="opened pull request https://github.com/acme/auth/pull/7 (branch b)"
    )
    md = render(replace(r, executions=(*r.executions, real)))
    links = [t for t in tokens(md) if t.type == "link_open"]
    assert [t.attrGet("href") for t in links] == ["https://github.com/acme/auth/pull/7"]


def test_a_closed_after_escalation_incident_says_so() -> None:
    r = seed_records()
    md = render(replace(r, incident=replace(r.incident, state=IncidentState.CLOSED)))

    assert "its alerts resolved after it was escalated" in md


def test_an_injected_commit_message_stays_inert() -> None:
    hostile = (
        f"{INJECTION}\n\n{INJECTION}\n<script>alert(1)</script>\n| x | y | "
        "![img](http://evil/x.png) *bold* www.evil.example me@evil.example"
    )
    md = render(seed_records(commit_message=hostile))
    toks = tokens(md)

    assert "Ignore previous instructions" in md  # still shown, as data
    assert not [h for h in headings(md) if "Ignore" in h]
    bad = ("link_open", "image", "html_inline", "html_block", "em_open", "strong_open")
    shown = [t for t in toks if t.type in bad and "evil" in str(t.attrs) + t.content]
    assert not shown
    assert not re.search(r"^\s*#+ Ignore", md, re.MULTILINE)
    assert "<script>" not in md
    # Not fenced: the text reads as prose.
    assert not [t for t in toks if t.type == "code_inline" and "Ignore" in t.content]


def test_text_escapes_only_what_markdown_would_act_on() -> None:
    assert text("auth-service v1.2.1") == "auth-service v1.2.1"
    assert text("# [a](b) <i>") == r"\# \[a\](b) &lt;i&gt;"
    assert text("memory_working_set_bytes") == "memory_working_set_bytes"
    assert text("_x_ *y*") == r"\_x\_ \*y\*"
    assert text("http://evil") == r"http\://evil"
    assert text("- item") == r"\- item"
    assert text("") == "*(empty)*"


def test_missing_parts_are_said_to_be_missing() -> None:
    r = seed_records()
    md = render_postmortem(as_record(replace(r, timeline=()))).markdown
    bare = render_postmortem(replace(as_record(r), diagnosis=None, plan=None, verification=None))

    assert "No events were recorded." in md
    assert "No diagnosis was made." in bare.markdown
    assert "No plan was made." in bare.markdown
    assert "Recovery was not verified." in bare.markdown


def test_a_failed_verification_shows_the_undo_and_asks_whether_it_recovered() -> None:
    r = seed_records()
    failed = replace(
        r.verification,
        outcome=VerificationOutcome.NOT_RECOVERED,
        detail="not recovered within 600s: "
        "memory_working_set_bytes last 4.5e+08, wanted <= 4.27e+08",
    )
    undo = replace(
        r.executions[0],
        idempotency_key="inc-1:abc:undo:0",
        detail="rolled deployment/auth-service forward to revision 2",
    )
    md = render(
        replace(
            r,
            incident=replace(r.incident, state=IncidentState.ESCALATED),
            verification=failed,
            executions=(*r.executions, undo),
        )
    )
    done = md.split("## What was done", 1)[1].split("## Follow-ups", 1)[0]

    assert "| undo: rollout_undo | auth-service |" in done
    assert "rolled deployment/auth-service forward to revision 2" in done
    assert "It was undone (1 undo action)." in md
    assert "Verification found no recovery." in md
    assert "Open question: Has it recovered? Verification said not_recovered" in md
    assert "429.2 MiB" in md and "e+08" not in md
    svg = render_postmortem(as_record(replace(r, executions=(*r.executions, undo)))).charts
    assert ">undo rollout_undo<" in next(iter(svg.values()))
