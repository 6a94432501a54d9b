"""One poll cycle: fetch the due sources, parse, judge, deduplicate, store, enqueue alerts.

Each source's results (items, story links, outbox rows, health) are written in one transaction,
so a crash leaves a source either fully ingested or untouched (and then re-fetched).

The ingest stages (parsing, judging, deduplication, filing stories and events, leads) are
imported by the methods that run them: a cycle with nothing due (and every command that only
opens the app) does not load them (issue 9: start-up).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
import sqlite3
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from casewatch import alerting, notices, schedule
from casewatch.clock import Clock
from casewatch.config import Config, SourceConfig
from casewatch.fetch import Fetcher
from casewatch.model import Entry, FetchResult, Match
from casewatch.reading_ahead import ReadingAhead
from casewatch.sourcelist import display_name
from casewatch.text import fold
from casewatch.worker import StartsEarly
from storage import events as stored_events
from storage import items, outbox, sources, stories, timeline
from storage import notices as notice_store
from storage.db import is_busy, path_of
from storage.sources import SourceSpec

if TYPE_CHECKING:
    from casewatch import dedup
    from casewatch.event_filing import EventFiler
    from casewatch.events import Report
    from casewatch.filing import Placement, StoryFiler
    from casewatch.judging import Judged, Judging, Prepared
    from casewatch.outlets import OutletNames
    from casewatch.relevance import RuleEngine
    from casewatch.sharing import SharedQueue
    from storage.db import Database

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


@dataclass
class SourceOutcome:
    """What happened to one source in a cycle."""

    source_id: int
    name: str
    url: str
    status: str  # new | unchanged | failed | deferred (the database was busy: polled again)
    entries: int = 0
    new_items: int = 0
    relevant: int = 0
    alerts: list[int] = field(default_factory=list)  # story ids that were enqueued as alerts
    too_old: int = 0  # relevant items stored without an alert: older than defaults.alert_max_age
    error: str | None = None
    skipped: list[str] = field(default_factory=list)
    thin: list[tuple[int, Entry]] = field(default_factory=list)  # relevant items with thin text


@dataclass
class CycleReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    started: datetime | None = None
    finished: datetime | None = None
    # stories alerted by the event stage that no source of this cycle made relevant (left
    # waiting by a crash)
    event_alerts: list[int] = field(default_factory=list)

    @property
    def alerts(self) -> list[int]:
        return [s for o in self.outcomes for s in o.alerts] + self.event_alerts

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def summary_line(self) -> str:
        counts = {k: sum(1 for o in self.outcomes if o.status == k) for k in ("new", "unchanged")}
        new = sum(o.new_items for o in self.outcomes)
        rel = sum(o.relevant for o in self.outcomes)
        deferred = sum(1 for o in self.outcomes if o.status == "deferred")
        too_old = sum(o.too_old for o in self.outcomes)
        return (
            f"polled {len(self.outcomes)} sources: {counts['new']} changed, "
            f"{counts['unchanged']} unchanged, {len(self.failed)} failed"
            + (f", {deferred} deferred (database busy)" if deferred else "")
            + "; "
            f"{new} new items, {rel} relevant, {len(self.alerts)} new stories to alert"
            + (
                f" ({too_old} more not alerted: published too long ago, defaults.alert_max_age)"
                if too_old
                else ""
            )
        )


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def entry_day(day: str, seen: str | None, *, now: datetime, earliest: date) -> str | None:
    """The day of a timeline entry added from the feeds: its own when it can be true, else the
    day its report was first seen (an earlier version stored a feed's 1970 or 2099 as the
    development's day), else None (nothing sane to show: the entry goes)."""
    for candidate in (day, (seen or "")[:10]):
        try:
            when = date.fromisoformat(candidate)
        except ValueError:
            continue
        if earliest <= when <= (now + timedelta(days=1)).date():
            return candidate
    return None


def timeline_day(published: datetime | None, now: datetime) -> str:
    """The timeline date of a development: the day it was published, or today when it has no
    date or claims a moment after now (a feed's clock or time zone gone wrong)."""
    when = published if published is not None and published <= now else now
    return when.date().isoformat()


class Monitor:
    """The case monitor: owns the decisions of a poll cycle; resources are injected."""

    def __init__(
        self,
        config: Config,
        db: Database,
        fetcher: Fetcher,
        clock: Clock,
        *,
        rng: random.Random | None = None,
        executor: Executor | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.fetcher = fetcher
        self.clock = clock
        self.rng = rng or random.Random()
        self.executor = executor
        self.progress = progress
        self._rules: bytes | None = None  # the rules pickled for the worker, made on first use
        self._queue: SharedQueue[Prepared] | None = None  # `_sharing`
        self._model_warmed = False  # the worker was asked to load the sentence model
        self.stopwords = frozenset(fold(w) for w in config.case.vocabulary)
        self._ahead = ReadingAhead(db, self.stopwords)  # the event stage's reading, begun early
        self.outlets = frozenset(config.case.outlets)
        self._adhoc: dict[str, SourceConfig] = {}
        # Destination types that the alerts of tried feeds may reach; None: all (Discord mode,
        # where the operator runs the bot on the tried feeds on purpose).
        self.trial_outputs: frozenset[str] | None = None
        # source events of the cycle under way, with each source's last good poll before it
        self._events: list[tuple[notices.SourceEvent, str | None]] = []

    # -- the stages, made when first used -------------------------------------------------------

    @functools.cached_property
    def engine(self) -> RuleEngine:
        from casewatch.relevance import RuleEngine

        return RuleEngine(self.config.relevance)

    @functools.cached_property
    def outlet_names(self) -> OutletNames:
        """One spelling per outlet, the configured publishers' first."""
        from casewatch.outlets import OutletNames

        cfg = self.config
        return OutletNames([s.publisher for s in cfg.sources if s.publisher] + cfg.case.outlets)

    @functools.cached_property
    def filer(self) -> StoryFiler:
        from casewatch.filing import StoryFiler

        return StoryFiler(
            self.db,
            stopwords=self.stopwords,
            outlets=self.outlets,
            window=timedelta(seconds=self.config.defaults.story_window),
        )

    @functools.cached_property
    def eventer(self) -> EventFiler:
        from casewatch.event_filing import EventFiler

        return EventFiler(self.db, stopwords=self.stopwords, settings=self.config.events)

    @functools.cached_property
    def earliest(self) -> date:
        """Entry dates before this day are a feed's mistake (`case.start`, else judging's)."""
        from casewatch.judging import EARLIEST_DATE

        return self.config.case.start or EARLIEST_DATE

    # -- configuration -------------------------------------------------------------------------

    def sync_config(self) -> dict[str, int]:
        """Bring the sources and timeline tables in line with the configuration."""
        specs = [
            SourceSpec(name=s.name, url=s.url, kind=s.kind, format=s.format)
            for s in self.config.sources
            if s.enabled
        ]
        ids = sources.sync_configured(self.db, specs, self.clock.now())
        timeline.sync_configured(
            self.db,
            [
                {"date": e.date.isoformat(), "title": e.title, "url": e.url, "kind": e.kind}
                for e in self.config.timeline
            ],
        )
        self._tidy_timeline()
        return ids

    def _tidy_timeline(self) -> None:
        """Entries added from the feeds under earlier rules are judged again: only court
        developments stay, once per story, not beside a configured court event of those days,
        with a clean link (a day of polling once added 28: news, copies, redirect links)."""
        gone: list[int] = []
        stories_seen: set[int] = set()
        now = self.clock.now()
        with self.db.atomic():
            auto = timeline.auto_entries(self.db)
            if not auto:
                return  # and no repeats: those are automatic entries too
            from casewatch.judging import timeline_link

            for e in auto:
                day = entry_day(e["date"], e["fetched_at"], now=now, earliest=self.earliest)
                if day is None:
                    gone.append(int(e["id"]))
                    continue
                if day != e["date"]:
                    timeline.set_date(self.db, int(e["id"]), day)
                    e["date"] = day
                cfg = self.source_config(
                    {
                        "url": e["source_url"] or "",
                        # a tried feed is neither configured nor this process's: name it
                        "name": display_name(e["source_url"] or "") or "unknown source",
                        "kind": e["source_kind"] or "news",
                        "format": "feed",
                    }
                )
                court = (
                    e["title"] is not None
                    and self.engine.court_label(
                        e["title"], e["summary"] or "", source=cfg.rules, kind=e["source_kind"]
                    )[0]
                )
                story = e["story_id"]
                if (
                    not court
                    or story in stories_seen
                    or timeline.near_configured_court_event(self.db, e["date"])
                ):
                    gone.append(int(e["id"]))
                    continue
                if story is not None:
                    stories_seen.add(int(story))
                clean = timeline_link(e["url"])
                if clean != e["url"]:
                    timeline.set_url(self.db, int(e["id"]), clean)
            repeats = timeline.repeats_per_event(self.db)
            timeline.remove(self.db, gone + repeats)
            removed = len(gone) + len(repeats)
        if removed:
            log.info(
                "timeline: %d automatic entries were not court developments (or were "
                "repeats) under the current rules and were removed",
                removed,
            )

    def add_adhoc(self, urls: list[str]) -> list[int]:
        """Register `--source` URLs for this process, judged by the configured rules.

        Returns the ids of the ones that are only tried (not subscribed): the caller retires
        them when it is done, and no command that does not name them polls them.
        """
        trials = []
        for url in urls:
            cfg = self.config.source_by_url(url) or SourceConfig(name=display_name(url), url=url)
            self._adhoc[url] = cfg
            spec = SourceSpec(name=cfg.name, url=url, kind=cfg.kind, format=cfg.format)
            source_id, trial = sources.add_trial(self.db, spec, self.clock.now())
            if trial:
                trials.append(source_id)
        return trials

    def source_config(self, row: dict) -> SourceConfig:
        """The configuration of a stored source (sources added from Discord get defaults)."""
        cfg = self.config.source_by_url(row["url"]) or self._adhoc.get(row["url"])
        if cfg is None:
            cfg = SourceConfig(
                name=row["name"], url=row["url"], kind=row["kind"], format=row["format"]
            )
        return cfg

    # -- the cycle -------------------------------------------------------------------------------

    async def poll_once(
        self, *, backfill: bool = False, only_urls: list[str] | None = None, force: bool = False
    ) -> CycleReport:
        """Poll every due source once (all of them with `force`), concurrently."""
        now = self.clock.now()
        report = CycleReport(started=now)
        due = sources.due(self.db, now, only_urls, every=force)
        if isinstance(self.executor, StartsEarly) and any(s["body_hash"] is None for s in due):
            # A source never read before cannot answer "unchanged": this cycle will parse, so
            # the parse worker starts up now, while the requests are out. (A cycle of sources
            # read before may well have nothing to parse: its worker starts with the first job.)
            self.executor.start()
            self._warm_event_model()
        total, done = len(due), 0
        # Sources in flight at once: no more than the fetcher serves, so no fetch waits in a
        # queue while the loop is busy ingesting the others, and memory stays bounded. A source
        # with validators is revalidated in the fetcher's slots for conditional requests.
        in_flight = asyncio.Semaphore(self.config.fetch.concurrency)
        extra = self.config.fetch.conditional_concurrency
        revalidating = asyncio.Semaphore(extra) if extra else in_flight

        async def one(src: dict) -> SourceOutcome:
            nonlocal done
            slots = revalidating if src["etag"] or src["last_modified"] else in_flight
            try:
                async with slots:
                    outcome = await self.poll_source(src, backfill=backfill)
            except sqlite3.DatabaseError as exc:
                if not is_busy(exc):
                    raise  # the database file is at fault, not the source: stop the cycle
                # Another process held the database longer than the busy timeout: not the
                # source's fault; it stays due and is polled again next cycle.
                log.warning("source %s not stored: %s", src["name"], exc)
                outcome = SourceOutcome(src["id"], src["name"], src["url"], "deferred")
                outcome.error = f"database busy: {exc}"
            except Exception as exc:  # one bad source never stops the cycle
                log.exception("source %s (%s) crashed the poll", src["name"], src["url"])
                outcome = SourceOutcome(src["id"], src["name"], src["url"], "failed")
                outcome.error = f"internal error: {type(exc).__name__}: {exc}"
                self._record_failure(src, outcome.error, None, None)
            done += 1
            if self.progress:
                self.progress(done, total, src["name"])
            return outcome

        report.outcomes = list(await asyncio.gather(*(one(s) for s in due)))
        try:
            report.event_alerts = await self.file_events(report)
        except sqlite3.DatabaseError as exc:
            if not is_busy(exc):
                raise
            # Another process held the file too long: the stories stay queued for next cycle.
            log.warning("event stage deferred: %s", exc)
        self._timeline_per_event()
        self._notice_stale()
        self._send_notices()
        report.finished = self.clock.now()
        return report

    def _timeline_per_event(self) -> None:
        """Court developments stay on the timeline once per event: the event stage may have
        put stories that each added an entry into one development (a read first; a write
        only when there is something to remove, and a busy file waits for the next cycle)."""
        repeats = timeline.repeats_per_event(self.db)
        if not repeats:
            return
        try:
            with self.db.atomic():
                timeline.remove(self.db, repeats)
        except sqlite3.DatabaseError as exc:
            if not is_busy(exc):
                raise
            log.warning("timeline tidying deferred: %s", exc)

    def _notice_stale(self) -> None:
        """Tell admins once when a source has published nothing new for `stale_after`."""
        stale_after = self.config.defaults.stale_after
        before = self.clock.now() - timedelta(seconds=stale_after)
        for src in sources.newly_stale(self.db, before=before):
            self._notice(src, "stale", f"nothing new for {stale_after / 86400:g} days")

    async def poll_source(self, src: dict, *, backfill: bool = False) -> SourceOutcome:
        """Fetch, parse and ingest one source; record its health."""
        cfg = self.source_config(src)
        outcome = SourceOutcome(src["id"], src["name"], src["url"], "unchanged")
        # A source added from Discord was checked when it was added, but its host may resolve
        # to an internal address since: every fetch it causes is guarded again (each redirect
        # and each connection), as at add time. feeds.yaml and --source ones are the operator's.
        guard = src.get("origin") == "discord"
        result = await self.fetcher.fetch(
            src["url"],
            etag=src["etag"],
            last_modified=src["last_modified"],
            last_body_hash=src["body_hash"],
            guard_internal=guard,
        )
        if not result.ok:
            outcome.status, outcome.error = "failed", result.error
            self._record_failure(src, result.error or "unknown error", result.status, result)
            return outcome
        if result.not_modified or result.body is None:
            self._record_success(src, result, entry_count=None, new_items=0)
            return outcome
        # The worker parses and finishes the entries (outlets, dates, identity keys) and judges
        # the new ones (rules, lead, language, story keys) in that job; or this process, when
        # it is free first, parses them and judges them as it files them (`_parse`).
        prepared = await self._parse(result, cfg, src)
        parsed = prepared.parsed
        outcome.skipped = parsed.skipped
        for msg in parsed.skipped:
            log.info("%s: skipped an entry: %s", src["name"], msg)
        if parsed.error:
            outcome.status, outcome.error = "failed", parsed.error
            self._record_failure(src, parsed.error, result.status, None)
            return outcome
        if prepared.not_judged:
            log.info(
                "%s: judged here, not by the parse worker: %s", src["name"], prepared.not_judged
            )
        outcome.status, outcome.entries = "new", len(parsed.entries)
        first_poll = sources.first_poll_pending(src)
        with self.db.atomic():
            self._ingest(
                src,
                cfg,
                parsed.entries,
                outcome,
                first_poll=first_poll,
                backfill=backfill,
                judged_before=prepared.judged,
                identities=prepared.identities,
            )
            self._record_success(
                src, result, entry_count=len(parsed.entries), new_items=outcome.new_items
            )
        if outcome.thin:
            await self._read_articles(outcome.thin[: self.MAX_ARTICLES], cfg, guard=guard)
        return outcome

    MAX_ARTICLES = 5  # article pages read per source and cycle, for relevant items only

    async def _read_articles(
        self, thin: list[tuple[int, Entry]], cfg: SourceConfig, *, guard: bool
    ) -> None:
        """Replace thin summaries by the lead of the article page (same fetch guards as feeds:
        `guard` refuses internal addresses, for sources added from Discord), take the page's
        preview picture when the feed gave none, and edit alerts so changed."""
        from casewatch import clean, dedup, summary

        loop = asyncio.get_running_loop()
        for item_id, entry in thin:
            assert entry.link is not None
            if dedup.is_opaque_link(entry.link):
                continue  # a search engine's redirect token, not the article
            page = await self.fetcher.fetch(entry.link, guard_internal=guard)
            if not page.ok or not page.body:
                log.info("article %s not read: %s", entry.link, page.error)
                continue
            read = functools.partial(
                summary.item_summary,
                entry.title,
                entry.summary or entry.content,
                language=entry.language or cfg.language,
                article_html=page.body,
                url=page.final_url,
            )
            lead, _ = await loop.run_in_executor(self.executor, read)
            image = None
            if entry.image is None:
                find_image = functools.partial(clean.page_image, page.body, url=page.final_url)
                image = await loop.run_in_executor(self.executor, find_image)
            if not lead and not image:
                continue
            with self.db.atomic():
                changed = False
                if lead:
                    items.set_summary(self.db, item_id, lead)
                    changed = stories.refresh_lead(self.db, item_id, lead)
                if image:
                    changed = items.set_image(self.db, item_id, image) or changed
                story_id = (items.get(self.db, item_id) or {}).get("story_id")
                if changed and story_id is not None:
                    # The posted alert (the development's, when the story joined one) gains
                    # what it lacked.
                    known = stored_events.of_story(self.db, int(story_id))
                    self._rearm_updates(int(known["alert_story_id"]) if known else int(story_id))

    async def _parse(self, result: FetchResult, cfg: SourceConfig, src: dict) -> Prepared:
        """Parse and finish the entries (`prepare_document`): in the worker, which judges the
        new ones in the same job, or here when this process is free first (`sharing`), and
        then `_ingest` judges the new ones; partials (not lambdas) so the executor may be a
        process pool."""
        from casewatch.judging import Finishing, prepare_document

        body = result.body or b""
        # The worker's names for the parsers: feedparser and the cleaner are imported where
        # the job runs (here too, once this process takes a document: `sharing`).
        from casewatch.worker import parse_feed, parse_page

        if cfg.format == "page":
            assert cfg.page is not None
            job = functools.partial(
                parse_page, body, cfg.page, url=result.final_url, content_type=result.content_type
            )
        else:
            job = functools.partial(
                parse_feed, body, content_type=result.content_type, url=result.final_url
            )
        finishing = Finishing(
            cfg=cfg,
            names=self.outlet_names,
            outlets=self.outlets,
            # A feed tried with --source or added from Discord has no `publisher:`; its own
            # title names the outlet better than its address. feeds.yaml sources say who.
            feed_title_names_outlet=src.get("origin") != "config",
            now=self.clock.now(),
            earliest=self.earliest,
        )
        inline = functools.partial(prepare_document, job, finishing)
        if self.executor is None:
            return await self._sharing.run(inline, inline)
        in_worker = functools.partial(prepare_document, job, finishing, self._judging_for(src))
        return await self._sharing.run(in_worker, inline)

    @property
    def _sharing(self) -> SharedQueue[Prepared]:
        """The parse jobs, shared between the worker processes (a few jobs each at a time) and
        this process (the next waiting one whenever it is free); made for the executor."""
        if self._queue is None or self._queue.executor is not self.executor:
            from casewatch.sharing import IN_FLIGHT_PER_WORKER, SharedQueue

            workers = getattr(self.executor, "workers", None) or 1
            self._queue = SharedQueue(self.executor, IN_FLIGHT_PER_WORKER * workers)
        return self._queue

    def _judging_for(self, src: dict) -> Judging:
        """What the parse job of `src` needs to judge its new entries: the rules (pickled once
        here, compiled once per worker), the story keying, and the database file it reads the
        source's seen keys from (read-only)."""
        from casewatch.judging import Judging, pickled_rules

        if self._rules is None:
            self._rules = pickled_rules(self.config.relevance)
        return Judging(
            rules=self._rules,
            source_kind=src["kind"],
            keying=self._keying(src),
            source_id=int(src["id"]),
            database=self._database_file,
            titles_since=self.clock.now() - self.filer.window,
        )

    @functools.cached_property
    def _database_file(self) -> str | None:
        """The database's file, for another process to read (None: an in-memory database)."""
        path = path_of(self.db)
        return None if path.startswith(("(", ":memory:")) else path

    # -- health ----------------------------------------------------------------------------------

    def _interval(self, src: dict) -> float:
        return self.config.interval_for(self.source_config(src))

    def _record_success(
        self, src: dict, result: FetchResult, *, entry_count: int | None, new_items: int
    ) -> None:
        now = self.clock.now()
        nxt = schedule.next_poll(now, self._interval(src), rng=self.rng)
        recovered = sources.record_success(
            self.db,
            src["id"],
            now=now,
            next_poll=nxt,
            status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
            body_hash=result.body_hash,
            content_type=result.content_type,
            entry_count=entry_count,
            new_items=new_items,
        )
        if recovered:
            self._notice(src, "recovered")

    def _record_failure(
        self, src: dict, error: str, status: int | None, result: FetchResult | None
    ) -> None:
        now = self.clock.now()
        failures = int(src.get("failures") or 0) + 1
        delay = schedule.backoff_delay(
            failures,
            self._interval(src),
            retry_after=result.retry_after if result else None,
            rng=self.rng,
        )
        count = sources.record_failure(
            self.db,
            src["id"],
            now=now,
            next_poll=now + timedelta(seconds=delay),
            error=error,
            status=status,
        )
        # the cycle report lists it and the failing notice says it once: not a warning per poll
        log.info("source %s failed (%d in a row): %s", src["name"], count, error)
        fresh = sources.get(self.db, src["id"]) or {}
        if count >= self.config.defaults.failing_after and not fresh.get("failing_notified"):
            self._notice(src, "failing", f"{count} polls in a row: {error[:200]}")

    def _notice(self, src: dict, event: str, detail: str = "") -> None:
        """Remember something admins should hear; said once per cycle by `_send_notices`."""
        if not self._reaches(src, None):
            return  # a feed being tried: its failures show in the trying command's report
        self._events.append(
            (
                notices.SourceEvent(
                    int(src["id"]), str(src["name"]), src.get("guild_id") or None, event, detail
                ),
                src.get("last_ok_at"),
            )
        )

    def _send_notices(self) -> None:
        """The cycle's source events as one notice per notice destination, through the outbox
        (one transaction); the log hears them too, and is where they go when nobody chose a
        notices channel."""
        pending, self._events = self._events, []
        if not pending:
            return
        events = [e for e, _ in pending]
        log.warning(
            "admin notice: %s",
            notices.notice_text(
                [e for e in events if e.event == "failing"],
                [e for e in events if e.event == "stale"],
                [e for e in events if e.event == "recovered"],
            ).replace("\n", " "),
        )
        try:
            self._file_notices(pending, events)
        except sqlite3.DatabaseError as exc:
            if not is_busy(exc):
                raise
            # Another process held the file: the notices wait for the next cycle.
            self._events = pending + self._events
            log.warning("admin notices deferred: %s", exc)

    def _file_notices(
        self,
        pending: list[tuple[notices.SourceEvent, str | None]],
        events: list[notices.SourceEvent],
    ) -> None:
        now = self.clock.now()
        with self.db.atomic():
            told = {
                (dest, e.source_id)
                for e, last_ok in pending
                if e.event == "recovered"
                for dest in notice_store.failure_told(self.db, e.source_id, since=last_ok)
            }
            targets = [
                notices.Target(int(d["id"]), str(d["guild_id"] or ""))
                for d in notice_store.targets(self.db)
            ]
            for notice in notices.plan(events, targets, told):
                outbox.enqueue(
                    self.db,
                    destination_id=notice.destination_id,
                    kind="notice",
                    ref=f"notices:{now.isoformat()}:{_digest(notice.text)}",
                    now=now,
                    payload=notice.payload(),
                )
            for e in events:
                if e.event == "failing":
                    sources.mark_failing_notified(self.db, e.source_id)
                elif e.event == "stale":
                    sources.mark_stale_notified(self.db, e.source_id)

    # -- ingest ----------------------------------------------------------------------------------

    def judge(self, entry: Entry, cfg: SourceConfig, kind: str) -> Match:
        """Relevance of one entry under the rules (and the source's overrides)."""
        from casewatch.judging import judge

        return judge(self.engine, entry, cfg, kind)

    def _ingest(
        self,
        src: dict,
        cfg: SourceConfig,
        entries: list[Entry],
        outcome: SourceOutcome,
        *,
        first_poll: bool,
        backfill: bool,
        judged_before: dict[int, Judged] | None = None,
        identities: list[list[str] | None] | None = None,
    ) -> None:
        """Identity, judging, filing the story, storing the item, the alert decision.
        `judged_before`: entries (by index) the parse worker already judged; `identities`:
        the document's identity keys (`dedup.document_identities`), when already made.

        Looks up the document's identity keys in one statement and writes the new ones in
        one more (entries repeated within the document are recognised in between)."""
        from casewatch import dedup
        from casewatch.judging import complete

        judged_before = judged_before or {}
        now = self.clock.now()
        max_age = timedelta(seconds=self.config.defaults.alert_max_age)
        if identities is None:
            identities = dedup.document_identities(
                entries, source_format=cfg.format, outlets=self.outlets
            )
        source_id = int(src["id"])
        seen = items.seen_keys(self.db, source_id, [k for keys in identities if keys for k in keys])
        new_seen: list[tuple[str, int]] = []
        keying = self._keying(src)
        for index, (entry, keys) in enumerate(zip(entries, identities, strict=True)):
            if keys is None:
                outcome.skipped.append("an entry without guid, link, title or text")
                continue
            if any(key in seen for key in keys):
                continue
            judged = judged_before.get(index) or self._judge_entry(entry, cfg, src["kind"], keying)
            if judged.kept and judged.story is None:
                judged = complete(judged, entry, keying)  # judged without keys (a test, a bench)
            place = self._place(entry, src, judged, now) if judged.kept else None
            if place is not None and place.alias_of is not None:
                # The same entry under a new guid: remember the keys, nothing new.
                seen.update(dict.fromkeys(keys, place.alias_of))
                new_seen.extend((key, place.alias_of) for key in keys)
                continue
            item_id = self._store_item(src, keys, entry, judged, place, now)
            seen.update(dict.fromkeys(keys, item_id))
            new_seen.extend((key, item_id) for key in keys)
            outcome.new_items += 1
            if judged.relevant:
                outcome.relevant += 1
                if judged.thin:
                    outcome.thin.append((item_id, entry))
            if place is None:
                continue
            filed = self.filer.attach(
                place,
                item_id=item_id,
                lead=judged.lead,
                relevant=judged.relevant,
                court=judged.court,
                now=now,
            )
            if filed.joined or filed.lead_filled:
                self._embed_again(filed.story_id)  # its lead may be another outlet's now
            if judged.court and judged.relevant:
                self._note_court_act(filed.story_id, entry, item_id, judged.timeline_url, now)
            published = entry.published or entry.updated
            if filed.became_relevant:
                # Which development it reports is decided after every source of the cycle:
                # the event stage decides its alert. The worker embeds it meanwhile.
                stored_events.enqueue(
                    self.db,
                    filed.story_id,
                    source_id=source_id,
                    first_poll=first_poll,
                    backfill=backfill,
                    court_source=src["kind"] == "court",
                    published=published,
                    now=now,
                )
                self._embed_soon(filed.story_id)
                continue
            moment = alerting.Moment(
                first_poll=first_poll,
                backfill=backfill,
                age=None if published is None else now - published,
                max_age=max_age,
                court_source=src["kind"] == "court",
            )
            if alerting.held_back_by_age(filed, None, moment):
                outcome.too_old += 1
            self._act(alerting.decide(filed, None, moment), filed, None, outcome.alerts, src)
            if filed.kind_was is not None and filed.kind_was != filed.kind:
                self._tell_new_kind(filed, None, moment, src)  # a court report joined the story
        items.add_seen_many(self.db, source_id, new_seen)

    def _keying(self, src: dict) -> dedup.Keying:
        """What the story keys of a source's entries depend on besides the entries."""
        return self.filer.keying(src["url"] if src["format"] == "page" else None)

    # -- events ----------------------------------------------------------------------------------

    def _warm_event_model(self) -> None:
        """A cycle that reads sources never read before (a first poll, where stories become
        relevant by the dozen) has the worker load the sentence model right after its start-up
        imports, before the feeds' parse jobs: that is while the requests are still out (its
        idle time), not behind every parse job of the cycle (0.2-0.4 s on the stage's tail)."""
        if self._model_warmed or not self.config.events.enabled:
            return
        self._model_warmed = True
        from casewatch import embed  # no numpy here: the worker loads the model

        assert self.executor is not None
        try:
            self.executor.submit(embed.warm)
        except Exception as exc:  # a worker that cannot take it: the first batch loads it
            log.debug("sentence model not loaded ahead: %s", exc)

    def _embed_soon(self, story_id: int) -> None:
        """A story waits for the event stage: the worker reads it (`reading_ahead`) while this
        process files the other sources. With no worker process the stage does it all."""
        if self.executor is not None and self.config.events.enabled:
            self._ahead.soon(story_id, self.executor)

    def _embed_again(self, story_id: int) -> None:
        """A story had another report: read again if its headline, lead or day changed."""
        if self.executor is not None and self.config.events.enabled:
            self._ahead.again(story_id, self.executor)

    async def file_events(self, report: CycleReport | None = None) -> list[int]:
        """The event stage: stories that became relevant this cycle (or were left waiting by a
        crash) join the development they report or start one; then the alert decision.

        The model embeds them in the executor (the parse worker process when there is one, as
        each source queues them: `_embed_soon`), so the bot's own process never loads it: the
        stage collects what the worker read of them, then matches and decides.
        Alerts and stories held back by the age rule count in `report`'s outcome of their
        source; returns the other alerts.
        """
        waiting = stored_events.pending(self.db)
        if not waiting:
            self._ahead.forget()
            return []
        reports: dict[int, Report] = {}
        if self.config.events.enabled:
            reports = await self._ahead.collect(waiting, self.executor)
        max_age = timedelta(seconds=self.config.defaults.alert_max_age)
        alerted: list[int] = []
        now = self.clock.now()
        with self.db.atomic():
            for pending in waiting:
                if not stored_events.dequeue(self.db, pending.story_id):
                    continue  # another process on this file filed it meanwhile
                event = self.eventer.assign(pending, reports.get(pending.story_id), now=now)
                story = stories.get(self.db, pending.story_id) or {}
                src = sources.get(self.db, pending.source_id) if pending.source_id else None
                filed = alerting.StoryFiled(
                    story_id=pending.story_id,
                    new_story=False,
                    became_relevant=True,
                    joined=False,
                    kind=str(story.get("kind") or "news"),
                )
                moment = alerting.Moment(
                    first_poll=pending.first_poll,
                    backfill=pending.backfill,
                    age=None if pending.published is None else pending.queued - pending.published,
                    max_age=max_age,
                    court_source=pending.court_source,
                )
                # Counted with the source whose item made the story relevant, when it is of this
                # cycle (else with the cycle: a story left waiting by a crash).
                outcome = next(
                    (
                        o
                        for o in (report.outcomes if report else [])
                        if o.source_id == pending.source_id
                    ),
                    None,
                )
                if alerting.held_back_by_age(filed, event, moment) and outcome is not None:
                    outcome.too_old += 1
                action = alerting.decide(filed, event, moment)
                self._act(action, filed, event, alerted if outcome is None else outcome.alerts, src)
                if not event.new_event:
                    self._tell_new_kind(filed, event, moment, src)
        return alerted

    def _tell_new_kind(
        self,
        story: alerting.StoryFiled,
        event: alerting.EventFiled | None,
        moment: alerting.Moment,
        src: dict | None,
    ) -> None:
        """A known development whose kind a report changed (a court report joined a news
        development): the channels that take the new kind and not the old one get its alert
        now, once; later edits reach that message like any other."""
        known = stored_events.of_story(self.db, story.story_id)
        if known is None:
            return  # the story waits for the event stage: its alert is decided there
        event_id = int(known["id"])
        others = stored_events.other_kinds(self.db, event_id, story.story_id)
        change = alerting.KindChange(
            before=alerting.development_kind([*others, story.kind_was]),
            after=alerting.development_kind([*others, story.kind]),
        )
        if not alerting.tells_new_kind(story, event, moment, change):
            return
        targets = [
            alerting.Target(int(d["id"]), tuple(d["kinds"]), bool(d["had"]))
            for d in outbox.development_targets(self.db, event_id, change.after)
            if self._reaches(src, str(d["type"]))
        ]
        outbox.alert_story_to(
            self.db,
            int(known["alert_story_id"]),
            alerting.newly_reached(targets, change),
            now=self.clock.now(),
        )

    def _act(
        self,
        action: alerting.Action,
        story: alerting.StoryFiled,
        event: alerting.EventFiled | None,
        alerted: list[int],
        src: dict | None,
    ) -> None:
        """Carry out the alert decision: a new alert, or the edit of the event's alert."""
        if action is alerting.Action.ALERT:
            self._enqueue_alerts(story.story_id, story.kind, src)
            alerted.append(story.story_id)
        elif action is alerting.Action.UPDATE:
            if event is None:
                known = stored_events.of_story(self.db, story.story_id)
                target = int(known["alert_story_id"]) if known else story.story_id
            else:
                target = event.alert_story_id
            self._rearm_updates(target, src)

    def _judge_entry(
        self, entry: Entry, cfg: SourceConfig, source_kind: str, keying: dedup.Keying
    ) -> Judged:
        from casewatch.judging import judge_entry

        return judge_entry(self.engine, entry, cfg, source_kind, keying)

    def _place(self, entry: Entry, src: dict, judged: Judged, now: datetime) -> Placement:
        return self.filer.place(
            entry,
            source_id=src["id"],
            page_url=src["url"] if src["format"] == "page" else None,
            canonical_url=judged.canonical_url,
            kind=judged.kind,
            lead=judged.lead,
            now=now,
            keys=judged.story,
        )

    def _store_item(
        self,
        src: dict,
        keys: list[str],
        entry: Entry,
        judged: Judged,
        place: Placement | None,
        now: datetime,
    ) -> int:
        match = judged.match
        item_id = items.insert(
            self.db,
            items.NewItem(
                source_id=src["id"],
                entry_key=keys[0],
                title=entry.title,
                url=entry.link,
                canonical_url=judged.canonical_url,
                publisher=entry.publisher,
                summary=judged.lead,
                language=judged.language,
                published_at=entry.published or entry.updated,
                fetched_at=now,
                kind=judged.kind,
                court=judged.court,
                verdict=match.verdict,
                score=match.score,
                rules=match.rules,
                terms=match.terms,
                reason=match.reason,
                story_id=None if place is None else place.story_id,
                image_url=entry.image,
            ),
        )
        return item_id

    def _note_court_act(
        self, story_id: int, entry: Entry, item_id: int, link: str | None, now: datetime
    ) -> None:
        """A relevant court development goes on the timeline: once per story, under the story's
        headline, with the article's clean address (`link`: tracking stripped, never a search
        engine's redirect; `judging.timeline_link`), on the day it was published (never a
        future day)."""
        story = stories.get(self.db, story_id) or {}
        timeline.add_court_act(
            self.db,
            story_id=story_id,
            date=timeline_day(entry.published or entry.updated, now),
            title=str(story.get("title") or entry.title)[:300],
            url=link,
            item_id=item_id,
        )

    def _reaches(self, src: dict | None, dest_type: str | None) -> bool:
        """Whether what `src` caused may go to a destination of `dest_type` (None: admins'
        notices). A feed only tried (`--source` in `poll` or console mode) reaches the outputs
        of the process that tries it (`trial_outputs`), never a channel a later run posts to."""
        if src is None or self.trial_outputs is None or src.get("origin") != sources.TRIAL:
            return True
        return dest_type in self.trial_outputs

    def _enqueue_alerts(self, story_id: int, kind: str, src: dict | None = None) -> None:
        outbox.alert_story(
            self.db,
            story_id,
            kind=kind,
            now=self.clock.now(),
            reaches=lambda dest_type: self._reaches(src, dest_type),
        )

    def _rearm_updates(self, story_id: int, src: dict | None = None) -> None:
        outbox.rearm_development_updates(
            self.db,
            story_id,
            now=self.clock.now(),
            reaches=(lambda dest_type: self._reaches(src, dest_type)) if src else None,
        )
