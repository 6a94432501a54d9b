"""A loopback HTTP server that serves feeds and faults to tests, plus quick feed builders.

Everything binds to 127.0.0.1 on an ephemeral port: no test ever reaches the internet.
Register with `pytest_plugins = ["tests.feedserver"]`; tests then ask for `feed_server`.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDictProxy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Body = bytes | str | Handler


@dataclass
class _Route:
    body: Body
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/rss+xml"
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None


class FeedServer:
    """An aiohttp server on 127.0.0.1 that serves routes registered by the test."""

    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.hits: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[str, CIMultiDictProxy[str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.sent_bytes: dict[str, int] = defaultdict(int)  # body bytes written per path
        self.disconnects: dict[str, int] = defaultdict(int)  # clients that hung up mid-body

    async def start(self) -> None:
        """Bind to an ephemeral loopback port and start serving."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a client that hangs up stops a slow handler at once.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FeedServer.url() before start()")
        return self._port

    def url(self, path: str) -> str:
        """The absolute http://127.0.0.1:PORT URL of `path`."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def route(
        self,
        path: str,
        body: Body = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = "application/rss+xml",
        delay: float = 0.0,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> str:
        """Serve `body` at `path` (replacing any earlier route) and return the path's URL."""
        self._routes[_norm(path)] = _Route(
            body=body,
            status=status,
            headers=dict(headers or {}),
            content_type=content_type,
            delay=delay,
            etag=etag,
            last_modified=last_modified,
        )
        return self.url(path)

    def redirect(self, path: str, to: str, *, status: int = 302) -> str:
        """Answer `path` with a redirect to `to` (a path on this server or an absolute URL)."""
        location = to if "://" in to else self.url(to)
        return self.route(path, b"", status=status, headers={"Location": location})

    def redirect_loop(self, first: str, second: str) -> str:
        """Make `first` and `second` redirect to each other; return the URL of `first`."""
        self.redirect(second, first)
        return self.redirect(first, second)

    def slow(
        self,
        path: str,
        body: bytes,
        *,
        chunk: int = 16,
        interval: float = 0.05,
        content_type: str = "application/rss+xml",
    ) -> str:
        """Trickle `body` out `chunk` bytes every `interval` seconds."""

        async def trickle(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": content_type})
            response.content_length = len(body)
            await response.prepare(request)
            for start in range(0, len(body), chunk):
                if not await self._write(path, response, body[start : start + chunk]):
                    return response
                await asyncio.sleep(interval)
            await response.write_eof()
            return response

        return self.route(path, trickle)

    def raw(
        self,
        path: str,
        size: int,
        *,
        chunk: int = 64 * 1024,
        declare_length: bool = True,
        declared_length: int | None = None,
        stall_after: bool = False,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Stream `size` generated bytes (never held in memory at once).

        `declare_length=False` sends no Content-Length (chunked); `declared_length` lies about
        it; `stall_after` keeps the response open after the bytes instead of finishing it, so
        only a client that stops reading on its own gets an answer before its timeout.
        """

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": content_type})
            if declare_length:
                response.content_length = size if declared_length is None else declared_length
            else:
                response.enable_chunked_encoding()
            await response.prepare(request)
            block = b"x" * chunk
            remaining = size
            while remaining > 0:
                piece = block[: min(chunk, remaining)]
                if not await self._write(path, response, piece):
                    return response
                remaining -= len(piece)
            if stall_after:
                await asyncio.sleep(3600)  # cancelled when the client hangs up
            await response.write_eof()
            return response

        return self.route(path, stream)

    async def _write(self, path: str, response: web.StreamResponse, data: bytes) -> bool:
        """Write `data`; False (and a disconnect counted) when the client has gone."""
        try:
            await response.write(data)
        except (ConnectionError, RuntimeError):
            self.disconnects[_norm(path)] += 1
            return False
        self.sent_bytes[_norm(path)] += len(data)
        return True

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = _norm(request.path)
        self.hits[path] += 1
        self.requests.append((path, request.headers))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self._routes.get(path)
            if route is None:
                return web.Response(status=404, text=f"no route for {path}")
            if route.delay:
                await asyncio.sleep(route.delay)
            if callable(route.body):
                return await route.body(request)
            return self._respond(request, route)
        finally:
            self.in_flight -= 1

    def _respond(self, request: web.Request, route: _Route) -> web.Response:
        headers = dict(route.headers)
        if route.etag is not None:
            headers["ETag"] = route.etag
        if route.last_modified is not None:
            headers["Last-Modified"] = route.last_modified
        if route.status == 200 and _not_modified(request, route):
            return web.Response(status=304, headers=headers)
        body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
        assert isinstance(body, bytes)
        if route.content_type and "Content-Type" not in headers:
            headers["Content-Type"] = route.content_type
        return web.Response(status=route.status, body=body, headers=headers)


def _norm(path: str) -> str:
    return "/" + path.lstrip("/")


def _not_modified(request: web.Request, route: _Route) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if route.etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or route.etag.removeprefix("W/") in tags
    since = request.headers.get("If-Modified-Since")
    if since is not None and route.last_modified is not None:
        try:
            return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A started loopback FeedServer, stopped after the test."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def http_date(when: datetime) -> str:
    """`when` as an IMF-fixdate HTTP header value."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


def rss(
    items: list[dict[str, Any]],
    *,
    title: str = "Test feed",
    link: str = "https://feed.example.org/",
    language: str | None = "en",
) -> bytes:
    """An RSS 2.0 document. Item keys: title, link, guid, description, pubDate, source."""
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = link
    ET.SubElement(channel, "description").text = f"{title} (generated for a test)"
    if language:
        ET.SubElement(channel, "language").text = language
    for item in items:
        node = ET.SubElement(channel, "item")
        for key in ("title", "link", "description"):
            if item.get(key) is not None:
                ET.SubElement(node, key).text = str(item[key])
        if item.get("guid") is not None:
            ET.SubElement(node, "guid", isPermaLink="false").text = str(item["guid"])
        if item.get("pubDate") is not None:
            ET.SubElement(node, "pubDate").text = http_date(item["pubDate"])
        if item.get("source") is not None:
            attrs = {"url": str(item["source_url"])} if item.get("source_url") else {}
            ET.SubElement(node, "source", attrs).text = str(item["source"])
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def atom(
    items: list[dict[str, Any]],
    *,
    title: str = "Test feed",
    feed_id: str = "urn:casewatch:test-feed",
    link: str = "https://feed.example.org/",
) -> bytes:
    """An Atom 1.0 document from the same item dicts as `rss` (pubDate -> published/updated)."""
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        node.text = text
        return node

    root = ET.Element(f"{{{ns}}}feed")
    sub(root, "title", title)
    sub(root, "id", feed_id)
    sub(root, "link", href=link)
    dates = [i["pubDate"] for i in items if i.get("pubDate") is not None]
    newest = max(dates) if dates else datetime(2020, 1, 1, tzinfo=UTC)
    sub(root, "updated", newest.astimezone(UTC).isoformat())
    for index, item in enumerate(items):
        entry = sub(root, "entry")
        if item.get("title") is not None:
            sub(entry, "title", str(item["title"]))
        if item.get("link") is not None:
            sub(entry, "link", rel="alternate", href=str(item["link"]))
        sub(entry, "id", str(item.get("guid") or item.get("link") or f"{feed_id}:{index}"))
        when = item.get("pubDate")
        if when is not None:
            stamp = when.astimezone(UTC).isoformat()
            sub(entry, "published", stamp)
            sub(entry, "updated", stamp)
        if item.get("description") is not None:
            sub(entry, "summary", str(item["description"]))
        if item.get("source") is not None:
            source = sub(entry, "source")
            sub(source, "title", str(item["source"]))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
