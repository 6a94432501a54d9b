"""Events in Discord, through the twin: one message per development, `/case why` and `/case story`
explain it, and `/watch split` / `/watch merge` correct it (the messages follow)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from storage import events, items, stories
from tests.discord_twin import DiscordTwin
from tests.feedserver import FeedServer
from tests.test_bot_e2e import publish, subscribed_bot, world  # noqa: F401 (a fixture)
from tests.test_event_stage import DECLINES, report


def story_of(app: Any, item_id: int) -> int:
    return int((items.get(app.db, item_id) or {}).get("story_id") or 0)


def event_of(app: Any, item_id: int) -> int:
    return int((stories.get(app.db, story_of(app, item_id)) or {}).get("event_id") or 0)


def alert_of(app: Any, event_id: int) -> int:
    return events.alert_story_of(app.db, event_id) or 0


async def test_one_message_per_development_explained_split_and_merged_from_discord(
    world: dict[str, Any],  # noqa: F811
    feed_server: FeedServer,
    tmp_path: Path,
) -> None:
    twin: DiscordTwin = world["twin"]
    g, ch, reader = world["g1"], world["alerts1"], world["reader1"]
    owner = twin.owner(g)  # the bot is in two servers: corrections are the owner's
    async with subscribed_bot(world, feed_server, tmp_path) as (bot, app, clock):
        one = report(1, *DECLINES[0], source="Outlet One")
        two = report(2, *DECLINES[1], source="Outlet Two")
        await publish(feed_server, bot, clock, one, two)
        await bot.deliver_tick()
        (message,) = twin.messages(ch)  # two outlets, one development: one message
        more = [f for f in message["embeds"][0]["fields"] if f["name"].startswith("More reports")]
        assert more and ("Outlet" in more[0]["value"])

        ids = [int(r[0]) for r in app.db.execute("SELECT id FROM items ORDER BY id").fetchall()]
        event_id = event_of(app, ids[-1])
        # the report that joined the event (the other one started it)
        (joined,) = [
            i
            for i in ids
            if event_of(app, i) == event_id and story_of(app, i) != alert_of(app, event_id)
        ]
        res = await twin.invoke("case why", {"item": joined}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        text = res.embeds[0]["description"]
        assert "joined it: score" in text and "meaning" in text, text
        assert f"event: {event_id} " in text

        story_id = int(re.search(r"story (\d+)", message["embeds"][0]["footer"]["text"]).group(1))  # type: ignore[union-attr]
        general = world["general1"]  # the answer is public: not in the alerts channel
        res = await twin.invoke(
            "case story", {"id": story_id}, guild=g, channel=general, member=reader
        )
        await res.wait_response()
        coverage = next(f for f in res.embeds[0]["fields"] if f["name"].startswith("Coverage"))
        assert "2 reports" in coverage["name"] and "**story" in coverage["value"]

        # An admin of one of two servers may not split; the owner may.
        res = await twin.invoke(
            "watch split", {"item": joined}, guild=g, channel=ch, member=world["admin1"]
        )
        await res.wait_response()
        assert res.ephemeral and "only the bot's owner" in res.content
        res = await twin.invoke("watch split", {"item": joined}, guild=g, channel=ch, member=owner)
        await res.wait_response()
        assert res.ephemeral and "development of its own" in res.content, res.describe()
        await bot.deliver_tick()
        messages = twin.messages(ch)
        assert len(messages) == 2  # the split-out report got its own alert
        first = messages[0]["embeds"][0]
        assert not [f for f in first.get("fields", []) if f["name"].startswith("More reports")]

        # Merging them back: no new message, the first one lists both again.
        split_event = event_of(app, joined)
        assert split_event != event_id
        res = await twin.invoke(
            "watch merge",
            {"first": event_id, "second": split_event},
            guild=g,
            channel=ch,
            member=owner,
        )
        await res.wait_response()
        assert res.ephemeral and "joined event" in res.content, res.describe()
        await bot.deliver_tick()
        messages = twin.messages(ch)
        assert len(messages) == 2
        assert any(f["name"].startswith("More reports") for f in messages[0]["embeds"][0]["fields"])
        res = await twin.invoke(
            "watch merge", {"first": 999, "second": event_id}, guild=g, channel=ch, member=owner
        )
        await res.wait_response()
        assert res.ephemeral and "no such event" in res.content
