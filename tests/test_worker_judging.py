"""The parse job judges the entries it parses (issue 9): the main process files what the worker
judged exactly as what it judges itself, stays the authority on what is new, and loses
nothing when the worker cannot judge."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from casewatch.app import App
from casewatch.pipeline import Monitor
from storage.db import Database, rows
from tests.casewatch_helpers import app_for, item
from tests.feedserver import FeedServer, rss

pytestmark = pytest.mark.timeout(180)

WORKER = {"interval": "10m", "parse_workers": 1}
INLINE = {"interval": "10m", "parse_workers": 0}
NO_EVENTS = {"enabled": False}  # the event stage is not what is compared here

CASE = "ICC urged to open Uyghur genocide case over deportations from Tajikistan"
ENTRIES = [
    item(
        1,
        CASE,
        description=(
            "Lawyers filed a new communication with the Office of the Prosecutor. They say the "
            "deportations from Tajikistan give the International Criminal Court jurisdiction."
        ),
    ),
    # The same development from another outlet (Google News names it): one story, two outlets.
    item(
        2,
        f"{CASE} - Reuters",
        source="Reuters",
        link="https://wire.example.com/icc-uyghur-case",
        description="Lawyers asked the ICC to open a case over deportations of Uyghurs.",
    ),
    # A court act with no text: thin, and a timeline entry.
    item(3, "ICC Prosecutor declines to open Uyghur genocide investigation", description=""),
    item(4, "Council approves budget for cycle paths", description="Roads and bridges."),
    item(
        5,
        "Génocide des Uyghurs : des avocats saisissent l'ICC",
        description=(
            "Des organisations en exil ont demandé à la Cour pénale internationale d'enquêter "
            "sur le génocide des Ouïghours. Le Bureau du Procureur n'a pas répondu."
        ),
    ),
    item(6, "ICC confirms T20 World Cup schedule after cricket board meeting"),
]
LATER = item(7, "Uyghur Tribunal lawyers ask International Criminal Court to act on genocide")

TABLES = {
    "items": "SELECT * FROM items ORDER BY id",
    "stories": "SELECT * FROM stories ORDER BY id",
    "story_keys": "SELECT * FROM story_keys ORDER BY story_id, key",
    "seen": "SELECT * FROM seen ORDER BY source_id, key",
    "timeline": "SELECT * FROM timeline ORDER BY id",
    "outbox": "SELECT destination_id, kind, ref FROM outbox ORDER BY id",
}


def stored(db: Database) -> dict[str, list[dict]]:
    return {table: rows(db, sql) for table, sql in TABLES.items()}


def judged_by_worker(app: App) -> list[list[int]]:
    """Records, for each source filed, which entries (by index) came judged from its parse job."""
    monitor = app.monitor
    seen: list[list[int]] = []
    ingest = monitor._ingest

    def recording(*args: Any, **kwargs: Any) -> None:
        seen.append(sorted(kwargs.get("judged_before") or {}))
        ingest(*args, **kwargs)

    monitor._ingest = recording  # type: ignore[method-assign]
    return seen


async def two_polls(
    feed_server: FeedServer, folder: Path, defaults: dict, prepare: Callable[[Monitor], None]
) -> tuple[dict[str, list[dict]], list[list[int]]]:
    """The feed polled twice (its entries, then one more), on a database of its own."""
    folder.mkdir()
    url = feed_server.route(f"/{folder.name}.xml", rss(ENTRIES))
    async with app_for(
        folder, [{"name": "Feed", "url": url}], defaults=defaults, events=NO_EVENTS
    ) as app:
        prepare(app.monitor)
        judged = judged_by_worker(app)
        await app.monitor.poll_once(backfill=True)
        feed_server.route(f"/{folder.name}.xml", rss([LATER, *ENTRIES]))
        app.clock.advance(3600)  # type: ignore[attr-defined]
        await app.monitor.poll_once()
        return stored(app.db), judged


def nothing(_: Monitor) -> None:
    pass


async def test_an_entry_judged_by_the_worker_is_filed_as_one_judged_inline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Same items, verdicts, leads, languages, stories, keys, timeline and alerts, whether the
    parse worker judged the entries in the job that parsed them or this process judged them;
    and the worker judged only what was new (the second poll: the one new entry)."""
    in_worker, judged = await two_polls(feed_server, tmp_path / "worker", WORKER, nothing)
    inline, none = await two_polls(feed_server, tmp_path / "inline", INLINE, nothing)

    assert judged == [[0, 1, 2, 3, 4, 5], [0]]
    assert none == [[], []]
    assert in_worker == inline
    assert [i["verdict"] for i in inline["items"]] == [
        "relevant",
        "relevant",
        "relevant",
        "dropped",
        "relevant",
        "dropped",
        "relevant",
    ]
    assert inline["timeline"] and inline["outbox"]
    assert max(s["item_count"] for s in inline["stories"]) == 2  # two outlets, one story


async def test_a_worker_that_cannot_judge_loses_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The worker's judging fails (here: rules it cannot read): it still parses, and this
    process judges and files every entry as it would have."""

    def broken_rules(monitor: Monitor) -> None:
        monitor._rules = pickle.dumps("not the rules")

    failed, judged = await two_polls(feed_server, tmp_path / "failed", WORKER, broken_rules)
    inline, _ = await two_polls(feed_server, tmp_path / "inline", INLINE, nothing)

    assert judged == [[], []]
    assert failed == inline


class Meanwhile(ThreadPoolExecutor):
    """A parse worker (a thread) after whose job another process on the same database file
    polls the same feed, before this process files what the job judged."""

    def __init__(self, other: Callable[[], Any]) -> None:
        super().__init__(max_workers=1)
        self.other = other

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def job() -> Any:
            done = fn(*args, **kwargs)
            asyncio.run(self.other())
            return done

        return super().submit(job)


async def test_an_entry_another_process_stored_meanwhile_is_not_stored_twice(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/a.xml", rss(ENTRIES))
    sources = [{"name": "Feed", "url": url}]
    others: list[int] = []

    async def other_process() -> None:
        async with app_for(tmp_path, sources, defaults=INLINE, events=NO_EVENTS) as other:
            report = await other.monitor.poll_once()
            others.extend(o.new_items for o in report.outcomes)

    async with app_for(tmp_path, sources, defaults=INLINE, events=NO_EVENTS) as app:
        app.monitor.executor = worker = Meanwhile(other_process)
        judged = judged_by_worker(app)
        try:
            report = await app.monitor.poll_once()
        finally:
            worker.shutdown()
        kept = stored(app.db)

    assert judged == [[0, 1, 2, 3, 4, 5]]  # the job found them new, and judged them
    assert others == [6]  # then the other process stored them
    assert [o.new_items for o in report.outcomes] == [0]  # this one found them stored
    assert len(kept["items"]) == 6
    assert len({(s["source_id"], s["key"]) for s in kept["seen"]}) == len(kept["seen"])
