"""`latest`, `/case latest` and digests list developments, not stories: five outlets' wordings of
one development are one entry (its alert's headline, its outlets), the kind filter reads the
development's kind, a relevant story without an event is a development of its own, and a digest
lists a development in the period it was first seen only."""

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
from casewatch.digest import build_digest, digest_text
from casewatch.views import latest_developments, other_outlets, search_developments
from storage import events, items, stories
from tests.casewatch_helpers import START, app_for
from tests.discord_twin import DiscordTwin
from tests.feedserver import FeedServer, rss
from tests.test_bot_e2e import bot_on
from tests.test_case_answers import ask
from tests.test_event_corrections import CONFIG
from tests.test_event_stage import CASE, DECLINES, RULES, filler, report

# Five outlets' wordings of one development (the Prosecutor declines), earliest first. The
# first is news; the second names the prosecutor's act: the development is a court one.
FIVE = [
    (
        "Uyghur exiles dismayed as ICC will not act on China genocide claims",
        "Groups representing Uyghurs in exile said they would look for other ways.",
    ),
    DECLINES[0],
    DECLINES[1],
    DECLINES[2],
    (
        "China cannot be investigated over Uyghur claims, ICC says",
        "Beijing is not a party to the Rome Statute, the court said.",
    ),
]
DEPORTED = (
    "Tajikistan deports Uyghur family to China, rights groups tell ICC",
    "A family of five was put on a flight to Urumqi.",
)
HEARINGS = ("Uyghur Tribunal opens its first hearings in London", "Witnesses testify for days.")
OUTLETS = ["Outlet A", "Outlet B", "Outlet C", "Outlet D", "Outlet E"]


async def five_outlets_one_development(
    feed_server: FeedServer, tmp_path: Path
) -> tuple[Any, App, int]:
    """An archive: two older developments (one of them a story the event stage never filed),
    then five outlets' reports of one development, made one event whatever the event stage
    decided (an admin's merge), as `bot.py merge` would. Returns (context, app, event)."""
    clock = FakeClock(START)
    older = feed_server.route(
        "/older.xml",
        rss(
            [
                report(1, *HEARINGS, when=START - timedelta(days=60)),
                report(2, *DEPORTED, when=START - timedelta(days=30)),
            ]
        ),
    )
    urls = [feed_server.route(f"/o{n}.xml", rss([filler(n)])) for n in range(len(FIVE))]
    sources = [{"name": "Outlet F", "url": older}] + [
        {"name": name, "url": url} for name, url in zip(OUTLETS, urls, strict=True)
    ]
    listed = "\n".join(f'  - {{name: "{s["name"]}", url: "{s["url"]}"}}' for s in sources)
    (tmp_path / "feeds.yaml").write_text(CONFIG + listed + "\n", encoding="utf-8")
    ctx = app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE)
    app = await ctx.__aenter__()
    await app.monitor.poll_once()
    for n, (title, lead) in enumerate(FIVE):
        when = START + timedelta(minutes=10 * n)
        feed_server.route(f"/o{n}.xml", rss([report(10 + n, title, lead, when=when)]))
    clock.advance(3600)
    await app.monitor.poll_once()
    found = [_event_of(app, title) for title, _ in FIVE]
    for other in sorted(set(found) - {found[0]}):
        corrections.merge_events(app.db, found[0], other, now=clock.now())
    event = _event_of(app, FIVE[0][0])
    # A relevant story with no event (one waiting for the event stage) is its own development.
    hearings = _story_of(app, HEARINGS[0])
    with app.db.atomic():
        gone = int((stories.get(app.db, hearings) or {})["event_id"])
        app.db.execute("UPDATE stories SET event_id = NULL WHERE id = ?", (hearings,))
        app.db.execute("DELETE FROM events WHERE id = ?", (gone,))
        events.enqueue(
            app.db,
            hearings,
            source_id=1,
            first_poll=True,
            backfill=False,
            court_source=False,
            published=None,
            now=clock.now(),
        )
    return ctx, app, event


def _story_of(app: App, title: str) -> int:
    row = app.db.execute("SELECT story_id FROM items WHERE title = ?", (title,)).fetchone()
    return int(row[0])


def _event_of(app: App, title: str) -> int:
    return int((stories.get(app.db, _story_of(app, title)) or {})["event_id"])


async def test_five_outlets_of_one_development_are_one_entry_with_its_outlets(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    ctx, app, event = await five_outlets_one_development(feed_server, tmp_path)
    try:
        assert len(events.stories_of(app.db, event)) == 5  # five wordings, five stories
        listed = latest_developments(app.db, count=10)
        assert [v.title for v in listed] == [FIVE[0][0], DEPORTED[0], HEARINGS[0]]
        five = listed[0]
        assert five.story_id == events.alert_story_of(app.db, event)  # the alert's headline
        assert five.source == "Outlet A" and sorted(five.outlets) == OUTLETS
        assert other_outlets(five) == " +4 other outlets"
        assert other_outlets(listed[1]) == ""
        # Court: one of its reports names the prosecutor's act, though its first is news.
        assert stories.get(app.db, five.story_id)["kind"] == "news"  # type: ignore[index]
        assert five.kind == "court"
        assert [v.title for v in latest_developments(app.db, count=1)] == [FIVE[0][0]]
    finally:
        await ctx.__aexit__(None, None, None)


async def test_the_kind_filter_reads_the_development_not_the_story(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    ctx, app, _ = await five_outlets_one_development(feed_server, tmp_path)
    try:
        court = latest_developments(app.db, count=10, kind="court")
        assert [v.title for v in court] == [FIVE[0][0], HEARINGS[0]]
        assert [v.title for v in latest_developments(app.db, count=10, kind="news")] == [
            DEPORTED[0]
        ]
        assert events.count_developments(app.db) == 3
        totals = items.activity_totals(app.db)  # /case activity's caption counts the same
        assert (totals["developments"], totals["court"], totals["reports"]) == (3, 2, 7)
        # search: one hit per development, and its kind filter reads the development's kind
        hits, total = search_developments(app.db, "Uyghur")
        assert total == 3 and hits[0].headline != hits[1].headline
        five = next(h for h in hits if h.event_id is not None and h.matched > 1)
        assert five.matched == 4  # the French report says "Ouïghours"
        hits, total = search_developments(app.db, "Uyghur", kind="court")
        assert total == 2 and {h.development for h in hits} == {
            five.development,
            _story_of(app, HEARINGS[0]),
        }
        hits, total = search_developments(app.db, "Uyghur", kind="news")
        assert [h.headline for h in hits] == [DEPORTED[0]]
    finally:
        await ctx.__aexit__(None, None, None)


async def test_bot_py_latest_lists_one_line_per_development(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    ctx, app, _ = await five_outlets_one_development(feed_server, tmp_path)
    await ctx.__aexit__(None, None, None)
    config = tmp_path / "feeds.yaml"

    async def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        args = [*argv, "--db", str(tmp_path / "casewatch.db"), "--config", str(config)]
        code = await asyncio.to_thread(cli.main, args, out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    code, out, err = await run("latest", "--count", "10")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "The newest 3 developments (all there are so far):"
    entries = [line for line in lines if line.startswith("- ")]
    assert len(entries) == 3
    assert entries[0].startswith(f"- [court] {FIVE[0][0]} — Outlet A +4 other outlets, ")
    assert all(title not in out for title, _ in FIVE[1:])  # no other wording listed
    code, out, _ = await run("latest", "--kind", "news")
    assert [x for x in out.splitlines() if x.startswith("- ")] == [
        next(e for e in entries if DEPORTED[0] in e)
    ]
    code, out, _ = await run("search", "Uyghur", "--kind", "court")
    assert out.startswith("2 developments found for 'Uyghur'")
    assert DEPORTED[0] not in out and HEARINGS[0] in out
    code, out, _ = await run("latest", "--json")
    found = [json.loads(x) for x in out.splitlines()]
    assert [f["title"] for f in found] == [FIVE[0][0], DEPORTED[0], HEARINGS[0]]
    assert sorted(found[0]["outlets"]) == OUTLETS and found[0]["kind"] == "court"
    assert len(found[0]["reports"]) == 4  # the other wordings, listed with their outlets
    code, out, _ = await run("story", str(found[0]["story_id"]))
    assert f"story {found[0]['story_id']} [news]: {FIVE[0][0]}" in out  # the story's own kind
    assert "a court development, 5 stories, 5 reports" in out  # and its development's


@pytest.fixture
def place(discord_at_twin: DiscordTwin) -> dict[str, Any]:
    twin = discord_at_twin
    guild = twin.add_guild("Uyghur rights researchers")
    return {
        "twin": twin,
        "g": guild,
        "ch": twin.add_channel(guild, "general"),
        "reader": twin.add_member(guild, "reader"),
    }


@pytest.mark.timeout(60)
async def test_case_latest_shows_one_alert_per_development_and_lists_them_beyond_ten(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    ctx, app, _ = await five_outlets_one_development(feed_server, tmp_path)
    try:
        async with bot_on(place["twin"], app):
            res = await ask(place, "case latest", {"count": 5})
            assert res.content == "Only 3 developments stored so far."
            assert [e["title"] for e in res.embeds] == [FIVE[0][0], DEPORTED[0], HEARINGS[0]]
            first = res.embeds[0]
            assert first["author"]["name"].startswith("⚖️ Court development")
            others = next(f for f in first["fields"] if f["name"] == "Also reported by")
            assert sorted(others["value"].split(", ")) == OUTLETS[1:]

            res = await ask(place, "case latest", {"count": 20, "kind": "court"})
            embed = res.embeds[0]
            assert embed["title"] == "Latest 2 court developments"
            assert "Only 2 court developments stored so far." in embed["footer"]["text"]
            assert embed["description"].count("Outlet A +4 other outlets") == 1
            assert DEPORTED[0] not in embed["description"]

            res = await ask(place, "case search", {"query": "Uyghur", "kind": "court"})
            embed = res.embeds[0]
            assert embed["footer"]["text"].startswith("2 developments matched")
            assert "(+3 other reports)" in embed["description"]  # the five's matching reports
            assert DEPORTED[0] not in embed["description"]
    finally:
        await ctx.__aexit__(None, None, None)


async def test_a_digest_lists_the_developments_first_seen_in_its_period_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    ctx, app, event = await five_outlets_one_development(feed_server, tmp_path)
    try:
        hour = timedelta(hours=1)
        # The five outlets' reports came in the second poll, an hour after the first.
        digest = build_digest(app.db, start=START + hour / 2, end=START + 2 * hour, title="d")
        assert digest.news == [] and len(digest.court) == 1  # court: one report is a court act
        (line,) = digest.court
        assert line.title == FIVE[0][0] and line.story_id == events.alert_story_of(app.db, event)
        assert sorted(line.outlets) == OUTLETS
        text = digest_text(digest)
        assert "1 development: 1 court, 0 news" in text
        assert all(title not in text for title, _ in FIVE[1:])
        # The first poll's period: the two older developments.
        digest = build_digest(app.db, start=START - hour, end=START + hour / 2, title="d")
        assert [s.title for s in digest.court + digest.news] == [HEARINGS[0], DEPORTED[0]]

        # A day later another outlet reports the deportation: its alert is edited, and the
        # day's digest does not list the development again.
        app.clock.advance(86400)  # type: ignore[attr-defined]
        late = "Rights groups condemn Tajikistan's deportation of Uyghur family, ask ICC to act"
        when = START - timedelta(days=30) + hour
        feed_server.route(
            "/o0.xml", rss([report(30, late, "The family was flown out.", when=when)])
        )
        await app.monitor.poll_once()
        deported, joined = _event_of(app, DEPORTED[0]), _event_of(app, late)
        if joined != deported:
            corrections.merge_events(app.db, deported, joined, now=app.clock.now())
        now = app.clock.now()
        assert build_digest(app.db, start=now - hour, end=now + hour, title="d").empty
    finally:
        await ctx.__aexit__(None, None, None)
