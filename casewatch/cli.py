"""The command line behind `python bot.py ...`: console twins of every slash command.

Discord itself is wired in bot.py; everything here works without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TextIO

from casewatch import __version__, sourcelist
from casewatch.config import ConfigError, load_config, parse_duration
from casewatch.delivery import ConsoleDelivery, WebhookDelivery
from casewatch.digest import build_digest, digest_text
from casewatch.patterns import LazyPattern
from casewatch.text import plural
from casewatch.views import (
    alert_json,
    event_lines,
    event_stories,
    latest_developments,
    other_outlets,
    report_headline,
    search_developments,
)
from storage import destinations, events, items, outbox, sources, stories, timeline
from storage.db import StoreError, explain, inspect_store
from storage.timeutil import parse_iso

if TYPE_CHECKING:
    from casewatch.app import App
    from casewatch.pipeline import CycleReport

log = logging.getLogger("casewatch")

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


class CommandError(Exception):
    """A command cannot go on: one line for the user (no traceback), and an exit status."""

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunPlan:
    """What `run` was asked for, whichever mode runs it."""

    only_urls: list[str] | None  # None: the subscribed sources; else these feeds only
    tick: float  # the most seconds between two looks at what is due
    backfill: bool


class DiscordAdapter(Protocol):
    """The commands that talk to Discord. bot.py provides them, so the core never imports
    discord (and commands that never talk to Discord do not pay for importing it)."""

    async def run(self, app: App, plan: RunPlan) -> int: ...

    async def sync(self, config: str, db: str, guild_id: str | None) -> int: ...

    def invite(self) -> int: ...


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line (not the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _duration(value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    p.add_argument(
        "--config",
        default=os.environ.get("CASEWATCH_CONFIG", "feeds.yaml"),
        help="config file (env CASEWATCH_CONFIG; default feeds.yaml)",
    )
    p.add_argument(
        "--db",
        default=os.environ.get("CASEWATCH_DB", "casewatch.db"),
        help="SQLite database (env CASEWATCH_DB; default casewatch.db)",
    )
    if json_flag:
        p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="URL",
        help="poll this feed instead of the configured ones (repeatable)",
    )
    p.add_argument(
        "--sources",
        metavar="FILE",
        help="poll the feeds listed in FILE, one URL a line (# comments); an empty file: none",
    )


class _Skipped(_Parser):
    """Stands for the parser of a command this run does not parse: nothing is added to it."""

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        return None


class _Commands:
    """argparse's subcommands, with only one command's parser built when the command line
    names it: building all eighteen was about 5% of a no-sources poll's start-up (issue 9)."""

    def __init__(self, sub: Any, only: str | None) -> None:
        self.sub = sub
        self.only = only
        self.built = 0
        self.skipped: _Skipped | None = None

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if self.only is not None and name != self.only:
            if self.skipped is None:
                self.skipped = _Skipped(add_help=False)
            return self.skipped
        self.built += 1
        parser: argparse.ArgumentParser = self.sub.add_parser(name, **kwargs)
        return parser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only` (the first argument), just that command's, when
    it names one (else every command's, so that argparse can say what is wrong)."""
    parser = _Parser(
        prog="bot.py", description="casewatch: follow one legal case across news and court sources."
    )
    parser.add_argument("--version", action="version", version=f"casewatch {__version__}")
    sub = _Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), only)

    p = sub.add_parser("run", help="run the bot (Discord with DISCORD_TOKEN, else console mode)")
    _common(p, json_flag=True)
    _source_args(p)
    p.add_argument("--interval", type=_duration, help="override every source's poll interval")
    p.add_argument(
        "--tick",
        type=_duration,
        default=30.0,
        help="most seconds between two looks at what is due (default 30; never more than the"
        " shortest poll interval)",
    )
    p.add_argument("--backfill", action="store_true", help="alert on first-poll entries too")

    p = sub.add_parser("poll", help="one poll cycle; prints the alerts it would post")
    _common(p)
    _source_args(p)
    p.add_argument("--once", action="store_true", help="one cycle then exit (the only mode)")
    p.add_argument("--backfill", action="store_true", help="alert on first-poll entries too")
    p.add_argument("--all", action="store_true", help="poll every source, due or not")

    p = sub.add_parser("check", help="validate the config and the environment")
    _common(p, json_flag=False)

    p = sub.add_parser("probe", help="fetch every configured source once; status, type, entries")
    _common(p)
    _source_args(p)

    p = sub.add_parser("latest", help="the newest developments (events), one line each")
    _common(p)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--kind", choices=["news", "court"])

    p = sub.add_parser("search", help="full-text search of the archive")
    _common(p)
    p.add_argument("query")
    p.add_argument("--since", type=_duration, help="only items fetched in this window (7d)")
    p.add_argument("--source", help="only this source or publisher")
    p.add_argument("--kind", choices=["news", "court"], help="only developments of this kind")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, default=10)

    p = sub.add_parser("story", help="every report of the development (event) a story belongs to")
    _common(p)
    p.add_argument("story_id", type=int)

    p = sub.add_parser("why", help="why an item was kept or dropped, and which event it joined")
    _common(p)
    p.add_argument("item_id", type=int)

    p = sub.add_parser("split", help="take an item out of its event: a development of its own")
    _common(p)
    p.add_argument("item_id", type=int)

    p = sub.add_parser("merge", help="make two events one (the earlier keeps its alert)")
    _common(p)
    p.add_argument("event_ids", type=int, nargs=2, metavar="EVENT")

    p = sub.add_parser("timeline", help="the case's dated events")
    _common(p)
    p.add_argument("--newest", action="store_true", help="newest first")
    p.add_argument("--year", type=int)

    p = sub.add_parser("sources", help="health of each source")
    _common(p)

    p = sub.add_parser("digest", help="print a digest of a recent period")
    _common(p)
    p.add_argument("--since", type=_duration, default=86400.0, help="period (default 24h)")

    p = sub.add_parser("chart", help="write the coverage chart as PNG")
    _common(p, json_flag=False)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--since", type=_duration, help="only this recent window (e.g. 52w)")

    p = sub.add_parser("health", help="exit 0 when a running bot's scheduler ticked recently")
    _common(p, json_flag=False)
    p.add_argument("--max-age", type=_duration, default=300.0, help="oldest heartbeat (5m)")

    p = sub.add_parser("sync", help="register the slash commands with Discord")
    _common(p, json_flag=False)
    p.add_argument("--guild", help="sync to one guild (instant) instead of globally")

    p = sub.add_parser("invite", help="print the URL that invites the bot with its permissions")
    _common(p, json_flag=False)
    if only is not None and not sub.built:
        return build_parser()
    return parser


def _load_urls(args: argparse.Namespace, err: TextIO) -> list[str] | None:
    """`--source`/`--sources` checked; None when neither was given (the subscribed sources)."""
    urls = sourcelist.load(getattr(args, "source", None), getattr(args, "sources", None))
    if urls == []:
        err.write(f"{args.sources}: no feed listed (empty, or only comments): polling nothing\n")
    return urls


def _progress_printer(stream: TextIO) -> Callable[[int, int, str], None]:
    tty = stream.isatty()
    last = {"shown": -1}

    def show(done: int, total: int, name: str) -> None:
        if total < 5:
            return
        pct = done * 100 // total
        if tty:
            stream.write(f"\r[{done}/{total}] {pct:3d}% {name[:50]:<50}")
            if done == total:
                stream.write("\n")
        elif pct // 10 != last["shown"] or done == total:
            last["shown"] = pct // 10
            stream.write(f"[{done}/{total}] {pct}% polled\n")
        stream.flush()

    return show


def _fmt_time(text: str | None) -> str:
    when = parse_iso(text)
    return when.strftime("%Y-%m-%d %H:%M") if when else "-"


def _print_json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


# -- commands -----------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    problems: list[str] = []
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        problems += exc.errors
        cfg = None
    token = os.environ.get("DISCORD_TOKEN")
    if token is not None and not re.fullmatch(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}", token.strip()):
        problems.append(
            "environment: DISCORD_TOKEN: does not look like a bot token (three dotted parts)"
        )
    webhook = os.environ.get("DISCORD_WEBHOOK_URL")
    if webhook:
        try:
            check_webhook_url(webhook)
        except CommandError as exc:
            problems.append(f"environment: {exc}")
    for var in ("DISCORD_API_BASE", "DISCORD_GATEWAY_URL"):
        value = os.environ.get(var)
        if value and not re.match(r"^(https?|wss?)://\S+$", value):
            problems.append(f"environment: {var}: not a URL: {value!r}")
    level = os.environ.get("CASEWATCH_LOG_LEVEL")
    if level and level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(f"environment: CASEWATCH_LOG_LEVEL: unknown level {level!r}")
    db_dir = Path(args.db).resolve().parent
    if not db_dir.exists() or not os.access(db_dir, os.W_OK):
        problems.append(f"environment: database folder {db_dir} is missing or not writable")
    elif problem := inspect_store(args.db):
        problems.append(f"environment: {problem}")
    if problems:
        for p in problems:
            err.write(p + "\n")
        err.write(f"{len(problems)} problem(s) found\n")
        return EXIT_INVALID
    assert cfg is not None
    out.write(
        f"{args.config}: valid: {len(cfg.sources)} sources, {len(cfg.timeline)} timeline events, "
        f"{len(cfg.relevance.rules)} rules\n"
    )
    return EXIT_OK


async def _with_app(
    args: argparse.Namespace, body: Callable[[App], Awaitable[int]], **kw: Any
) -> int:
    from casewatch.app import open_app

    async with open_app(args.config, args.db, **kw) as app:
        return await body(app)


def _print_report(report: CycleReport, err: TextIO) -> None:
    err.write(report.summary_line() + "\n")
    for o in report.failed:
        err.write(f"  failed: {o.name}: {o.error}\n")


async def cmd_poll(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    urls = _load_urls(args, err)

    async def body(app: App) -> int:
        app.ensure_console_destinations()
        app.try_sources(urls)
        report = await app.monitor.poll_once(
            backfill=args.backfill, only_urls=urls, force=urls is not None or args.all
        )
        await app.dispatcher.drain(ConsoleDelivery(out, as_json=args.json), limit=10_000)
        _print_report(report, err)
        return EXIT_OK

    return await _with_app(args, body, progress=_progress_printer(err))


async def cmd_probe(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Fetch and parse each source once without storing anything."""
    from casewatch.app import open_app
    from casewatch.config import SourceConfig
    from casewatch.pages import parse_page
    from casewatch.parse import parse_feed

    urls = _load_urls(args, err)
    async with open_app(args.config, args.db) as app:
        targets = [
            s for s in app.config.sources if s.enabled and (urls is None or s.url in urls)
        ] + [
            SourceConfig(name=sourcelist.display_name(u), url=u)
            for u in urls or []
            if app.config.source_by_url(u) is None
        ]

        async def one(target: SourceConfig) -> dict[str, Any]:
            res = await app.fetcher.fetch(target.url)
            row: dict[str, Any] = {
                "name": target.name,
                "url": target.url,
                "status": res.status,
                "content_type": res.content_type,
                "final_url": res.final_url,
                "error": res.error,
                "entries": None,
            }
            if res.ok and res.body is not None:
                if target.format == "page" and target.page:
                    parsed = parse_page(
                        res.body, target.page, url=res.final_url, content_type=res.content_type
                    )
                else:
                    parsed = parse_feed(res.body, content_type=res.content_type, url=res.final_url)
                row["entries"] = len(parsed.entries)
                row["error"] = parsed.error
            return row

        results = await asyncio.gather(*(one(t) for t in targets))
    bad = 0
    for r in results:
        bad += bool(r["error"])
        if args.json:
            _print_json(r, out)
        else:
            state = "ok " if not r["error"] else "ERR"
            out.write(
                f"{state} {r['status'] or '-':>3} {r['entries'] if r['entries'] is not None else '-':>4}"
                f" entries  {r['content_type'] or '-':<28} {r['name']}\n"
            )
            if r["error"]:
                out.write(f"      {r['error']}\n")
    err.write(f"{len(results) - bad} of {len(results)} sources answered with a usable feed\n")
    return EXIT_OK


_WEBHOOK = LazyPattern(r"^https?://[^/\s@?#]+(/[^\s?#]*)?/webhooks/\d+/[\w-]+/?(\?[^\s#]*)?$")


def check_webhook_url(value: str) -> str:
    """DISCORD_WEBHOOK_URL, or CommandError without the value: its last part is a secret."""
    url = value.strip()
    if not _WEBHOOK.match(url):
        raise CommandError(
            "DISCORD_WEBHOOK_URL: not a Discord webhook URL (expected"
            " https://discord.com/api/webhooks/ID/TOKEN; the value is not shown: it holds the"
            " webhook's secret)",
            EXIT_INVALID,
        )
    return url


async def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The bot: Discord with DISCORD_TOKEN, else console mode (plus a webhook if one is set).

    Both modes run the same loop (`casewatch.app.RunLoop`) on the same app.
    """
    from casewatch.app import RunLoop, open_app, stop_on_signals

    urls = _load_urls(args, err)
    plan = RunPlan(only_urls=urls, tick=args.tick, backfill=args.backfill)
    discord: DiscordAdapter | None = getattr(args, "discord", None)
    use_discord = bool(os.environ.get("DISCORD_TOKEN", "").strip())
    if use_discord and discord is None:
        raise CommandError("DISCORD_TOKEN is set but the Discord adapter is missing: run bot.py")
    webhook = os.environ.get("DISCORD_WEBHOOK_URL", "").strip()
    if webhook and not use_discord:
        webhook = check_webhook_url(webhook)
    async with open_app(
        args.config, args.db, progress=_progress_printer(err), interval_override=args.interval
    ) as app:
        # A tried feed alerts where this process delivers: the channels in Discord mode, the
        # terminal (and the webhook) in console mode, never a channel a later run posts to.
        app.try_sources(urls, outputs=None if use_discord else ("console", "webhook"))
        if use_discord:
            assert discord is not None
            return await discord.run(app, plan)
        app.ensure_console_destinations()
        deliveries: list[Any] = [ConsoleDelivery(out, as_json=args.json)]
        if webhook:
            destinations.upsert(app.db, type="webhook", purpose="alerts", now=app.clock.now())
            deliveries.append(WebhookDelivery(app.session, webhook))

        async def deliver() -> None:
            for d in deliveries:
                await app.dispatcher.drain(d)

        stop = asyncio.Event()
        loop = RunLoop(
            app,
            deliver,
            tick=plan.tick,
            backfill=plan.backfill,
            only_urls=plan.only_urls,
            on_report=lambda report: _print_report(report, err),
            on_fatal=stop.set,
        )
        polled = (
            len(urls) if urls is not None else len(sources.due(app.db, app.clock.now(), every=True))
        )
        err.write(
            f"casewatch {__version__}: console mode"
            + (" + webhook" if webhook else "")
            + f"; {polled} sources"
            + (" (from --source/--sources)" if urls is not None else "")
            + f", looked at every {loop.tick:g}s; Ctrl-C to stop\n"
        )
        loop.start()
        stop_on_signals(stop.set)
        try:
            await stop.wait()
        finally:
            loop.shutdown()
        if loop.fatal is not None:
            raise loop.fatal  # the database cannot go on: main() says why in one line
        err.write("stopped\n")
    return EXIT_OK


async def cmd_latest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async def body(app: Any) -> int:
        LATEST_MAX = 100  # the most `latest --count` lists at once
        count = max(1, min(args.count, LATEST_MAX))
        if args.count > LATEST_MAX:
            err.write(f"latest: showing the newest {LATEST_MAX} (the most it lists at once)\n")
        # One entry per development (event), however many outlets' wordings it has.
        views = latest_developments(app.db, count=count, kind=args.kind)
        if args.json:
            for v in views:
                _print_json(alert_json(v), out)
            return EXIT_OK
        what = f"{args.kind} " if args.kind else ""
        if not views:
            out.write(f"No relevant {what}developments stored yet.\n")
            return EXIT_OK
        out.write(
            f"The newest {plural(len(views), f'{what}development')}"
            + (" (all there are so far)" if len(views) < count else "")
            + ":\n"
        )
        for v in views:
            when = v.published or v.first_seen
            out.write(
                f"- [{v.kind}] {v.title} — {v.source}{other_outlets(v)},"
                f" {_fmt_time(when.isoformat())}, story {v.story_id}\n"
                + (f"  {v.url}\n" if v.url else "")
            )
        return EXIT_OK

    return await _with_app(args, body)


async def cmd_search(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if items.fts_query(args.query) is None:
        err.write(
            f"search: {args.query!r} has no words to search; try a name, a place or a "
            '"quoted phrase"\n'
        )
        return EXIT_INVALID

    async def body(app: Any) -> int:
        since = app.clock.now() - timedelta(seconds=args.since) if args.since else None
        per = max(1, min(args.per_page, 50))
        page = max(1, args.page)
        # One line per development (event), by its best-matching report.
        found, total = search_developments(
            app.db,
            args.query,
            since=since,
            source=args.source,
            kind=args.kind,
            limit=per,
            offset=(page - 1) * per,
            outlets=frozenset(app.config.case.outlets),
        )
        if args.json:
            for h in found:
                _print_json(
                    {
                        **_item_json(h.row),
                        "title": h.headline,
                        "copies": h.matched,
                        "development": h.development,
                        "event_id": h.event_id,
                    },
                    out,
                )
            return EXIT_OK
        if not found:
            out.write(
                f"No match for {args.query!r}"
                + (f" on page {page} (there are {plural(total, 'development')})" if total else "")
                + ".\n"
            )
            return EXIT_OK
        pages = -(-total // per)
        out.write(
            f"{plural(total, 'development')} found for {args.query!r} (page {page} of {pages}):\n"
        )
        for h in found:
            more = h.matched - 1
            out.write(
                f"- story {h.development or '-'}: {h.headline} — {h.outlet}"
                + (f" (+{plural(more, 'other report')})" if more else "")
                + f", {_fmt_time(h.when.isoformat() if h.when else None)}, item {h.item_id}\n"
                f"  {h.url or ''}\n"
            )
        return EXIT_OK

    return await _with_app(args, body)


def _item_json(r: dict) -> dict:
    keep = ("id", "story_id", "title", "url", "publisher", "published_at", "fetched_at", "kind")
    out = {k: r.get(k) for k in keep}
    out["source"] = r.get("source_name")
    out["verdict"] = r.get("verdict")
    return out


async def cmd_story(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async def body(app: Any) -> int:
        story = stories.get(app.db, args.story_id)
        if story is None:
            err.write(f"story {args.story_id}: no such story\n")
            return EXIT_ERROR
        members = items.for_story(app.db, args.story_id)
        if args.json:
            _print_json(
                {
                    "story": {k: v for k, v in story.items() if k != "signature"},
                    "items": [_item_json(m) for m in members],
                },
                out,
            )
            return EXIT_OK
        out.write(f"story {story['id']} [{story['kind']}]: {story['title']}\n")
        if story.get("summary"):
            out.write(f"  {story['summary']}\n")
        group = event_stories(app.db, args.story_id)
        if story.get("event_id") is not None:
            n_items = sum(len(g["items"]) for g in group)
            kind = events.kind_of(app.db, args.story_id) or story["kind"]
            out.write(
                f"event {story['event_id']}: a {kind} development, {len(group)} stories,"
                f" {n_items} reports (one alert; split or merge with `split ITEM`,"
                " `merge EVENT EVENT`)\n"
            )
        outlets = frozenset(app.config.case.outlets)
        for g in group:
            if len(group) > 1:
                out.write(f"story {g['id']}: {g['title']}\n")
            for m in g["items"]:
                outlet = m["publisher"] or m["source_name"]
                headline = report_headline(m["title"], outlet, outlets=outlets)
                out.write(
                    f"- [{m['id']}] {outlet}: {headline}"
                    f" ({_fmt_time(m['published_at'] or m['fetched_at'])})\n  {m['url'] or ''}\n"
                )
        return EXIT_OK

    return await _with_app(args, body)


def why_lines(item: dict) -> list[str]:
    """The explanation of one item's verdict (shared by the CLI and /case why)."""
    lines = [
        f"item {item['id']}: {item['title']}",
        f"source: {item['source_name']}"
        + (f" (publisher {item['publisher']})" if item["publisher"] else ""),
        f"verdict: {item['verdict']} (score {item['score']:g}); {item['reason']}",
    ]
    if item["rules"]:
        lines.append("rules fired: " + ", ".join(item["rules"]))
    lines.append("terms matched: " + (", ".join(item["terms"]) if item["terms"] else "none"))
    if item.get("story_id"):
        lines.append(f"story: {item['story_id']}")
    return lines


async def cmd_why(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async def body(app: Any) -> int:
        item = items.get(app.db, args.item_id)
        if item is None:
            err.write(f"item {args.item_id}: no such item\n")
            return EXIT_ERROR
        if args.json:
            keep = ("id", "title", "verdict", "score", "rules", "terms", "reason", "story_id")
            _print_json({k: item[k] for k in keep}, out)
        else:
            lines = why_lines(item)
            if item.get("story_id"):
                lines += event_lines(app.db, int(item["story_id"]))
            out.write("\n".join(lines) + "\n")
        return EXIT_OK

    return await _with_app(args, body)


async def cmd_split(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from casewatch import corrections  # only split and merge: not on every command's start-up

    async def body(app: Any) -> int:
        try:
            done = corrections.split_item(app.db, args.item_id, now=app.clock.now())
        except corrections.CorrectionError as exc:
            err.write(f"split: {exc}\n")
            return EXIT_ERROR
        if args.json:
            _print_json(done.__dict__, out)
        else:
            out.write(
                f"item {done.item_id} left event {done.from_event}: it is event {done.event_id}"
                f" (story {done.story_id}) now; both alerts are updated\n"
            )
        return EXIT_OK

    return await _with_app(args, body)


async def cmd_merge(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from casewatch import corrections

    async def body(app: Any) -> int:
        first, second = args.event_ids
        try:
            done = corrections.merge_events(app.db, first, second, now=app.clock.now())
        except corrections.CorrectionError as exc:
            err.write(f"merge: {exc}\n")
            return EXIT_ERROR
        if args.json:
            _print_json(done.__dict__, out)
        else:
            out.write(
                f"event {done.merged} joined event {done.event_id}"
                f" ({plural(done.stories, 'story', 'stories')} moved);"
                " its alert is updated\n"
            )
        return EXIT_OK

    return await _with_app(args, body)


async def cmd_timeline(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async def body(app: Any) -> int:
        events = timeline.listing(app.db, newest_first=args.newest, year=args.year)
        if args.json:
            for e in events:
                _print_json({k: e[k] for k in ("date", "title", "url", "kind", "origin")}, out)
            return EXIT_OK
        year = None
        for e in events:
            if e["date"][:4] != year:
                year = e["date"][:4]
                out.write(f"\n{year}\n")
            mark = "⚖" if e["kind"] == "court" else "•"
            out.write(
                f"  {e['date']} {mark} {e['title']}"
                + (f"\n      {e['url']}" if e["url"] else "")
                + "\n"
            )
        return EXIT_OK

    return await _with_app(args, body)


def source_health(src: dict, now: datetime, stale_after: float) -> str:
    """One word for a source's state: ok, failing, stale, paused, new."""
    if src["paused"]:
        return "paused"
    if src["failures"]:
        return "failing"
    if not src["last_ok_at"]:
        return "new"
    last_new = parse_iso(src["last_new_at"]) or parse_iso(src["first_polled_at"])
    if last_new and (now - last_new).total_seconds() > stale_after:
        return "stale"
    return "ok"


async def cmd_sources(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async def body(app: Any) -> int:
        now = app.clock.now()
        for s in sources.active(app.db):
            state = source_health(s, now, app.config.defaults.stale_after)
            if args.json:
                keep = (
                    "id",
                    "name",
                    "url",
                    "kind",
                    "format",
                    "last_ok_at",
                    "last_error",
                    "failures",
                    "next_poll_at",
                    "last_entry_count",
                    "last_status",
                )
                _print_json({**{k: s[k] for k in keep}, "state": state}, out)
                continue
            out.write(
                f"{state:<8} {s['name']}  [{s['kind']}/{s['format']}]\n"
                f"         last ok {_fmt_time(s['last_ok_at'])}, next {_fmt_time(s['next_poll_at'])},"
                f" entries {s['last_entry_count'] if s['last_entry_count'] is not None else '-'}"
                + (f", {s['failures']} failures: {s['last_error']}" if s["failures"] else "")
                + "\n"
            )
        if not args.json:
            c = outbox.counts(app.db)
            out.write(f"outbox: {c['pending']} pending, {c['delivered']} delivered\n")
        return EXIT_OK

    return await _with_app(args, body)


async def cmd_digest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async def body(app: Any) -> int:
        end = app.clock.now()
        view = build_digest(
            app.db,
            start=end - timedelta(seconds=args.since),
            end=end,
            title=f"Digest: {app.config.case.short or app.config.case.name}",
            empty_mode="say",
        )
        view.max_stories = app.config.digest.max_stories
        if args.json:
            _print_json(view.as_json(), out)
        else:
            out.write(digest_text(view) + "\n")
        return EXIT_OK

    return await _with_app(args, body)


async def cmd_chart(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from casewatch.chart_data import activity

    async def body(app: Any) -> int:
        now = app.clock.now()
        since = now - timedelta(seconds=args.since) if args.since else None
        title = app.config.case.short or app.config.case.name
        png, caption = activity(app.db, title=title, since=since, now=now)
        await asyncio.to_thread(Path(args.out).write_bytes, png)
        out.write(caption + "\n")
        err.write(f"wrote {args.out} ({len(png)} bytes)\n")
        return EXIT_OK

    return await _with_app(args, body)


def cmd_health(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """For container health checks: the database opens and the scheduler ticked recently."""
    from storage import open_store, settings

    try:
        db = open_store(args.db)
    except Exception as exc:
        err.write(f"unhealthy: cannot open {args.db}: {exc}\n")
        return EXIT_ERROR
    try:
        beat = parse_iso(settings.get(db, "runtime", "heartbeat"))
    finally:
        db.close()
    if beat is None:
        err.write("unhealthy: no heartbeat recorded yet\n")
        return EXIT_ERROR
    age = (datetime.now(UTC) - beat).total_seconds()
    if age > args.max_age:
        err.write(f"unhealthy: last heartbeat {age:.0f}s ago\n")
        return EXIT_ERROR
    out.write(f"healthy: last heartbeat {age:.0f}s ago\n")
    return EXIT_OK


ASYNC_COMMANDS = {
    "poll": cmd_poll,
    "probe": cmd_probe,
    "run": cmd_run,
    "latest": cmd_latest,
    "search": cmd_search,
    "story": cmd_story,
    "why": cmd_why,
    "split": cmd_split,
    "merge": cmd_merge,
    "timeline": cmd_timeline,
    "sources": cmd_sources,
    "digest": cmd_digest,
    "chart": cmd_chart,
}


def setup_logging() -> None:
    level = os.environ.get("CASEWATCH_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    discord: DiscordAdapter | None = None,
) -> int:
    """Run one command; returns the exit status. `discord` serves run (with DISCORD_TOKEN),
    sync and invite."""
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(only=argv[0] if argv else None).parse_args(argv)
    args.discord = discord
    try:
        if args.command == "check":
            return cmd_check(args, out, err)
        if args.command == "health":
            return cmd_health(args, out, err)
        if args.command in ("sync", "invite"):
            if discord is None:
                raise CommandError(f"{args.command}: needs the Discord adapter (run bot.py)")
            if args.command == "invite":
                return discord.invite()
            return asyncio.run(discord.sync(args.config, args.db, args.guild))
        return asyncio.run(ASYNC_COMMANDS[args.command](args, out, err))
    except ConfigError as exc:
        for e in exc.errors:
            err.write(e + "\n")
        return EXIT_INVALID
    except (StoreError, sqlite3.DatabaseError) as exc:  # the file, not a source: stop, say why
        err.write(explain(exc, args.db) + "\n")
        return EXIT_ERROR
    except sourcelist.SourceListError as exc:
        err.write(f"{exc}\n")
        return EXIT_INVALID
    except CommandError as exc:
        err.write(f"{exc}\n")
        return exc.status
    except KeyboardInterrupt:
        err.write("stopped\n")
        return EXIT_OK
