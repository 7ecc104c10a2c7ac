"""The console in a real browser: Playwright drives Debian's headless Chromium against a
real `medic serve` watching the sandbox, from the first signal to the post-mortem.

Nothing is downloaded: the browser is /usr/bin/chromium (scripts/install-test-services.sh
installs it), never `playwright install`. Screenshots are kept in
test-artifacts/screens/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.server import MedicServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
# Watched-system waits are in real seconds; the sandbox runs 120x faster than real time.
LOOP_MS = 240_000


@pytest.fixture
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Chromium is required: bash scripts/install-test-services.sh", pytrace=False)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MedicServer]:
    serve = MedicServer(
        tmp_path / "data",
        f"sqlite:///{tmp_path / 'data' / 'medic.sqlite'}",
        MEDIC_SANDBOX__SPEED="120",
        MEDIC_WATCHDOG__INTERVAL_SECONDS="2",
        MEDIC_VERIFICATION__WINDOW_SECONDS="900",
        MEDIC_VERIFICATION__POLL_SECONDS="15",
    )
    serve.start_timeout = 180.0
    with serve as running:
        yield running


def _shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, server: MedicServer) -> None:
    token = next(iter(server.credentials()["users"].values()))
    page.goto(f"{server.url}/ui")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.get_by_text("Sign in with a token instead").click()  # the password form is first
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in with the token").click()
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()


def _mark(page: Page) -> None:
    """A value that lives only as long as this document: a reload would lose it."""
    page.evaluate("window.__medicSameDocument = true")


def _same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__medicSameDocument === true"))


def test_an_sre_follows_the_incident_from_signal_to_post_mortem(
    browser: Browser, server: MedicServer
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _sign_in(page, server)

    # The list fills in by itself once the watchdog opens the incident.
    _mark(page)
    first = page.locator("table.incidents td.id a").first
    expect(first).to_be_visible(timeout=LOOP_MS)
    assert _same_document(page), "the list reloaded instead of updating"
    incident_id = first.inner_text()
    assert re.fullmatch(r"inc-\d{8}-[0-9a-f]+", incident_id), incident_id  # whole, not cut
    _shot(page, "01-incident-list")

    first.click()
    expect(page).to_have_url(re.compile(f"/ui/incidents/{incident_id}$"))
    _mark(page)
    approve = page.get_by_role("button", name="Approve plan")
    expect(approve).to_be_visible(timeout=LOOP_MS)
    assert _same_document(page), "the incident page reloaded instead of updating"

    # The plan is read before the decision: it is above it.
    plan_box = page.locator("#plan").bounding_box()
    decide_box = page.locator("#decide").bounding_box()
    assert plan_box and decide_box and plan_box["y"] < decide_box["y"]

    # The chart reads like a Grafana panel: units on the value axis, clock times below.
    chart = page.locator("figure.panel").first
    expect(chart.locator("figcaption")).to_contain_text("memory_working_set_bytes")
    ticks = chart.locator("text.ytick").all_text_contents()
    assert ticks and all(re.fullmatch(r"[\d.,]+ (MiB|GiB)", t) for t in ticks), ticks
    times = chart.locator("text.xtick").all_text_contents()
    assert times and all(re.fullmatch(r"\d\d:\d\d", t) for t in times), times
    expect(chart.locator("line.limit")).to_have_count(1)  # the memory limit
    expect(chart.locator("g.marker.deploy")).not_to_have_count(0)  # the bad deploy

    tip = chart.locator("output.tip")
    hover_text = re.compile(r"^[\d.,]+ (MiB|GiB) at \d\d:\d\d:\d\d UTC$")
    # The charts are refreshed live; a refresh between the move and the read drops the
    # tip, so the pointer moves again (as a person's would) until the tip reads.
    chart.scroll_into_view_if_needed()  # as a person scrolls to it
    for step in range(20):
        svg = chart.locator("svg").bounding_box()
        assert svg
        x = svg["x"] + svg["width"] * (0.55 + 0.005 * step)
        page.mouse.move(x, svg["y"] + svg["height"] * 0.5)
        if hover_text.match(tip.inner_text()):
            break
        page.wait_for_timeout(500)
    expect(tip).to_have_text(hover_text)
    hovered = tip.inner_text()
    chart.locator("svg").screenshot(path=str(SCREENS / "02-chart-hover.png"))
    _shot(page, "03-awaiting-approval")

    # Keyboard: the chart takes focus and the arrow keys walk its values.
    chart.focus()
    page.keyboard.press("Home")
    expect(tip).not_to_have_text(hovered)

    approve.click()  # a form post: the one navigation of the decision
    expect(page.locator("#decide")).not_to_have_attribute("data-state", "awaiting_approval")
    expect(page.locator("#decide")).to_contain_text("Approved by")
    _mark(page)
    states = set()
    decide = page.locator("#decide")
    for _ in range(LOOP_MS // 500):
        state = decide.get_attribute("data-state")
        states.add(state)
        if state in {"resolved", "escalated"}:
            break
        page.wait_for_timeout(500)
    assert decide.get_attribute("data-state") == "resolved", states
    assert _same_document(page), "the page reloaded while the incident resolved"
    expect(page.locator("#state")).to_contain_text("resolved")  # the badge follows too
    expect(page.locator("[data-live=banner]")).to_contain_text("Resolved")

    # The charts keep going: the action and the recovery are on them, without a reload.
    expect(chart.locator("g.marker.action")).not_to_have_count(0, timeout=30_000)
    expect(chart.locator("g.marker.recovered")).not_to_have_count(0, timeout=30_000)
    expect(page.locator("[data-live=timeline]")).to_contain_text("verification")
    chart.locator("svg").screenshot(path=str(SCREENS / "04-chart-recovered.png"))

    link = page.locator("#postmortem-link")
    expect(link).to_be_visible(timeout=60_000)
    assert _same_document(page)
    _shot(page, "05-resolved")

    link.click()
    expect(page).to_have_url(re.compile(f"/ui/incidents/{incident_id}/postmortem$"))
    expect(page.get_by_role("heading", name=re.compile("Post-mortem"))).to_be_visible()
    _shot(page, "06-postmortem")

    for path in ("/ui/audit", "/ui/control"):
        page.goto(f"{server.url}{path}")
        _shot(page, f"07-{path.rsplit('/', 1)[-1]}")
    expect(page.get_by_role("button", name="Pause every action")).to_be_visible()
    assert not [p for p in problems if "favicon" not in p], problems
