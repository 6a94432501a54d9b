"""Court-only channels hear of a development once, when it becomes a court development.

Alerts go to a channel by the development's kind when the alert is queued; a development that
started as news reached no court-only channel. A court report joining it (a court's own page,
or a report the rules read as a court act) queues its alert for them then, through the outbox;
later edits reach that message; `split` and `merge` keep every channel's messages right.
Real parts: loopback feeds, a real SQLite file, the real sentence model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casewatch import corrections
from casewatch.app import App
from casewatch.clock import FakeClock
from storage import destinations, events, items, outbox, stories
from storage.db import rows
from tests.casewatch_helpers import START, app_for
from tests.discord_twin import DiscordTwin
from tests.feedserver import FeedServer, rss
from tests.test_bot_e2e import publish, subscribe, subscribed_bot, world  # noqa: F401 (a fixture)
from tests.test_event_stage import CASE, RULES, filler, report
from tests.test_pipeline import drain_text

# One development (the Prosecutor declines), first told as news (no court act named), then
# by the court's own words.
NEWS = (
    "ICC declines call to probe Uyghur genocide complaint against China",
    "The Hague court has rejected calls to investigate China's treatment of its Uyghur"
    " population, its office said on Monday.",
)
COURT = (
    "ICC prosecutor rejects Uyghur genocide complaint against China",
    "The prosecutor's office said it cannot act on the complaint because China is not a member"
    " of the court.",
)
LATER_NEWS = (
    "ICC will not investigate Uyghur genocide complaint against China",
    "The Hague court said on Monday it cannot act on the complaint against China.",
)


def court_only(app: App) -> int:
    """A second console channel that takes court developments only."""
    return destinations.upsert(
        app.db,
        type="console",
        purpose="alerts",
        channel_id="court-only",
        kinds=("court",),
        now=app.clock.now(),
    )


def every_kind(app: App) -> int:
    (dest,) = [d for d in destinations.alert_targets(app.db, "news") if d["channel_id"] == ""]
    return int(dest["id"])


def _outbox(app: App, dest: int, where: str, order: str) -> list[tuple[str, str]]:
    found = rows(
        app.db,
        f"SELECT kind, ref FROM outbox WHERE destination_id = ? AND {where} ORDER BY {order}",
        (dest,),
    )
    return [(r["kind"], r["ref"]) for r in found]


def rows_of(app: App, dest: int) -> list[tuple[str, str]]:
    """The alerts and edits queued for a destination, in the order they were queued."""
    return _outbox(app, dest, "kind IN ('alert', 'update')", "id")


def pending_of(app: App, dest: int) -> list[tuple[str, str]]:
    """What is still to be delivered to a destination, by reference."""
    return _outbox(app, dest, "delivered_at IS NULL", "ref")


def story_of_title(app: App, title: str) -> int:
    row = app.db.execute("SELECT story_id FROM items WHERE title = ?", (title,)).fetchone()
    return int(row[0])


async def news_then_court(
    feed_server: FeedServer, tmp_path: Path, clock: FakeClock, *, court_source: bool = False
) -> Any:
    """A news outlet reports the development; an hour later a court report joins it."""
    a = feed_server.route("/a.xml", rss([filler(0)]))
    b = feed_server.route("/b.xml", rss([filler(1)]))
    sources: list[dict[str, Any]] = [
        {"name": "Outlet A", "url": a},
        {"name": "Court B", "url": b, "kind": "court" if court_source else "news"},
    ]
    ctx = app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE)
    app = await ctx.__aenter__()
    await app.monitor.poll_once()  # first polls: stored, nothing alerted
    court = court_only(app)
    feed_server.route("/a.xml", rss([report(1, *NEWS)]))
    clock.advance(3600)
    await app.monitor.poll_once()
    await drain_text(app)
    return ctx, app, court


async def test_a_court_report_joining_a_news_development_reaches_court_only_channels_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app, court = await news_then_court(feed_server, tmp_path, clock)
    try:
        everyone = every_kind(app)
        news_story = story_of_title(app, NEWS[0])
        assert (stories.get(app.db, news_story) or {})["kind"] == "news"
        assert rows_of(app, everyone) == [("alert", f"story:{news_story}")]
        assert rows_of(app, court) == []  # a news development: not for this channel

        feed_server.route("/b.xml", rss([report(2, *COURT)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        court_story = story_of_title(app, COURT[0])
        assert (stories.get(app.db, court_story) or {})["kind"] == "court"
        event = int((stories.get(app.db, court_story) or {})["event_id"])
        assert event == int((stories.get(app.db, news_story) or {})["event_id"]), "one event"
        # The court-only channel gets the development's alert (the news story stands for it),
        # the other channel an edit of the message it has.
        assert rows_of(app, court) == [("alert", f"story:{news_story}")]
        assert rows_of(app, everyone) == [
            ("alert", f"story:{news_story}"),
            ("update", f"story:{news_story}"),
        ]
        out = await drain_text(app)
        assert out.count('"type": "alert"') == 1 and '"kind": "court"' in out

        # A later report of it: both messages are edited, nobody gets a second message.
        feed_server.route("/a.xml", rss([report(1, *NEWS), report(3, *LATER_NEWS)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        assert story_of_title(app, LATER_NEWS[0]) in {
            int(s["id"]) for s in events.stories_of(app.db, event)
        }
        assert rows_of(app, court) == [
            ("alert", f"story:{news_story}"),
            ("update", f"story:{news_story}"),
        ]
        out = await drain_text(app)
        assert out.count('"type": "update"') == 2 and '"type": "alert"' not in out
        # Polled again: nothing new anywhere.
        clock.advance(3600)
        await app.monitor.poll_once()
        assert await drain_text(app) == ""
    finally:
        await ctx.__aexit__(None, None, None)


async def test_a_court_pages_item_joining_the_news_story_itself_reaches_court_only_channels(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app, court = await news_then_court(feed_server, tmp_path, clock, court_source=True)
    try:
        news_story = story_of_title(app, NEWS[0])
        # The court's page lists the same report (same headline): it joins the story, which a
        # court's own source makes a court development.
        same = report(2, *NEWS)
        feed_server.route("/b.xml", rss([same]))
        clock.advance(3600)
        await app.monitor.poll_once()
        assert story_of_title(app, NEWS[0]) == news_story
        assert len(items.for_story(app.db, news_story)) == 2
        assert (stories.get(app.db, news_story) or {})["kind"] == "court"
        assert rows_of(app, court) == [("alert", f"story:{news_story}")]
    finally:
        await ctx.__aexit__(None, None, None)


async def test_a_court_report_on_a_feeds_first_poll_is_not_told_to_court_only_channels(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    a = feed_server.route("/a.xml", rss([filler(0)]))
    b = feed_server.route("/b.xml", rss([]))  # an empty answer is no first poll
    sources = [{"name": "Outlet A", "url": a}, {"name": "Court B", "url": b, "kind": "court"}]
    async with app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE) as app:
        await app.monitor.poll_once()
        court = court_only(app)
        feed_server.route("/a.xml", rss([report(1, *NEWS)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        # The court's feed first answers with entries now: its first poll stores the court
        # report silently, as it would a new development's first report.
        feed_server.route("/b.xml", rss([report(2, *COURT)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        court_story = story_of_title(app, COURT[0])
        assert (stories.get(app.db, court_story) or {})["kind"] == "court"
        news_story = story_of_title(app, NEWS[0])
        assert (stories.get(app.db, court_story) or {})["event_id"] == (
            stories.get(app.db, news_story) or {}
        )["event_id"]
        assert rows_of(app, court) == []
        # Its next report of it (not a first poll) would have been told: see the test above.


async def test_split_and_merge_keep_every_channels_messages_of_a_court_development_right(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    ctx, app, court = await news_then_court(feed_server, tmp_path, clock)
    try:
        everyone = every_kind(app)
        feed_server.route("/b.xml", rss([report(2, *COURT)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        feed_server.route("/a.xml", rss([report(1, *NEWS), report(3, *LATER_NEWS)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        await drain_text(app)
        news_story, court_story, later = (
            story_of_title(app, t) for t in (NEWS[0], COURT[0], LATER_NEWS[0])
        )
        event = int((stories.get(app.db, news_story) or {})["event_id"])
        assert {int(s["id"]) for s in events.stories_of(app.db, event)} == {
            news_story,
            court_story,
            later,
        }

        # The news story that stands for the development is split out: the rest (a news
        # story's alert, but a court development) reaches both channels, and the messages
        # of the news story alone are edited to say so.
        (first_item,) = items.for_story(app.db, news_story)
        corrections.split_item(app.db, int(first_item["id"]), now=clock.now())
        rest = events.alert_story_of(app.db, event)
        assert rest in {court_story, later}
        assert events.kind_of(app.db, int(rest or 0)) == "court"
        for dest in (everyone, court):
            assert ("alert", f"story:{rest}") in rows_of(app, dest)
            assert ("update", f"story:{news_story}") in rows_of(app, dest)
        await drain_text(app)

        # Merged back: no new message anywhere; the court-only channel's two messages show
        # the whole development, and so does each later edit.
        split_event = int((stories.get(app.db, news_story) or {})["event_id"])
        corrections.merge_events(app.db, event, split_event, now=clock.now())
        for dest in (everyone, court):
            assert pending_of(app, dest) == sorted(
                [("update", f"story:{news_story}"), ("update", f"story:{rest}")]
            )
        out = await drain_text(app)
        assert '"type": "alert"' not in out

        # Another outlet's copy of the news report joins its story: all four messages edited.
        feed_server.route("/b.xml", rss([report(2, *COURT), report(4, *NEWS)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        assert len(items.for_story(app.db, news_story)) == 2
        out = await drain_text(app)
        assert out.count('"type": "update"') == 4 and '"type": "alert"' not in out, out
    finally:
        await ctx.__aexit__(None, None, None)


async def test_a_court_only_discord_channel_gets_the_development_once_when_it_becomes_court(
    world: dict[str, Any],  # noqa: F811
    feed_server: FeedServer,
    tmp_path: Path,
) -> None:
    twin: DiscordTwin = world["twin"]
    g2, court_channel = world["g2"], world["alerts2"]
    role = twin.add_role(g2, "court-watchers", mentionable=True)
    async with subscribed_bot(world, feed_server, tmp_path) as (bot, app, clock):
        await subscribe(twin, g2, court_channel, twin.owner(g2), kinds="court", role=role)
        await publish(feed_server, bot, clock, report(1, *NEWS))
        await bot.deliver_tick()
        (first,) = await twin.wait_for_messages(world["alerts1"], 1)
        assert first["embeds"][0]["author"]["name"].startswith("📰 News")
        assert twin.messages(court_channel) == []

        await publish(feed_server, bot, clock, report(1, *NEWS), report(2, *COURT))
        await bot.deliver_tick()
        (told,) = await twin.wait_for_messages(court_channel, 1)
        embed = told["embeds"][0]
        assert embed["author"]["name"].startswith("⚖️ Court development")
        assert embed["title"] == NEWS[0]  # the development's alert: its first report
        assert COURT[0] in str(embed["fields"])
        assert told["content"] == f"<@&{role.id}>"  # pinged like any alert of the channel
        # Sent with its outbox row's nonce, like every alert.
        (row,) = rows(
            app.db,
            "SELECT outbox.id FROM outbox JOIN destinations d ON d.id = outbox.destination_id"
            " WHERE d.channel_id = ? AND outbox.kind = 'alert'",
            (str(court_channel.id),),
        )
        sent = twin.requests_to("POST", rf"/channels/{court_channel.id}/messages")
        assert [r.json.get("nonce") for r in sent] == [outbox.nonce(app.db, int(row["id"]))]
        # The other channel's message is edited to say it, not sent again.
        assert len(twin.messages(world["alerts1"])) == 1
        edits = twin.requests_to("PATCH", rf"/channels/\d+/messages/{first['id']}$")
        assert edits[-1].json["embeds"][0]["author"]["name"].startswith("⚖️ Court development")

        # A later report edits the court-only channel's message too; nothing is sent again.
        await publish(
            feed_server, bot, clock, report(1, *NEWS), report(2, *COURT), report(3, *LATER_NEWS)
        )
        await bot.deliver_tick()
        edits = await twin.wait_for_request("PATCH", rf"/channels/\d+/messages/{told['id']}$")
        assert LATER_NEWS[0] in str(edits[-1].json["embeds"][0]["fields"])
        await publish(
            feed_server, bot, clock, report(1, *NEWS), report(2, *COURT), report(3, *LATER_NEWS)
        )
        await bot.deliver_tick()
        assert len(twin.messages(court_channel)) == 1
        assert len(twin.messages(world["alerts1"])) == 1
