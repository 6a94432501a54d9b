"""Admin notices: grouped per cycle, only where admins chose, a recovery only where the failure
was said; the public alert channels hear about the case, not about the bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from casewatch.app import App, open_app
from casewatch.clock import FakeClock
from casewatch.delivery import ConsoleDelivery
from casewatch.notices import SourceEvent, Target, notice_text, plan
from storage import destinations
from storage import notices as notice_store
from storage.db import rows
from tests.casewatch_helpers import START, app_for, item, make_config
from tests.discord_twin import EMBED_LINKS, DiscordTwin
from tests.discord_twin.world import MANAGE_GUILD
from tests.feedserver import FeedServer, rss
from tests.test_bot_e2e import TwinBot, bot_on

# --- the decision ------------------------------------------------------------------------------


def ev(n: int, event: str, guild: str | None = None) -> SourceEvent:
    return SourceEvent(n, f"Source {n}", guild, event, "2 polls in a row: HTTP 503")


CONSOLE, GUILD_A, GUILD_B = Target(1, ""), Target(2, "111"), Target(3, "222")


def test_a_cycle_of_failures_is_one_message_per_destination() -> None:
    failing = [ev(n, "failing") for n in range(1, 36)]
    out = plan(failing, [CONSOLE, GUILD_A], set())
    assert [n.destination_id for n in out] == [1, 2]
    text = out[0].text
    assert text.startswith("35 sources are failing: Source 1 (2 polls in a row: HTTP 503); ")
    assert "Source 15 (" in text and "Source 16" not in text and "; and 20 more." in text
    assert out[0].payload()["failing"] == list(range(1, 36))


def test_a_recovery_is_said_only_where_the_failure_was() -> None:
    out = plan([ev(7, "recovered")], [CONSOLE, GUILD_A, GUILD_B], {(2, 7)})
    assert [(n.destination_id, [e.source_id for e in n.recovered]) for n in out] == [(2, [7])]
    assert out[0].text.startswith("1 source recovered: Source 7.")


@pytest.mark.parametrize(
    ("guild", "heard_by"),
    [
        (None, [1, 2, 3]),  # feeds.yaml's sources: every server's admins, and the console
        ("111", [1, 2]),  # a source server A added: A's admins (and the console), not B's
    ],
)
def test_a_server_hears_only_about_the_sources_it_can_see(
    guild: str | None, heard_by: list[int]
) -> None:
    out = plan([ev(1, "failing", guild)], [CONSOLE, GUILD_A, GUILD_B], set())
    assert [n.destination_id for n in out] == heard_by


def test_nothing_to_say_is_no_message() -> None:
    assert plan([], [CONSOLE], set()) == []
    assert plan([ev(1, "recovered")], [CONSOLE], set()) == []  # its failure was never said


def test_the_text_says_each_kind_once_and_where_to_look() -> None:
    text = notice_text([ev(1, "failing")], [ev(2, "stale")], [ev(3, "recovered")])
    assert text.splitlines() == [
        "1 source is failing: Source 1 (2 polls in a row: HTTP 503).",
        "1 source has published nothing new for a while: Source 2 (2 polls in a row: HTTP 503)."
        " Are the addresses still right?",
        "1 source recovered: Source 3.",
        "`/case sources` shows every source's health.",
    ]


# --- the cycle, on a real database -----------------------------------------------------------


def notice_rows(app: App) -> list[dict]:
    found = rows(app.db, "SELECT * FROM outbox WHERE kind = 'notice' ORDER BY id")
    for r in found:
        r["payload"] = json.loads(r["payload"])
    return found


async def test_thirty_five_sources_offline_is_one_notice_and_no_alert_channel_hears_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    urls = [feed_server.route(f"/down{n}.xml", b"", status=503) for n in range(35)]
    srcs = [{"name": f"Feed {n}", "url": u} for n, u in enumerate(urls)]
    async with app_for(tmp_path, srcs, clock=clock) as app:
        court_only = destinations.upsert(
            app.db,
            type="discord",
            purpose="alerts",
            now=clock.now(),
            guild_id="111",
            channel_id="555",
            kinds=("court",),
        )
        for _ in range(3):  # failing_after is 2 in the test config
            await app.monitor.poll_once(force=True)
            clock.advance(3600)
        found = notice_rows(app)
        assert len(found) == 1  # the console's notices destination, once
        assert found[0]["payload"]["text"].startswith("35 sources are failing")
        assert not [r for r in found if r["destination_id"] == court_only]
        err = io.StringIO()
        out = io.StringIO()
        await app.dispatcher.drain(ConsoleDelivery(out, err=err))
        assert err.getvalue().count("[notice]") == 1 and "35 sources are failing" in err.getvalue()
        assert "[notice]" not in out.getvalue()  # stdout carries the alerts only


async def test_a_recovery_goes_only_where_the_failure_was_said(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", b"", status=503)
    async with app_for(tmp_path, [{"name": "Flaky", "url": url}], clock=clock) as app:
        notice_store.set_channel(app.db, guild_id="111", channel_id="901", now=clock.now())
        for _ in range(2):
            await app.monitor.poll_once(force=True)
            clock.advance(3600)
        # server B chose a notices channel after the failure was said elsewhere
        notice_store.set_channel(app.db, guild_id="222", channel_id="902", now=clock.now())
        feed_server.route("/f.xml", rss([item(1, "Uyghur exiles at the ICC")]))
        await app.monitor.poll_once(force=True)
        where = {
            r["destination_id"]: r["payload"] for r in notice_rows(app) if r["payload"]["recovered"]
        }
        dest = {d["channel_id"]: d["id"] for d in notice_store.targets(app.db)}
        assert set(where) == {dest["901"], dest[""]}  # A's channel and the console, not B's
        assert "902" in dest


# --- through Discord ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def failing_bot(
    twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path, count: int
) -> AsyncIterator[tuple[TwinBot, App, FakeClock, list[str]]]:
    clock = FakeClock(START)
    paths = [f"/f{n}.xml" for n in range(count)]
    urls = [
        feed_server.route(p, rss([item(90 + n, f"Feed {n} news")])) for n, p in enumerate(paths)
    ]
    cfg = make_config([{"name": f"Feed {n}", "url": u} for n, u in enumerate(urls)])
    async with (
        open_app(cfg, tmp_path / "c.db", clock=clock, rng=random.Random(3)) as app,
        bot_on(twin, app) as bot,
    ):
        await bot.poll_tick()  # the first, healthy poll
        yield bot, app, clock, paths


async def invoke(twin: DiscordTwin, place: dict[str, Any], command: str, options: dict) -> Any:
    res = await twin.invoke(
        command, options, guild=place["g"], channel=place["admins"], member=place["admin"]
    )
    return await res.wait_response()


async def test_watch_notices_channel_gets_one_grouped_message_and_the_alert_channel_none(
    discord_at_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    twin = discord_at_twin
    g = twin.add_guild("Uyghur rights researchers")
    place: dict[str, Any] = {
        "g": g,
        "alerts": twin.add_channel(g, "alerts"),
        "admins": twin.add_channel(g, "admins"),
        "admin": twin.add_member(g, "admin", permissions=MANAGE_GUILD),
    }
    async with failing_bot(twin, feed_server, tmp_path, 5) as (bot, app, clock, paths):
        res = await invoke(twin, place, "watch alerts", {"channel": place["alerts"]})
        assert res.ephemeral
        res = await invoke(twin, place, "watch notices", {"channel": place["admins"]})
        assert res.ephemeral and f"<#{place['admins'].id}>" in res.content, res.content
        for p in paths:
            feed_server.route(p, b"", status=503)
        for _ in range(2):
            clock.advance(86400)
            await bot.poll_tick()
        [told] = await twin.wait_for_messages(place["admins"], 1)
        assert told["embeds"][0]["description"].startswith("5 sources are failing")
        # the bot's owner hears it too, by direct message
        dms = await twin.changes.wait_until(
            lambda: twin.dms(twin.app_owner) or None, 5.0, lambda: "no DM to the owner"
        )
        assert [d["embeds"][0]["description"][:22] for d in dms] == ["5 sources are failing:"]
        for n, p in enumerate(paths):
            feed_server.route(p, rss([item(90 + n, f"Feed {n} news")]))
        clock.advance(86400 * 3)
        await bot.poll_tick()
        msgs = await twin.wait_for_messages(place["admins"], 2)
        assert msgs[1]["embeds"][0]["description"].startswith("5 sources recovered")
        await twin.changes.wait_until(
            lambda: len(twin.dms(twin.app_owner)) == 2 or None, 5.0, lambda: "no second DM"
        )
        assert twin.messages(place["alerts"]) == []  # the public channel heard nothing

        res = await invoke(twin, place, "watch notices", {})
        assert res.ephemeral and "not be posted in this server" in res.content
        assert [d["channel_id"] for d in notice_store.targets(app.db)] == [notice_store.OWNER]


async def test_a_broken_alert_channel_is_told_in_the_notices_channel_when_there_is_one(
    discord_at_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    twin = discord_at_twin
    g = twin.add_guild("Uyghur rights researchers")
    place: dict[str, Any] = {
        "g": g,
        "general": twin.add_channel(g, "general"),
        "alerts": twin.add_channel(g, "alerts"),
        "admins": twin.add_channel(g, "admins"),
        "admin": twin.add_member(g, "admin", permissions=MANAGE_GUILD),
    }
    async with failing_bot(twin, feed_server, tmp_path, 1) as (bot, app, clock, paths):
        await invoke(twin, place, "watch alerts", {"channel": place["alerts"]})
        await invoke(twin, place, "watch notices", {"channel": place["admins"]})
        twin.set_permissions(place["alerts"], twin.bot_member(g), deny=EMBED_LINKS)
        await asyncio.sleep(0.2)  # the permission change reaches the bot over the gateway
        feed_server.route(
            paths[0],
            rss([item(90, "Feed 0 news"), item(1, "Uyghur exiles file new ICC submission")]),
        )
        clock.advance(3600)
        await bot.poll_tick()
        [told] = await twin.wait_for_messages(place["admins"], 1)
        assert "can no longer post alerts" in told["content"]
        assert twin.messages(place["general"]) == []  # not the public channels


async def test_without_a_notices_channel_only_the_owner_hears_by_direct_message(
    discord_at_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    twin = discord_at_twin
    g = twin.add_guild("Diaspora news")
    place: dict[str, Any] = {
        "g": g,
        "alerts": twin.add_channel(g, "alerts"),
        "admins": twin.add_channel(g, "admins"),
        "admin": twin.add_member(g, "admin", permissions=MANAGE_GUILD),
    }
    async with failing_bot(twin, feed_server, tmp_path, 3) as (bot, app, clock, paths):
        await invoke(twin, place, "watch alerts", {"channel": place["alerts"]})
        for p in paths:
            feed_server.route(p, b"", status=503)
        for _ in range(2):
            clock.advance(86400)
            await bot.poll_tick()
        dms = await twin.changes.wait_until(
            lambda: twin.dms(twin.app_owner) or None, 5.0, lambda: "no DM to the owner"
        )
        assert dms[0]["embeds"][0]["description"].startswith("3 sources are failing")
        assert twin.messages(place["alerts"]) == [] and twin.messages(place["admins"]) == []
