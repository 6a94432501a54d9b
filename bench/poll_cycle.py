"""One poll cycle over N feeds, side by side: naive feedparser, reader, casewatch, bare parsing.

Serves N synthetic RSS feeds from one aiohttp server in a separate process on 127.0.0.1 (spread
over N/10 ports, which casewatch's per-host limit counts as N/10 hosts), each response after a
seeded 100-300 ms latency, and measures, on the same feeds and the same bytes:

  (a) naive:     for url in urls: feedparser.parse(url)     (feedparser fetches, one at a time)
  (b) reader:    make_reader(tmp db); add_feed each; update_feeds(workers=W)
  (c) casewatch: Monitor.poll_once, first poll of N changed feeds, real SQLite file, feeds.yaml rules
  (d) parse:     feedparser.parse(body) on every body in a loop, no network (pure Python)
  (d') rs parse: feedparser_rs.parse(body) likewise, as casewatch's fast path calls it: the
                 parser casewatch itself uses on these feeds, so (c)/(d') is the honest floor
  (e) unchanged: the next casewatch cycle, every feed answering 304 to If-None-Match
  (e0) the same:  one more unchanged cycle without conditional slots (conditional_concurrency
                 0: revalidations share `concurrency`, as before c803d68); (e) and (e0) take
                 turns going first

Run: .venv/bin/python bench/poll_cycle.py [--quick] [--repeats 3] [--profile]

With --mixes, it measures instead what a new user would try (issue 9): 100 changed feeds of 20
entries each, 50 hosts, 150 ms latency, in two mixes, 4 and 20 of every 20 entries on the case,
each variant a whole process from start to exit (imports, configuration, database, every stage):

  casewatch: python bot.py poll --once --backfill --json, a fresh database, feeds.yaml's rules
  reader:    a script that opens a fresh reader database, add_feed each, update_feeds(workers=32)
  naive:     a script looping feedparser.parse(url)

Run: .venv/bin/python bench/poll_cycle.py --mixes [--repeats 5]

With --ingest, only the mixes' in-process figures: judging and the main process's ingest per
entry and per kept entry (issue 9's target: at most 0.5 ms per kept entry), no network.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import dataclasses
import faulthandler
import functools
import io
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchlib  # before casewatch: puts the repository on sys.path
import feedparser
import feedparser_rs

from casewatch.app import App, open_app
from casewatch.clock import FakeClock
from casewatch.model import ParseResult
from casewatch.pipeline import CycleReport


@dataclass
class Run:
    """One measurement of one variant."""

    wall: float
    cpu: float  # CPU seconds of this (client) process, all threads; not its parse workers
    entries: int
    failed: int = 0  # sources whose poll failed (casewatch only)
    error: str | None = None  # the first failure, as casewatch reported it


@dataclass
class Variant:
    key: str
    label: str
    shown: str = ""  # its name in the tables, when not the key
    runs: list[Run] = field(default_factory=list)

    def wall(self) -> float:
        return benchlib.median([r.wall for r in self.runs])

    def cpu(self) -> float:
        return benchlib.median([r.cpu for r in self.runs])


def measure(fn: Callable[[], int]) -> Run:
    """Run `fn` (which returns the number of entries it handled) and time it."""
    wall, cpu = time.perf_counter(), time.process_time()
    entries = fn()
    return Run(time.perf_counter() - wall, time.process_time() - cpu, entries)


# -- (a) naive ------------------------------------------------------------------------------------


def naive_loop(urls: list[str]) -> int:
    """feedparser fetching and parsing each URL in turn."""
    entries = 0
    for url in urls:
        parsed = feedparser.parse(url)
        if parsed.get("status") != 200:
            raise RuntimeError(f"naive loop: {url} answered {parsed.get('status')}")
        entries += len(parsed.entries)
    return entries


# -- (b) reader -----------------------------------------------------------------------------------


def reader_update(urls: list[str], workdir: Path, workers: int) -> tuple[float, Run]:
    """Add every URL to a fresh reader database, then time one update_feeds(workers=...)."""
    from reader import make_reader

    reader = make_reader(str(workdir / "reader.sqlite"))
    try:
        started = time.perf_counter()
        for url in urls:
            reader.add_feed(url)
        setup = time.perf_counter() - started

        def update() -> int:
            reader.update_feeds(workers=workers)
            return int(reader.get_entry_counts().total or 0)

        run = measure(update)
        broken = reader.get_feed_counts(broken=True).total
        if broken:
            first = next(iter(reader.get_feeds(broken=True)))
            raise RuntimeError(f"reader: {broken} feeds failed to update, e.g. {first.url}")
        return setup, run
    finally:
        reader.close()


# -- (c) and (e) casewatch ------------------------------------------------------------------------


class InlineExecutor(concurrent.futures.Executor):
    """Runs submitted work at once in the calling thread (so cProfile sees parsing too)."""

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def cycle_run(report: CycleReport, wall: float, cpu: float, *, entries: int | None) -> Run:
    """A Run from a cycle report; with `entries`, raise if a complete cycle saw other entries."""
    failed = [o for o in report.outcomes if o.status == "failed"]
    seen = sum(o.entries for o in report.outcomes)
    if entries is not None and not failed and seen != entries:
        raise RuntimeError(f"casewatch cycle: parsed {seen} entries, the feeds hold {entries}")
    first = f"{failed[0].url}: {failed[0].error}" if failed else None
    return Run(wall, cpu, seen, failed=len(failed), error=first)


async def casewatch_cycles(
    urls: list[str],
    workdir: Path,
    *,
    rules: str,
    entries: int | None,
    served: benchlib.ServedFeeds,
    total_timeout: float | None = None,
    parse_workers: int | None = None,
    profile: cProfile.Profile | None = None,
    without_slots: int = 0,
) -> tuple[Run, Run, Run | None, dict[str, int]]:
    """(c) the first cycle over every feed, then (e) the next one, where nothing changed, and
    with `without_slots` (1: after (e), -1: before) (e0), one more without conditional slots.

    Returns the runs and the server's counters for (e) (its 304s).
    """
    sources = [{"name": f"Outlet {i}", "url": url} for i, url in enumerate(urls)]
    cfg = benchlib.bench_config(sources, rules=rules)
    if total_timeout is not None:
        fetch = dataclasses.replace(cfg.fetch, total_timeout=total_timeout)
        cfg = dataclasses.replace(cfg, fetch=fetch)
    if parse_workers is not None:
        defaults = dataclasses.replace(cfg.defaults, parse_workers=parse_workers)
        cfg = dataclasses.replace(cfg, defaults=defaults)
    clock = FakeClock(benchlib.BENCH_NOW)
    async with open_app(cfg, workdir / "casewatch.db", clock=clock, rng=random.Random(7)) as app:
        app.ensure_console_destinations()
        if profile is not None:
            app.monitor.executor = InlineExecutor()
        first = await _timed_cycle(app, profile)
        e0 = None
        if without_slots < 0:
            e0 = await _cycle_without_slots(app, clock, served, len(urls))
        clock.advance(cfg.defaults.interval * 1.2)  # past every source's jittered next poll
        benchlib.server_stats(served, reset=True)
        second = await _timed_cycle(app, None)
        stats = benchlib.server_stats(served)
        if without_slots > 0:
            e0 = await _cycle_without_slots(app, clock, served, len(urls))
    c = cycle_run(first[1], *first[0], entries=entries)
    e = cycle_run(second[1], *second[0], entries=None)
    if not c.failed and stats["not_modified"] != len(urls):
        raise RuntimeError(f"unchanged cycle: expected {len(urls)} 304s, server saw {stats}")
    return c, e, e0, stats


async def _cycle_without_slots(
    app: App, clock: FakeClock, served: benchlib.ServedFeeds, feeds: int
) -> Run:
    """An unchanged cycle as before conditional slots: revalidations within `concurrency`."""
    monitor, fetcher = app.monitor, app.fetcher
    before, slots = monitor.config, fetcher._conditional
    fetch = dataclasses.replace(before.fetch, conditional_concurrency=0)
    monitor.config = dataclasses.replace(before, fetch=fetch)
    fetcher._conditional = None
    try:
        clock.advance(before.defaults.interval * 1.2)
        benchlib.server_stats(served, reset=True)
        (wall, cpu), report = await _timed_cycle(app, None)
        stats = benchlib.server_stats(served)
    finally:
        monitor.config, fetcher._conditional = before, slots
    run = cycle_run(report, wall, cpu, entries=None)
    if not run.failed and stats["not_modified"] != feeds:
        raise RuntimeError(f"unchanged cycle (e0): expected {feeds} 304s, server saw {stats}")
    return run


async def _timed_cycle(
    app: App, profile: cProfile.Profile | None
) -> tuple[tuple[float, float], CycleReport]:
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    report = await app.monitor.poll_once()
    if profile is not None:
        profile.disable()
    return (time.perf_counter() - wall, time.process_time() - cpu), report


# -- (d) bare parse -------------------------------------------------------------------------------


def bare_parse(bodies: list[bytes]) -> int:
    """feedparser on every body in a loop: what a reader built on feedparser must spend."""
    return sum(len(feedparser.parse(body).entries) for body in bodies)


def bare_rs_parse(bodies: list[bytes]) -> int:
    """feedparser-rs on every body in a loop, with the options of casewatch's fast path (which
    takes every one of these feeds): the floor of casewatch's own parsing."""
    return sum(
        len(feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False).entries)
        for body in bodies
    )


# -- profile summary ------------------------------------------------------------------------------

# Where a cycle's time goes: cumulative time of these functions (file suffix, function name).
# Indented ones run inside the one above them.
_HOT = (
    ("  Fetcher.fetch (await time incl.)", "casewatch/fetch.py", "fetch"),
    ("  parse_feed", "casewatch/parse.py", "parse_feed"),
    ("    feedparser.parse", "feedparser/api.py", "parse"),
    ("  Monitor._ingest", "casewatch/pipeline.py", "_ingest"),
    ("    summary.clean_description", "casewatch/summary.py", "clean_description"),
    ("    summary.detect_language", "casewatch/summary.py", "detect_language"),
    ("    summary.lead", "casewatch/summary.py", "lead"),
    ("    summary.split_sentences", "casewatch/summary.py", "split_sentences"),
    ("    judging.judge (relevance)", "casewatch/judging.py", "judge"),
    ("    dedup.entry_identity", "casewatch/dedup.py", "entry_identity"),
    ("    dedup.canonical_url", "casewatch/dedup.py", "canonical_url"),
    ("    StoryFiler.place", "casewatch/filing.py", "place"),
    ("      MinHasher.signature", "casewatch/dedup.py", "signature"),
    ("    items.seen_item", "storage/items.py", "seen_item"),
    ("    items.insert", "storage/items.py", "insert"),
    ("    stories.attach_item", "storage/stories.py", "attach_item"),
    ("    StoryFiler._refresh_summary", "casewatch/filing.py", "_refresh_summary"),
    ("  Monitor._record_success", "casewatch/pipeline.py", "_record_success"),
    ("re: compiling patterns (anywhere)", "re/_compiler.py", "compile"),
    ("sqlite3 execute (anywhere)", "~", "<method 'execute' of 'sqlite3.Connection' objects>"),
)


def profile_table(profile: cProfile.Profile, limit: int = 25) -> tuple[list[list[str]], str]:
    """Cumulative time of the hot functions of a cycle, and the top functions by own time."""
    stats = pstats.Stats(profile)
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    whole = float(stats.total_tt)  # type: ignore[attr-defined]
    rows = []
    for label, suffix, name in _HOT:
        cum = sum(
            float(row[3])
            for (filename, _line, func), row in table.items()
            if filename.endswith(suffix) and func == name
        )
        calls = sum(
            int(row[1])
            for (filename, _line, func), row in table.items()
            if filename.endswith(suffix) and func == name
        )
        share = f"{100 * cum / whole:.0f}%" if whole else "-"
        rows.append([label, f"{cum:.2f} s", share, str(calls)])
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(limit)
    return rows, out.getvalue()


# -- main -----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N=100, one repeat: a smoke check")
    p.add_argument("--feeds", type=int, help="number of feeds N (default 1000, quick 100)")
    p.add_argument("--repeats", type=int, help="repeats; medians are reported (default 3, quick 1)")
    p.add_argument("--workers", type=int, default=20, help="reader's update_feeds workers")
    p.add_argument("--hosts", type=int, help="loopback ports to spread the feeds over (N/10)")
    p.add_argument("--latency", type=float, nargs=2, default=(0.1, 0.3), metavar=("LOW", "HIGH"))
    p.add_argument(
        "--parse-workers",
        type=int,
        help="override casewatch's defaults.parse_workers (0: parse in a thread)",
    )
    p.add_argument("--rules", choices=("feeds", "tests"), default="feeds")
    p.add_argument("--budget", type=float, help="wall seconds for the whole run (2400, quick 55)")
    p.add_argument(
        "--variants",
        default="abcdre0",
        help="which of a, b, c, d, r (d': feedparser-rs), e, 0 (e0) to run (e, 0 come with c)",
    )
    p.add_argument("--profile", action="store_true", help="cProfile one more (c), parse inline")
    p.add_argument(
        "--total-timeout",
        type=float,
        help="override casewatch's fetch.total_timeout (seconds) for (c) and (e)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mixes", action="store_true", help="issue 9's two mixes as whole processes")
    p.add_argument(
        "--ingest",
        action="store_true",
        help="only the in-process judging and ingest figures of the two mixes (no network)",
    )
    p.add_argument("--child", choices=("naive", "reader"), help=argparse.SUPPRESS)
    p.add_argument("--urls", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mixes or args.ingest:
        args.repeats = args.repeats or 5
        if "--workers" not in sys.argv:
            args.workers = 32
        return args
    args.feeds = args.feeds or (100 if args.quick else 1000)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.hosts = args.hosts or max(1, args.feeds // 10)
    args.budget = args.budget or (55.0 if args.quick else 2400.0)
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        child_main(args.child, args.urls, args.workdir, args.workers)
        return
    if args.ingest:
        benchlib.print_header("poll_cycle --ingest: judging and ingest per entry, two mixes")
        print_ingest_table(args.seed, args.repeats)
        return
    if args.mixes:
        run_mixes(args)
        return
    budget = benchlib.Budget(args.budget)
    # A hard stop well past the budget: a wedged run never outlives its welcome.
    faulthandler.dump_traceback_later(args.budget + 300, exit=True)
    rules = benchlib.rules_available(args.rules)
    news = benchlib.SyntheticNews(args.seed)
    bodies = [news.rss(i) for i in range(args.feeds)]
    expected = sum(len(news.items(i)) for i in range(args.feeds))
    base = benchlib.bench_config([], rules=rules)
    fetch = base.fetch
    timeout = args.total_timeout or fetch.total_timeout
    workers = base.defaults.parse_workers if args.parse_workers is None else args.parse_workers
    benchlib.print_header("poll_cycle: one poll cycle over N loopback feeds")
    print(
        f"{args.feeds} RSS 2.0 feeds, {expected} entries, {sum(map(len, bodies)) / 1e6:.1f} MB;"
        f" {args.hosts} loopback ports; latency {args.latency[0]:g}-{args.latency[1]:g} s per"
        f" response (seeded per feed); rules: {rules}; reader workers: {args.workers};"
        f" casewatch fetch: concurrency {fetch.concurrency} (+ {fetch.conditional_concurrency}"
        f" conditional), {fetch.per_host} per host,"
        f" total_timeout {timeout:g} s, {workers} parse worker process(es)"
    )
    variants = {
        "a": Variant("a", "naive feedparser.parse(url) loop"),
        "b": Variant("b", f"reader update_feeds(workers={args.workers})"),
        "c": Variant("c", "casewatch poll_once, first cycle"),
        "d": Variant("d", "bare feedparser.parse(bytes) loop (pure Python)"),
        "r": Variant("r", "bare feedparser_rs.parse(bytes) loop", shown="d'"),
        "e": Variant("e", "casewatch poll_once, nothing changed"),
        "0": Variant("0", "the same without conditional slots (as before)", shown="e0"),
    }
    reader_setup: list[float] = []
    not_modified: list[int] = []
    profile_rows: list[list[str]] = []
    profile_text = ""
    with (
        benchlib.feed_server(
            bodies, hosts=args.hosts, latency=tuple(args.latency), seed=args.seed
        ) as served,
        tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp,
    ):
        urls = served.urls

        def casewatch(
            workdir: Path, profile: cProfile.Profile | None = None, without_slots: int = 0
        ) -> None:
            c, e, e0, stats = asyncio.run(
                casewatch_cycles(
                    urls,
                    workdir,
                    rules=rules,
                    entries=expected,
                    served=served,
                    total_timeout=args.total_timeout or (3600.0 if profile else None),
                    parse_workers=args.parse_workers,
                    profile=profile,
                    without_slots=without_slots,
                )
            )
            if profile is None:
                variants["c"].runs.append(c)
                variants["e"].runs.append(e)
                if e0 is not None:
                    variants["0"].runs.append(e0)
                not_modified.append(stats["not_modified"])

        # Warm-up, not timed: imports, language model, sentence splitter, connection code.
        asyncio.run(
            casewatch_cycles(
                urls[:10], Path(tmp) / "warm", rules=rules, entries=None, served=served
            )
        )
        order = [step for step in ("a", "b", "ce", "dr") if set(step) & set(args.variants)]
        for repeat in range(args.repeats):
            started = time.monotonic()
            workdir = Path(tmp) / f"r{repeat}"
            workdir.mkdir()
            for step in order[repeat % len(order) :] + order[: repeat % len(order)]:
                if step == "a":
                    variants["a"].runs.append(measure(lambda: naive_loop(urls)))
                elif step == "b":
                    setup, run = reader_update(urls, workdir, args.workers)
                    reader_setup.append(setup)
                    variants["b"].runs.append(run)
                elif step == "ce":
                    without = (1 if repeat % 2 == 0 else -1) if "0" in args.variants else 0
                    casewatch(workdir, without_slots=without)
                else:  # the two bare parses, one after the other
                    if "d" in args.variants:
                        variants["d"].runs.append(measure(lambda: bare_parse(bodies)))
                    if "r" in args.variants:
                        variants["r"].runs.append(measure(lambda: bare_rs_parse(bodies)))
            took = time.monotonic() - started
            print(f"repeat {repeat + 1}: {took:.0f} s", flush=True)
            if repeat + 1 < args.repeats and not budget.allows(took * 1.1):
                print(f"stopping after {repeat + 1} repeats: the {args.budget:g} s budget is spent")
                break
        if args.profile:
            profile = cProfile.Profile()
            (Path(tmp) / "profile").mkdir()
            casewatch(Path(tmp) / "profile", profile)
            profile_rows, profile_text = profile_table(profile)

    print()
    rows = []
    for v in variants.values():
        if v.runs:
            rows.append(
                [
                    f"({v.shown or v.key}) {v.label}",
                    benchlib.fmt_s(v.wall()),
                    ", ".join(f"{r.wall:.2f}" for r in v.runs),
                    benchlib.fmt_s(v.cpu()),
                    v.runs[-1].entries or "-",
                    max(r.failed for r in v.runs) if v.key in "ce0" else "-",
                ]
            )
    benchlib.print_table(
        [
            "variant",
            "wall (median)",
            "each run (s)",
            "CPU of this process (median)",
            "entries",
            "failed",
        ],
        rows,
    )
    if reader_setup:
        print(f"reader add_feed x{args.feeds} (not in (b)): {benchlib.median(reader_setup):.2f} s")
    if not_modified:
        print(f"(e) answered 304 (server count, each run): {not_modified}")
    errors = [r.error for v in variants.values() for r in v.runs if r.error]
    if errors:
        print(f"casewatch sources failed; the first: {errors[0]}")
        print("a cycle with failed sources did less work: its time is not comparable")
    print()

    def ratio(x: str, y: str) -> float:
        if not variants[x].runs or not variants[y].runs:
            return float("nan")
        return variants[x].wall() / variants[y].wall()

    checks = [
        ("(c)/(d) full cycle over bare feedparser parse", ratio("c", "d"), "<= 1.5", 1.5 + 1e-9),
        ("(c)/(a) casewatch over naive loop", ratio("c", "a"), "< 1", 1.0),
        ("(c)/(b) casewatch over reader", ratio("c", "b"), "< 1", 1.0),
        ("(e)/(c) unchanged over changed", ratio("e", "c"), "< 0.10", 0.10),
    ]
    if variants["0"].runs:
        checks.append(("(e0)/(c) the same without conditional slots", ratio("0", "c"), "", 9.0))
    table = [
        [
            name,
            f"{value:.3f}",
            target,
            _verdict(value < limit) if target and value == value else "-",
        ]
        for name, value, target, limit in checks
    ]
    if variants["c"].runs and variants["r"].runs:
        value = ratio("c", "r")
        table.append(["(c)/(d') full cycle over bare feedparser-rs parse", f"{value:.3f}", "", ""])
    if variants["c"].runs and variants["e"].runs:
        table.append(
            [
                "(e)/(c) in client CPU time",
                f"{variants['e'].cpu() / variants['c'].cpu():.3f}",
                "",
                "",
            ]
        )
    benchlib.print_table(["ratio (medians of wall time)", "value", "target", "met"], table)
    mean = sum(args.latency) / 2
    print(
        f"latency alone: {args.feeds} responses x {mean:.2f} s = {args.feeds * mean:.0f} s in"
        f" sequence, {args.feeds * mean / fetch.concurrency:.1f} s at {fetch.concurrency} at once"
    )
    revalidating = min(
        fetch.conditional_concurrency or fetch.concurrency, args.hosts * fetch.per_host
    )
    print(
        f"(e)'s floor: {args.feeds * mean / revalidating:.2f} s at {revalidating} conditional"
        f" requests at once (conditional slots, or {fetch.per_host} per host x {args.hosts});"
        f" (e0)'s: {args.feeds * mean / min(fetch.concurrency, args.hosts * fetch.per_host):.2f} s"
    )
    if profile_rows:
        print()
        print("profile of one more (c), parse inline so cProfile sees it (cumulative times;")
        print("cProfile roughly doubles them; the shares are what counts):")
        benchlib.print_table(["function", "cumulative", "share of profile", "calls"], profile_rows)
        print(profile_text)


# -- whole processes: the mixes of issue 9 ---------------------------------------------------------

MIX_FEEDS = 100
MIX_ENTRIES = 20
MIX_HOSTS = 50
MIX_LATENCY = 0.15
MIXES = (4, 20)  # entries on the case, of every 20


def child_main(kind: str, urls_file: Path, workdir: Path, workers: int) -> None:
    """The reader and naive variants as processes of their own (run by --child)."""
    urls = urls_file.read_text().split()
    if kind == "naive":
        naive_loop(urls)
        return
    if kind == "reader":
        from reader import make_reader

        reader = make_reader(str(workdir / "reader.sqlite"))
        for url in urls:
            reader.add_feed(url)
        reader.update_feeds(workers=workers)
        broken = reader.get_feed_counts(broken=True).total
        reader.close()
        if broken:
            raise SystemExit(f"reader: {broken} feeds failed to update")
        return
    raise SystemExit(f"unknown child {kind!r}")


def casewatch_config_text(urls: list[str]) -> str:
    """feeds.yaml as shipped (case, rules, defaults, timeline) with these feeds as its sources."""
    text = (benchlib.REPO / "feeds.yaml").read_text(encoding="utf-8")
    start, end = text.index("\nsources:"), text.index("\ntimeline:")
    sources = "".join(f"  - name: Outlet {i}\n    url: {url}\n" for i, url in enumerate(urls))
    return f"{text[:start]}\nsources:\n{sources}{text[end:]}"


def mix_command(name: str, run: int, work: Path, *, workers: int) -> list[str]:
    """The command line of one variant; `work` holds urls.txt and feeds.yaml."""
    if name == "casewatch":
        config, db = work / "feeds.yaml", work / f"casewatch-{run}.db"
        cmd = ["bot.py", "poll", "--once", "--backfill", "--json"]
        return [sys.executable, *cmd, "--config", str(config), "--db", str(db)]
    (work / f"{name}-{run}").mkdir(exist_ok=True)
    child = ["--child", name, "--urls", str(work / "urls.txt"), "--workdir"]
    return [
        sys.executable,
        __file__,
        *child,
        str(work / f"{name}-{run}"),
        "--workers",
        str(workers),
    ]


def timed_process(argv: list[str], *, stdout: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the process and all it waited for) of one command, start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with stdout.open("wb") as out:
        done = subprocess.run(
            argv, stdout=out, stderr=subprocess.PIPE, cwd=benchlib.REPO, timeout=600
        )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(argv[:4])}... exited {done.returncode}: {tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


@dataclass
class IngestCost:
    """Median ms of the mix's judging and main-process ingest, per entry and per kept entry."""

    judge_ms: float  # per entry
    ingest_ms: float  # per entry, all 2,000 (dropped ones are stored too)
    ingest_kept_ms: float  # the same total per kept entry (relevant or context): issue 9's unit
    parse_ms: float  # feedparser.parse of one feed
    kept: int
    relevant: int


def ingest_per_entry(on_case: int, seed: int, repeats: int) -> IngestCost:
    """Median ms of (the worker's finishing and judging, the main process's ingest) of the mix,
    in process, per entry and per kept entry, and of feedparser.parse on one of its feeds (the
    yardstick: the issue measured 4.6 ms).

    The parse worker's part comes first: each parsed document finished (outlets, dates,
    identity keys) and its entries judged (rules, lead, language, story keys); then the main
    process's: `Monitor._ingest` files, stores and decides with those, on a fresh database each
    repeat, one transaction per feed as in a poll. Issue 9's target is the ingest of one kept
    entry: the main process's whole ingest time over the entries it kept."""
    from casewatch.fetch import Fetcher
    from casewatch.judging import (
        EARLIEST_DATE,
        Finishing,
        Judging,
        pickled_rules,
        prepare_document,
    )
    from casewatch.parse import parse_feed
    from casewatch.pipeline import Monitor, SourceOutcome
    from storage import open_store, sources

    news = benchlib.SyntheticNews(seed)
    urls = [f"http://127.0.0.1:{8000 + i % MIX_HOSTS}/f/{i}.xml" for i in range(MIX_FEEDS)]
    cfg = benchlib.bench_config([{"name": f"Outlet {i}", "url": u} for i, u in enumerate(urls)])
    rules = pickled_rules(cfg.relevance)
    judging: list[float] = []
    ingest: list[float] = []
    parsing: list[float] = []
    bodies = [news.rss(i, MIX_ENTRIES, on_case=on_case) for i in range(MIX_FEEDS)]
    relevant = kept = 0
    for _ in range(repeats):
        parsing.append(measure(lambda: bare_parse(bodies)).wall / MIX_FEEDS)
        parsed = [
            parse_feed(body, content_type="application/rss+xml", url=url)
            for url, body in zip(urls, bodies, strict=True)
        ]
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            db = open_store(Path(tmp) / "casewatch.db")
            clock = FakeClock(benchlib.BENCH_NOW)
            fetcher = Fetcher(cfg.fetch, session=None, clock=clock)  # never fetches here
            monitor = Monitor(cfg, db, fetcher, clock)
            monitor.sync_config()
            rows = {row["url"]: row for row in sources.active(db)}
            started = time.perf_counter()
            docs = []
            for url, doc in zip(urls, parsed, strict=True):
                finishing = Finishing(
                    cfg=monitor.source_config(rows[url]),
                    names=monitor.outlet_names,
                    outlets=monitor.outlets,
                    feed_title_names_outlet=False,
                    now=clock.now(),
                    earliest=EARLIEST_DATE,
                )
                job = Judging(
                    rules=rules,
                    source_kind="news",
                    keying=monitor.filer.keying(None),  # feeds, not pages
                    source_id=int(rows[url]["id"]),
                    database=None,  # a fresh database: every entry is new
                )
                prepared = prepare_document(functools.partial(_same, doc), finishing, job)
                identities, judged = prepared.identities, prepared.judged
                docs.append((url, doc.entries, identities, judged))
            judging.append(time.perf_counter() - started)
            kept = sum(1 for *_, done in docs for one in done.values() if one.kept)
            started = time.perf_counter()
            relevant = 0
            for url, entries, identities, done in docs:
                src = rows[url]
                outcome = SourceOutcome(src["id"], src["name"], url, "new")
                with db.atomic():
                    monitor._ingest(
                        src,
                        monitor.source_config(src),
                        entries,
                        outcome,
                        first_poll=False,
                        backfill=True,
                        judged_before=done,
                        identities=identities,
                    )
                relevant += outcome.relevant
            ingest.append(time.perf_counter() - started)
            db.close()
    count = MIX_FEEDS * MIX_ENTRIES
    return IngestCost(
        judge_ms=benchlib.median(judging) / count * 1000,
        ingest_ms=benchlib.median(ingest) / count * 1000,
        ingest_kept_ms=benchlib.median(ingest) / max(kept, 1) * 1000,
        parse_ms=benchlib.median(parsing) * 1000,
        kept=kept,
        relevant=relevant,
    )


def _same(doc: ParseResult) -> ParseResult:
    """An already parsed document, as `prepare_document` takes its parse."""
    return doc


def print_ingest_table(seed: int, repeats: int) -> None:
    """Issue 9's per-entry figures of both mixes (in process, no network)."""
    rows = []
    for on_case in MIXES:
        cost = ingest_per_entry(on_case, seed, repeats)
        rows.append(
            [
                f"{on_case} of {MIX_ENTRIES} on the case ({cost.kept} of"
                f" {MIX_FEEDS * MIX_ENTRIES} kept, {cost.relevant} relevant)",
                f"{cost.judge_ms:.3f} ms",
                f"{cost.ingest_ms:.3f} ms",
                f"{cost.ingest_kept_ms:.3f} ms",
                f"{cost.parse_ms:.2f} ms",
            ]
        )
    benchlib.print_table(
        [
            "in process (median of the repeats)",
            "worker per entry (outlets, dates, identities; rules, lead, language, story keys)",
            "ingest per entry (main process: file, store, decide)",
            "ingest per kept entry (target <= 0.5 ms)",
            "yardstick: feedparser.parse of one feed",
        ],
        rows,
    )


def run_mixes(args: argparse.Namespace) -> None:
    """Issue 9's table: whole processes, two mixes, casewatch beside reader and the naive loop."""
    repeats = args.repeats
    benchlib.print_header("poll_cycle --mixes: one cycle as whole processes, two mixes")
    print(
        f"{MIX_FEEDS} changed RSS 2.0 feeds of {MIX_ENTRIES} entries, {MIX_HOSTS} loopback ports,"
        f" {MIX_LATENCY * 1000:g} ms per response; reader workers: {args.workers}; each variant a"
        f" process from start to exit; variants interleaved in each of {repeats} repeats"
    )
    results: dict[tuple[int, str], list[tuple[float, float]]] = {}
    alerts: dict[int, set[int]] = {}
    for on_case in MIXES:
        news = benchlib.SyntheticNews(args.seed)
        bodies = [news.rss(i, MIX_ENTRIES, on_case=on_case) for i in range(MIX_FEEDS)]
        with (
            benchlib.feed_server(
                bodies, hosts=MIX_HOSTS, latency=(MIX_LATENCY, MIX_LATENCY), seed=args.seed
            ) as served,
            tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp,
        ):
            work = Path(tmp)
            urls_file = work / "urls.txt"
            urls_file.write_text("\n".join(served.urls))
            config = work / "feeds.yaml"
            config.write_text(casewatch_config_text(served.urls), encoding="utf-8")
            order = ["casewatch", "reader", "naive"]
            for run in range(repeats + 1):  # run 0 warms the disk cache and is not counted
                for name in order[run % 3 :] + order[: run % 3]:
                    out = work / f"{name}-{run}.out"
                    argv = mix_command(name, run, work, workers=args.workers)
                    wall, cpu = timed_process(argv, stdout=out)
                    if name == "casewatch":
                        lines = out.read_text(encoding="utf-8").splitlines()
                        alerts.setdefault(on_case, set()).add(len(lines))
                    if run:
                        results.setdefault((on_case, name), []).append((wall, cpu))
                print(f"{on_case} of {MIX_ENTRIES} on the case: run {run} done", flush=True)
    print()
    rows = []
    for on_case in MIXES:
        med = {
            name: (
                benchlib.median([w for w, _ in results[(on_case, name)]]),
                benchlib.median([c for _, c in results[(on_case, name)]]),
            )
            for name in ("casewatch", "reader", "naive")
        }
        rows.append(
            [
                f"{on_case} of {MIX_ENTRIES} on the case",
                f"{med['casewatch'][0]:.2f} s ({med['casewatch'][1]:.2f} s CPU)",
                f"{med['reader'][0]:.2f} s ({med['reader'][1]:.2f} s CPU)",
                f"{med['naive'][0]:.2f} s ({med['naive'][1]:.2f} s CPU)",
                f"{med['reader'][0] / med['casewatch'][0]:.2f}x",
                f"{med['naive'][0] / med['casewatch'][0]:.2f}x",
                ", ".join(f"{w:.2f}" for w, _ in results[(on_case, "casewatch")]),
            ]
        )
    benchlib.print_table(
        [
            f"{MIX_FEEDS} feeds x {MIX_ENTRIES}, {MIX_HOSTS} hosts, {MIX_LATENCY * 1000:g} ms",
            "casewatch (median)",
            f"reader, {args.workers} workers",
            "naive loop",
            "reader / casewatch",
            "naive / casewatch",
            "casewatch runs (s)",
        ],
        rows,
    )
    print(f"alert lines printed by casewatch per mix: {alerts}")
    targets = []
    for on_case in MIXES:
        cw = benchlib.median([w for w, _ in results[(on_case, "casewatch")]])
        rd = benchlib.median([w for w, _ in results[(on_case, "reader")]])
        nv = benchlib.median([w for w, _ in results[(on_case, "naive")]])
        if on_case < MIX_ENTRIES:
            targets.append(
                [
                    f"{on_case}/{MIX_ENTRIES}: reader / casewatch",
                    f"{rd / cw:.2f}",
                    ">= 1.5",
                    _verdict(rd / cw >= 1.5),
                ]
            )
            targets.append(
                [
                    f"{on_case}/{MIX_ENTRIES}: naive / casewatch",
                    f"{nv / cw:.2f}",
                    ">= 8",
                    _verdict(nv / cw >= 8),
                ]
            )
        else:
            targets.append(
                [
                    f"{on_case}/{MIX_ENTRIES}: reader / casewatch",
                    f"{rd / cw:.2f}",
                    ">= 1",
                    _verdict(rd / cw >= 1),
                ]
            )
    benchlib.print_table(["ratio of medians (wall)", "value", "target", "met"], targets)
    print_ingest_table(args.seed, repeats)


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
