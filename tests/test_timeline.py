"""The timeline stays a timeline: only court developments join it, once per story, with a clean
link and a sane date; news, reactions and the other outlets of a known story do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casewatch.app import App
from casewatch.clock import FakeClock
from casewatch.pipeline import timeline_day
from storage import timeline
from tests.casewatch_helpers import BASELINE, RELEVANCE, START, app_for, item
from tests.feedserver import FeedServer, rss

# The test rules with a court label: an act of a proceeding, and no reaction in the title.
COURT_RULES: dict[str, Any] = {
    **RELEVANCE,
    "groups": {
        **RELEVANCE["groups"],
        "act": ["files", "filed", "rules", "ruling", "decision", "hearing"],
        "genre": ["welcome*", "Opinion", "analysis"],
    },
    "court_acts": ["act"],
    "court_unless": ["genre"],
}

FILING = "Uyghur exiles filed a new dossier with the ICC prosecutor"
FILING_AGAIN = "ICC prosecutor gets new Uyghur dossier filed by exiles"
REACTION = "Uyghur groups welcome ICC prosecutor decision"
NEWS = "Uyghur genocide: a debate in London"


def src(url: str, name: str, kind: str = "news") -> dict[str, Any]:
    return {"name": name, "url": url, "kind": kind}


def auto_entries(app: App) -> list[dict]:
    return [e for e in timeline.listing(app.db) if e["origin"] == "item"]


async def poll_twice(app: App, clock: FakeClock, feed_server: FeedServer, routes: dict) -> None:
    """A first poll (it stores and alerts nothing), then the entries arrive."""
    for path in routes:
        feed_server.route(path, rss([BASELINE]))
    await app.monitor.poll_once()
    for path, entries in routes.items():
        feed_server.route(path, rss(entries))
    clock.advance(3600)
    await app.monitor.poll_once(force=True)


async def test_only_court_developments_join_the_timeline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.url("/a.xml")
    async with app_for(tmp_path, [src(a, "A")], clock=clock, relevance=COURT_RULES) as app:
        await poll_twice(
            app, clock, feed_server, {"/a.xml": [item(1, FILING), item(2, REACTION), item(3, NEWS)]}
        )
        assert [e["title"] for e in auto_entries(app)] == [FILING]
        assert auto_entries(app)[0]["kind"] == "court"


async def test_a_court_feed_statement_without_an_act_stays_off_the_timeline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.url("/court.xml")
    statement = "Statement of the ICC prosecutor on Uyghur victims"
    async with app_for(
        tmp_path, [src(a, "Court", kind="court")], clock=clock, relevance=COURT_RULES
    ) as app:
        await poll_twice(app, clock, feed_server, {"/court.xml": [item(1, statement)]})
        assert auto_entries(app) == []


async def test_one_development_reported_by_two_outlets_is_one_timeline_entry(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a, b = feed_server.url("/a.xml"), feed_server.url("/b.xml")
    first = item(
        1,
        FILING,
        link="https://a.example.org/dossier?utm_source=rss&utm_medium=feed",
        when=START - timedelta(hours=30),
    )
    # the second outlet's copy of the same report, a day later: the same story
    second = item(2, FILING_AGAIN, link="https://a.example.org/dossier", guid="b-1")
    async with app_for(
        tmp_path, [src(a, "A"), src(b, "B")], clock=clock, relevance=COURT_RULES
    ) as app:
        await poll_twice(app, clock, feed_server, {"/a.xml": [first], "/b.xml": [second]})
        entries = auto_entries(app)
        assert len(entries) == 1, entries
        assert entries[0]["url"] == "https://a.example.org/dossier"  # tracking stripped


async def test_a_search_engine_redirect_is_never_the_timeline_link(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.url("/g.xml")
    opaque = "https://news.google.com/rss/articles/CBMiWmh0dHBzOi8vZXhhbXBsZS5vcmc?oc=5"
    async with app_for(tmp_path, [src(a, "G")], clock=clock, relevance=COURT_RULES) as app:
        await poll_twice(app, clock, feed_server, {"/g.xml": [item(1, FILING, link=opaque)]})
        [entry] = auto_entries(app)
        assert entry["url"] is None


async def test_a_future_publication_date_is_dated_today(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.url("/a.xml")
    future = item(1, FILING, when=START + timedelta(days=40))
    async with app_for(tmp_path, [src(a, "A")], clock=clock, relevance=COURT_RULES) as app:
        await poll_twice(app, clock, feed_server, {"/a.xml": [future]})
        [entry] = auto_entries(app)
        assert entry["date"] == clock.now().date().isoformat()


async def test_a_configured_court_event_of_those_days_is_the_development(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.url("/a.xml")
    curated = [{"date": (START - timedelta(days=1)).date(), "title": "Dossier", "kind": "court"}]
    async with app_for(
        tmp_path, [src(a, "A")], clock=clock, relevance=COURT_RULES, timeline=curated
    ) as app:
        await poll_twice(app, clock, feed_server, {"/a.xml": [item(1, FILING)]})
        assert auto_entries(app) == []
        assert [e["title"] for e in timeline.listing(app.db)] == ["Dossier"]


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "day"),
    [
        (datetime(2024, 7, 11, 15, 0, tzinfo=UTC), "2024-07-11"),  # an old act keeps its day
        (None, "2026-03-02"),  # undated: the day it was found
        (NOW + timedelta(minutes=5), "2026-03-02"),  # a clock a little ahead
        (datetime(2026, 12, 25, tzinfo=UTC), "2026-03-02"),  # a date in the future
    ],
)
def test_timeline_day_is_the_publication_day_never_a_future_one(
    published: datetime | None, day: str
) -> None:
    assert timeline_day(published, NOW) == day


async def test_entries_added_under_earlier_rules_are_judged_again_at_start(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a, b = feed_server.url("/a.xml"), feed_server.url("/b.xml")
    copy = item(9, FILING_AGAIN, link="https://news.example.org/story/1", guid="b-9")
    async with app_for(
        tmp_path, [src(a, "A"), src(b, "B")], clock=clock, relevance=COURT_RULES
    ) as app:
        await poll_twice(
            app,
            clock,
            feed_server,
            {"/a.xml": [item(1, FILING), item(2, REACTION)], "/b.xml": [copy]},
        )
        # what the loose rule of before left behind: every relevant item, copies, redirects
        app.db.execute("DELETE FROM timeline WHERE origin = 'item'")
        google = "https://news.google.com/rss/articles/CBMiWmh0dHBzOi8vZXhhbXBsZS5vcmc?oc=5"
        ids = {t: int(i) for i, t in app.db.execute("SELECT id, title FROM items")}
        for n, (item_id, url) in enumerate(
            [
                (ids[FILING], google),
                (ids[REACTION], "https://news.example.org/story/2"),
                (ids[FILING_AGAIN], None),
            ]
        ):
            timeline.add(
                app.db,
                date=f"2026-03-0{n + 1}",
                title=f"old entry {n}",
                url=url,
                kind="court",
                origin="item",
                item_id=item_id,
            )
        app.monitor.sync_config()
        [kept] = auto_entries(app)
        assert kept["title"] == "old entry 0" and kept["url"] is None


async def test_impossible_days_stored_by_an_earlier_version_become_the_day_it_was_seen(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.url("/a.xml")
    async with app_for(tmp_path, [src(a, "A")], clock=clock, relevance=COURT_RULES) as app:
        await poll_twice(app, clock, feed_server, {"/a.xml": [item(1, FILING)]})
        [entry] = auto_entries(app)
        seen = clock.now().date().isoformat()
        for day in ("1970-01-01", "2099-12-31", "0001-01-01"):
            app.db.execute("UPDATE timeline SET date = ? WHERE id = ?", (day, entry["id"]))
            app.monitor.sync_config()
            [entry] = auto_entries(app)
            assert entry["date"] == seen, day
        # a sane day of its own is kept, not replaced by the day it was seen
        app.db.execute("UPDATE timeline SET date = '2026-02-27' WHERE id = ?", (entry["id"],))
        app.monitor.sync_config()
        assert [e["date"] for e in auto_entries(app)] == ["2026-02-27"]


async def test_two_stories_of_one_development_are_one_timeline_entry(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a, b = feed_server.url("/a.xml"), feed_server.url("/b.xml")
    # two outlets' own reports of one filing: other headlines, other addresses, two stories
    first = item(1, FILING, when=START - timedelta(hours=30))
    second = item(2, "ICC prosecutor receives Uyghur exiles' files on deportations", guid="b-2")
    second["link"] = "https://other.example.org/uyghur-files"
    async with app_for(
        tmp_path, [src(a, "A"), src(b, "B")], clock=clock, relevance=COURT_RULES
    ) as app:
        await poll_twice(app, clock, feed_server, {"/a.xml": [first], "/b.xml": [second]})
        entries = auto_entries(app)
        story_ids = {
            app.db.execute("SELECT story_id FROM items WHERE id = ?", (e["item_id"],)).fetchone()[0]
            for e in entries
        }
        if len(entries) == 2:  # the event stage kept them apart: say they are one development
            event = app.db.execute("SELECT event_id FROM stories WHERE id = ?", (min(story_ids),))
            app.db.execute(
                "UPDATE stories SET event_id = ? WHERE id IN (?, ?)",
                (event.fetchone()[0], *story_ids),
            )
            clock.advance(3600)
            await app.monitor.poll_once(force=True)  # the next cycle keeps one per event
        [kept] = auto_entries(app)
        assert kept["title"] == FILING  # the earliest report of the development
