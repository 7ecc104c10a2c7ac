"""The post-mortem page: the Markdown rendered (not shown as source), charts inline,
nothing from the watched system turned into markup, the appendix collapsed."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from medic.scribe import Scribe
from medic.store import Store
from medic.web.postmortem_page import render_postmortem_html
from tests.web.conftest import sign_in

PAGE = "/ui/incidents/inc-web-1/postmortem"


def test_the_page_renders_the_written_post_mortem_with_its_chart(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    sign_in(client)
    assert client.get(PAGE).status_code == 404  # nothing written yet

    Scribe(store=store, directory=tmp_path).write("inc-web-1")
    page = client.get(PAGE)

    assert page.status_code == 200
    html = page.text
    assert "<h2>Summary</h2>" in html and "<h2>Root cause</h2>" in html
    assert '<pre class="postmortem">' not in html  # rendered, not dumped as source
    assert "<figure" in html and "<svg" in html and ">onset<" in html
    assert "<details><summary>Appendix" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>rejected</b>" not in html


def test_markdown_html_and_foreign_images_stay_inert() -> None:
    markdown = (
        "# T\n\n<img src=x onerror=alert(1)> [x](javascript:alert(1)) "
        "![pixel](http://evil.example/p.png)\n\n![chart](inc-1/a.svg)\n"
    )
    html = render_postmortem_html(markdown, {"a.svg": "<svg>medic's own</svg>"})

    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript:' not in html
    assert "evil.example" not in html and "[image: pixel]" in html
    assert "<svg>medic's own</svg>" in html
