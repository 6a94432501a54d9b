"""Explained and correctable grouping: `why`, `story` grouped, digests one line per event, and an
admin's split and merge (core functions and their `bot.py` twins), remembered and re-alerted."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from casewatch import cli, corrections
from casewatch.app import App
from casewatch.clock import FakeClock
from casewatch.digest import build_digest
from casewatch.views import event_lines
from storage import events, items, outbox, stories
from tests.casewatch_helpers import START, app_for
from tests.feedserver import FeedServer, rss
from tests.test_event_stage import CASE, DECLINES, PREVIEW, RULES, filler, lines_of, report

CONFIG = """\
case: {name: Test case, short: test, vocabulary: [uyghur, icc, ouïghour, cpi]}
relevance:
  threshold: 2
  groups:
    people: ["Uyghur*"]
    forum: [ICC]
  rules:
    - {name: case, all: [people, forum], score: 2}
sources:
"""


async def two_developments(feed_server: FeedServer, tmp_path: Path, clock: FakeClock) -> Any:
    """Two outlets' reports of the Prosecutor declining (one event) and a debate preview; the
    config file the CLI twins read is written too."""
    a = feed_server.route("/a.xml", rss([filler(0)]))
    b = feed_server.route("/b.xml", rss([filler(1)]))
    sources = [{"name": "Outlet A", "url": a}, {"name": "Outlet B", "url": b}]
    listed = "\n".join(f'  - {{name: "{s["name"]}", url: "{s["url"]}"}}' for s in sources)
    (tmp_path / "feeds.yaml").write_text(CONFIG + listed + "\n", encoding="utf-8")
    ctx = app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE)
    app = await ctx.__aenter__()
    await app.monitor.poll_once()
    feed_server.route("/a.xml", rss([report(1, *DECLINES[0]), report(3, *PREVIEW)]))
    feed_server.route("/b.xml", rss([report(2, *DECLINES[1])]))
    clock.advance(3600)
    await app.monitor.poll_once()
    return ctx, app


def item_id(app: App, title: str) -> int:
    row = app.db.execute("SELECT id FROM items WHERE title = ?", (title,)).fetchone()
    return int(row[0])


def event_of_item(app: App, item: int) -> int:
    found = items.get(app.db, item) or {}
    return int((stories.get(app.db, int(found["story_id"])) or {})["event_id"])


async def test_why_says_which_event_an_item_joined_and_why_and_digests_list_events_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app = await two_developments(feed_server, tmp_path, clock)
    try:
        first, second = item_id(app, DECLINES[0][0]), item_id(app, DECLINES[1][0])
        event = event_of_item(app, first)
        assert event == event_of_item(app, second)
        # The outlets were polled concurrently: either story may have started the event.
        by_story = {int((items.get(app.db, i) or {})["story_id"]) for i in (first, second)}
        starter = events.alert_story_of(app.db, event)
        (joined,) = by_story - {starter}
        lines = event_lines(app.db, joined)
        assert lines[0].startswith(f"event: {event} (2 stories, 2 outlets")
        assert lines[1].startswith("joined it: score ")
        assert "meaning" in lines[1] and "day" in lines[1]
        assert event_lines(app.db, int(starter or 0))[1].startswith("started the event")
        digest = build_digest(
            app.db, start=START - timedelta(days=1), end=clock.now() + timedelta(hours=1), title="d"
        )
        listed = [(s.title, sorted(s.outlets)) for s in digest.news + digest.court]
        assert len(listed) == 2  # two developments, three stories
        assert (PREVIEW[0], ["Outlet A"]) in listed
        assert any(outlets == ["Outlet A", "Outlet B"] for _, outlets in listed)
    finally:
        await ctx.__aexit__(None, None, None)


async def test_split_gives_an_item_its_own_event_and_alert_and_edits_the_old_alert(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app = await two_developments(feed_server, tmp_path, clock)
    try:
        assert [x["type"] for x in await lines_of(app)] == ["alert", "alert"]  # delivered
        second = item_id(app, DECLINES[1][0])
        before = event_of_item(app, second)
        done = corrections.split_item(app.db, second, now=clock.now())
        assert done.from_event == before and event_of_item(app, second) == done.event_id
        story = stories.get(app.db, done.story_id) or {}
        assert story["event_pinned"] == 1  # remembered: an admin placed it
        assert "split out of event" in " ".join(event_lines(app.db, done.story_id))
        got = await lines_of(app)
        assert sorted(x["type"] for x in got) == ["alert", "update"]
        update = next(x for x in got if x["type"] == "update")
        alert = next(x for x in got if x["type"] == "alert")
        # each message now shows one development: one outlet, no other report
        assert update["reports"] == [] and len(update["outlets"]) == 1
        assert alert["reports"] == [] and alert["outlets"] != update["outlets"]
        with pytest.raises(corrections.CorrectionError, match="only report of event"):
            corrections.split_item(app.db, second, now=clock.now())
    finally:
        await ctx.__aexit__(None, None, None)


async def test_merge_makes_two_events_one_and_both_alerts_show_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app = await two_developments(feed_server, tmp_path, clock)
    try:
        await lines_of(app)  # the two alerts delivered
        declines = event_of_item(app, item_id(app, DECLINES[0][0]))
        preview = event_of_item(app, item_id(app, PREVIEW[0]))
        done = corrections.merge_events(app.db, preview, declines, now=clock.now())
        assert {done.event_id, done.merged} == {declines, preview} and done.stories >= 1
        assert events.get(app.db, done.merged) is None
        got = await lines_of(app)
        assert [x["type"] for x in got] == ["update", "update"]
        assert all(sorted(x["outlets"]) == ["Outlet A", "Outlet B"] for x in got)
        pending = outbox.counts(app.db)["pending"]
        assert pending == 0
        with pytest.raises(corrections.CorrectionError, match="no such event"):
            corrections.merge_events(app.db, done.event_id, done.merged, now=clock.now())
    finally:
        await ctx.__aexit__(None, None, None)


async def test_bot_py_split_merge_story_and_why_are_the_console_twins(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app = await two_developments(feed_server, tmp_path, clock)
    found = [item_id(app, DECLINES[0][0]), item_id(app, DECLINES[1][0])]
    story = int((items.get(app.db, found[0]) or {})["story_id"])
    starter = events.alert_story_of(app.db, event_of_item(app, found[0]))
    # the item that joined the event (the outlets were polled concurrently)
    (second,) = [i for i in found if int((items.get(app.db, i) or {})["story_id"]) != starter]
    preview = event_of_item(app, item_id(app, PREVIEW[0]))
    await ctx.__aexit__(None, None, None)
    config = tmp_path / "feeds.yaml"
    db = str(tmp_path / "casewatch.db")

    async def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        args = [*argv, "--db", db, "--config", str(config)]
        code = await asyncio.to_thread(cli.main, args, out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    code, out, _ = await run("story", str(story))
    assert code == 0 and "event " in out and "2 stories, 2 reports" in out
    assert DECLINES[0][0] in out and DECLINES[1][0] in out
    code, out, _ = await run("why", str(second))
    assert code == 0 and "joined it: score" in out
    code, out, _ = await run("split", str(second), "--json")
    split = json.loads(out)
    assert code == 0 and split["item_id"] == second
    code, out, _ = await run("merge", str(split["event_id"]), str(preview))
    assert code == 0 and "joined event" in out and "(1 story moved)" in out
    code, _, err = await run("merge", "999", str(preview))
    assert code != 0 and err.strip() == "merge: event 999: no such event"
    code, _, err = await run("split", "999")
    assert code != 0 and err.strip() == "split: item 999: no such item"
