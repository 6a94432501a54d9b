"""HTTP fetching of sources: bounded, polite, conditional, size-capped, and never raising.

One `Fetcher` owns (or borrows) one aiohttp session whose single TCPConnector pools connections
and caches DNS. Every network or HTTP problem comes back as a `FetchResult` whose `error` says
what went wrong and where; the caller decides how to back off (see casewatch.schedule).

aiohttp (and yarl) are imported by the first fetch, not with this module: the configuration
imports `FetchSettings`, and the commands that fetch nothing (a poll with nothing due, every
query command, the parse worker) would pay about a quarter of a second for them.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import ipaddress
import socket
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, Self

from casewatch import USER_AGENT
from casewatch.clock import Clock, SystemClock
from casewatch.model import FetchResult
from casewatch.validation import FORBID_EXTRA, After, Limits

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.abc import AbstractResolver
    from yarl import URL

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, text/html;q=0.5, */*;q=0.1"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({404, 410})
RETRY_AFTER_STATUSES = frozenset({429, 503})
_CHUNK = 64 * 1024

# An IP address -> None when public, else why it is internal (see `address_problem`).
Classify = Callable[[str], str | None]


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("user_agent must be a single line")
    return value


@dataclass(frozen=True, kw_only=True)
class FetchSettings:
    """Limits and manners for every HTTP fetch (the `fetch:` section of feeds.yaml)."""

    __pydantic_config__ = FORBID_EXTRA

    connect_timeout: Annotated[float, Limits(gt=0, le=300)] = 10
    total_timeout: Annotated[float, Limits(gt=0, le=3600)] = 30
    max_bytes: Annotated[int, Limits(gt=0)] = 5_000_000
    max_redirects: Annotated[int, Limits(ge=0, le=50)] = 5
    concurrency: Annotated[int, Limits(gt=0, le=10_000)] = 128
    # Conditional requests (ones carrying the source's ETag or Last-Modified) in flight beyond
    # `concurrency`: most come back 304 with no body, so they cost a socket and a wait, and a
    # cycle in which little changed is bound by the servers' latency alone. A changed one reads
    # its body within `concurrency` like any other. 0: they share `concurrency`.
    conditional_concurrency: Annotated[int, Limits(ge=0, le=10_000)] = 384
    per_host: Annotated[int, Limits(gt=0, le=1000)] = 4
    user_agent: Annotated[str, Limits(min_length=1, max_length=500), After(_one_line)] = USER_AGENT
    # Sources added from Discord are refused on internal addresses unless this is true.
    allow_internal: bool = False

    def __post_init__(self) -> None:
        if self.connect_timeout > self.total_timeout:
            raise ValueError(
                f"connect_timeout ({self.connect_timeout}s) is longer than "
                f"total_timeout ({self.total_timeout}s)"
            )


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_KINDS = (
    ("is_unspecified", "an unspecified address"),
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private address"),
    ("is_reserved", "a reserved address"),
)


def address_problem(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """None for a public unicast address, else what kind of internal address it is."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    kind = _internal_kind(ip)
    return f"{ip} is {kind}" if kind else None


def _internal_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 spelling of an IPv4 address (mapped, 6to4, NAT64) is judged as that address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = _internal_kind(embedded)
            return f"{inner} ({embedded}) in IPv6 form" if inner else None
    for attribute, kind in _KINDS:
        if getattr(ip, attribute):
            return kind
    if not ip.is_global:
        return "not a globally routable address"
    return None


def is_public_address(address: str) -> bool:
    """True when `address` is a public unicast IP a source added from Discord may use."""
    try:
        return address_problem(address) is None
    except ValueError:
        return False


async def resolve_addresses(
    host: str, port: int, resolver: AbstractResolver | None = None
) -> list[str]:
    """Every address `host` resolves to, through `resolver` or else the system resolver."""
    if resolver is not None:
        answers = await resolver.resolve(host, port, family=socket.AF_UNSPEC)
        return sorted({str(answer["host"]) for answer in answers})
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_public_url(
    url: str,
    *,
    resolver: AbstractResolver | None = None,
    classify: Classify | None = None,
) -> str | None:
    """None when `url` is http(s) and its host resolves only to public addresses, else why not."""
    from yarl import URL

    classify = classify or address_problem
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        return f"invalid URL: {exc}"
    if parsed.scheme not in ("http", "https"):
        return f"unsupported scheme {parsed.scheme or '(none)'!r}: only http and https"
    host = parsed.raw_host
    if not host:
        return "URL has no host"
    literal = host.strip("[]").split("%", 1)[0]
    try:
        ipaddress.ip_address(literal)
    except ValueError:
        pass  # a name, not an address literal
    else:
        return classify(literal)
    try:
        addresses = await resolve_addresses(host, parsed.port or 80, resolver)
    except (OSError, UnicodeError) as exc:
        return f"could not resolve {host}: {getattr(exc, 'strerror', None) or exc}"
    if not addresses:
        return f"{host} resolves to no address"
    for address in addresses:
        try:
            problem = classify(address.split("%", 1)[0])
        except ValueError:
            return f"{host} resolves to something that is not an IP address: {address!r}"
        if problem:
            return f"{host} resolves to an internal address: {problem}"
    return None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    from email.utils import parsedate_to_datetime  # the email package: only for HTTP dates

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class InternalAddressRefused(OSError):
    """A guarded fetch was about to connect to an internal address."""


# Set for the duration of a guarded fetch: how to classify addresses. Context variables follow
# the fetch into the connector's connection attempts (happy-eyeballs tasks copy the context).
_CONNECT_GUARD: ContextVar[Classify | None] = ContextVar("casewatch_connect_guard", default=None)


def _guarded_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """Socket factory for the connector: the last word on where a guarded fetch connects.

    The URL check resolves the name itself; the connector resolves again (and caches), so a
    name that changes its answer in between (DNS rebinding) is caught here, per connection.
    """
    family, type_, proto, _, address = addr_info
    classify = _CONNECT_GUARD.get()
    if classify is not None:
        problem = classify(str(address[0]).split("%", 1)[0])
        if problem:
            raise InternalAddressRefused(errno.EACCES, problem)
    return socket.socket(family=family, type=type_, proto=proto)


def make_session(
    settings: FetchSettings, *, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """The session a Fetcher wants: one pooling, DNS-caching connector with the connect guard.

    Build the session with this when handing one to `Fetcher(session=...)`; a session made
    otherwise still gets the URL check of guarded fetches, but not the per-connection check.
    """
    import aiohttp

    connector = aiohttp.TCPConnector(
        limit=settings.concurrency + settings.conditional_concurrency,
        limit_per_host=settings.per_host,
        ttl_dns_cache=300,
        resolver=resolver,
        socket_factory=_guarded_socket,
    )
    return aiohttp.ClientSession(connector=connector)


@dataclass
class _Progress:
    """Where a fetch has got to, so a timeout can say what it was doing and where."""

    url: str
    current: str
    phase: str = "waiting for a connection slot"
    status: int | None = None
    # The total-time budget starts when the first connection slot is ours: time spent queued
    # behind other sources (a first poll of thousands of sources) is not this source's fault.
    budget: asyncio.Timeout | None = None
    limit: float = 0.0

    def start_clock(self) -> None:
        if self.budget is not None and self.budget.when() is None:
            self.budget.reschedule(asyncio.get_running_loop().time() + self.limit)

    def where(self) -> str:
        if self.current == self.url:
            return self.url
        return f"{self.url} (redirected to {self.current})"


class _Failure(Exception):
    """A problem already phrased for the FetchResult; internal to this module."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.content_type = content_type


class Fetcher:
    """Fetches URLs with global and per-host concurrency bounds; see `fetch`.

    Per host, at most `per_host` requests of any kind are in flight. Beyond that, a request
    takes one of `concurrency` slots, or, when it is conditional, one of
    `conditional_concurrency` slots while it waits for the answer, and one of `concurrency`
    again to read a body when the source did change: bodies in flight stay bounded.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Clock | None = None,
        resolver: AbstractResolver | None = None,
        classify: Classify | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        self._classify: Classify = classify or address_problem
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._clock: Clock = clock or SystemClock()
        self._resolver = resolver
        self._global = asyncio.Semaphore(self.settings.concurrency)
        extra = self.settings.conditional_concurrency
        self._conditional = asyncio.Semaphore(extra) if extra else None
        self._per_host: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Self:
        self._ensure_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this Fetcher created it (a borrowed one is the caller's)."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session fetches use: the borrowed one, or this Fetcher's, made on first use."""
        return self._ensure_session()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self._closed:
                raise RuntimeError("Fetcher used after close()")
            self._session = make_session(self.settings, resolver=self._resolver)
        return self._session

    def _host_slot(self, url: URL) -> asyncio.Semaphore:
        key = f"{url.host}:{url.port}"
        slot = self._per_host.get(key)
        if slot is None:
            slot = self._per_host[key] = asyncio.Semaphore(self.settings.per_host)
        return slot

    async def check_public_url(self, url: str) -> str | None:
        """Like the module's `check_public_url`, but None whenever the operator allows internal."""
        if self.settings.allow_internal:
            return None
        return await check_public_url(url, resolver=self._resolver, classify=self._classify)

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        last_body_hash: str | None = None,
        guard_internal: bool = False,
        accept: str = ACCEPT,
    ) -> FetchResult:
        """GET `url` politely; errors come back in the result, never as exceptions."""
        started = self._clock.now()
        progress = _Progress(url=url, current=url)
        limit = self.settings.total_timeout
        guard = guard_internal and not self.settings.allow_internal
        token = _CONNECT_GUARD.set(self._classify if guard else None)
        try:
            async with asyncio.timeout(None) as budget:
                progress.budget, progress.limit = budget, limit
                result = await self._follow(
                    progress,
                    etag=etag,
                    last_modified=last_modified,
                    last_body_hash=last_body_hash,
                    guard=guard,
                    accept=accept,
                )
        except TimeoutError:
            result = FetchResult(
                url=url,
                final_url=progress.current,
                status=progress.status,
                error=f"{progress.where()}: timed out {progress.phase} ({limit:g}s limit)",
            )
        except _Failure as failure:
            result = FetchResult(
                url=url,
                final_url=progress.current,
                status=progress.status,
                error=f"{progress.where()}: {failure.message}",
                permanent=failure.permanent,
                retry_after=failure.retry_after,
                content_type=failure.content_type,
            )
        finally:
            _CONNECT_GUARD.reset(token)
        elapsed = (self._clock.now() - started).total_seconds()
        return replace(result, elapsed=max(0.0, elapsed))

    async def _follow(
        self,
        progress: _Progress,
        *,
        etag: str | None,
        last_modified: str | None,
        last_body_hash: str | None,
        guard: bool,
        accept: str,
    ) -> FetchResult:
        import aiohttp
        from yarl import URL

        headers = {
            "User-Agent": self.settings.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip, deflate",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        visited: list[str] = []
        session = self._ensure_session()
        # A conditional request waits for its answer in a slot of its own and takes a body slot
        # only when a body comes (never the other way round, so no two fetches wait on each
        # other: a body slot's holder needs nothing more).
        revalidating = self._conditional is not None and bool(etag or last_modified)
        slots = self._conditional if revalidating and self._conditional else self._global
        body_slot = self._global if revalidating else None
        while True:
            try:
                target = URL(progress.current)
            except (ValueError, TypeError) as exc:
                raise _Failure(f"invalid URL: {exc}") from None
            if target.scheme not in ("http", "https") or not target.host:
                raise _Failure("only absolute http:// and https:// URLs can be fetched")
            if guard:
                progress.start_clock()
                progress.phase = "resolving the host"
                problem = await check_public_url(
                    progress.current, resolver=self._resolver, classify=self._classify
                )
                if problem:
                    raise _Failure(f"refused: {problem}")
            visited.append(progress.current)
            progress.phase = "waiting for a connection slot"
            async with self._host_slot(target), slots:
                progress.start_clock()
                progress.phase = "connecting or waiting for the response"
                try:
                    result = await self._one_request(
                        session, target, headers, progress, last_body_hash, body_slot
                    )
                except aiohttp.ClientError as exc:
                    raise _Failure(self._describe(exc, target, progress.phase)) from None
                except OSError as exc:
                    raise _Failure(f"network error {progress.phase}: {exc}") from None
            if isinstance(result, FetchResult):
                return result
            # A redirect: `result` is the next URL.
            if result in visited:
                raise _Failure(
                    f"redirect loop after {len(visited)} redirect"
                    f"{'s' if len(visited) != 1 else ''} ({progress.current} -> {result})"
                )
            if len(visited) > self.settings.max_redirects:
                raise _Failure(f"more than {self.settings.max_redirects} redirects")
            progress.current = result

    async def _one_request(
        self,
        session: aiohttp.ClientSession,
        target: URL,
        headers: dict[str, str],
        progress: _Progress,
        last_body_hash: str | None,
        body_slot: asyncio.Semaphore | None = None,
    ) -> FetchResult | str:
        import aiohttp
        from yarl import URL

        timeout = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=self.settings.connect_timeout
        )
        async with session.get(
            target, headers=headers, allow_redirects=False, timeout=timeout
        ) as response:
            progress.status = response.status
            progress.phase = "reading the response"
            status = response.status
            if status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise _Failure(f"HTTP {status} redirect without a Location header")
                try:
                    next_url = response.url.join(URL(location))
                except (ValueError, TypeError) as exc:
                    raise _Failure(
                        f"HTTP {status} to an invalid Location {location!r}: {exc}"
                    ) from None
                if next_url.scheme not in ("http", "https"):
                    raise _Failure(f"redirect to a non-web URL refused: {location!r}")
                return str(next_url)
            found = FetchResult(
                url=progress.url,
                final_url=progress.current,
                status=status,
                content_type=response.headers.get("Content-Type"),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
            if status == 304:
                # Many servers omit the validators on a 304: keep the ones that still hold.
                return replace(
                    found,
                    not_modified=True,
                    etag=found.etag or headers.get("If-None-Match"),
                    last_modified=found.last_modified or headers.get("If-Modified-Since"),
                )
            if not 200 <= status < 300:
                reason = f" {response.reason}" if response.reason else ""
                retry_after = None
                if status in RETRY_AFTER_STATUSES:
                    retry_after = parse_retry_after(
                        response.headers.get("Retry-After"), self._clock.now()
                    )
                raise _Failure(
                    f"HTTP {status}{reason}",
                    permanent=status in PERMANENT_STATUSES,
                    retry_after=retry_after,
                    content_type=found.content_type,
                )
            if body_slot is None:
                progress.phase = "reading the body"
                body = await self._read_capped(response)
            else:
                progress.phase = "waiting for a slot to read the body"
                async with body_slot:
                    progress.phase = "reading the body"
                    body = await self._read_capped(response)
            digest = hashlib.sha256(body).hexdigest()
            if last_body_hash is not None and digest == last_body_hash:
                return replace(found, body_hash=digest, not_modified=True)
            return replace(found, body=body, body_hash=digest)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_bytes
        declared = response.content_length
        if declared is not None and declared > cap:
            raise _Failure(f"body larger than {cap} bytes (Content-Length {declared})")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > cap:
                raise _Failure(f"body larger than {cap} bytes")
        return bytes(body)

    def _describe(self, exc: aiohttp.ClientError, target: URL, phase: str) -> str:
        import aiohttp

        host = f"{target.host}:{target.port}"
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return f"timed out connecting after {self.settings.connect_timeout:g}s"
        if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
            exc.os_error, InternalAddressRefused
        ):
            return f"refused: connecting to {exc.os_error.strerror}"
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return f"could not resolve {target.host}: {_os_reason(exc.os_error)}"
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return f"TLS certificate of {host} refused: {exc.certificate_error}"
        if isinstance(exc, aiohttp.ClientSSLError):
            return f"TLS error with {host}: {exc}"
        if isinstance(exc, aiohttp.ClientConnectorError):
            return f"could not connect to {host}: {_os_reason(exc.os_error)}"
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return f"server closed the connection {phase}"
        if isinstance(exc, aiohttp.ClientPayloadError):
            return f"broken response body: {exc}"
        if isinstance(exc, aiohttp.InvalidURL):
            return f"invalid URL: {exc}"
        if isinstance(exc, aiohttp.ClientResponseError):
            return f"invalid HTTP response: {exc.message}"
        return f"{type(exc).__name__} {phase}: {exc}"


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__
