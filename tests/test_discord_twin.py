"""The Discord twin, specified two ways: the real discord.py client running against it, and raw
REST/gateway calls that pin down the Discord behaviour the twin promises to reproduce."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from casewatch.clock import FakeClock
from cogs.endpoints import (
    current_discord_endpoints,
    point_discord_at,
    point_discord_from_env,
    reset_discord_endpoints,
)
from tests.discord_twin import (
    ADMINISTRATOR,
    FLAG_EPHEMERAL,
    MANAGE_GUILD,
    DiscordTwin,
    TwinChannel,
    TwinGuild,
)

pytestmark = pytest.mark.timeout(20)


# -- a tiny bot ---------------------------------------------------------------------------------


class Pager(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.page = 1

    @discord.ui.button(label="Next", custom_id="pages:next")
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.page += 1
        await interaction.response.edit_message(content=f"page {self.page}", view=self)

    @discord.ui.button(label="Mark read", custom_id="pages:read")
    async def mark_read(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"page {self.page} (read)")


class Question(discord.ui.Modal, title="Ask the bot"):
    question: discord.ui.TextInput = discord.ui.TextInput(
        label="Question", custom_id="question", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"asked: {self.question.value}", ephemeral=True)


class TinyBot(commands.Bot):
    def __init__(self, trace: aiohttp.TraceConfig) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
            http_trace=trace,
        )
        self.resumed = asyncio.Event()
        self.tree.add_command(ping)
        self.tree.add_command(grp)
        self.tree.add_command(pages)
        self.tree.add_command(slow)
        self.tree.add_command(ask)
        self.tree.add_command(where)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before every re-IDENTIFY; the twin has no identify rate limit.
        return None

    async def on_resumed(self) -> None:
        self.resumed.set()


@app_commands.command(description="Is the bot there?")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong")


grp = app_commands.Group(name="grp", description="A group")


@grp.command(description="A sub-command with an integer")
@app_commands.describe(option="Any integer")
async def sub(interaction: discord.Interaction, option: int) -> None:
    await interaction.response.send_message(f"twice {option} is {option * 2}", ephemeral=True)


@app_commands.command(description="A paged answer")
async def pages(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("page 1", view=Pager())


@app_commands.command(description="Thinks first, answers later")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    await asyncio.sleep(0.05)
    await interaction.followup.send("done thinking")


@app_commands.command(description="Opens a form")
async def ask(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(Question())


@app_commands.command(description="Channel and role options")
@app_commands.describe(channel="A text channel", role="A role")
async def where(
    interaction: discord.Interaction, channel: discord.TextChannel, role: discord.Role
) -> None:
    await interaction.response.send_message(f"{channel.name} / {role.name}")


@dataclass
class Running:
    twin: DiscordTwin
    bot: TinyBot
    guild: TwinGuild
    alerts: TwinChannel
    hidden: TwinChannel
    readonly: TwinChannel
    urls: list[yarl.URL] = field(default_factory=list)

    def channel(self, channel: TwinChannel) -> discord.TextChannel:
        found = self.bot.get_channel(channel.id)
        assert isinstance(found, discord.TextChannel), f"bot has no channel {channel.name}"
        return found


@pytest.fixture
async def running(discord_at_twin: DiscordTwin) -> AsyncIterator[Running]:
    twin = discord_at_twin
    guild = twin.add_guild("Uyghur case watch")
    alerts = twin.add_channel(guild, "alerts")
    hidden = twin.add_channel(guild, "moderators", bot_can_view=False)
    readonly = twin.add_channel(guild, "announcements", bot_can_send=False)
    urls: list[yarl.URL] = []

    async def on_request_start(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        urls.append(params.url)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    bot = TinyBot(trace)
    task = asyncio.create_task(bot.start(twin.token))
    try:
        await twin.wait_ready(5)
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        yield Running(twin, bot, guild, alerts, hidden, readonly, urls)
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)


async def synced(run: Running) -> None:
    await run.bot.tree.sync()


# -- the real discord.py client against the twin ------------------------------------------------


async def test_bot_logs_in_and_is_ready_with_the_twins_guild_and_channels(running: Running) -> None:
    bot, twin = running.bot, running.twin
    assert bot.user is not None and bot.user.id == twin.bot_user_id
    assert bot.application_id == twin.application_id
    assert len(twin.requests_to("GET", "/gateway/bot")) == 1  # asked at connect time
    assert [g.name for g in bot.guilds] == ["Uyghur case watch"]
    guild = bot.guilds[0]
    assert {c.name for c in guild.text_channels} == {"alerts", "moderators", "announcements"}
    me = guild.me
    assert running.channel(running.alerts).permissions_for(me).send_messages
    assert not running.channel(running.hidden).permissions_for(me).view_channel
    assert not running.channel(running.readonly).permissions_for(me).send_messages


async def test_tree_sync_registers_commands_with_ids_and_keeps_them_on_resync(
    running: Running,
) -> None:
    first = await running.bot.tree.sync()
    stored = {c["name"]: c for c in running.twin.commands()}
    assert set(stored) == {"ping", "grp", "pages", "slow", "ask", "where"}
    assert {c.name: c.id for c in first} == {n: int(c["id"]) for n, c in stored.items()}
    sub_option = stored["grp"]["options"][0]["options"][0]
    assert (sub_option["name"], sub_option["type"], sub_option["required"]) == ("option", 4, True)
    again = await running.bot.tree.sync()
    assert {c.name: c.id for c in again} == {c.name: c.id for c in first}


async def test_guild_sync_is_stored_per_guild_and_invoked_as_a_guild_command(
    running: Running,
) -> None:
    bot = running.bot
    guild = discord.Object(id=running.guild.id)
    bot.tree.copy_global_to(guild=guild)
    await bot.tree.sync(guild=guild)
    assert running.twin.commands() == []
    assert "ping" in {c["name"] for c in running.twin.commands(running.guild)}
    result = await running.twin.invoke("ping", guild=running.guild)
    assert result.payload["data"]["guild_id"] == str(running.guild.id)
    assert (await result.wait_response(3)).content == "pong"


async def test_slash_command_gets_the_bots_answer_in_the_channel(running: Running) -> None:
    await synced(running)
    result = await running.twin.invoke("ping", channel=running.alerts)
    await result.wait_response(3)
    assert result.callback_type == 4
    assert result.content == "pong"
    assert not result.ephemeral
    assert [m["content"] for m in running.twin.messages(running.alerts)] == ["pong"]


async def test_subcommand_option_typed_from_schema_and_ephemeral_reply_has_flag_64(
    running: Running,
) -> None:
    await synced(running)
    result = await running.twin.invoke(("grp", "sub"), {"option": 21})
    await result.wait_response(3)
    assert result.content == "twice 21 is 42"
    assert result.flags & FLAG_EPHEMERAL == 64
    assert running.twin.messages(running.alerts) == []  # ephemeral answers are not in the channel
    with pytest.raises(TypeError, match="integer"):
        await running.twin.invoke("grp sub", {"option": "21"})
    with pytest.raises(ValueError, match="required option 'option'"):
        await running.twin.invoke("grp sub")


async def test_channel_and_role_options_arrive_resolved_as_discordpy_expects(
    running: Running,
) -> None:
    await synced(running)
    role = running.twin.add_role(running.guild, "reviewers")
    result = await running.twin.invoke("where", {"channel": running.alerts, "role": role})
    assert (await result.wait_response(3)).content == "alerts / reviewers"
    resolved = result.payload["data"]["resolved"]
    assert set(resolved) == {"channels", "roles"}
    with pytest.raises(ValueError, match="no option 'colour'"):
        await running.twin.invoke("where", {"channel": running.alerts, "role": role, "colour": 1})


async def test_a_file_upload_is_stored_with_its_bytes_and_the_embed_as_sent(
    running: Running,
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    picture = discord.Embed(title="Coverage").set_image(url="attachment://coverage.png")
    channel = running.channel(running.alerts)
    await channel.send(file=discord.File(io.BytesIO(png), "coverage.png"), embed=picture)
    (message,) = running.twin.messages(running.alerts)
    (attachment,) = message["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("coverage.png", len(png))
    assert running.twin.attachment_bytes(attachment["id"]) == png
    assert message["embeds"] == [picture.to_dict()]


async def test_sending_twice_with_the_same_nonce_creates_one_message(running: Running) -> None:
    channel = running.channel(running.alerts)
    first = await channel.send("ICC: request to reconsider", nonce="outbox-17")
    second = await channel.send("ICC: request to reconsider", nonce="outbox-17")
    assert first.id == second.id
    assert len(running.twin.messages(running.alerts)) == 1
    sent = running.twin.requests_to("POST", rf"/channels/{running.alerts.id}/messages")
    assert [r.json["enforce_nonce"] for r in sent] == [True, True]


async def test_a_429_is_retried_by_discordpy_and_the_message_lands_once(running: Running) -> None:
    twin = running.twin
    path = rf"/channels/{running.alerts.id}/messages"
    twin.fail_next("POST", path, status=429, retry_after=0.3)
    started = time.monotonic()
    await running.channel(running.alerts).send("after a rate limit")
    assert time.monotonic() - started >= 0.3
    assert [r.status for r in twin.requests_to("POST", path)] == [429, 200]
    assert [m["content"] for m in twin.messages(running.alerts)] == ["after a rate limit"]


async def test_a_500_is_retried_and_a_503_is_raised(running: Running) -> None:
    twin = running.twin
    path = rf"/channels/{running.alerts.id}/messages"
    twin.fail_next("POST", path, status=500)
    await running.channel(running.alerts).send("after a server error")
    assert [r.status for r in twin.requests_to("POST", path)] == [500, 200]
    twin.fail_next("POST", path, status=503)
    with pytest.raises(discord.DiscordServerError):
        await running.channel(running.alerts).send("not retried")
    assert len(twin.messages(running.alerts)) == 1


async def test_an_over_long_embed_is_refused_with_400_50035(running: Running) -> None:
    channel = running.channel(running.alerts)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="t", description="x" * 4097))
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert "embeds.0.description" in caught.value.text
    big = [discord.Embed(description="y" * 4000), discord.Embed(description="z" * 2001)]
    with pytest.raises(discord.HTTPException, match="6000"):
        await channel.send(embeds=big)
    assert running.twin.messages(running.alerts) == []


async def test_dropped_gateway_resumes_at_the_resume_url_and_answers_the_next_command(
    running: Running,
) -> None:
    await synced(running)
    twin = running.twin
    await twin.drop_gateway(resume=True)
    await asyncio.wait_for(running.bot.resumed.wait(), 5)
    await twin.wait_ready(5)
    last = twin.gateway_connections[-1]
    assert (last.path, last.resumed, last.identified) == ("/gateway-resume", True, False)
    assert twin.gateway_connections[0].close_code == 4000
    result = await twin.invoke("ping")
    assert (await result.wait_response(3)).content == "pong"


async def test_invalid_session_makes_the_bot_identify_again(running: Running) -> None:
    await synced(running)
    twin = running.twin
    await twin.drop_gateway(resume=False)
    await twin.wait_ready(5)
    last = twin.gateway_connections[-1]
    assert last.identified and not last.resumed
    assert len({c.session_id for c in twin.gateway_connections}) == 2
    result = await twin.invoke("ping")
    assert (await result.wait_response(3)).content == "pong"


async def test_permission_and_deleted_channel_errors_reach_discordpy_as_exceptions(
    running: Running,
) -> None:
    bot, twin = running.bot, running.twin
    with pytest.raises(discord.Forbidden) as hidden:
        await running.channel(running.hidden).send("x")
    assert hidden.value.code == 50001
    with pytest.raises(discord.Forbidden) as readonly:
        await running.channel(running.readonly).send("x")
    assert readonly.value.code == 50013
    stale = running.channel(running.alerts)
    twin.delete_channel(running.alerts)
    with pytest.raises(discord.NotFound) as gone:
        await stale.send("x")
    assert gone.value.code == 10003
    with pytest.raises(discord.NotFound):
        await bot.fetch_channel(running.alerts.id)


async def test_clicking_a_button_updates_the_paged_message(running: Running) -> None:
    await synced(running)
    twin = running.twin
    shown = await (await twin.invoke("pages")).wait_response(3)
    assert shown.content == "page 1"
    click = await twin.click(shown, "pages:next")
    await click.wait_response(3)
    assert click.callback_type == 7
    assert click.message is not None and click.message["id"] == shown.message["id"]  # type: ignore[index]
    assert shown.content == "page 2"
    await (await twin.click(shown, "pages:next")).wait_response(3)
    assert twin.messages(running.alerts)[0]["content"] == "page 3"


async def test_a_deferred_click_then_edit_changes_the_clicked_message(running: Running) -> None:
    await synced(running)
    twin = running.twin
    shown = await (await twin.invoke("pages")).wait_response(3)
    click = await (await twin.click(shown, "pages:read")).wait_response(3)
    assert click.callback_type == 6
    assert shown.content == click.content == "page 1 (read)"
    assert len(twin.messages(running.alerts)) == 1


async def test_the_bot_sees_its_own_messages_come_back_and_can_edit_read_and_delete(
    running: Running,
) -> None:
    bot, twin = running.bot, running.twin
    channel = running.channel(running.alerts)
    echoed = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.content == "first"))
    sent = await channel.send("first")
    assert (await asyncio.wait_for(echoed, 3)).id == sent.id
    await channel.send("second")
    assert [m["content"] for m in await twin.wait_for_messages(running.alerts, 2)] == [
        "first",
        "second",
    ]
    edited = asyncio.ensure_future(bot.wait_for("raw_message_edit"))
    await sent.edit(content="first, corrected")
    assert (await asyncio.wait_for(edited, 3)).message_id == sent.id
    assert [m.content async for m in channel.history(limit=10)] == ["second", "first, corrected"]
    deleted = asyncio.ensure_future(bot.wait_for("raw_message_delete"))
    await sent.delete()
    assert (await asyncio.wait_for(deleted, 3)).message_id == sent.id
    assert [m["content"] for m in twin.messages(running.alerts)] == ["second"]


async def test_deferred_answer_is_resolved_by_the_first_followup(running: Running) -> None:
    await synced(running)
    result = await running.twin.invoke("slow")
    assert await result.wait_ack(3) == 5
    await result.wait_response(3)
    assert result.content == "done thinking"
    assert result.ephemeral
    assert result.followups == []  # the first follow-up took the place of "thinking..."


async def test_modal_submission_reaches_the_bot(running: Running) -> None:
    await synced(running)
    twin = running.twin
    opened = await (await twin.invoke("ask")).wait_response(3)
    assert opened.callback_type == 9 and opened.modal is not None
    assert opened.modal["title"] == "Ask the bot"
    answer = await (
        await twin.submit_modal(opened, {"question": "is Tajikistan a party?"})
    ).wait_response(3)
    assert answer.content == "asked: is Tajikistan a party?"
    assert answer.ephemeral


async def test_every_request_of_the_bot_stays_on_the_loopback_twin(running: Running) -> None:
    await synced(running)
    await running.channel(running.alerts).send("hello")
    await (await running.twin.invoke("ping")).wait_response(3)
    hosts = {u.host for u in running.urls}
    assert hosts == {"127.0.0.1"}, hosts
    assert any(u.path == "/gateway" for u in running.urls)
    assert all(r.status < 400 for r in running.twin.requests), running.twin.requests
    authed = [
        r for r in running.twin.requests if not r.path.startswith(("/interactions", "/webhooks"))
    ]
    assert all(r.headers.get("Authorization") == f"Bot {running.twin.token}" for r in authed)


# -- cogs.endpoints -------------------------------------------------------------------------------


def test_pointing_discord_is_undone_by_reset_and_a_noop_without_addresses() -> None:
    original = current_discord_endpoints()
    point_discord_at(None, None)
    assert current_discord_endpoints() == original
    try:
        point_discord_at("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/gateway")
        assert current_discord_endpoints() == (
            "http://127.0.0.1:9/api/v10",
            "ws://127.0.0.1:9/gateway",
        )
    finally:
        reset_discord_endpoints()
    assert current_discord_endpoints() == original
    with pytest.raises(ValueError, match="DISCORD_API_BASE"):
        point_discord_from_env({"DISCORD_API_BASE": "127.0.0.1:9/api"})
    assert point_discord_from_env({}) is False
    assert current_discord_endpoints() == original


async def test_fixed_gateway_url_is_dialled_without_asking_the_api(
    discord_twin: DiscordTwin,
) -> None:
    twin = discord_twin
    twin.add_guild("g")
    point_discord_at(twin.api_base, twin.gateway_url)
    bot = TinyBot(aiohttp.TraceConfig())
    task = asyncio.create_task(bot.start(twin.token))
    try:
        await twin.wait_ready(5)
        assert twin.requests_to("GET", "/gateway/bot") == []
        assert twin.gateway_connections[0].query["compress"] == "zlib-stream"
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)
        reset_discord_endpoints()


# -- the twin's Discord behaviour, over raw REST and websocket -----------------------------------


class Raw:
    """A bare HTTP client on the twin's API, as Discord's own docs describe the calls."""

    def __init__(self, twin: DiscordTwin, session: aiohttp.ClientSession) -> None:
        self.twin = twin
        self.session = session

    async def call(
        self, method: str, path: str, body: Any = None, *, auth: bool = True, **params: str
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bot {self.twin.token}"} if auth else {}
        async with self.session.request(
            method, self.twin.api_base + path, json=body, headers=headers, params=params
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)


@pytest.fixture
async def raw(discord_twin: DiscordTwin) -> AsyncIterator[Raw]:
    async with aiohttp.ClientSession() as session:
        yield Raw(discord_twin, session)


def error_paths(errors: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in errors.items():
        if key == "_errors":
            found.add(prefix)
        else:
            found |= error_paths(value, f"{prefix}.{key}" if prefix else key)
    return found


def embed(**fields: Any) -> dict[str, Any]:
    return {"type": "rich", **fields}


LIMIT_CASES = [
    ({"content": "c" * 2001}, "content"),
    ({"content": "\N{GRINNING FACE}" * 2001}, "content"),
    ({"embeds": [embed(title="t" * 257)]}, "embeds.0.title"),
    ({"embeds": [embed(description="d" * 4097)]}, "embeds.0.description"),
    ({"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]}, "embeds.0.fields"),
    ({"embeds": [embed(fields=[{"name": "n" * 257, "value": "v"}])]}, "embeds.0.fields.0.name"),
    ({"embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]}, "embeds.0.fields.0.value"),
    ({"embeds": [embed(footer={"text": "f" * 2049})]}, "embeds.0.footer.text"),
    ({"embeds": [embed(author={"name": "a" * 257})]}, "embeds.0.author.name"),
    ({"embeds": [embed(description="d" * 4000), embed(description="d" * 2001)]}, "embeds"),
    ({"embeds": [embed(title="t")] * 11}, "embeds"),
    ({"embeds": [embed(url="javascript:alert(1)")]}, "embeds.0.url"),
    ({"content": "x", "nonce": "n" * 26}, "nonce"),
]


@pytest.mark.parametrize(("body", "path"), LIMIT_CASES)
async def test_message_over_a_discord_limit_is_400_50035_naming_the_field(
    raw: Raw, body: dict[str, Any], path: str
) -> None:
    channel = raw.twin.add_channel(raw.twin.add_guild("g"), "alerts")
    status, data = await raw.call("POST", f"/channels/{channel.id}/messages", body)
    assert (status, data["code"]) == (400, 50035)
    assert path in error_paths(data["errors"])
    assert raw.twin.messages(channel) == []


async def test_messages_exactly_at_the_limits_are_accepted(raw: Raw) -> None:
    channel = raw.twin.add_channel(raw.twin.add_guild("g"), "alerts")
    full = embed(
        title="t" * 256,
        description="d" * 2000,
        fields=[{"name": "n" * 256, "value": "v" * 1024}] * 2,
        footer={"text": "f" * 200},
        author={"name": "a" * 256},
    )
    assert sum(len(s) for s in ("t" * 256, "d" * 2000, "f" * 200, "a" * 256)) + 2 * 1280 == 5272
    body = {"content": "\N{GRINNING FACE}" * 2000, "embeds": [full, embed(description="e" * 728)]}
    status, data = await raw.call("POST", f"/channels/{channel.id}/messages", body)
    assert status == 200, data
    assert raw.twin.messages(channel)[0]["embeds"] == body["embeds"]


async def test_an_empty_message_is_refused_and_auth_is_required(raw: Raw) -> None:
    channel = raw.twin.add_channel(raw.twin.add_guild("g"), "alerts")
    status, data = await raw.call("POST", f"/channels/{channel.id}/messages", {"content": ""})
    assert (status, data["code"]) == (400, 50006)
    status, data = await raw.call("GET", "/users/@me", auth=False)
    assert status == 401
    status, data = await raw.call("GET", "/no/such/endpoint")
    assert status == 404


async def test_allowed_mentions_decide_who_is_pinged(raw: Raw) -> None:
    twin = raw.twin
    guild = twin.add_guild("g")
    channel = twin.add_channel(guild, "alerts")
    reader = twin.add_member(guild, "reader")
    text = f"@everyone see <@{reader.id}>"
    path = f"/channels/{channel.id}/messages"
    _, muted = await raw.call("POST", path, {"content": text, "allowed_mentions": {"parse": []}})
    assert (muted["mention_everyone"], muted["mentions"]) == (False, [])
    _, default = await raw.call("POST", path, {"content": text})
    assert default["mention_everyone"] is False  # the bot lacks MENTION_EVERYONE
    assert [u["id"] for u in default["mentions"]] == [str(reader.id)]


async def test_a_repeated_nonce_after_the_window_creates_a_new_message() -> None:
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    async with DiscordTwin(clock=clock) as twin, aiohttp.ClientSession() as session:
        raw = Raw(twin, session)
        channel = twin.add_channel(twin.add_guild("g"), "alerts")
        body = {"content": "hi", "nonce": "outbox-1", "enforce_nonce": True}
        path = f"/channels/{channel.id}/messages"
        _, first = await raw.call("POST", path, body)
        clock.advance(120)
        _, again = await raw.call("POST", path, body)
        assert again["id"] == first["id"]
        clock.advance(301)
        _, later = await raw.call("POST", path, body)
        assert later["id"] != first["id"]
        assert len(twin.messages(channel)) == 2


async def test_incoming_webhook_posts_with_wait_and_checks_its_token(raw: Raw) -> None:
    twin = raw.twin
    channel = twin.add_channel(twin.add_guild("g"), "alerts")
    hook = twin.add_webhook(channel, "casewatch")
    async with raw.session.post(
        hook.url, params={"wait": "true"}, json={"content": "new story", "username": "UN News"}
    ) as r:
        assert r.status == 200
        message = await r.json()
    assert message["webhook_id"] == str(hook.id)
    assert message["author"]["username"] == "UN News"
    async with raw.session.post(hook.url, json={"content": "no wait"}) as r:
        assert r.status == 204
    async with raw.session.post(hook.url + "x", json={"content": "bad token"}) as r:
        assert r.status == 401 and (await r.json())["code"] == 50027
    assert [m["content"] for m in twin.messages(channel)] == ["new story", "no wait"]


async def test_command_names_are_checked_and_ids_kept_on_overwrite(raw: Raw) -> None:
    path = f"/applications/{raw.twin.application_id}/commands"
    status, data = await raw.call("PUT", path, [{"name": "Case", "description": "d"}])
    assert (status, data["code"]) == (400, 50035)
    assert "0.name" in error_paths(data["errors"])
    good = [{"name": "case", "description": "the case"}, {"name": "watch", "description": "w"}]
    _, first = await raw.call("PUT", path, good)
    _, second = await raw.call("PUT", path, good[:1])
    assert [c["id"] for c in second] == [first[0]["id"]]
    assert [c["name"] for c in raw.twin.commands()] == ["case"]


# -- the gateway protocol, with a bare websocket ------------------------------------------------


class RawGateway:
    """A minimal gateway client: zlib-stream decoding, like discord.py's."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.inflate = zlib.decompressobj()
        self.buffer = bytearray()

    async def receive(self) -> dict[str, Any]:
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), 3)
            if msg.type is aiohttp.WSMsgType.BINARY:
                self.buffer.extend(msg.data)
                if bytes(self.buffer[-4:]) != b"\x00\x00\xff\xff":
                    continue
                text = self.inflate.decompress(bytes(self.buffer)).decode()
                self.buffer.clear()
                return dict(json.loads(text))
            if msg.type is aiohttp.WSMsgType.TEXT:
                return dict(json.loads(msg.data))
            return {"closed": self.ws.close_code}

    async def send(self, op: int, d: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": d}))


async def open_gateway(session: aiohttp.ClientSession, url: str) -> RawGateway:
    ws = await session.ws_connect(
        url, params={"v": "10", "encoding": "json", "compress": "zlib-stream"}
    )
    return RawGateway(ws)


async def test_gateway_hello_identify_ready_guilds_heartbeat_in_zlib_stream(
    discord_twin: DiscordTwin,
) -> None:
    twin = discord_twin
    guild = twin.add_guild("g")
    async with aiohttp.ClientSession() as session:
        gw = await open_gateway(session, twin.gateway_url)
        hello = await gw.receive()
        assert (hello["op"], hello["d"]["heartbeat_interval"]) == (10, 500)
        await gw.send(2, {"token": twin.token, "intents": 513, "properties": {}})
        ready = await gw.receive()
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["guilds"] == [{"id": str(guild.id), "unavailable": True}]
        assert ready["d"]["resume_gateway_url"] == twin.resume_gateway_url
        created = await gw.receive()
        assert (created["t"], created["s"], created["d"]["name"]) == ("GUILD_CREATE", 2, "g")
        await twin.wait_ready(1)
        await gw.send(1, 2)
        assert (await gw.receive())["op"] == 11
        await gw.ws.close()


async def test_resume_replays_the_events_missed_while_disconnected(
    discord_twin: DiscordTwin,
) -> None:
    twin = discord_twin
    guild = twin.add_guild("g")
    async with aiohttp.ClientSession() as session:
        gw = await open_gateway(session, twin.gateway_url)
        await gw.receive()
        await gw.send(2, {"token": twin.token, "intents": 513, "properties": {}})
        session_id = (await gw.receive())["d"]["session_id"]
        await gw.receive()
        drop = asyncio.create_task(twin.drop_gateway(resume=True))
        assert (await gw.receive()) == {"closed": 4000}
        await drop
        twin.add_channel(guild, "missed")
        again = await open_gateway(session, twin.resume_gateway_url)
        await again.receive()
        await again.send(6, {"token": twin.token, "session_id": session_id, "seq": 2})
        missed = await again.receive()
        assert (missed["t"], missed["s"], missed["d"]["name"]) == ("CHANNEL_CREATE", 3, "missed")
        assert (await again.receive())["t"] == "RESUMED"
        await again.ws.close()
        stale = await open_gateway(session, twin.resume_gateway_url)
        await stale.receive()
        await stale.send(6, {"token": twin.token, "session_id": session_id, "seq": 4})
        assert (await stale.receive()) == {"op": 9, "d": False}  # a clean close ended the session
        await stale.ws.close()


async def test_a_wrong_token_on_identify_closes_with_4004(discord_twin: DiscordTwin) -> None:
    async with aiohttp.ClientSession() as session:
        gw = await open_gateway(session, discord_twin.gateway_url)
        await gw.receive()
        await gw.send(2, {"token": "not-the-token", "intents": 513, "properties": {}})
        assert await gw.receive() == {"closed": 4004}


async def test_a_late_or_second_callback_is_refused_like_discord() -> None:
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    async with DiscordTwin(clock=clock) as twin, aiohttp.ClientSession() as session:
        raw = Raw(twin, session)
        twin.add_channel(twin.add_guild("g"), "alerts")
        await raw.call(
            "PUT",
            f"/applications/{twin.application_id}/commands",
            [{"name": "ping", "description": "p"}],
        )
        gw = await open_gateway(session, twin.gateway_url)
        await gw.receive()
        await gw.send(2, {"token": twin.token, "intents": 513, "properties": {}})
        await twin.wait_ready(2)
        late = await twin.invoke("ping")
        clock.advance(3.5)
        path = f"/interactions/{late.id}/{late.token}/callback"
        status, data = await raw.call(
            "POST", path, {"type": 4, "data": {"content": "x"}}, auth=False
        )
        assert (status, data["code"]) == (404, 10062)
        prompt = await twin.invoke("ping")
        path = f"/interactions/{prompt.id}/{prompt.token}/callback"
        ok, _ = await raw.call("POST", path, {"type": 4, "data": {"content": "x"}}, auth=False)
        again, data = await raw.call(
            "POST", path, {"type": 4, "data": {"content": "y"}}, auth=False
        )
        assert (ok, again, data["code"]) == (204, 400, 40060)
        assert prompt.content == "x"
        await gw.ws.close()


async def test_invoke_respects_default_member_permissions_and_reports_permissions(
    discord_twin: DiscordTwin,
) -> None:
    twin = discord_twin
    guild = twin.add_guild("g")
    alerts = twin.add_channel(guild, "alerts")
    reader = twin.add_member(guild, "reader")
    moderator = twin.add_member(guild, "moderator", permissions=MANAGE_GUILD)
    admin_only = {"name": "purge", "description": "admins", "default_member_permissions": "32"}
    async with aiohttp.ClientSession() as session:
        raw = Raw(twin, session)
        await raw.call("PUT", f"/applications/{twin.application_id}/commands", [admin_only])
        gw = await open_gateway(session, twin.gateway_url)
        await gw.receive()
        await gw.send(2, {"token": twin.token, "intents": 513, "properties": {}})
        await twin.wait_ready(2)
        with pytest.raises(PermissionError, match="purge"):
            await twin.invoke("purge", member=reader)
        await twin.invoke("purge", member=reader, bypass_default_permissions=True)
        result = await twin.invoke("purge", member=moderator, channel=alerts)
        events = [await gw.receive() for _ in range(3)]  # READY, GUILD_CREATE, 1st interaction
        delivered = await gw.receive()
        assert [e["t"] for e in events] == ["READY", "GUILD_CREATE", "INTERACTION_CREATE"]
        assert delivered["d"] == result.payload
        member_perms = int(delivered["d"]["member"]["permissions"])
        assert member_perms & MANAGE_GUILD and not member_perms & ADMINISTRATOR
        assert int(delivered["d"]["app_permissions"]) == int(
            twin.world.channel_permissions(alerts, twin.bot_member(guild))
        )
        await gw.ws.close()
