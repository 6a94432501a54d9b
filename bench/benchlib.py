"""Shared parts of the benchmarks: synthetic news, a loopback feed server process, an archive
pre-filled by bulk SQL, the benchmark config, and report printing.

Importing this module puts the repository root on sys.path, so a script run as
`.venv/bin/python bench/NAME.py` can import casewatch and storage next.
Everything served here binds to 127.0.0.1: no benchmark ever reaches the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Imported after the path fix above (ruff sorts these after the stdlib block, as first-party).
from casewatch import dedup  # noqa: E402
from casewatch.config import Config, load_config  # noqa: E402
from casewatch.model import Entry  # noqa: E402
from casewatch.validation import validate  # noqa: E402
from storage import open_store  # noqa: E402
from storage.timeutil import iso  # noqa: E402

# A fixed "now" keeps feeds, archives and clocks identical from run to run.
BENCH_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------
# Machine and report


def machine() -> dict[str, str]:
    """What the figures were measured on: cores, CPU model, Python, date, commit."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = _git("rev-parse", "--short", "HEAD")
        # Figures belong to the code that ran: say when the core differs from the commit.
        dirty = _git("status", "--porcelain", "--", "casewatch", "storage").splitlines()
        if dirty:
            commit += f" + {len(dirty)} uncommitted changes in casewatch/ storage/"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=5, check=True
    ).stdout.strip()


def print_header(title: str) -> None:
    """Print the benchmark's title, the exact command line and the machine."""
    info = machine()
    print(f"# {title}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}, "
        f"{info['date']}, commit {info['commit']}"
    )
    print()


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned text table (Markdown-compatible)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells[1:]:
        print(line(r))
    print()


def median(values: Sequence[float]) -> float:
    """Median of a non-empty list (NaN for an empty one, so a skipped figure shows as such)."""
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (VmHWM), in MiB."""
    return _status_kb("VmHWM") / 1024


def rss_mb() -> float:
    """This process's current resident set size (VmRSS), in MiB."""
    return _status_kb("VmRSS") / 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line")


class Budget:
    """A wall-clock allowance for a whole benchmark run."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()

    def used(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return self.seconds - self.used()

    def allows(self, estimate: float) -> bool:
        """True when `estimate` more seconds still fit in the allowance."""
        return estimate <= self.left()


# ---------------------------------------------------------------------------------------------
# Synthetic news: realistic headlines and descriptions, a few about the case, most not.

_CITIES = [
    "Leeds", "Lyon", "Denver", "Osaka", "Porto", "Nairobi", "Adelaide", "Calgary", "Tampere",
    "Bologna", "Gdansk", "Austin", "Cork", "Pune", "Bergen", "Valencia", "Tucson", "Dundee",
]  # fmt: skip
_COUNTRIES = [
    "Germany", "Brazil", "Kenya", "Japan", "Canada", "Poland", "Mexico", "Norway", "Chile",
    "Indonesia", "Ghana", "Portugal", "Vietnam", "Morocco", "Finland", "Peru",
]  # fmt: skip
_COMPANIES = [
    "Northwind Energy", "Helix Biotech", "Arcadia Foods", "Bluewater Shipping", "Kestrel Air",
    "Orion Retail", "Summit Telecom", "Vantage Motors", "Lumen Software", "Granite Bank",
]  # fmt: skip
_TEAMS = ["Rovers", "United", "City", "Athletic", "Wanderers", "Rangers", "Albion", "Harriers"]
_PEOPLE = [
    "Maria Lindqvist", "Tomasz Nowak", "Aiko Tanaka", "Daniel Okafor", "Priya Raman",
    "Lucas Moreau", "Grace Mensah", "Henrik Dahl", "Sofia Alvarez", "Omar Haddad",
]  # fmt: skip
_THINGS = [
    "flood defences", "school meals", "bus lanes", "a new library", "road repairs",
    "social housing", "cycle paths", "hospital parking", "park lighting", "a tram extension",
]  # fmt: skip
_DEPORT_STATES = ["Tajikistan", "Cambodia", "Thailand", "Tajikistan", "Tajikistan"]
_OUTLETS = [
    "The Northern Ledger", "Daily Courier", "Metro Observer", "Capital Times", "The Herald Post",
    "Evening Standard-Gazette", "Coastal News", "The Civic Record", "Valley Tribune Online",
]  # fmt: skip

_GENERAL_TITLES = [
    "{city} council approves {n} million budget for {thing}",
    "{team} beat {team2} {a}-{b} to climb the table",
    "Shares in {company} fall {n}% after profit warning",
    "Shares in {company} rise {n}% on strong quarterly sales",
    "Heatwave warning issued for {city} as temperatures near {n}C",
    "{country} and {country2} sign trade agreement on {thing}",
    "{person} named chief executive of {company}",
    "Storm closes schools across {city} for a second day",
    "Police appeal for witnesses after crash on {city} ring road",
    "{company} to cut {n} jobs in restructuring",
    "Election in {country}: turnout reaches {n}% by midday",
    "Review: {person}'s new novel is a quiet triumph",
    "{city} marathon draws record {n},000 runners",
    "Central bank of {country} holds interest rates at {a}.{b}%",
    "New study links {thing} to lower emissions in {city}",
]  # fmt: skip
_GENERAL_SENTENCES = [
    "Officials said the plan would be reviewed again in the spring.",
    "The decision followed months of consultation with residents and businesses.",
    "Analysts had expected a smaller change, according to a survey published last week.",
    "A spokesperson declined to comment on the figures before the annual report.",
    "Local groups welcomed the announcement but warned that funding remained uncertain.",
    "The company said it expected trading conditions to improve later in the year.",
    "Supporters gathered outside the venue long before the start.",
    "Further details are expected to be published on Monday.",
    "Critics argued the measure did not go far enough to address rising costs.",
    "The figures were the highest recorded since the series began.",
]  # fmt: skip
_CASE_TITLES = [
    "Lawyers urge ICC to investigate deportations of Uyghurs from {state}",
    "Uyghur groups file new evidence with International Criminal Court prosecutor",
    "ICC prosecutor asked again to open Uyghur genocide case over {state} deportations",
    "{state} deported Uyghur activists to China, complaint to the ICC says",
    "Uyghur Tribunal findings cited in new push for an ICC investigation",
    "Rodney Dixon: deportations from {state} give the ICC jurisdiction over Uyghur abuses",
    "East Turkistan Government in Exile submits new Article 15 communication to the ICC",
    "Uyghur exiles ask International Criminal Court to reconsider 2020 decision",
    "Parliament in {country} debates Uyghur genocide motion after ICC refusal",
    "Human rights lawyers say ICC can act on forced returns of Uyghurs from {state}",
]  # fmt: skip
_CASE_SENTENCES = [
    "The filing argues that deportations from a State Party to the Rome Statute fall within the Court's jurisdiction.",
    "Uyghur advocacy groups say hundreds of people were sent back to China and detained on arrival.",
    "The Office of the Prosecutor said in 2020 that it could not establish territorial jurisdiction.",
    "Lawyers for the East Turkistan Government in Exile said the new evidence covered forced returns.",
    "Rights groups have documented mass detention and forced labour in Xinjiang since 2017.",
    "China rejects the accusations of genocide and crimes against humanity as lies.",
    "The Uyghur Tribunal in London concluded in 2021 that genocide had been committed.",
    "Campaigners asked the prosecutor to open a preliminary examination without further delay.",
]  # fmt: skip
_CONTEXT_TITLES = [
    "Retailers audit Xinjiang cotton in supply chains after import ban",
    "ICC confirms T20 World Cup schedule after cricket board meeting in {city}",
    "ICC issues arrest warrant in Ukraine situation, prosecutor says",
    "Uyghur restaurant opens in {city} to long queues",
    "Solar makers in {country} drop Xinjiang polysilicon suppliers",
    "International Chamber of Commerce updates arbitration rules",
]  # fmt: skip
_FOOTERS = [
    '<p><a href="{link}">Continue reading</a></p>',
    "<p>The post {title} appeared first on {outlet}.</p>",
    "",
    "",
]


@dataclass(frozen=True)
class NewsItem:
    """One synthetic story as an outlet publishes it."""

    title: str
    link: str
    guid: str
    html: str  # the description as it appears in the feed (HTML)
    text: str  # the same as plain text (what a parser hands on)
    published: datetime
    topic: str  # case | context | general


class SyntheticNews:
    """Deterministic synthetic outlets: the same seed gives the same feeds, byte for byte.

    About `case_share` of items are about the case, `context_share` merely look like it (ICC
    cricket, Xinjiang cotton); `wire_share` are wire stories that several outlets carry with
    the same link or headline, so cross-source dedup has work to do.
    """

    def __init__(
        self,
        seed: int = 1,
        *,
        now: datetime = BENCH_NOW,
        case_share: float = 0.06,
        context_share: float = 0.05,
        wire_share: float = 0.15,
        wire_pool: int = 400,
    ) -> None:
        self.seed = seed
        self.now = now
        self.case_share = case_share
        self.context_share = context_share
        self.wire_share = wire_share
        pool_rng = random.Random(f"{seed}:wire")
        self._wire = [self._story(pool_rng, f"w{k}") for k in range(wire_pool)]
        self._pools: dict[str | None, Sequence[int]] = {None: range(wire_pool)}

    def _topic(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < self.case_share:
            return "case"
        if roll < self.case_share + self.context_share:
            return "context"
        return "general"

    def _story(
        self, rng: random.Random, ident: str, topic: str | None = None
    ) -> tuple[str, str, list[str]]:
        """(topic, headline, sentences) of one story (of `topic`, else drawn at random)."""
        topic = topic or self._topic(rng)
        fill = {
            "city": rng.choice(_CITIES),
            "country": rng.choice(_COUNTRIES),
            "country2": rng.choice(_COUNTRIES),
            "company": rng.choice(_COMPANIES),
            "team": f"{rng.choice(_CITIES)} {rng.choice(_TEAMS)}",
            "team2": f"{rng.choice(_CITIES)} {rng.choice(_TEAMS)}",
            "person": rng.choice(_PEOPLE),
            "thing": rng.choice(_THINGS),
            "state": rng.choice(_DEPORT_STATES),
            "n": rng.randint(2, 95),
            "a": rng.randint(0, 5),
            "b": rng.randint(0, 5),
        }
        if topic == "case":
            title = rng.choice(_CASE_TITLES).format(**fill)
            pool = _CASE_SENTENCES
        elif topic == "context":
            title = rng.choice(_CONTEXT_TITLES).format(**fill)
            pool = _GENERAL_SENTENCES
        else:
            title = rng.choice(_GENERAL_TITLES).format(**fill)
            pool = _GENERAL_SENTENCES
        # A detail that makes otherwise alike stories distinct, as real reporting does.
        detail = (
            f"{fill['person']} told reporters in {fill['city']} on {rng.choice(_WEEKDAYS)} "
            f"that {rng.randint(3, 400)} people were affected in district {ident}."
        )
        sentences = [*rng.sample(pool, k=rng.randint(2, 4)), detail]
        rng.shuffle(sentences)
        return topic, title, sentences

    def _wire_pool(self, topic: str | None) -> Sequence[int]:
        """Indexes of the wire stories of `topic` (all of them for None)."""
        if topic not in self._pools:
            self._pools[topic] = [i for i, w in enumerate(self._wire) if w[0] == topic]
        return self._pools[topic]

    def items(
        self, feed: int, count: int | None = None, *, on_case: int | None = None
    ) -> list[NewsItem]:
        """The items of outlet `feed`, newest first (20-50 of them unless `count` is given).

        With `on_case`, exactly that many items are about the case and the rest are general
        news (no look-alikes), as in a regional feed or a news search on the case.
        """
        rng = random.Random(f"{self.seed}:feed:{feed}")
        n = count if count is not None else rng.randint(20, 50)
        forced: Sequence[str | None] = [None] * n
        if on_case is not None:
            if not 0 <= on_case <= n:
                raise ValueError(f"on_case must be between 0 and {n}, got {on_case}")
            topics = ["case"] * on_case + ["general"] * (n - on_case)
            rng.shuffle(topics)
            forced = topics
        outlet = _OUTLETS[feed % len(_OUTLETS)]
        host = f"news{feed}.example.org"
        out = []
        for k in range(n):
            published = self.now - timedelta(minutes=rng.randint(5, 60 * 72))
            pool = self._wire_pool(forced[k])
            if rng.random() < self.wire_share and pool:
                wire = rng.choice(pool)
                topic, title, sentences = self._wire[wire]
                # Half the outlets link the agency's URL (with their own tracking), half
                # rewrite the headline with their name: both are the same story.
                if rng.random() < 0.5:
                    link = (
                        f"https://wire.example.com/{self.seed}/story/{wire}?utm_source=outlet{feed}"
                    )
                else:
                    link = f"https://{host}/{published:%Y/%m/%d}/wire-{wire}"
                    title = f"{title} - {outlet}"
            else:
                topic, title, sentences = self._story(rng, f"{feed}-{k}", forced[k])
                slug = _SLUG.sub("-", title.lower()).strip("-")[:60]
                link = f"https://{host}/{published:%Y/%m/%d}/{slug}-{feed}-{k}"
            guid = link if rng.random() < 0.6 else f"urn:{host}:{self.seed}:{k}"
            text = " ".join(sentences)
            footer = rng.choice(_FOOTERS).format(link=escape(link), title=title, outlet=outlet)
            body = "".join(f"<p>{escape(s)}</p>" for s in sentences)
            html = f"{body}{footer}"
            out.append(NewsItem(title, link, guid, html, text, published, topic))
        out.sort(key=lambda i: i.published, reverse=True)
        return out

    def rss(self, feed: int, count: int | None = None, *, on_case: int | None = None) -> bytes:
        """Outlet `feed` as an RSS 2.0 document (`count`, `on_case`: as for `items`)."""
        rng = random.Random(f"{self.seed}:channel:{feed}")
        outlet = _OUTLETS[feed % len(_OUTLETS)]
        language = "" if rng.random() < 0.2 else "  <language>en-gb</language>\n"
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"  <title>{escape(outlet)} #{feed}</title>\n"
            f"  <link>https://news{feed}.example.org/</link>\n"
            f"  <description>Latest news from {escape(outlet)}</description>\n"
            f"{language}"
            f"  <lastBuildDate>{format_datetime(self.now, usegmt=True)}</lastBuildDate>\n"
        ]
        for item in self.items(feed, count, on_case=on_case):
            permalink = "true" if item.guid == item.link else "false"
            parts.append(
                "  <item>\n"
                f"    <title>{escape(item.title)}</title>\n"
                f"    <link>{escape(item.link)}</link>\n"
                f"    <description>{escape(item.html)}</description>\n"
                f'    <guid isPermaLink="{permalink}">{escape(item.guid)}</guid>\n'
                f"    <pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>\n"
                f"    <dc:creator>{rng.choice(_PEOPLE)}</dc:creator>\n"
                f"    <category>{item.topic.title()}</category>\n"
                "  </item>\n"
            )
        parts.append("</channel>\n</rss>\n")
        return "".join(parts).encode("utf-8")

    def entries(self, feed: int, count: int | None = None) -> list[Entry]:
        """Outlet `feed` as the Entry objects parse_feed would hand on (plain-text summary)."""
        language = None if random.Random(f"{self.seed}:channel:{feed}").random() < 0.2 else "en"
        return [
            Entry(
                title=i.title,
                link=i.link,
                guid=i.guid,
                summary=i.text,
                published=i.published,
                language=language,
            )
            for i in self.items(feed, count)
        ]


_SLUG = re.compile(r"[^a-z0-9]+")
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


# ---------------------------------------------------------------------------------------------
# The loopback feed server, in its own process so its CPU never counts against the client.


@dataclass(frozen=True)
class ServedFeeds:
    """Where a FeedServerProcess serves its feeds."""

    urls: list[str]
    ports: list[int]


def feed_path(index: int) -> str:
    return f"/f/{index}.xml"


def latency_for(seed: int, index: int, low: float, high: float) -> float:
    """The fixed simulated server latency of feed `index` (seeded, so equal in every variant)."""
    return random.Random(f"{seed}:latency:{index}").uniform(low, high)


def _serve(
    conn: multiprocessing.connection.Connection,
    bodies: list[bytes],
    hosts: int,
    latency: tuple[float, float],
    seed: int,
) -> None:
    """Child process: serve `bodies` on `hosts` loopback ports until the parent says stop."""
    asyncio.run(_serve_async(conn, bodies, hosts, latency, seed))


async def _serve_async(
    conn: multiprocessing.connection.Connection,
    bodies: list[bytes],
    hosts: int,
    latency: tuple[float, float],
    seed: int,
) -> None:
    from aiohttp import web

    etags = [f'"{hashlib.sha1(b).hexdigest()[:16]}"' for b in bodies]
    delays = [latency_for(seed, i, *latency) for i in range(len(bodies))]
    stats = {"requests": 0, "ok": 0, "not_modified": 0, "missing": 0, "bytes": 0}

    async def feed(request: web.Request) -> web.StreamResponse:
        stats["requests"] += 1
        try:
            index = int(request.match_info["index"])
            body = bodies[index]
        except (ValueError, IndexError):
            stats["missing"] += 1
            return web.Response(status=404, text=f"no feed at {request.path}")
        await asyncio.sleep(delays[index])
        tags = request.headers.get("If-None-Match")
        if tags is not None and etags[index] in [t.strip() for t in tags.split(",")]:
            stats["not_modified"] += 1
            return web.Response(status=304, headers={"ETag": etags[index]})
        stats["ok"] += 1
        stats["bytes"] += len(body)
        return web.Response(
            body=body,
            headers={"ETag": etags[index], "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def report(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(request: web.Request) -> web.Response:
        for key in stats:
            stats[key] = 0
        return web.json_response(stats)

    app = web.Application()
    app.router.add_get("/f/{index}.xml", feed)
    app.router.add_get("/stats", report)
    app.router.add_post("/stats/reset", reset)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    ports = []
    for _ in range(hosts):
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        ports.append(runner.addresses[-1][1])
    conn.send(ports)
    loop = asyncio.get_running_loop()
    try:
        # Returns on "stop", or raises EOFError when the parent has gone away.
        await loop.run_in_executor(None, conn.recv)
    except EOFError:
        pass
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def feed_server(
    bodies: list[bytes],
    *,
    hosts: int = 1,
    latency: tuple[float, float] = (0.0, 0.0),
    seed: int = 1,
) -> Iterator[ServedFeeds]:
    """Serve `bodies` from a separate process on `hosts` loopback ports (feed i on port i % hosts).

    Each response (200 or 304) waits the feed's fixed seeded latency first; ETag and
    If-None-Match work. `GET /stats` on any port counts requests, 200s, 304s and bytes.
    """
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(
        target=_serve, args=(child, bodies, hosts, latency, seed), name="bench-feed-server"
    )
    process.start()
    child.close()  # the child holds the only copy now: if we die, it sees EOF and stops
    try:
        if not parent.poll(60):
            raise RuntimeError("feed server process did not report its ports within 60 s")
        ports: list[int] = parent.recv()
        urls = [
            f"http://127.0.0.1:{ports[i % len(ports)]}{feed_path(i)}" for i in range(len(bodies))
        ]
        yield ServedFeeds(urls=urls, ports=ports)
    finally:
        with contextlib.suppress(OSError, BrokenPipeError):
            parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)
        parent.close()


def server_stats(served: ServedFeeds, *, reset: bool = False) -> dict[str, int]:
    """The feed server's counters (and reset them to zero when `reset`)."""
    import urllib.request

    base = f"http://127.0.0.1:{served.ports[0]}/stats"
    request = urllib.request.Request(
        base + ("/reset" if reset else ""), method="POST" if reset else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data: dict[str, int] = json.loads(response.read())
    return data


# ---------------------------------------------------------------------------------------------
# Configuration


def bench_config(sources: list[dict[str, Any]], *, rules: str = "feeds") -> Config:
    """A Config with these sources and the project's real rules (feeds.yaml), or the tests'.

    `rules="feeds"` keeps feeds.yaml's case, defaults, fetch limits and relevance rules and
    replaces its sources; `rules="tests"` uses the small rule set of the test helpers.
    """
    if rules == "feeds":
        base = load_config(REPO / "feeds.yaml")
        data = dataclasses.asdict(base)
        data["sources"] = sources
        data["timeline"] = []
        return validate(Config, data)
    if rules == "tests":
        from tests.casewatch_helpers import make_config

        return make_config(sources)
    raise ValueError(f"bench_config: rules must be 'feeds' or 'tests', got {rules!r}")


def rules_available(rules: str) -> str:
    """`rules`, or 'tests' when feeds.yaml is asked for but missing (said on stderr)."""
    if rules == "feeds" and not (REPO / "feeds.yaml").exists():
        print("feeds.yaml not found: using the test helpers' rules", file=sys.stderr)
        return "tests"
    return rules


# ---------------------------------------------------------------------------------------------
# Archive pre-fill by bulk SQL


@dataclass(frozen=True)
class Prefill:
    items: int
    stories: int
    story_keys: int
    seconds: float


def prefill_archive(
    db_path: Path,
    *,
    items: int,
    sources: list[tuple[str, str]],
    seed: int = 3,
    now: datetime = BENCH_NOW,
    span_days: int = 730,
    story_share: float = 0.15,
    due: int | None = None,
    batch: int = 20_000,
) -> Prefill:
    """Fill a fresh casewatch database with `items` stored items by bulk inserts.

    Rows have the shapes the ingest path writes: items (with their FTS rows, through the
    schema's triggers), a `seen` key per item, and for `story_share` of the items a story with
    its "u:" URL key, "t:" title key and 16 LSH band keys, plus a 256-byte signature; each
    relevant story's alert, delivered to one console destination, is in the outbox. Items are
    spread over the `span_days` before `now`, oldest first. `sources` is (name, url) pairs;
    only the first `due` of them (all when None) are due at `now`, the rest in an hour.
    """
    started = time.perf_counter()
    db = open_store(db_path)
    rng = random.Random(seed)
    news = SyntheticNews(seed, now=now)
    conn = db.conn
    stamp = iso(now)
    later = iso(now + timedelta(hours=1))
    with db.atomic():
        conn.executemany(
            "INSERT INTO sources (name, url, kind, format, origin, created_at, first_polled_at,"
            " last_polled_at, last_ok_at, next_poll_at) VALUES (?, ?, 'news', 'feed', 'config',"
            " ?, ?, ?, ?, ?)",
            [
                (name, url, stamp, stamp, stamp, stamp, stamp if due is None or i < due else later)
                for i, (name, url) in enumerate(sources)
            ],
        )
        conn.execute(
            "INSERT INTO destinations (type, purpose, created_at) VALUES ('console', 'alerts', ?)",
            (stamp,),
        )
    source_ids = [int(r[0]) for r in conn.execute("SELECT id FROM sources ORDER BY id")]
    item_id = story_id = keys = 0
    span = timedelta(days=span_days).total_seconds()
    feed = 0
    used_keys: set[tuple[int, str]] = set()
    while item_id < items:
        item_rows: list[tuple[object, ...]] = []
        seen_rows: list[tuple[int, str, int]] = []
        story_rows: list[tuple[object, ...]] = []
        key_rows: list[tuple[str, int]] = []
        alert_rows: list[tuple[object, ...]] = []
        while len(item_rows) < batch and item_id < items:
            feed += 1
            src = source_ids[feed % len(source_ids)]
            for news_item in news.items(feed):
                if item_id >= items:
                    break
                key = dedup.entry_identity(entry_of(news_item))
                if (src, key) in used_keys:
                    continue  # a wire story twice in one outlet's feed: one item, as ingest does
                used_keys.add((src, key))
                item_id += 1
                # Oldest first, so ids and fetch times grow together as in a real archive.
                fetched = now - timedelta(seconds=span * (1 - item_id / items))
                published = fetched - timedelta(minutes=rng.randint(5, 600))
                verdict = {"case": "relevant", "context": "context"}.get(news_item.topic, "dropped")
                story: int | None = None
                # The generator's links are canonical but for tracking parameters; a sample
                # is checked against the real thing.
                canonical = news_item.link.split("?", 1)[0]
                if item_id % 997 == 1 and dedup.canonical_url(news_item.link) != canonical:
                    raise RuntimeError(
                        f"prefill: canonical_url({news_item.link!r}) is"
                        f" {dedup.canonical_url(news_item.link)!r}, not {canonical!r}:"
                        " update the shortcut in prefill_archive"
                    )
                if verdict != "dropped" or rng.random() < story_share:
                    story_id += 1
                    story = story_id
                    title_key = dedup.title_key(news_item.title)
                    story_keys = ["u:" + _digest10(canonical)]
                    if title_key is not None:
                        story_keys.append("t:" + title_key)
                    # Band keys and signatures of unrelated texts look random: draw them so.
                    story_keys += [f"b{band:02d}:{rng.getrandbits(64):016x}" for band in range(16)]
                    story_rows.append(
                        (
                            story,
                            news_item.title,
                            news_item.link,
                            int(verdict == "relevant"),
                            iso(fetched),
                            iso(fetched),
                            iso(published),
                            news_item.text[:280],
                            item_id,
                            rng.randbytes(256),
                        )
                    )
                    key_rows += [(k, story) for k in story_keys]
                    if verdict == "relevant":
                        at = iso(fetched)
                        alert_rows.append((f"story:{story}", story, at, at, at))
                item_rows.append(
                    (
                        item_id,
                        src,
                        key,
                        story,
                        news_item.title,
                        news_item.link,
                        canonical,
                        news_item.text[:280],
                        "en",
                        iso(published),
                        iso(fetched),
                        verdict,
                        2.0 if verdict == "relevant" else (1.0 if verdict == "context" else 0.0),
                        '["case"]' if verdict == "relevant" else "[]",
                        '["people:uyghur", "icc:icc"]' if verdict == "relevant" else "[]",
                        f"{verdict}: synthetic archive row",
                    )
                )
                seen_rows.append((src, key, item_id))
        with db.atomic():
            conn.executemany(
                "INSERT INTO stories (id, title, url, kind, relevant, first_seen_at, last_seen_at,"
                " published_at, item_count, outlet_count, summary, lead_item_id, signature)"
                " VALUES (?, ?, ?, 'news', ?, ?, ?, ?, 1, 1, ?, ?, ?)",
                story_rows,
            )
            conn.executemany(
                "INSERT INTO items (id, source_id, entry_key, story_id, title, url, canonical_url,"
                " summary, language, published_at, fetched_at, kind, court, verdict, score, rules,"
                " terms, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'news', 0, ?, ?, ?, ?, ?)",
                item_rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO seen (source_id, key, item_id) VALUES (?, ?, ?)", seen_rows
            )
            conn.executemany(
                "INSERT OR IGNORE INTO story_keys (key, story_id) VALUES (?, ?)", key_rows
            )
            conn.executemany(
                "INSERT INTO outbox (destination_id, kind, ref, story_id, created_at, attempts,"
                " next_attempt_at, delivered_at) VALUES (1, 'alert', ?, ?, ?, 1, ?, ?)",
                alert_rows,
            )
        keys += len(key_rows)
    db.close()
    return Prefill(
        items=item_id, stories=story_id, story_keys=keys, seconds=time.perf_counter() - started
    )


def _digest10(text: str) -> str:
    """The shape of dedup's key digests: 80-bit BLAKE2b, hex."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def entry_of(item: NewsItem) -> Entry:
    return Entry(title=item.title, link=item.link, guid=item.guid, summary=item.text)
