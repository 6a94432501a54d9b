"""The Discord client of casewatch, and the commands that talk to Discord (run, sync, invite).

bot.py imports this module only for those commands: discord.py takes a good part of a second
to import, and `poll`, `search` and the rest never talk to Discord.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import sys
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from casewatch.app import App, RunLoop, open_app, stop_on_signals
from casewatch.cli import CommandError, RunPlan
from cogs.endpoints import current_discord_endpoints, point_discord_from_env
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


class _NoVoiceWarning(logging.Filter):
    """The bot uses no voice: discord.py's warning that voice libraries are missing is noise in
    every start-up (and would bury a one-line start-up error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in str(record.msg)


class _ReconnectLine(logging.Filter):
    """discord.py logs each lost gateway connection with a full traceback before it retries
    (`Attempting a reconnect in ...`); it is a network error, said in one line with its reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Attempting a reconnect") and record.exc_info:
            args = record.args if isinstance(record.args, tuple) else ()
            record.msg = "the Discord gateway connection failed (%s); reconnecting in %.1f s"
            record.args = (_reason(record.exc_info[1]), float(args[0]) if args else 0.0)  # type: ignore[arg-type]
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("discord.client").addFilter(_NoVoiceWarning())
logging.getLogger("discord.client").addFilter(_ReconnectLine())
logging.getLogger("discord.client").addFilter(_ReconnectLine())


class CasewatchBot(commands.Bot):
    """The Discord face of casewatch. Resources come in through `app`; the run loop is the one
    console mode uses too (`casewatch.app.RunLoop`), delivering through the alerts cog."""

    def __init__(
        self,
        app: App,
        *,
        tick: float = 30.0,
        deliver_every: float = 5.0,
        auto_sync: bool = True,
        backfill: bool = False,
        only_urls: list[str] | None = None,
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
        self.auto_sync = auto_sync
        self.jobs = RunLoop(
            app,
            self._drain,
            tick=tick,
            deliver_every=deliver_every,
            backfill=backfill,
            only_urls=only_urls,
            on_report=lambda report: log.info(report.summary_line()),
            on_fatal=lambda: asyncio.ensure_future(self.close()),
        )

    @property
    def scheduler(self) -> Any:
        return self.jobs.scheduler

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
        if self.run_jobs:  # tests drive poll_tick/deliver_tick themselves
            self.jobs.start()

    async def close(self) -> None:
        self.jobs.shutdown()
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
        """One turn of the run loop: poll due sources, schedule digests, then deliver at once."""
        await self.jobs.poll_tick()

    async def deliver_tick(self) -> None:
        await self.jobs.deliver_tick(wait=True)

    async def _drain(self) -> None:
        cog = self.get_cog("AlertsCog")
        if cog is not None:
            await cog.drain()  # type: ignore[attr-defined]


def read_token() -> str:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise CommandError("DISCORD_TOKEN is not set (environment or .env)")
    return token


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is the base64 of the bot's (and its application's) id."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def _endpoints() -> None:
    try:
        point_discord_from_env()
    except ValueError as exc:
        raise CommandError(str(exc)) from None


GATEWAY_ATTEMPTS = 3  # first connections tried at start-up before `run` gives up
GATEWAY_PAUSE = 2.0  # seconds before the second attempt, doubled each time


def _reason(exc: BaseException | None) -> str:
    """A network error in a few words (its message, else its type)."""
    if exc is None:
        return "no reason given"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _network_cause(exc: BaseException) -> BaseException | None:
    """The network error behind an exception (itself, or one it was raised while handling)."""
    seen: BaseException | None = exc
    while seen is not None:
        network = (OSError, aiohttp.ClientError, TimeoutError, discord.GatewayNotFound)
        if isinstance(seen, (*network, discord.ConnectionClosed)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _gateway_name() -> str:
    api, gateway = current_discord_endpoints()
    if gateway is not None:
        return f"at {gateway}"
    if os.environ.get("DISCORD_API_BASE"):
        return f"that {api}/gateway/bot names"
    return f"at {discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY}"


async def _start(bot: commands.Bot, token: str, *, connect: bool = True) -> None:
    """Log in (and connect): a wrong token or an unreachable API is one line, not a traceback."""
    api = current_discord_endpoints()[0]
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise CommandError(
            f"Discord refused the bot token (401 Unauthorized at {api}): check DISCORD_TOKEN"
        ) from None
    except discord.HTTPException as exc:
        raise CommandError(
            f"the Discord API at {api} answered HTTP {exc.status} at start-up: {exc.text[:200]}"
        ) from None
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        raise CommandError(f"cannot reach the Discord API at {api}: {_reason(exc)}") from None
    if connect:
        await _connect(bot)


async def _connect(bot: commands.Bot, attempts: int = GATEWAY_ATTEMPTS) -> None:
    """Connect to the gateway and stay connected (discord.py retries a connection it loses).

    A gateway that cannot be reached at start-up while the API answers (a proxy that passes
    REST only, a firewall, DISCORD_GATEWAY_URL mistyped) is tried `attempts` times, then `run`
    ends in one line with status 1: slash commands cannot work without it. (discord.py 2.x does
    not retry a first connection: it fails with an AttributeError raised while handling the
    network error, which is why the cause is looked for in the chain.)
    """
    pause = GATEWAY_PAUSE
    for attempt in range(1, attempts + 1):
        try:
            await bot.connect()
            return
        except discord.PrivilegedIntentsRequired:
            raise CommandError("Discord refused the gateway intents the bot asks for") from None
        except Exception as exc:
            cause = _network_cause(exc)
            if bot.ws is not None or bot.is_closed() or cause is None:
                raise  # not a first connection that failed on the network: a real error
            where = _gateway_name()
            if attempt == attempts:
                raise CommandError(
                    f"cannot connect to the Discord gateway {where} ({attempts} attempts;"
                    f" the API at {current_discord_endpoints()[0]} answered): {_reason(cause)}"
                ) from None
            log.warning(
                "cannot connect to the Discord gateway %s (%s); attempt %d of %d, next in %.0f s",
                where,
                _reason(cause),
                attempt,
                attempts,
                pause,
            )
            await asyncio.sleep(pause)
            pause *= 2


async def run_discord(app: App, plan: RunPlan) -> int:
    """`run` with DISCORD_TOKEN: the bot, until SIGTERM or SIGINT."""
    token = read_token()
    _endpoints()
    bot = CasewatchBot(app, tick=plan.tick, backfill=plan.backfill, only_urls=plan.only_urls)
    async with bot:
        stop_on_signals(lambda: asyncio.ensure_future(bot.close()))
        await _start(bot, token)
    if bot.jobs.fatal is not None:
        raise bot.jobs.fatal  # the database cannot go on: cli.main says why in one line
    return 0


async def sync_discord(config: str, db: str, guild_id: str | None) -> int:
    """`sync`: register the slash commands (globally, or in one guild at once)."""
    token = read_token()
    _endpoints()
    async with open_app(config, db) as app:
        bot = CasewatchBot(app, auto_sync=False, run_jobs=False)
        async with bot:
            await _start(bot, token, connect=False)  # login() runs setup_hook: loads EXTENSIONS
            guild = discord.Object(int(guild_id)) if guild_id else None
            count = await bot.sync_commands(force=True, guild=guild)
    print(f"synced {count} commands" + (f" to guild {guild_id}" if guild_id else " globally"))
    return 0


def print_invite() -> int:
    """`invite`: the URL that adds the bot to a server with the permissions it needs."""
    given = os.environ.get("DISCORD_APPLICATION_ID", "").strip()
    if given and not given.isdigit():
        raise CommandError("DISCORD_APPLICATION_ID: not a number (the application's id)")
    app_id = int(given) if given else application_id_from_token(os.environ.get("DISCORD_TOKEN", ""))
    if not app_id:
        print(
            "Set DISCORD_APPLICATION_ID (or DISCORD_TOKEN) to build the invite URL.",
            file=sys.stderr,
        )
        return 1
    print(invite_url(app_id))
    return 0


def invite_url(app_id: int) -> str:
    return discord.utils.oauth_url(
        app_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands")
    )
