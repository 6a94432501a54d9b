"""casewatch entry point: the command line, and the Discord bot built on the core.

    python bot.py run          # Discord with DISCORD_TOKEN, else console mode
    python bot.py poll --once  # one cycle, prints the alerts it would post
    python bot.py --help       # every command

Only this file and cogs/ import discord; everything else is the Discord-free core.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import sys
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands
from dotenv import load_dotenv

from casewatch import cli
from casewatch.app import App, open_app
from casewatch.clock import Clock
from cogs.endpoints import point_discord_at
from cogs.errors import CaseTree
from storage import destinations, settings

log = logging.getLogger("casewatch.bot")

EXTENSIONS = ("cogs.alerts", "cogs.case", "cogs.watch")
# What the bot needs in a channel: read it, post, embed links, attach the chart, see history
# (to edit its own alerts), and mention roles that are not mentionable (role pings).
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    mention_everyone=True,
)
COMMAND_HASH_KEY = "command_hash"


class CasewatchBot(commands.Bot):
    """The Discord face of casewatch. Resources come in through `app`."""

    def __init__(
        self,
        app: App,
        *,
        tick: float = 30.0,
        deliver_every: float = 5.0,
        auto_sync: bool = True,
        backfill: bool = False,
        run_jobs: bool = True,
        **options: Any,
    ) -> None:
        # Slash commands only: the guilds intent gives the channel/role/permission cache that
        # delivery and /watch need. No message intents, so no on_message traffic and no
        # CommandNotFound error logged for every "@casewatch ..." message.
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            # A long 429 raises discord.RateLimited instead of sleeping inside the drain.
            max_ratelimit_timeout=30.0,
            tree_cls=CaseTree,
            help_command=None,
            **options,
        )
        self.run_jobs = run_jobs
        self.app = app
        self.tick = tick
        self.deliver_every = deliver_every
        self.auto_sync = auto_sync
        self.backfill = backfill
        self.scheduler: AsyncIOScheduler | None = None

    async def setup_hook(self) -> None:
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        if self.auto_sync:
            try:
                await self.sync_commands()
            except discord.HTTPException:
                # Alerts must flow even when Discord refuses the command payload for a while.
                log.exception("slash command sync failed; alerts continue, run `bot.py sync`")
        # Discord mode: console destinations would only pile up rows nobody reads.
        destinations.stop(self.app.db, type="console", guild_id="", channel_id="")
        if not self.run_jobs:
            return  # tests drive poll_tick/deliver_tick themselves
        # APScheduler 3 must start inside the running loop; our schedules live in our tables,
        # the jobs only tick.
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
        )
        self.scheduler.add_job(
            self.poll_tick, "interval", seconds=self.tick, next_run_time=discord.utils.utcnow()
        )
        self.scheduler.add_job(self.deliver_tick, "interval", seconds=self.deliver_every)
        self.scheduler.start()

    async def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await super().close()

    def command_payload_hash(self) -> str:
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_commands(
        self, *, force: bool = False, guild: discord.abc.Snowflake | None = None
    ) -> int:
        """Sync the command tree when its payload changed since the last sync (or when forced)."""
        digest = self.command_payload_hash()
        known = settings.get(self.app.db, "discord", COMMAND_HASH_KEY)
        if not force and guild is None and known == digest:
            log.info("slash commands unchanged; not syncing")
            return 0
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        if guild is None:
            settings.put(self.app.db, "discord", COMMAND_HASH_KEY, digest)
        log.info("synced %d slash commands", len(synced))
        return len(synced)

    async def poll_tick(self) -> None:
        """Poll due sources, schedule digests, then deliver at once."""
        self.app.heartbeat()
        try:
            report = await self.app.monitor.poll_once(backfill=self.backfill)
            self.app.schedule_digests()
            if report.outcomes:
                log.info(report.summary_line())
        except Exception:
            log.exception("poll cycle failed")
        await self.deliver_tick()

    async def deliver_tick(self) -> None:
        cog = self.get_cog("AlertsCog")
        if cog is not None:
            try:
                await cog.drain()  # type: ignore[attr-defined]
            except Exception:
                log.exception("delivery failed")


def read_token() -> str:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise SystemExit("DISCORD_TOKEN is not set (environment or .env)")
    return token


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is the base64 of the bot's (and its application's) id."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def _endpoints() -> None:
    point_discord_at(
        os.environ.get("DISCORD_API_BASE") or None, os.environ.get("DISCORD_GATEWAY_URL") or None
    )


async def run_discord(args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    token = read_token()
    _endpoints()
    async with open_app(
        args.config, args.db, clock=clock, interval_override=getattr(args, "interval", None)
    ) as app:
        if getattr(args, "source", None) or getattr(args, "sources", None):
            urls = cli._load_urls(args)
            if urls:
                app.monitor.add_adhoc(urls)
        bot = CasewatchBot(
            app, tick=getattr(args, "tick", 30.0), backfill=getattr(args, "backfill", False)
        )
        async with bot:
            cli.stop_on_signals(lambda: asyncio.ensure_future(bot.close()))
            await bot.start(token)
    return 0


async def sync_discord(args: argparse.Namespace) -> int:
    token = read_token()
    _endpoints()
    async with open_app(args.config, args.db) as app:
        bot = CasewatchBot(app, auto_sync=False, run_jobs=False)
        async with bot:
            await bot.login(token)  # login() runs setup_hook, which loads EXTENSIONS
            guild = discord.Object(int(args.guild)) if args.guild else None
            count = await bot.sync_commands(force=True, guild=guild)
    print(f"synced {count} commands" + (f" to guild {args.guild}" if args.guild else " globally"))
    return 0


async def print_invite(args: argparse.Namespace) -> int:
    app_id = os.environ.get("DISCORD_APPLICATION_ID") or application_id_from_token(
        os.environ.get("DISCORD_TOKEN", "")
    )
    if not app_id:
        print(
            "Set DISCORD_APPLICATION_ID (or DISCORD_TOKEN) to build the invite URL.",
            file=sys.stderr,
        )
        return 1
    print(invite_url(int(app_id)))
    return 0


def invite_url(app_id: int) -> str:
    return discord.utils.oauth_url(
        app_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands")
    )


def main(argv: list[str] | None = None) -> int:
    load_dotenv()
    cli.setup_logging()
    cli.register_discord_command("run", run_discord)
    cli.register_discord_command("sync", sync_discord)
    cli.register_discord_command("invite", print_invite)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())


__all__: list[Any] = ["CasewatchBot", "main"]
