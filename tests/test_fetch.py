"""Fetcher over real HTTP on loopback: conditional GET, limits, redirects, faults, the guard."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pydantic
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from casewatch import USER_AGENT
from casewatch.clock import FakeClock
from casewatch.fetch import (
    Fetcher,
    FetchSettings,
    address_problem,
    check_public_url,
    is_public_address,
    make_session,
    parse_retry_after,
)
from casewatch.validation import validate
from tests.feedserver import FeedServer, http_date, rss

FEED = rss([{"title": "ICC and the Uyghurs", "link": "https://news.example/1", "guid": "1"}])
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def quick(**overrides: object) -> FetchSettings:
    """Settings with timeouts small enough for a fast suite."""
    values: dict[str, object] = {"connect_timeout": 0.5, "total_timeout": 2.0}
    values.update(overrides)
    return validate(FetchSettings, values)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(quick(), clock=FakeClock(NOW)) as f:
        yield f


async def test_fetch_returns_body_headers_and_hash(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/feed.xml", FEED, etag='"v1"', last_modified=http_date(NOW))
    result = await fetcher.fetch(url)
    assert result.ok, result.error
    assert result.status == 200
    assert result.body == FEED
    assert result.body_hash == hashlib.sha256(FEED).hexdigest()
    assert result.not_modified is False
    assert result.etag == '"v1"'
    assert result.last_modified == "Sun, 01 Mar 2026 12:00:00 GMT"
    assert result.content_type == "application/rss+xml"
    assert result.url == result.final_url == url


async def test_fetch_sends_user_agent_accept_and_encoding_headers(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    await fetcher.fetch(feed_server.route("/feed.xml", FEED))
    ((_, headers),) = feed_server.requests
    assert headers["User-Agent"] == USER_AGENT
    assert "casewatch/" in headers["User-Agent"]
    for media_type in ("application/rss+xml", "application/atom+xml", "application/feed+json"):
        assert media_type in headers["Accept"]
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


async def test_gzip_bodies_are_decompressed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/gz", gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    result = await fetcher.fetch(url)
    assert result.body == FEED
    assert result.body_hash == hashlib.sha256(FEED).hexdigest()


async def test_etag_conditional_get_gives_not_modified(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/feed.xml", FEED, etag='"abc"')
    first = await fetcher.fetch(url)
    second = await fetcher.fetch(url, etag=first.etag)
    assert feed_server.requests[1][1]["If-None-Match"] == '"abc"'
    assert second.ok and second.not_modified
    assert second.status == 304
    assert second.body is None
    assert second.etag == '"abc"'


async def test_last_modified_conditional_get_gives_not_modified(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    stamp = http_date(NOW - timedelta(days=1))
    url = feed_server.route("/feed.xml", FEED, last_modified=stamp)
    first = await fetcher.fetch(url)
    second = await fetcher.fetch(url, last_modified=first.last_modified)
    assert feed_server.requests[1][1]["If-Modified-Since"] == stamp
    assert second.not_modified and second.status == 304 and second.body is None


async def test_changed_resource_answers_200_despite_old_validators(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/feed.xml", FEED, etag='"new"')
    result = await fetcher.fetch(url, etag='"old"')
    assert result.status == 200 and not result.not_modified
    assert result.body == FEED and result.etag == '"new"'


async def test_unchanged_body_hash_is_not_modified_without_a_body(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/no-validators.xml", FEED)
    first = await fetcher.fetch(url)
    second = await fetcher.fetch(url, last_body_hash=first.body_hash)
    assert second.status == 200
    assert second.not_modified is True
    assert second.body is None  # nothing for the pipeline to re-parse
    assert second.body_hash == first.body_hash
    feed_server.route("/no-validators.xml", FEED + b"\n<!-- changed -->")
    third = await fetcher.fetch(url, last_body_hash=first.body_hash)
    assert third.not_modified is False and third.body is not None


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (410, "Gone")])
async def test_gone_and_missing_are_permanent_errors(
    feed_server: FeedServer, fetcher: Fetcher, status: int, reason: str
) -> None:
    url = feed_server.route("/x", "nothing here", status=status)
    result = await fetcher.fetch(url)
    assert result.error == f"{url}: HTTP {status} {reason}"
    assert result.permanent is True
    assert result.status == status
    assert result.body is None


async def test_server_error_is_not_permanent(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/x", "oops", status=500)
    result = await fetcher.fetch(url)
    assert result.error == f"{url}: HTTP 500 Internal Server Error"
    assert result.permanent is False and result.retry_after is None


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (http_date(NOW + timedelta(minutes=5)), 300.0),
        (http_date(NOW - timedelta(minutes=5)), 0.0),
        ("soon", None),
    ],
)
async def test_retry_after_is_parsed_on_429_and_503(
    feed_server: FeedServer, fetcher: Fetcher, status: int, header: str, expected: float | None
) -> None:
    url = feed_server.route("/busy", "slow down", status=status, headers={"Retry-After": header})
    result = await fetcher.fetch(url)
    assert result.error is not None and f"HTTP {status}" in result.error
    assert result.retry_after == expected
    assert result.permanent is False


async def test_retry_after_is_ignored_on_other_statuses(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/x", "", status=500, headers={"Retry-After": "60"})
    assert (await fetcher.fetch(url)).retry_after is None


async def test_redirects_are_followed_and_the_final_url_reported(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    final = feed_server.route("/new/feed.xml", FEED)
    feed_server.redirect("/moved", "/new/feed.xml", status=301)
    start = feed_server.route("/old", b"", status=302, headers={"Location": "moved"})
    result = await fetcher.fetch(start)
    assert result.ok, result.error
    assert result.body == FEED
    assert result.url == start
    assert result.final_url == final
    assert [path for path, _ in feed_server.requests] == ["/old", "/moved", "/new/feed.xml"]


async def test_redirect_loop_is_refused(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.redirect_loop("/a", "/b")
    result = await fetcher.fetch(url)
    assert result.error is not None
    assert result.error.startswith(f"{url} (redirected to {feed_server.url('/b')}): redirect loop")
    assert "after 2 redirects" in result.error
    assert feed_server.hits["/a"] == 1 and feed_server.hits["/b"] == 1


async def test_too_many_redirects_are_refused(feed_server: FeedServer) -> None:
    for hop in range(4):
        feed_server.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    feed_server.route("/hop4", FEED)
    async with Fetcher(quick(max_redirects=3)) as limited:
        result = await limited.fetch(feed_server.url("/hop0"))
    assert result.error is not None and result.error.endswith("more than 3 redirects")
    assert feed_server.hits["/hop4"] == 0
    async with Fetcher(quick(max_redirects=4)) as enough:
        assert (await enough.fetch(feed_server.url("/hop0"))).body == FEED


@pytest.mark.parametrize(
    ("location", "message"),
    [(None, "redirect without a Location header"), ("ftp://x.example/f", "non-web URL")],
)
async def test_bad_redirects_are_errors(
    feed_server: FeedServer, fetcher: Fetcher, location: str | None, message: str
) -> None:
    headers = {"Location": location} if location else {}
    url = feed_server.route("/r", b"", status=302, headers=headers)
    result = await fetcher.fetch(url)
    assert result.error is not None and message in result.error


async def test_ten_megabyte_body_is_cut_off_while_streaming(feed_server: FeedServer) -> None:
    # The server sends 10 MB and then keeps the response open: only a client that stops at
    # the cap answers before its timeout; one that reads everything first would time out.
    url = feed_server.raw("/huge", 10_000_000, declare_length=False, stall_after=True)
    async with Fetcher(quick(max_bytes=1_000_000, total_timeout=5.0)) as f:
        started = time.perf_counter()
        result = await f.fetch(url)
    assert result.error == f"{url}: body larger than 1000000 bytes"
    assert result.body is None
    assert time.perf_counter() - started < 2.0


async def test_too_large_content_length_is_refused_before_reading(
    feed_server: FeedServer,
) -> None:
    url = feed_server.raw("/declared", 10_000_000, stall_after=True)
    async with Fetcher(quick(max_bytes=5_000_000)) as f:
        result = await f.fetch(url)
    assert result.error == (f"{url}: body larger than 5000000 bytes (Content-Length 10000000)")


async def test_body_exactly_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    url = feed_server.raw("/exact", 100_000, declare_length=False)
    async with Fetcher(quick(max_bytes=100_000)) as f:
        result = await f.fetch(url)
    assert result.ok and result.body is not None and len(result.body) == 100_000


async def test_slow_body_times_out_with_a_clear_error(feed_server: FeedServer) -> None:
    url = feed_server.slow("/slow", FEED, chunk=8, interval=0.05)
    async with Fetcher(quick(total_timeout=0.3, connect_timeout=0.2)) as f:
        started = time.perf_counter()
        result = await f.fetch(url)
    assert result.error == f"{url}: timed out reading the body (0.3s limit)"
    assert result.status == 200
    assert 0.25 < time.perf_counter() - started < 1.5


async def test_slow_headers_time_out(feed_server: FeedServer) -> None:
    url = feed_server.route("/stuck", FEED, delay=5)
    async with Fetcher(quick(total_timeout=0.3, connect_timeout=0.2)) as f:
        result = await f.fetch(url)
    assert result.error == (f"{url}: timed out connecting or waiting for the response (0.3s limit)")


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose accept queue is full, so a new connection attempt hangs (SYN dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for sock in [*fillers, listener]:
            sock.close()


async def test_connect_timeout_is_reported_as_such(unaccepting_port: int) -> None:
    url = f"http://127.0.0.1:{unaccepting_port}/feed"
    async with Fetcher(quick(connect_timeout=0.2, total_timeout=2.0)) as f:
        started = time.perf_counter()
        result = await f.fetch(url)
    assert result.error == f"{url}: timed out connecting after 0.2s"
    assert time.perf_counter() - started < 1.0


async def test_refused_connection_is_an_error_not_an_exception(fetcher: Fetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{port}/feed"
        result = await fetcher.fetch(url)
    assert result.error is not None
    assert result.error.startswith(f"{url}: could not connect to 127.0.0.1:{port}: ")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/feed", "only absolute http:// and https:// URLs"),
        ("/relative/feed.xml", "only absolute http:// and https:// URLs"),
        ("http://[not-an-ip/feed", "invalid URL"),
    ],
)
async def test_unfetchable_urls_are_errors(fetcher: Fetcher, url: str, message: str) -> None:
    result = await fetcher.fetch(url)
    assert result.error is not None and result.error.startswith(f"{url}: ")
    assert message in result.error


async def test_per_host_concurrency_bound_holds(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed.xml", FEED, delay=0.1)
    async with Fetcher(quick(per_host=2, concurrency=64)) as f:
        results = await asyncio.gather(*(f.fetch(url) for _ in range(8)))
    assert all(r.ok for r in results)
    assert feed_server.hits["/feed.xml"] == 8
    assert feed_server.max_in_flight == 2


@pytest.fixture
async def other_server() -> AsyncIterator[FeedServer]:
    """A second loopback host, for the bounds that hold across hosts."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class InFlight:
    """Requests in flight at once across every route it answers, and their peak."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0

    def answering(
        self, answer: Callable[[web.Request], web.StreamResponse]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A handler that holds each request 0.1 s, counted, then gives `answer`'s response."""

        async def handle(request: web.Request) -> web.StreamResponse:
            self.active += 1
            self.peak = max(self.peak, self.active)
            try:
                await asyncio.sleep(0.1)
                return answer(request)
            finally:
                self.active -= 1

        return handle


async def test_global_concurrency_bound_holds_across_hosts(
    feed_server: FeedServer, other_server: FeedServer
) -> None:
    flight = InFlight()
    counted = flight.answering(
        lambda _: web.Response(body=FEED, content_type="application/rss+xml")
    )
    urls = [feed_server.route("/c", counted), other_server.route("/c", counted)]
    async with Fetcher(quick(per_host=4, concurrency=3)) as f:
        results = await asyncio.gather(*(f.fetch(urls[i % 2]) for i in range(10)))
    assert all(r.ok for r in results)
    assert flight.peak == 3
    assert feed_server.max_in_flight <= 3 and other_server.max_in_flight <= 3


async def test_conditional_requests_are_in_flight_beyond_concurrency_within_per_host(
    feed_server: FeedServer, other_server: FeedServer
) -> None:
    """Revalidations mostly come back 304 without a body: they have slots of their own."""

    def revalidate(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=FEED, content_type="application/rss+xml")

    flight = InFlight()
    revalidated = flight.answering(revalidate)
    urls = [feed_server.route("/r", revalidated), other_server.route("/r", revalidated)]
    settings = quick(per_host=4, concurrency=1, conditional_concurrency=6)
    async with Fetcher(settings) as f:
        results = await asyncio.gather(*(f.fetch(urls[i % 2], etag='"v1"') for i in range(12)))
        revalidating_peak, flight.peak = flight.peak, 0
        plain = await asyncio.gather(*(f.fetch(urls[i % 2]) for i in range(4)))
    assert all(r.ok and r.not_modified for r in results)
    assert all(r.ok and r.body == FEED for r in plain)
    assert revalidating_peak == 6  # not held to concurrency=1
    assert feed_server.max_in_flight <= 4 and other_server.max_in_flight <= 4  # per host, as always
    assert flight.peak == 1  # requests without validators keep to concurrency


async def test_without_conditional_slots_revalidations_share_concurrency(
    feed_server: FeedServer,
) -> None:
    url = feed_server.route("/feed.xml", FEED, etag='"v1"', delay=0.1)
    async with Fetcher(quick(per_host=4, concurrency=2, conditional_concurrency=0)) as f:
        results = await asyncio.gather(*(f.fetch(url, etag='"v1"') for _ in range(6)))
    assert all(r.ok and r.not_modified for r in results)
    assert feed_server.max_in_flight == 2


async def test_changed_source_reads_its_body_in_a_concurrency_slot(
    feed_server: FeedServer,
) -> None:
    """A conditional request answered with a body waits for one of `concurrency` slots to read
    it: bodies in memory stay bounded however many revalidations are out."""
    slow = feed_server.slow("/slow.xml", FEED[:240], chunk=40, interval=0.05)  # ~0.3 s of body
    changed = feed_server.route("/changed.xml", FEED, etag='"v2"')
    finished: list[str] = []

    async def fetch(f: Fetcher, url: str, name: str, etag: str | None) -> None:
        result = await f.fetch(url, etag=etag)
        assert result.ok, result.error
        finished.append(name)

    async with Fetcher(quick(per_host=4, concurrency=1, conditional_concurrency=4)) as f:
        reading = asyncio.create_task(fetch(f, slow, "slow", None))
        await asyncio.sleep(0.1)  # the slow body is being read in the only body slot
        await fetch(f, changed, "changed", '"v1"')
        await reading
    assert finished == ["slow", "changed"]
    assert feed_server.hits["/changed.xml"] == 1


async def test_guard_refuses_loopback_before_connecting(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed.xml", FEED)
    async with Fetcher(quick()) as f:
        result = await f.fetch(url, guard_internal=True)
        unguarded = await f.fetch(url)
    assert result.error == f"{url}: refused: 127.0.0.1 is a loopback address"
    assert unguarded.ok
    assert feed_server.hits["/feed.xml"] == 1  # only the unguarded fetch reached the server


async def test_operator_can_allow_internal_addresses(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed.xml", FEED)
    async with Fetcher(quick(allow_internal=True)) as f:
        result = await f.fetch(url, guard_internal=True)
        assert await f.check_public_url(url) is None
    assert result.ok


def _only_test_server_is_public(address: str) -> str | None:
    """Classify the loopback test server's address as public; everything else as usual."""
    return None if address == "127.0.0.1" else address_problem(address)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.0.0.7/admin", "10.0.0.7 is a private address"),
        ("http://[::1]:9/", "::1 is a loopback address"),
        ("http://[::ffff:169.254.169.254]/latest", "link-local address (169.254.169.254)"),
    ],
)
async def test_guard_refuses_a_redirect_to_an_internal_address(
    feed_server: FeedServer, target: str, reason: str
) -> None:
    # No public server is reachable from a test, so the loopback server plays the public one.
    url = feed_server.redirect("/go", target)
    async with Fetcher(quick(), classify=_only_test_server_is_public) as f:
        result = await f.fetch(url, guard_internal=True)
    assert result.error is not None
    assert result.error.startswith(f"{url} (redirected to http://")
    assert ": refused: " in result.error and reason in result.error
    assert feed_server.hits["/go"] == 1


class FakeDNS(AbstractResolver):
    """Answers from a table (no DNS exists in tests); a list of answers is used in turn."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(socket.EAI_NONAME, "Name or service not known")
        answers = self.table[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


async def test_guard_refuses_a_redirect_to_a_name_resolving_inside(
    feed_server: FeedServer,
) -> None:
    dns = FakeDNS({"intranet.test": [["192.168.1.20"]]})
    url = feed_server.redirect("/go", "http://intranet.test/feed")
    async with Fetcher(quick(), classify=_only_test_server_is_public, resolver=dns) as f:
        result = await f.fetch(url, guard_internal=True)
    assert result.error == (
        f"{url} (redirected to http://intranet.test/feed): refused: intranet.test resolves to "
        "an internal address: 192.168.1.20 is a private address"
    )


async def test_guard_catches_a_name_that_rebinds_to_loopback_after_the_check(
    feed_server: FeedServer,
) -> None:
    # The check is answered with a public address, the connector's own lookup with loopback.
    dns = FakeDNS({"rebind.test": [["93.184.215.14"], ["127.0.0.1"]]})
    feed_server.route("/feed.xml", FEED)
    url = f"http://rebind.test:{feed_server.port}/feed.xml"
    async with Fetcher(quick(), resolver=dns) as f:
        result = await f.fetch(url, guard_internal=True)
        again_unguarded = await f.fetch(url)
    assert dns.asked == ["rebind.test", "rebind.test"]
    assert result.error == f"{url}: refused: connecting to 127.0.0.1 is a loopback address"
    assert again_unguarded.ok
    assert feed_server.hits["/feed.xml"] == 1  # only the unguarded fetch got through


async def test_a_borrowed_session_is_used_and_left_open(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed.xml", FEED)
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(quick(), session=session)
        result = await fetcher.fetch(url)
        await fetcher.close()
        assert not session.closed
    assert result.body == FEED


async def test_a_session_from_make_session_keeps_the_connect_guard(
    feed_server: FeedServer,
) -> None:
    dns = FakeDNS({"rebind.test": [["93.184.215.14"], ["127.0.0.1"]]})
    url = f"http://rebind.test:{feed_server.port}/feed.xml"
    feed_server.route("/feed.xml", FEED)
    settings = quick()
    async with make_session(settings, resolver=dns) as session:
        fetcher = Fetcher(settings, session=session, resolver=dns)
        result = await fetcher.fetch(url, guard_internal=True)
    assert result.error == f"{url}: refused: connecting to 127.0.0.1 is a loopback address"
    assert feed_server.hits["/feed.xml"] == 0


async def test_not_modified_keeps_validators_the_server_did_not_repeat(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    async def bare_304(request: web.Request) -> web.StreamResponse:
        return web.Response(status=304)

    url = feed_server.route("/bare", bare_304)
    stamp = http_date(NOW)
    result = await fetcher.fetch(url, etag='"e1"', last_modified=stamp)
    assert result.not_modified
    assert (result.etag, result.last_modified) == ('"e1"', stamp)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("172.16.0.1", "172.16.0.1 is a private address"),
        ("192.168.0.1", "192.168.0.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("100.64.0.1", "100.64.0.1 is not a globally routable address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("::1", "::1 is a loopback address"),
        ("::", ":: is an unspecified address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("fc00::1", "fc00::1 is a private address"),
        ("ff02::1", "ff02::1 is a multicast address"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1 is a loopback address (127.0.0.1) in IPv6 form"),
        ("::ffff:8.8.8.8", None),
        ("2002:a00:1::", "2002:a00:1:: is a private address (10.0.0.1) in IPv6 form"),
        (
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::a9fe:a9fe is a link-local address (169.254.169.254) in IPv6 form",
        ),
    ],
)
def test_address_problem_names_every_kind_of_internal_address(
    address: str, problem: str | None
) -> None:
    assert address_problem(address) == problem
    assert is_public_address(address) is (problem is None)


def test_is_public_address_is_false_for_garbage() -> None:
    assert is_public_address("not-an-ip") is False


async def test_check_public_url_resolves_names_and_refuses_any_internal_answer() -> None:
    dns = FakeDNS(
        {
            "public.test": [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]],
            "mixed.test": [["93.184.215.14", "10.0.0.1"]],
            "empty.test": [[]],
        }
    )
    assert await check_public_url("https://public.test/feed", resolver=dns) is None
    assert await check_public_url("http://mixed.test/", resolver=dns) == (
        "mixed.test resolves to an internal address: 10.0.0.1 is a private address"
    )
    assert await check_public_url("http://empty.test/", resolver=dns) == (
        "empty.test resolves to no address"
    )
    assert await check_public_url("http://missing.test/", resolver=dns) == (
        "could not resolve missing.test: Name or service not known"
    )
    assert await check_public_url("http://[::1]:8080/", resolver=dns) == (
        "::1 is a loopback address"
    )
    assert dns.asked == ["public.test", "mixed.test", "empty.test", "missing.test"]
    assert await check_public_url("file:///etc/passwd") == (
        "unsupported scheme 'file': only http and https"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("3600", 3600.0),
        (" 90 ", 90.0),
        ("Sun, 01 Mar 2026 12:02:00 GMT", 120.0),
        ("Sunday, 01-Mar-26 12:02:00 GMT", 120.0),  # obsolete RFC 850 form, still valid
        ("-5", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("connect_timeout", 0, "greater than 0"),
        ("total_timeout", -1, "greater than 0"),
        ("max_bytes", 0, "greater than 0"),
        ("per_host", 0, "greater than 0"),
        ("concurrency", 0, "greater than 0"),
        ("max_redirects", -1, "greater than or equal to 0"),
        ("user_agent", "x\r\nInjected: 1", "single line"),
        ("retries", 3, "Unexpected keyword argument"),
    ],
)
def test_fetch_settings_validate_ranges(field: str, value: object, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message) as caught:
        validate(FetchSettings, {field: value})
    assert field in str(caught.value)


def test_fetch_settings_refuse_a_connect_timeout_beyond_the_total() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"connect_timeout .* longer than"):
        validate(FetchSettings, {"connect_timeout": 60, "total_timeout": 30})


async def test_fetcher_without_context_manager_creates_and_closes_its_session(
    feed_server: FeedServer,
) -> None:
    fetcher = Fetcher(quick())
    result = await fetcher.fetch(feed_server.route("/f", FEED))
    await fetcher.close()
    assert result.ok
    with pytest.raises(RuntimeError, match="after close"):
        await fetcher.fetch(feed_server.url("/f"))


async def test_elapsed_comes_from_the_injected_clock(feed_server: FeedServer) -> None:
    class TickingClock(FakeClock):
        def now(self) -> datetime:
            return self.advance(1.5)

    async with Fetcher(quick(), clock=TickingClock(NOW)) as f:
        result = await f.fetch(feed_server.route("/f", FEED))
    assert result.elapsed == 1.5


async def test_time_queued_behind_other_requests_does_not_count_against_the_timeout(
    feed_server: FeedServer,
) -> None:
    urls = [feed_server.route(f"/q{i}.xml", FEED, delay=0.3) for i in range(5)]
    async with Fetcher(quick(per_host=1, total_timeout=0.6, connect_timeout=0.5)) as f:
        results = await asyncio.gather(*(f.fetch(u) for u in urls))
    assert [r.error for r in results] == [None] * 5  # 1.5 s of queueing, 0.3 s each
    assert feed_server.max_in_flight == 1


async def test_a_request_that_has_its_slot_still_times_out(feed_server: FeedServer) -> None:
    url = feed_server.route("/stuck.xml", FEED, delay=2.0)
    async with Fetcher(quick(total_timeout=0.4, connect_timeout=0.3)) as f:
        result = await f.fetch(url)
    assert result.error is not None and "timed out" in result.error
