"""Confluence: `ConfluencePages`, a `DocStore` publishing each post-mortem as a page.

Through the Confluence REST API (v1 content API, Cloud and Data Center alike):

- find the page: `GET /rest/api/content?spaceKey=&title=&type=page&expand=version`;
- create it: `POST /rest/api/content` (a `page` in the space, under `parent_id` when
  set, body in the `storage` representation);
- or update it: `PUT /rest/api/content/{id}` with the version number + 1;
- its charts: `PUT /rest/api/content/{id}/child/attachment` (multipart, create or
  update by file name, `X-Atlassian-Token: no-check`), shown with `ac:image`.

The page title is "Post-mortem <incident id>: <title>", unique per incident, so
publishing again updates the same page. The body is the Markdown rendered by
markdown-it with raw HTML off (XHTML output, as storage format wants it): text from the
watched system stays text. Auth: the account's e-mail and an API token (basic auth).

Errors: timeouts, connection errors, 429 and 5xx are TransientError (the workflow step
retries); 409 (someone else saved the page meanwhile) too; 401 and 403 PermanentError;
404 NotFoundError (no such space or parent page); other 4xx InvalidInputError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from posixpath import basename
from typing import Any
from xml.sax.saxutils import quoteattr

import httpx
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from medic.domain.errors import (
    InvalidInputError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from medic.domain.model import Postmortem

__all__ = ["ConfluencePages", "storage_format"]

_TITLE_CHARS = 200
_MESSAGE_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class ConfluencePages:
    name = "confluence"

    def __init__(
        self,
        url: str,
        space: str,
        username: str,
        api_token: str,
        *,
        parent_id: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.space = space
        self.parent_id = parent_id
        self._client = httpx.Client(
            base_url=f"{self.url}/rest/api",
            auth=httpx.BasicAuth(username, api_token),
            headers={"Accept": "application/json", "User-Agent": "medic"},
            timeout=timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ConfluencePages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> str:
        space = self._call("GET", f"/space/{self.space}", f"read space {self.space}")
        return f"Confluence space {self.space} ({space.get('name', '?')}) at {self.url}"

    def publish(self, postmortem: Postmortem) -> str:
        title = page_title(postmortem)
        body = {"storage": {"value": storage_format(postmortem), "representation": "storage"}}
        found = self._find(title)
        if found is None:
            page: dict[str, Any] = {
                "type": "page",
                "title": title,
                "space": {"key": self.space},
                "body": body,
            }
            if self.parent_id:
                page["ancestors"] = [{"id": self.parent_id}]
            saved = self._call("POST", "/content", f"create page {title!r}", json=page)
        else:
            version = int(found.get("version", {}).get("number", 1)) + 1
            update = {
                "id": found["id"],
                "type": "page",
                "title": title,
                "space": {"key": self.space},
                "body": body,
                "version": {"number": version, "message": "medic: the incident changed"},
            }
            saved = self._call(
                "PUT", f"/content/{found['id']}", f"update page {title!r}", json=update
            )
        self._attach(str(saved["id"]), postmortem.charts)
        return self._page_url(saved)

    def _find(self, title: str) -> dict[str, Any] | None:
        params = {"spaceKey": self.space, "title": title, "type": "page", "expand": "version"}
        answer = self._call("GET", "/content", f"find page {title!r}", params=params)
        results = answer.get("results") or []
        return dict(results[0]) if results else None

    def _attach(self, page_id: str, charts: Mapping[str, str]) -> None:
        for name, svg in sorted(charts.items()):
            self._call(
                "PUT",
                f"/content/{page_id}/child/attachment",
                f"attach {name} to page {page_id}",
                files={"file": (name, svg.encode("utf-8"), "image/svg+xml")},
                data={"minorEdit": "true"},
                headers={"X-Atlassian-Token": "no-check"},
            )

    def _page_url(self, page: Mapping[str, Any]) -> str:
        links = page.get("_links") or {}
        base = str(links.get("base") or self.url).rstrip("/")
        webui = str(links.get("webui") or f"/pages/viewpage.action?pageId={page['id']}")
        return f"{base}{webui}"

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise TransientError(f"{what}: Confluence at {self.url} timed out") from e
        except httpx.TransportError as e:
            raise TransientError(f"{what}: cannot reach Confluence at {self.url}: {e}") from e
        status = response.status_code
        if status < 300:
            answer = response.json() if response.content else {}
            return dict(answer) if isinstance(answer, dict) else {"results": answer}
        message = f"{what}: Confluence answered {status}: {_message(response)}"
        if status in (409, 429) or status >= 500:
            raise TransientError(message)
        if status in (401, 403):
            raise PermanentError(f"{message} (check confluence.username and api_token)")
        if status == 404:
            raise NotFoundError(message)
        raise InvalidInputError(message)


def page_title(postmortem: Postmortem) -> str:
    title = postmortem.title.removeprefix("Post-mortem: ")
    flat = _CONTROL.sub(" ", f"Post-mortem {postmortem.incident_id}: {title}")
    return flat[:_TITLE_CHARS]


def storage_format(postmortem: Postmortem) -> str:
    """The post-mortem as Confluence storage format: XHTML, charts as attachments."""
    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": True}).enable("table")

    def image(
        self: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        name = basename(str(token.attrGet("src") or ""))
        if name not in postmortem.charts:
            return f"[image: {_xml_text(alt)}]"
        return (
            f"<ac:image ac:alt={quoteattr(alt)}>"
            f"<ri:attachment ri:filename={quoteattr(name)} /></ac:image>"
        )

    md.add_render_rule("image", image)
    return str(md.render(postmortem.markdown))


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:_MESSAGE_CHARS]
    if isinstance(body, dict):
        return str(body.get("message") or body)[:_MESSAGE_CHARS]
    return str(body)[:_MESSAGE_CHARS]
