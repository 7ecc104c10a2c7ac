"""A Confluence Cloud fake from the documented REST API (v1 content API), as an httpx
MockTransport: spaces, pages with versions, attachments, basic auth.

What it enforces as Confluence does: basic auth with the account's e-mail and API token
(401 otherwise); a page title is unique within its space (400 on a duplicate create);
an update must carry the current version number + 1 (409 otherwise); attachment
uploads need `X-Atlassian-Token: no-check` (403 otherwise) and create or update by
file name; the `storage` body must be well-formed XHTML (400 otherwise, as Confluence
refuses unparseable storage format).
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["FakeConfluence", "Page"]

_ENTITIES = '<!DOCTYPE x [<!ENTITY nbsp "&#160;">]>'


@dataclass
class Page:
    id: str
    space: str
    title: str
    body: str
    version: int = 1
    ancestors: list[str] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)


class FakeConfluence:
    def __init__(self, user: str = "bot@example.com", token: str = "api-token") -> None:
        self.auth = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
        self.spaces = {"OPS": "Operations"}
        self.pages: dict[str, Page] = {}
        self.requests: list[httpx.Request] = []
        self.fail_next: int | None = None  # a status to answer the next request with
        self._next_id = 1000

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return _error(status, "the fake was told to fail")
        if request.headers.get("authorization") != self.auth:
            return _error(401, "Basic authentication with passwords is deprecated")
        path = request.url.path.removeprefix("/wiki/rest/api")
        if request.method == "GET" and (m := re.fullmatch(r"/space/([^/]+)", path)):
            return self._space(m.group(1))
        if path == "/content" and request.method == "GET":
            return self._search(request)
        if path == "/content" and request.method == "POST":
            return self._create(json.loads(request.content))
        if request.method == "PUT" and (m := re.fullmatch(r"/content/(\d+)", path)):
            return self._update(m.group(1), json.loads(request.content))
        if request.method == "PUT" and (
            m := re.fullmatch(r"/content/(\d+)/child/attachment", path)
        ):
            return self._attach(m.group(1), request)
        return _error(404, f"no route {request.method} {path}")

    def _space(self, key: str) -> httpx.Response:
        if key not in self.spaces:
            return _error(404, f"No space with key : {key}")
        return httpx.Response(200, json={"key": key, "name": self.spaces[key]})

    def _search(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        found = [
            p
            for p in self.pages.values()
            if p.space == q.get("spaceKey") and p.title == q.get("title")
        ]
        return httpx.Response(
            200,
            json={"results": [self._json(p) for p in found], "size": len(found), "_links": {}},
        )

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        space = body["space"]["key"]
        if space not in self.spaces:
            return _error(404, f"No space with key : {space}")
        if any(p.space == space and p.title == body["title"] for p in self.pages.values()):
            return _error(400, "A page with this title already exists")
        problem = _unparseable(body["body"]["storage"]["value"])
        if problem:
            return _error(400, f"Error parsing xhtml: {problem}")
        self._next_id += 1
        page = Page(
            str(self._next_id),
            space,
            body["title"],
            body["body"]["storage"]["value"],
            ancestors=[a["id"] for a in body.get("ancestors", [])],
        )
        self.pages[page.id] = page
        return httpx.Response(200, json=self._json(page))

    def _update(self, page_id: str, body: dict[str, Any]) -> httpx.Response:
        page = self.pages.get(page_id)
        if page is None:
            return _error(404, f"No content with id {page_id}")
        if body["version"]["number"] != page.version + 1:
            return _error(409, f"Version must be incremented on update. Current: {page.version}")
        problem = _unparseable(body["body"]["storage"]["value"])
        if problem:
            return _error(400, f"Error parsing xhtml: {problem}")
        page.title, page.body = body["title"], body["body"]["storage"]["value"]
        page.version += 1
        return httpx.Response(200, json=self._json(page))

    def _attach(self, page_id: str, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-atlassian-token") not in ("no-check", "nocheck"):
            return _error(403, "XSRF check failed")
        page = self.pages.get(page_id)
        if page is None:
            return _error(404, f"No content with id {page_id}")
        name, data = _multipart_file(request)
        page.attachments[name] = data
        return httpx.Response(200, json={"results": [{"title": name}], "size": 1})

    def _json(self, page: Page) -> dict[str, Any]:
        return {
            "id": page.id,
            "type": "page",
            "title": page.title,
            "version": {"number": page.version},
            "_links": {
                "base": "https://acme.atlassian.net/wiki",
                "webui": f"/spaces/{page.space}/pages/{page.id}",
            },
        }


def _unparseable(storage: str) -> str | None:
    wrapped = (
        f'{_ENTITIES}<x xmlns:ac="http://atlassian.com/ac" '
        f'xmlns:ri="http://atlassian.com/ri">{storage}</x>'
    )
    try:
        ET.fromstring(wrapped)
    except ET.ParseError as e:
        return str(e)
    return None


def _multipart_file(request: httpx.Request) -> tuple[str, bytes]:
    boundary = request.headers["content-type"].split("boundary=", 1)[1].encode()
    for part in request.content.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        found = re.search(rb'name="file"; filename="([^"]+)"', head)
        if found:
            return found.group(1).decode(), data.rsplit(b"\r\n", 1)[0]
    raise AssertionError("no file part in the upload")


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"statusCode": status, "message": message})
