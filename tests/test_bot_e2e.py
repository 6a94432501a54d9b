"""The real casewatch bot (discord.py client, cogs, scheduler ticks) against the Discord twin.

Feeds are served on loopback, Discord is the twin on loopback, time is a FakeClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.outbox
from bot import CasewatchBot
from casewatch.app import App, open_app
from casewatch.clock import FakeClock
from casewatch.delivery import Dispatcher
from storage import destinations
from storage.db import rows
from tests.casewatch_helpers import BASELINE, START, item, make_config
from tests.discord_twin import EMBED_LINKS, FLAG_EPHEMERAL, MENTION_EVERYONE, DiscordTwin
from tests.discord_twin.world import MANAGE_GUILD
from tests.feedserver import FeedServer, rss

pytestmark = pytest.mark.timeout(60)

CASE_1 = "ICC urged to open Uyghur genocide case over deportations from Tajikistan"
CASE_2 = "Uyghur Tribunal finds genocide: lawyers ask International Criminal Court to act"
CASE_3 = "Cambodia deportations of Uyghurs raised in new filing with the ICC prosecutor"
CRICKET = "ICC confirms T20 World Cup schedule after cricket board meeting"


class TwinBot(CasewatchBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py waits 5 s before re-IDENTIFY; the twin has no such limit


@contextlib.asynccontextmanager
async def bot_on(twin: DiscordTwin, app: App, **kw: Any) -> AsyncIterator[TwinBot]:
    """The real bot for `app`, logged in to the twin and ready; closed on the way out."""
    kw.setdefault("run_jobs", False)
    bot = TwinBot(app, guild_ready_timeout=0.05, **kw)
    task = asyncio.create_task(bot.start(twin.token))
    try:
        await twin.wait_ready(timeout=10)
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(Exception):
            await task


@contextlib.asynccontextmanager
async def running_bot(
    twin: DiscordTwin, db_path: Path, feed_url: str, clock: FakeClock, **kw: Any
) -> AsyncIterator[tuple[TwinBot, App]]:
    cfg = make_config(
        [{"name": "Loopback news", "url": feed_url}],
        timeline=[
            {"date": "2020-07-06", "title": "Communication to the ICC Prosecutor", "kind": "court"},
            {
                "date": "2020-12-14",
                "title": "Prosecutor: territorial precondition not met",
                "kind": "court",
            },
        ],
    )
    async with (
        open_app(cfg, db_path, clock=clock, rng=random.Random(3)) as app,
        bot_on(twin, app, **kw) as bot,
    ):
        yield bot, app


@pytest.fixture
def world(discord_at_twin: DiscordTwin) -> dict[str, Any]:
    twin = discord_at_twin
    g1 = twin.add_guild("Uyghur rights researchers")
    g2 = twin.add_guild("Diaspora news")
    return {
        "twin": twin,
        "g1": g1,
        "g2": g2,
        "alerts1": twin.add_channel(g1, "alerts"),
        "general1": twin.add_channel(g1, "general"),
        "alerts2": twin.add_channel(g2, "case-alerts"),
        "admin1": twin.add_member(g1, "admin", permissions=MANAGE_GUILD),
        "reader1": twin.add_member(g1, "reader"),
    }


async def subscribe(twin: DiscordTwin, guild: Any, channel: Any, member: Any, **opts: Any) -> None:
    res = await twin.invoke(
        "watch alerts", {"channel": channel, **opts}, guild=guild, channel=channel, member=member
    )
    await res.wait_response()
    assert res.ephemeral and "Alerts" in res.content, res.describe()


@contextlib.asynccontextmanager
async def subscribed_bot(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path, **opts: Any
) -> AsyncIterator[tuple[TwinBot, App, FakeClock]]:
    """The bot running, #alerts1 subscribed (with `opts`), the feed's first (silent) poll done."""
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([BASELINE]))
    async with running_bot(world["twin"], tmp_path / "c.db", url, clock) as (bot, app):
        await subscribe(world["twin"], world["g1"], world["alerts1"], world["admin1"], **opts)
        await bot.poll_tick()
        yield bot, app, clock


async def publish(
    feed_server: FeedServer, bot: TwinBot, clock: FakeClock, *entries: dict[str, Any]
) -> None:
    """The feed now carries `entries`; an hour later the bot polls it."""
    feed_server.route("/f.xml", rss(list(entries)))
    clock.advance(3600)
    await bot.poll_tick()


async def test_a_new_item_becomes_exactly_one_message_in_each_subscribed_channel(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([item(1, CASE_1)]))
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        await subscribe(twin, world["g1"], world["alerts1"], world["admin1"])
        await subscribe(twin, world["g2"], world["alerts2"], twin.owner(world["g2"]))
        await bot.poll_tick()  # first poll: stored, no alert
        feed_server.route("/f.xml", rss([item(1, CASE_1), item(2, CASE_2), item(3, CRICKET)]))
        clock.advance(3600)
        await bot.poll_tick()
        for ch in (world["alerts1"], world["alerts2"]):
            msgs = await twin.wait_for_messages(ch, 1)
            assert len(msgs) == 1
            embed = msgs[0]["embeds"][0]
            assert embed["title"].startswith("Uyghur Tribunal")
            # Read like news: the outlet, no rule terms (`/case why` has them), the time once.
            assert [f["name"] for f in embed["fields"]] == ["Source"]
            assert embed["timestamp"]
        assert twin.messages(world["general1"]) == []
        sends = twin.requests_to("POST", r"/channels/\d+/messages")
        # Each send carries its outbox row's nonce (not discord.py's random one), enforced.
        alert_rows = rows(app.db, "SELECT id FROM outbox WHERE kind = 'alert' ORDER BY id")
        assert len(alert_rows) == 2
        expected = sorted(storage.outbox.nonce(app.db, r["id"]) for r in alert_rows)
        assert sorted(str(r.json.get("nonce")) for r in sends) == expected
        assert all(r.json.get("enforce_nonce") is True for r in sends)
        assert all(r.json["allowed_mentions"]["parse"] == [] for r in sends)
        clock.advance(3600)
        await bot.poll_tick()
        await bot.deliver_tick()
        assert len(twin.messages(world["alerts1"])) == 1


async def test_role_ping_only_for_court_developments_when_asked(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    role = twin.add_role(world["g1"], "case-watchers", mentionable=True)
    async with subscribed_bot(world, feed_server, tmp_path, role=role, ping="court") as (
        bot,
        app,
        clock,
    ):
        await publish(feed_server, bot, clock, item(2, CASE_2))  # tribunal: court vocabulary
        msg = (await twin.wait_for_messages(world["alerts1"], 1))[0]
        assert msg["content"] == f"<@&{role.id}>"
        assert [str(r) for r in msg["mention_roles"]] == [str(role.id)]  # really pinged
        assert msg["embeds"], "the alert itself travels with the ping"
        sent = twin.requests_to("POST", r"/channels/\d+/messages")[-1].json
        assert [str(r) for r in sent["allowed_mentions"]["roles"]] == [str(role.id)]


async def test_watch_alerts_warns_when_the_role_would_not_be_pinged(
    world: dict[str, Any], tmp_path: Path, feed_server: FeedServer
) -> None:
    twin: DiscordTwin = world["twin"]
    quiet = twin.add_role(world["g1"], "quiet", mentionable=False)
    g, ch, admin = world["g1"], world["alerts1"], world["admin1"]
    twin.set_permissions(ch, twin.bot_member(g), deny=MENTION_EVERYONE)
    url = feed_server.route("/f.xml", rss([BASELINE]))
    async with running_bot(twin, tmp_path / "c.db", url, FakeClock(START)):
        res = await twin.invoke(
            "watch alerts", {"channel": ch, "role": quiet}, guild=g, channel=ch, member=admin
        )
        await res.wait_response()
        assert res.ephemeral and "will not actually be pinged" in res.content, res.describe()

        everyone = twin.world.guilds[g.id].everyone
        res = await twin.invoke(
            "watch alerts", {"channel": ch, "role": everyone}, guild=g, channel=ch, member=admin
        )
        await res.wait_response()
        assert res.ephemeral and "@everyone cannot be pinged" in res.content, res.describe()


async def test_an_alert_channel_that_loses_embed_links_keeps_its_rows_and_admins_are_told(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    async with subscribed_bot(world, feed_server, tmp_path) as (bot, app, clock):
        twin.set_permissions(world["alerts1"], twin.bot_member(world["g1"]), deny=EMBED_LINKS)
        await asyncio.sleep(0.2)  # the channel update reaches the bot's cache over the gateway
        await publish(feed_server, bot, clock, item(1, CASE_1))
        told = await twin.wait_for_messages(world["general1"], 1)
        assert "Embed Links" in told[0]["content"]
        assert twin.messages(world["alerts1"]) == []  # no blank "delivered" alert
        pending = rows(app.db, "SELECT * FROM outbox WHERE delivered_at IS NULL AND kind='alert'")
        assert len(pending) == 1


async def test_a_long_rate_limit_reschedules_instead_of_stalling_the_drain(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    async with subscribed_bot(world, feed_server, tmp_path) as (bot, app, clock):
        twin.fail_next("POST", rf"/channels/{world['alerts1'].id}/messages", retry_after=45.0)
        started = time.monotonic()
        await publish(feed_server, bot, clock, item(1, CASE_1))
        assert time.monotonic() - started < 10  # discord.py would have slept 45 s
        assert twin.messages(world["alerts1"]) == []
        clock.advance(60)
        await bot.poll_tick()
        assert len(await twin.wait_for_messages(world["alerts1"], 1)) == 1


async def test_case_commands_answer_from_the_archive(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    many = [
        item(
            i,
            f"Uyghur genocide case number {i} before the ICC: lawyers file evidence {i * 7}",
            # ten days apart: twelve developments, each its own event (the window is 7 days)
            when=START - timedelta(days=10 * i),
        )
        for i in range(1, 13)
    ]
    url = feed_server.route("/f.xml", rss([*many, item(20, CRICKET)]))
    g, ch, reader = world["g1"], world["general1"], world["reader1"]
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        await bot.poll_tick()

        res = await twin.invoke("case latest", {"count": 3}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        assert len(res.embeds) == 3

        res = await twin.invoke(
            "case search", {"query": "lawyers evidence"}, guild=g, channel=ch, member=reader
        )
        await res.wait_response()
        first = res.embeds[0]
        assert "12 developments matched" in first["footer"]["text"]
        assert "page 1/3" in first["footer"]["text"]
        nxt = next(c for c in _components(res.message) if c.get("label") == "Next")
        click = await twin.click(res, nxt["custom_id"], member=reader)
        await click.wait_response()
        assert "page 2/3" in click.embeds[0]["footer"]["text"]

        # A search result names its item, and /case why takes that number.
        shown = re.search(r"item (\d+)", first["description"])
        assert shown, first["description"]
        res = await twin.invoke(
            "case why", {"item": int(shown.group(1))}, guild=g, channel=ch, member=reader
        )
        await res.wait_response()
        assert res.ephemeral and "relevant" in res.embeds[0]["description"]

        res = await twin.invoke("case why", {"item": 13}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        assert res.ephemeral and "dropped" in res.embeds[0]["description"]

        res = await twin.invoke(
            "case timeline", {"order": "newest"}, guild=g, channel=ch, member=reader
        )
        await res.wait_response()
        text = res.embeds[0]["description"]
        assert text.index("2020-12-14") < text.index("2020-07-06")

        res = await twin.invoke("case story", {"id": 1}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        coverage = next(f for f in res.embeds[0]["fields"] if f["name"].startswith("Coverage"))
        assert re.search(r"item \d+\)", coverage["value"]), coverage["value"]

        res = await twin.invoke("case sources", {}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        assert "Loopback news" in res.embeds[0]["description"]

        res = await twin.invoke("case about", {}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        assert "Watching 1 source; 12 developments stored" in res.embeds[0]["description"]

        res = await twin.autocomplete(
            "case search",
            {"query": "icc", "source": "loop"},
            "source",
            guild=g,
            channel=ch,
            member=reader,
        )
        await res.wait_ack()
        assert [c["value"] for c in res.choices or []] == ["Loopback news"]


async def test_bad_arguments_and_unknown_ids_get_a_short_ephemeral_reason(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    url = feed_server.route("/f.xml", rss([BASELINE]))
    g, ch, reader, admin = world["g1"], world["general1"], world["reader1"], world["admin1"]
    async with running_bot(twin, tmp_path / "c.db", url, FakeClock(START)) as (bot, app):
        res = await twin.invoke("case story", {"id": 99}, guild=g, channel=ch, member=reader)
        await res.wait_response()
        assert res.ephemeral and "no story 99" in res.content

        res = await twin.invoke(
            "case search", {"query": "x", "since": "soon"}, guild=g, channel=ch, member=reader
        )
        await res.wait_response()
        assert res.ephemeral and "`since`" in res.content

        res = await twin.invoke(
            "watch digest",
            {"channel": ch, "frequency": "daily", "time": "25:99", "timezone": "UTC"},
            guild=g,
            channel=ch,
            member=admin,
        )
        await res.wait_response()
        assert res.ephemeral and "`time`" in res.content and "Traceback" not in res.content


async def test_admin_commands_are_refused_to_non_admins_by_the_real_check(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    url = feed_server.route("/f.xml", rss([BASELINE]))
    g, ch, reader = world["g1"], world["alerts1"], world["reader1"]
    async with running_bot(twin, tmp_path / "c.db", url, FakeClock(START)) as (bot, app):
        with pytest.raises(PermissionError):  # the client hides it (default_permissions)...
            await twin.invoke("watch alerts", {"channel": ch}, guild=g, channel=ch, member=reader)
        res = await twin.invoke(  # ...and the bot refuses it if a client sends it anyway
            "watch alerts",
            {"channel": ch},
            guild=g,
            channel=ch,
            member=reader,
            bypass_default_permissions=True,
        )
        await res.wait_response()
        assert res.flags & FLAG_EPHEMERAL and "Manage Server" in res.content
        # (the bot owner's notices destination is the bot's own, not the server's)
        assert [d for d in destinations.listing(app.db, type="discord") if d["guild_id"]] == []


async def test_digest_is_posted_at_its_time_and_a_missed_one_once_on_restart(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)  # 2026-03-02 09:00 UTC
    url = feed_server.route("/f.xml", rss([BASELINE]))
    g, ch, admin = world["g1"], world["general1"], world["admin1"]
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        res = await twin.invoke(
            "watch digest",
            {
                "channel": ch,
                "frequency": "daily",
                "time": "18:00",
                "timezone": "Europe/Paris",
                "empty": "say",
            },
            guild=g,
            channel=ch,
            member=admin,
        )
        await res.wait_response()
        await bot.poll_tick()
        feed_server.route(
            "/f.xml", rss([item(1, CASE_1, when=clock.now()), item(2, CASE_2, when=clock.now())])
        )
        clock.advance(3600)
        await bot.poll_tick()
        assert twin.messages(ch) == []
        clock.set(START.replace(hour=16, minute=59))  # 17:59 in Paris
        await bot.poll_tick()
        assert twin.messages(ch) == []
        clock.set(START.replace(hour=17, minute=0, second=30))  # 18:00:30 in Paris
        await bot.poll_tick()
        msgs = await twin.wait_for_messages(ch, 1)
        assert "Daily digest" in msgs[0]["content"] and CASE_2.split(":")[0] in msgs[0]["content"]
        # Digests quote feed headlines: their posts ping nobody, whatever the text says.
        posts = [
            r.json
            for r in twin.requests_to("POST", r"/channels/\d+/messages")
            if "digest" in str(r.json.get("content", "")).lower()
        ]
        assert posts and all(
            p.get("allowed_mentions", {}).get("parse") == []
            and not p["allowed_mentions"].get("roles")
            and not p["allowed_mentions"].get("users")
            for p in posts
        )
    # Down for two days: on start-up one digest (the latest slot), not two.
    clock.advance(2 * 86400 + 3600)
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        await bot.poll_tick()
        await bot.poll_tick()
        await asyncio.sleep(0.2)
        digests = [m for m in twin.messages(ch) if "digest" in m["content"].lower()]
        assert len(digests) == 2
        assert "Nothing new" in digests[-1]["content"]


async def test_restart_in_the_middle_of_delivery_posts_nothing_twice_and_loses_nothing(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([BASELINE]))
    db = tmp_path / "c.db"
    async with running_bot(twin, db, url, clock) as (bot, app):
        await subscribe(twin, world["g1"], world["alerts1"], world["admin1"])
        await bot.poll_tick()
        feed_server.route("/f.xml", rss([item(1, CASE_1), item(2, CASE_2), item(3, CASE_3)]))
        clock.advance(3600)
        real_mark = storage.outbox.mark_delivered
        calls = {"n": 0}

        def crash_after_first(*a: Any, **k: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 2:  # the 2nd message reached Discord, then the process "died"
                raise SystemExit("power cut")
            real_mark(*a, **k)

        monkeypatch.setattr(storage.outbox, "mark_delivered", crash_after_first)
        with contextlib.suppress(SystemExit):
            await app.monitor.poll_once()
            await bot.app.dispatcher.drain(bot.get_cog("AlertsCog").delivery)  # type: ignore[union-attr]
        monkeypatch.setattr(storage.outbox, "mark_delivered", real_mark)
    assert len(twin.messages(world["alerts1"])) == 2
    # The row the dead process was delivering stays claimed until its lease ends.
    clock.advance(Dispatcher.CLAIM_LEASE.total_seconds())
    async with running_bot(twin, db, url, clock) as (bot, app):
        await bot.deliver_tick()
        msgs = await twin.wait_for_messages(world["alerts1"], 3)
        await asyncio.sleep(0.1)
        assert len(twin.messages(world["alerts1"])) == 3
        assert sorted(m["embeds"][0]["title"] for m in msgs) == sorted([CASE_1, CASE_2, CASE_3])
        assert all(
            r["delivered_at"] for r in rows(app.db, "SELECT * FROM outbox WHERE kind='alert'")
        )


async def test_a_429_storm_and_a_dropped_gateway_lose_nothing(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([BASELINE]))
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        await subscribe(twin, world["g1"], world["alerts1"], world["admin1"])
        await bot.poll_tick()
        twin.fail_next("POST", r"/channels/\d+/messages$", status=429, retry_after=0.05, times=12)
        twin.fail_next("POST", r"/channels/\d+/messages$", status=502, times=2)
        feed_server.route("/f.xml", rss([item(1, CASE_1), item(2, CASE_2), item(3, CASE_3)]))
        clock.advance(3600)
        await bot.poll_tick()
        for _ in range(20):
            if len(twin.messages(world["alerts1"])) == 3:
                break
            clock.advance(3600)
            await bot.deliver_tick()
            await asyncio.sleep(0.05)
        assert len(twin.messages(world["alerts1"])) == 3

        await twin.drop_gateway(resume=True)
        feed_server.route(
            "/f.xml",
            rss(
                [
                    item(1, CASE_1),
                    item(2, CASE_2),
                    item(3, CASE_3),
                    item(4, CRICKET),
                    # another development than the first three (not another report of one)
                    item(5, "Uyghur Tribunal hearing in London: witnesses describe camps"),
                ]
            ),
        )
        clock.advance(3600)
        await bot.poll_tick()
        await twin.wait_for_messages(world["alerts1"], 4)
        res = await twin.invoke(
            "case latest",
            {"count": 1},
            guild=world["g1"],
            channel=world["general1"],
            member=world["reader1"],
        )
        await res.wait_response(timeout=10)
        assert "London" in res.embeds[0]["title"]
        assert len(twin.messages(world["alerts1"])) == 4


async def test_a_deleted_channel_stops_sending_keeps_rows_and_tells_admins(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([BASELINE]))
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        await subscribe(twin, world["g1"], world["alerts1"], world["admin1"])
        await bot.poll_tick()
        twin.delete_channel(world["alerts1"], announce=False)
        feed_server.route("/f.xml", rss([item(1, CASE_1)]))
        clock.advance(3600)
        await bot.poll_tick()
        told = await twin.wait_for_messages(world["general1"], 1)
        assert "can no longer post" in told[0]["content"]
        pending = rows(app.db, "SELECT * FROM outbox WHERE delivered_at IS NULL AND kind = 'alert'")
        assert len(pending) == 1
        clock.advance(3600)
        await bot.deliver_tick()
        assert len(twin.messages(world["general1"])) == 1  # told once, not per retry


async def test_webhook_mode_posts_alerts_through_a_webhook(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    from casewatch.delivery import WebhookDelivery

    twin: DiscordTwin = world["twin"]
    hook = twin.add_webhook(world["alerts1"])
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([item(1, CASE_1)]))
    cfg = make_config([{"name": "Loopback news", "url": url}])
    async with open_app(cfg, tmp_path / "w.db", clock=clock) as app:
        destinations.upsert(app.db, type="webhook", purpose="alerts", now=clock.now())
        await app.monitor.poll_once(backfill=True)
        report = await app.dispatcher.drain(WebhookDelivery(app.session, hook.url))
        assert report.delivered == 1
    msgs = twin.messages(world["alerts1"])
    assert len(msgs) == 1 and msgs[0]["embeds"][0]["title"].startswith("ICC urged")


def _components(message: Any) -> list[dict]:
    out: list[dict] = []
    for row in (message or {}).get("components", []):
        out += row.get("components", [])
    return out


async def test_scheduler_jobs_start_in_the_bot_loop_with_safe_defaults(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    url = feed_server.route("/f.xml", rss([item(1, CASE_1)]))
    clock = FakeClock(START)
    cfg = make_config([{"name": "Loopback news", "url": url}])
    async with (
        open_app(cfg, tmp_path / "s.db", clock=clock) as app,
        bot_on(twin, app, run_jobs=True, tick=0.2, deliver_every=0.2) as bot,
    ):
        for _ in range(50):
            if feed_server.hits["/f.xml"]:
                break
            await asyncio.sleep(0.1)
        assert feed_server.hits["/f.xml"] >= 1
        assert bot.scheduler is not None and bot.scheduler.running
        job = bot.scheduler.get_jobs()[0]
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 60


async def test_activity_answers_with_a_chart_and_the_weekly_digest_carries_it(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)  # a Monday, 09:00 UTC
    url = feed_server.route("/f.xml", rss([BASELINE]))
    g, ch, admin = world["g1"], world["general1"], world["admin1"]
    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        res = await twin.invoke(
            "watch digest",
            {"channel": ch, "frequency": "weekly", "time": "10:00", "timezone": "UTC"},
            guild=g,
            channel=ch,
            member=admin,
        )
        await res.wait_response()
        await bot.poll_tick()
        clock.set(START.replace(hour=11))  # after this Monday's 10:00 slot (an empty week: skipped)
        feed_server.route(
            "/f.xml", rss([item(1, CASE_1, when=clock.now()), item(2, CASE_2, when=clock.now())])
        )
        await bot.poll_tick()

        res = await twin.invoke("case activity", {}, guild=g, channel=ch, member=world["reader1"])
        await res.wait_response(timeout=20)  # deferred "thinking", then resolved by the chart
        assert res.message is not None
        attachment = res.message["attachments"][0]
        png = twin.attachment_bytes(attachment["id"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

        assert not [m for m in twin.messages(ch) if "Weekly digest" in m.get("content", "")]
        clock.set(START.replace(hour=10, minute=1) + timedelta(days=7))  # the next Monday
        await bot.poll_tick()
        msgs = await twin.wait_for_messages(ch, 2, timeout=20)
        digest = [m for m in msgs if "Weekly digest" in m.get("content", "")]
        assert digest, [m.get("content") for m in msgs]
        last = twin.messages(ch)[-1]
        assert last["attachments"] and last["attachments"][0]["filename"] == "coverage.png"


async def bot_py(
    command: str, twin: DiscordTwin, feed_url: str, tmp_path: Path
) -> asyncio.subprocess.Process:
    """`python bot.py COMMAND` as a real process, pointed at the twin, one loopback source."""
    import os
    import sys

    cfg = tmp_path / "feeds.yaml"
    cfg.write_text(
        "case: {name: Test case}\nrelevance:\n  groups: {people: ['Uyghur*'], forum: [ICC]}\n"
        "  rules: [{name: case, all: [people, forum], score: 2}]\n"
        f"sources:\n  - {{name: Loopback, url: '{feed_url}'}}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DISCORD_TOKEN": twin.token,
        "DISCORD_API_BASE": twin.api_base,
        "CASEWATCH_LOG_LEVEL": "INFO",
    }
    root = Path(__file__).resolve().parent.parent
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(root / "bot.py"),
        command,
        "--config",
        str(cfg),
        "--db",
        str(tmp_path / "p.db"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_bot_py_run_starts_the_real_process_against_the_twin(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    url = feed_server.route("/f.xml", rss([item(1, CASE_1)]))
    proc = await bot_py("run", twin, url, tmp_path)
    try:
        await twin.wait_ready(timeout=30)
        await twin.wait_for_request("PUT", r"/applications/\d+/commands$", timeout=30)
        for _ in range(100):
            if feed_server.hits["/f.xml"]:
                break
            await asyncio.sleep(0.1)
        assert feed_server.hits["/f.xml"] >= 1
        names = {c["name"] for c in twin.commands()}
        assert names == {"case", "watch"}
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    log = err.decode()
    assert twin.token not in log  # the token is never logged
    assert twin.requests_to("GET", r"/users/@me$")  # REST went to the twin, not to Discord
    assert "gateway.discord.gg" not in log


async def test_more_outlets_edit_the_alert_and_a_deleted_alert_does_not_break_the_channel(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    import aiohttp

    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    a = feed_server.route("/a.xml", rss([BASELINE]))
    cfg_sources = [
        {"name": "Outlet A", "url": a},
        {"name": "Outlet B", "url": feed_server.route("/b.xml", rss([BASELINE]))},
    ]
    cfg = make_config(cfg_sources)
    async with open_app(cfg, tmp_path / "c.db", clock=clock) as app, bot_on(twin, app) as bot:
        await subscribe(twin, world["g1"], world["alerts1"], world["admin1"])
        await bot.poll_tick()
        feed_server.route("/a.xml", rss([item(1, CASE_2)]))
        clock.advance(3600)
        await bot.poll_tick()
        (msg,) = await twin.wait_for_messages(world["alerts1"], 1)
        copy = item(
            7,
            CASE_2 + " - Outlet B",
            link="https://b.example.net/x",
            description=f"{CASE_2}. More words about this development number 1.",
        )
        feed_server.route("/b.xml", rss([copy]))
        clock.advance(3600)
        await bot.poll_tick()
        edits = await twin.wait_for_request("PATCH", rf"/channels/\d+/messages/{msg['id']}$")
        fields = {f["name"]: f["value"] for f in edits[-1].json["embeds"][0]["fields"]}
        assert fields["Also reported by"] == "Outlet B"
        assert len(twin.messages(world["alerts1"])) == 1

        url = f"{twin.api_base}/channels/{world['alerts1'].id}/messages/{msg['id']}"
        async with aiohttp.ClientSession() as http:
            await http.delete(url, headers={"Authorization": f"Bot {twin.token}"})
        feed_server.route("/b.xml", rss([copy, item(8, CASE_3)]))
        feed_server.route(
            "/a.xml",
            rss(
                [
                    item(1, CASE_2),
                    {
                        **copy,
                        "guid": "a-copy",
                        "link": "https://a.example.org/y",
                        "title": CASE_2 + " - Outlet C",
                        "source": "Outlet C",
                    },
                ]
            ),
        )
        clock.advance(3600)
        await bot.poll_tick()
        await twin.wait_for_messages(world["alerts1"], 1)
        assert destinations.listing(app.db, type="discord")[0]["broken_reason"] is None
        titles = [m["embeds"][0]["title"] for m in twin.messages(world["alerts1"])]
        assert titles == [CASE_3]


async def test_watch_commands_manage_sources_and_channels(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([BASELINE]))
    extra = feed_server.route("/extra.xml", rss([item(1, CASE_1)], title="Extra feed"))
    g, ch, admin = world["g1"], world["general1"], world["admin1"]

    async def run(cmd: str, **opts: Any) -> Any:
        res = await twin.invoke(cmd, opts, guild=g, channel=ch, member=admin)
        return await res.wait_response(timeout=10)

    async with running_bot(twin, tmp_path / "c.db", url, clock) as (bot, app):
        res = await run("watch add-source", url=extra)
        assert res.ephemeral and "refused" in res.content and "loopback" in res.content
        assert feed_server.hits["/extra.xml"] == 0

        # The bot is in two servers: one server's admin cannot silence a shared source...
        res = await run("watch pause", source="Loopback news")
        assert res.ephemeral and "only the bot's owner" in res.content
        # ...the bot's owner can.
        owner = twin.owner(g)
        res = await twin.invoke(
            "watch pause", {"source": "Loopback news"}, guild=g, channel=ch, member=owner
        )
        await res.wait_response(timeout=10)
        assert "Paused" in res.content, res.describe()
        await bot.poll_tick()
        assert feed_server.hits["/f.xml"] == 0
        res = await twin.invoke(
            "watch resume", {"source": "Loopback news"}, guild=g, channel=ch, member=owner
        )
        await res.wait_response(timeout=10)
        await bot.poll_tick()
        assert feed_server.hits["/f.xml"] == 1

        res = await run("watch remove-source", source="Loopback news")
        assert (
            res.ephemeral and "feeds.yaml" in res.content
        )  # configured sources are paused, not removed

        res = await run("watch test", channel=world["alerts1"])
        assert "Sample alert posted" in res.content
        assert twin.messages(world["alerts1"])[0]["embeds"][0]["title"].startswith("Sample alert")

        res = await run("watch alerts", channel=world["alerts1"])
        res = await run("watch stop", channel=world["alerts1"])
        assert "Stopped 1" in res.content
        # (the bot owner's notices destination is the bot's own, not the server's)
        assert [d for d in destinations.listing(app.db, type="discord") if d["guild_id"]] == []

    # The operator allows internal addresses: the feed is fetched once, then saved.
    cfg = make_config([{"name": "Loopback news", "url": url}], fetch={"allow_internal": True})
    async with open_app(cfg, tmp_path / "c.db", clock=clock) as app, bot_on(twin, app) as bot:
        res = await run("watch add-source", url=extra, kind="court")
        assert "Added **Extra feed**" in res.content and feed_server.hits["/extra.xml"] == 1
        added = [
            s for s in app.db.execute("SELECT name, kind, origin, guild_id FROM sources").fetchall()
        ]
        assert ("Extra feed", "court", "discord", str(g.id)) in [tuple(r) for r in added]
        # Commands did not change: the restart did not sync them again.
        assert len(twin.requests_to("PUT", r"/applications/\d+/commands$")) == 1


async def test_bot_py_sync_registers_the_commands_and_polls_nothing(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    url = feed_server.route("/f.xml", rss([item(1, CASE_1)]))
    proc = await bot_py("sync", twin, url, tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), 40)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "synced 2 commands globally" in out.decode()
    assert {c["name"] for c in twin.commands()} == {"case", "watch"}
    assert feed_server.hits["/f.xml"] == 0  # a sync is not a poll


async def test_an_alert_from_a_real_shaped_feed_credits_the_wire_and_shows_its_picture(
    world: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = world["twin"]
    wire_copies = Path(__file__).parent / "fixtures" / "feeds" / "outlets" / "wire-copies.xml"
    async with subscribed_bot(world, feed_server, tmp_path) as (bot, _app, clock):
        feed_server.route("/f.xml", wire_copies.read_bytes())
        clock.advance(3600)
        await bot.poll_tick()
        msgs = await twin.wait_for_messages(world["alerts1"], 2)

    embeds = {m["embeds"][0]["title"]: m["embeds"][0] for m in msgs}
    embed = embeds["China rejects call for ICC inquiry into Uyghur deportations"]
    assert embed["fields"][0] == {"name": "Source", "value": "AP", "inline": True}
    assert embed["description"].startswith("China on Monday rejected a call")
    assert embed["thumbnail"]["url"] == (
        "https://daily.example.com/images/2026/03/02/beijing-briefing.jpg"
    )
