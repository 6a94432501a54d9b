"""/watch: what server admins configure. Hidden by default_permissions, enforced by a real check."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from casewatch import corrections, render
from casewatch.parse import parse_feed
from casewatch.render import AlertView
from casewatch.sourcelist import display_name
from cogs.alerts import missing_permissions
from cogs.errors import UserError
from storage import destinations, sources
from storage import notices as notice_store
from storage.db import Database
from storage.sources import SourceSpec

if TYPE_CHECKING:
    from bot import CasewatchBot

_ZONES = sorted(available_timezones())
_ZONE_SET = frozenset(_ZONES)
KINDS = {"all": ("news", "court"), "news": ("news",), "court": ("court",)}


def parse_time(text: str) -> str:
    m = re.fullmatch(r"\s*([01]?\d|2[0-3])[:h.]([0-5]\d)\s*", text)
    if not m:
        raise UserError(f"`time`: {text!r} is not a time like 08:00 or 18:30 (24-hour clock).")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def parse_zone(text: str) -> str:
    # Canonical keys only (what available_timezones() lists, so ZoneInfo loads them): not
    # "posix/..." or case variants a case-insensitive filesystem would accept here only.
    if text.strip() not in _ZONE_SET:
        raise UserError(
            f"`timezone`: {text!r} is not a time zone; pick one from the list (e.g. Europe/Berlin)."
        )
    return text.strip()


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class WatchCog(
    commands.GroupCog,
    group_name="watch",
    group_description="Admin: where casewatch posts and what it watches",
):
    def __init__(self, bot: CasewatchBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def db(self) -> Database:
        return self.bot.app.db

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """The real check: default_permissions only hides the commands in the client."""
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        perms = interaction.permissions
        if not (perms.manage_guild or perms.administrator):
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    def _guild(self, interaction: discord.Interaction) -> str:
        return str(interaction.guild_id)

    @staticmethod
    def _postable(
        channel: discord.TextChannel, *, embeds: bool, files: bool = False
    ) -> discord.Permissions:
        """The bot's permissions in `channel`, or a UserError naming those it lacks to post."""
        perms = channel.permissions_for(channel.guild.me)
        missing = missing_permissions(perms, embeds=embeds, files=files)
        if missing:
            raise UserError(f"I cannot post in {channel.mention}: missing {', '.join(missing)}.")
        return perms

    @app_commands.command(
        name="alerts", description="Post an alert in a channel for every new story"
    )
    @app_commands.describe(
        channel="Where alerts go",
        role="A role to ping with each alert (optional)",
        kinds="Which stories: all, only news or only court developments",
        ping="Which alerts ping the role: all, or only court developments",
    )
    async def alerts(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        role: discord.Role | None = None,
        kinds: Literal["all", "news", "court"] = "all",
        ping: Literal["all", "court"] = "all",
    ) -> None:
        perms = self._postable(channel, embeds=True)
        if role is not None and role.is_default():
            raise UserError("Pick a role to ping; @everyone cannot be pinged as a role.")
        destinations.upsert(
            self.db,
            type="discord",
            purpose="alerts",
            now=self.bot.app.clock.now(),
            guild_id=self._guild(interaction),
            channel_id=str(channel.id),
            role_id=str(role.id) if role and ping == "all" else None,
            court_role_id=str(role.id) if role and ping == "court" else None,
            kinds=KINDS[kinds],
        )
        who = (
            f", pinging {role.mention}" + (" for court developments" if ping == "court" else "")
            if role
            else ""
        )
        if role is not None and not (role.mentionable or perms.mention_everyone):
            # Discord drops the mention silently: say so now rather than never ping.
            who += (
                f". Note: {role.mention} is not mentionable and I lack Mention @everyone, @here "
                f"and All Roles in {channel.mention}, so it will not actually be pinged"
            )
        await interaction.response.send_message(
            f"Alerts for {kinds} stories will be posted in {channel.mention}{who}.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="digest", description="Post a digest in a channel, daily or weekly")
    @app_commands.describe(
        channel="Where the digest goes",
        frequency="Daily, or weekly (Mondays)",
        time="Local time, 24-hour clock, e.g. 08:00",
        timezone="IANA time zone, e.g. Europe/London",
        empty="When nothing happened: skip the digest or say so",
    )
    async def digest(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        frequency: Literal["daily", "weekly"],
        time: str,
        timezone: str,
        empty: Literal["skip", "say"] = "skip",
    ) -> None:
        at = parse_time(time)
        zone = parse_zone(timezone)
        self._postable(channel, embeds=False, files=frequency == "weekly")  # weekly: the chart
        destinations.upsert(
            self.db,
            type="discord",
            purpose="digest",
            now=self.bot.app.clock.now(),
            guild_id=self._guild(interaction),
            channel_id=str(channel.id),
            frequency=frequency,
            at_time=at,
            timezone=zone,
            empty_mode=empty,
        )
        await interaction.response.send_message(
            f"A {frequency} digest will be posted in {channel.mention} at {at} ({zone}).",
            ephemeral=True,
        )

    @digest.autocomplete("timezone")
    async def _zones(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower().replace(" ", "_")
        return [app_commands.Choice(name=z, value=z) for z in _ZONES if needle in z.lower()][:25]

    @app_commands.command(
        name="notices", description="Where admin notices about sources go (failing, recovered)"
    )
    @app_commands.describe(
        channel="An admins' channel; leave empty to stop posting notices in this server"
    )
    async def notices(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        if channel is not None:
            self._postable(channel, embeds=True)
        notice_store.set_channel(
            self.db,
            guild_id=self._guild(interaction),
            channel_id=str(channel.id) if channel else None,
            now=self.bot.app.clock.now(),
        )
        text = (
            f"Admin notices (sources failing, recovering or going quiet) will be posted in "
            f"{channel.mention}, one message per poll cycle."
            if channel
            else "Admin notices will not be posted in this server; the bot's owner gets them by "
            "direct message, and the log keeps them. "
            "`/case sources` shows every source's health."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="stop", description="Stop alerts and digests in a channel")
    @app_commands.describe(channel="The channel to stop posting in")
    async def stop(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        n = destinations.stop(
            self.db, type="discord", guild_id=self._guild(interaction), channel_id=str(channel.id)
        )
        text = (
            f"Stopped {n} subscription(s) in {channel.mention}."
            if n
            else f"Nothing was posted in {channel.mention}."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="test", description="Post a sample alert in a channel")
    @app_commands.describe(channel="Where to post the sample")
    @app_commands.checks.cooldown(1, 30.0, key=lambda i: i.guild_id)
    async def test(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        now = self.bot.app.clock.now()
        sample = AlertView(
            story_id=0,
            title="Sample alert: this is how a new development will look",
            url=None,
            source="casewatch",
            outlets=["casewatch"],
            published=now,
            first_seen=now,
            summary=(
                "A real alert shows the headline, the first sentences of the report, the outlet "
                "that published it and when; later outlets are added to the same message."
            ),
            kind="news",
            matched=[],
        )
        self._postable(channel, embeds=True)
        # A channel send can wait on a rate limit: answer (defer) within Discord's 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await channel.send(
                embed=discord.Embed.from_dict(render.alert_embed(sample)),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            raise UserError(f"I cannot post in {channel.mention}: {exc.text}") from exc
        await interaction.followup.send(
            f"Sample alert posted in {channel.mention}.", ephemeral=True
        )

    async def _source_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower()
        guild = self._guild(interaction)
        return [
            app_commands.Choice(name=s["name"][:100], value=str(s["id"]))
            for s in sources.active(self.db)
            # Only what this server may manage: feeds.yaml's sources and its own additions.
            if (s["origin"] != "discord" or s["guild_id"] in (None, guild))
            and (needle in s["name"].lower() or needle in s["url"].lower())
        ][:25]

    def _find_source(self, interaction: discord.Interaction, source: str) -> dict:
        found = sources.find(self.db, source)
        if found is None or found["removed"]:
            raise UserError(f"No source called {source!r}. Pick one from the list.")
        if found["origin"] == "discord" and found["guild_id"] not in (
            None,
            self._guild(interaction),
        ):
            raise UserError("That source was added by another server.")
        return found

    async def _may_pause(self, interaction: discord.Interaction, found: dict) -> None:
        """A feeds.yaml source is fetched once for every server the bot is in: when there are
        several, pausing it from one would silence it everywhere, so only the owner may."""
        if (
            found["origin"] == "config"
            and len(self.bot.guilds) > 1
            and not await self.bot.is_owner(interaction.user)
        ):
            raise UserError(
                f"{found['name']} is shared by every server this bot is in; only the bot's owner "
                "can pause or resume it. `/watch alerts` with `kinds` narrows what this server gets."
            )

    @app_commands.command(name="pause", description="Stop polling a source for now")
    @app_commands.describe(source="The source to pause")
    @app_commands.autocomplete(source=_source_choices)
    async def pause(self, interaction: discord.Interaction, source: str) -> None:
        found = self._find_source(interaction, source)
        await self._may_pause(interaction, found)
        sources.set_paused(self.db, found["id"], True)
        await interaction.response.send_message(f"Paused {found['name']}.", ephemeral=True)

    @app_commands.command(name="resume", description="Poll a paused source again")
    @app_commands.describe(source="The source to resume")
    @app_commands.autocomplete(source=_source_choices)
    async def resume(self, interaction: discord.Interaction, source: str) -> None:
        found = self._find_source(interaction, source)
        await self._may_pause(interaction, found)
        sources.set_paused(self.db, found["id"], False)
        await interaction.response.send_message(f"Resumed {found['name']}.", ephemeral=True)

    @app_commands.command(
        name="add-source", description="Watch a new feed (fetched once before it is saved)"
    )
    @app_commands.describe(
        url="The feed's address (RSS, Atom or JSON Feed)", kind="News, or court developments"
    )
    @app_commands.checks.cooldown(2, 60.0, key=lambda i: i.guild_id)
    async def add_source(
        self, interaction: discord.Interaction, url: str, kind: Literal["news", "court"] = "news"
    ) -> None:
        url = url.strip()
        if not re.match(r"^https?://[^\s/]+", url):
            raise UserError("`url`: give the full address, starting with https://")
        await interaction.response.defer(ephemeral=True, thinking=True)
        fetcher = self.bot.app.fetcher
        problem = await fetcher.check_public_url(url)
        if problem:
            raise UserError(
                f"That address is refused ({problem}). Sources added from Discord must be public "
                "web addresses; the operator can allow internal ones in feeds.yaml "
                "(fetch: allow_internal: true)."
            )
        # The fetcher lifts the guard itself when feeds.yaml sets fetch.allow_internal.
        result = await fetcher.fetch(url, guard_internal=True)
        if not result.ok or result.body is None:
            raise UserError(f"I could not fetch that feed: {result.error}")
        parsed = parse_feed(result.body, content_type=result.content_type, url=result.final_url)
        if parsed.error:
            raise UserError(f"That address is not a usable feed: {parsed.error}")
        name = (parsed.feed_title or display_name(url))[:100]  # never the credentials
        sid = sources.add(
            self.db,
            SourceSpec(
                name=name, url=url, kind=kind, origin="discord", guild_id=self._guild(interaction)
            ),
            self.bot.app.clock.now(),
        )
        await interaction.followup.send(
            f"Added **{render.escape_markdown(name)}** (source {sid}, {len(parsed.entries)} entries now). "
            "Its current entries are stored without alerts; new ones will alert.",
            ephemeral=True,
        )

    @app_commands.command(
        name="remove-source", description="Stop watching a source (its items stay searchable)"
    )
    @app_commands.describe(source="The source to remove")
    @app_commands.autocomplete(source=_source_choices)
    async def remove_source(self, interaction: discord.Interaction, source: str) -> None:
        found = self._find_source(interaction, source)
        if found["origin"] == "config":
            raise UserError(
                "That source comes from feeds.yaml: pause it here, or remove it from the file."
            )
        sources.remove(self.db, found["id"])
        await interaction.response.send_message(f"Removed {found['name']}.", ephemeral=True)

    async def _may_correct(self, interaction: discord.Interaction) -> None:
        """Events are shared by every server the bot is in: when there are several, only the
        owner may split or merge (one server's admin would change the others' alerts)."""
        if len(self.bot.guilds) > 1 and not await self.bot.is_owner(interaction.user):
            raise UserError(
                "Developments are shared by every server this bot is in; only the bot's owner "
                "can split or merge them."
            )

    @app_commands.command(
        name="split", description="Take a report out of its development: an alert of its own"
    )
    @app_commands.describe(item="The item number (shown by /case story and /case search)")
    async def split(
        self, interaction: discord.Interaction, item: app_commands.Range[int, 1]
    ) -> None:
        await self._may_correct(interaction)
        try:
            done = corrections.split_item(self.db, item, now=self.bot.app.clock.now())
        except corrections.CorrectionError as exc:
            raise UserError(f"{exc}.") from exc
        await interaction.response.send_message(
            f"Item {done.item_id} is a development of its own now (story {done.story_id}); "
            "the alerts are being updated.",
            ephemeral=True,
        )

    @app_commands.command(name="merge", description="Make two developments one (one alert)")
    @app_commands.describe(
        first="An event number (`/case why` shows it)", second="The other event number"
    )
    async def merge(
        self,
        interaction: discord.Interaction,
        first: app_commands.Range[int, 1],
        second: app_commands.Range[int, 1],
    ) -> None:
        await self._may_correct(interaction)
        try:
            done = corrections.merge_events(self.db, first, second, now=self.bot.app.clock.now())
        except corrections.CorrectionError as exc:
            raise UserError(f"{exc}.") from exc
        await interaction.response.send_message(
            f"Event {done.merged} joined event {done.event_id}; its alert is being updated.",
            ephemeral=True,
        )

    @app_commands.command(name="sync", description="Owner only: register the slash commands again")
    async def sync(self, interaction: discord.Interaction) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise UserError("Only the bot's owner can sync its commands.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        count = await self.bot.sync_commands(force=True)
        await interaction.followup.send(f"Synced {count} commands.", ephemeral=True)


async def setup(bot: CasewatchBot) -> None:
    await bot.add_cog(WatchCog(bot))
