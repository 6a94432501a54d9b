"""Delivering the outbox to Discord channels: alerts, their updates, digests and notices."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import discord
from discord.ext import commands

from casewatch import render
from casewatch.chart_data import chart_png
from casewatch.delivery import DeliveryError
from casewatch.digest import DigestView, digest_messages
from casewatch.render import AlertView
from storage import notices as notice_store
from storage import outbox

if TYPE_CHECKING:
    from bot import CasewatchBot

log = logging.getLogger("casewatch.discord.alerts")
T = TypeVar("T")

# Discord allows about 5 messages per 5 s in one channel; stay under it so bursts are paced
# here instead of turning into 429s.
BURST, WINDOW = 5, 5.0


UNKNOWN_MESSAGE = 10008  # Discord's JSON error code for a deleted message


async def _reraise(exc: Exception) -> None:
    raise exc


def missing_permissions(
    perms: discord.Permissions, *, embeds: bool, files: bool = False
) -> list[str]:
    """The permissions the bot lacks to post here: the one check for deliveries and /watch."""
    wanted = [("View Channel", perms.view_channel), ("Send Messages", perms.send_messages)]
    if embeds:
        wanted.append(("Embed Links", perms.embed_links))
    if files:
        wanted.append(("Attach Files", perms.attach_files))
    return [name for name, ok in wanted if not ok]


class ChannelPacer:
    """Spaces sends per channel: at most BURST messages per WINDOW seconds."""

    def __init__(self, burst: int = BURST, window: float = WINDOW) -> None:
        self.burst, self.window = burst, window
        self.sent: dict[int, deque[float]] = defaultdict(deque)

    async def wait(self, channel_id: int) -> None:
        stamps = self.sent[channel_id]
        now = time.monotonic()
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        if len(stamps) >= self.burst:
            await asyncio.sleep(self.window - (now - stamps[0]))
            stamps.popleft()
        stamps.append(time.monotonic())


class DiscordDelivery:
    """The Delivery of the core, for destinations of type `discord`."""

    types: tuple[str, ...] = ("discord",)

    def __init__(self, bot: CasewatchBot) -> None:
        self.bot = bot
        self.pacer = ChannelPacer()

    async def _channel(self, dest: dict, *, files: bool = False) -> discord.abc.Messageable:
        channel_id = int(dest["channel_id"])
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            found = await self._call(self.bot.fetch_channel(channel_id))
            channel = found
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError(f"channel {channel_id} cannot receive messages", gone=True)
        self._check_permissions(channel, files=files)
        await self.pacer.wait(channel_id)
        return channel

    @staticmethod
    def _check_permissions(channel: Any, *, files: bool) -> None:
        """Refuse before sending what Discord would silently mangle.

        Without Embed Links Discord drops the embeds of a bot message that has content (a role
        ping) and posts the rest, so the alert is "delivered" with nothing in it; an embed-only
        message is refused or posted blank. Without Attach Files the weekly digest fails after
        its first parts were already posted.
        """
        guild = getattr(channel, "guild", None)
        me = getattr(guild, "me", None)
        if me is None or not hasattr(channel, "permissions_for"):
            return  # DMs, or a channel fetched without its guild: let Discord decide
        missing = missing_permissions(channel.permissions_for(me), embeds=True, files=files)
        if missing:
            raise DeliveryError(f"missing permission: {', '.join(missing)}", gone=True)

    async def _call(self, action: Awaitable[T]) -> T:
        """Run a Discord call, turning its errors into delivery errors the dispatcher knows."""
        try:
            return await action
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MESSAGE:
                # On a send: the nonce belongs to a message deleted since (discord.py documents
                # NotFound for this). The channel is fine; do not mark the destination broken.
                raise DeliveryError(f"message was deleted ({exc.text})", retry_after=600) from exc
            raise DeliveryError(f"channel is gone ({exc.text})", gone=True) from exc
        except discord.Forbidden as exc:
            raise DeliveryError(f"missing permission ({exc.text})", gone=True) from exc
        except discord.RateLimited as exc:  # max_ratelimit_timeout: a long 429, do not sleep
            raise DeliveryError(
                f"rate limited for {exc.retry_after:.0f}s", retry_after=exc.retry_after
            ) from exc
        except discord.HTTPException as exc:
            retry = None
            if exc.status == 429:  # out of discord.py's retries, or a Cloudflare ban
                try:
                    retry = float(exc.response.headers.get("Retry-After") or 60)
                except ValueError:
                    retry = 60.0
            elif 400 <= exc.status < 500:
                retry = 3600.0  # 50035/50006...: the same payload will not succeed sooner
                log.warning(
                    "Discord refused a delivery (%s %s): %s", exc.status, exc.code, exc.text
                )
            raise DeliveryError(
                f"Discord answered {exc.status} ({exc.code}): {exc.text}", retry_after=retry
            ) from exc
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"Discord unreachable: {exc!r}") from exc

    @staticmethod
    def _ping(dest: dict, kind: str) -> tuple[str | None, discord.AllowedMentions]:
        role = dest.get("role_id")
        if kind == "court" and dest.get("court_role_id"):
            role = dest["court_role_id"]
        if not role:
            return None, discord.AllowedMentions.none()
        return f"<@&{role}>", discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(int(role))]
        )

    async def send_alert(self, dest: dict, row: dict, view: AlertView) -> str | None:
        channel = await self._channel(dest)
        content, mentions = self._ping(dest, view.kind)
        embed = discord.Embed.from_dict(render.alert_embed(view))
        msg = await self._call(
            channel.send(
                content=content,
                embed=embed,
                nonce=outbox.nonce(self.bot.app.db, int(row["id"])),
                allowed_mentions=mentions,
            )
        )
        return str(msg.id)

    async def update_alert(self, dest: dict, row: dict, view: AlertView, message_id: str) -> None:
        channel = await self._channel(dest)
        if not hasattr(channel, "get_partial_message"):
            return
        partial = channel.get_partial_message(int(message_id))
        embed = discord.Embed.from_dict(render.alert_embed(view))
        try:
            await partial.edit(embed=embed)
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MESSAGE:
                log.info("alert message %s was deleted; not updating it", message_id)
                return  # a moderator removed the alert: nothing to edit, the channel is fine
            raise DeliveryError(f"channel is gone ({exc.text})", gone=True) from exc
        except discord.HTTPException as exc:
            await self._call(_reraise(exc))

    async def send_digest(self, dest: dict, row: dict, digest: DigestView) -> str | None:
        chart = digest.frequency == "weekly" and not digest.empty
        channel = await self._channel(dest, files=chart)
        parts = digest_messages(digest)
        files: list[discord.File] = []
        if chart:
            png = await asyncio.to_thread(
                chart_png, self.bot.app.db, title=digest.title, since=None
            )
            files.append(discord.File(io.BytesIO(png), filename="coverage.png"))
        first: str | None = None
        for i, text in enumerate(parts):
            last = i == len(parts) - 1
            kwargs: dict[str, Any] = {"files": files} if last and files else {}
            # One nonce per part: a retry after a crash re-sends only what Discord dropped.
            msg = await self._call(
                channel.send(
                    content=text,
                    nonce=outbox.nonce(self.bot.app.db, int(row["id"]), i),
                    allowed_mentions=discord.AllowedMentions.none(),
                    **kwargs,
                )
            )
            first = first or str(msg.id)
            if not last:
                await self.pacer.wait(int(dest["channel_id"]))
        return first

    async def send_notice(self, dest: dict, row: dict, text: str) -> str | None:
        if dest["channel_id"] == notice_store.OWNER:
            return await self._tell_owner(row, text)
        channel = await self._channel(dest)
        embed = discord.Embed.from_dict(render.notice_embed(text))
        msg = await self._call(
            channel.send(
                embed=embed,
                nonce=outbox.nonce(self.bot.app.db, int(row["id"])),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        )
        return str(msg.id)

    async def _tell_owner(self, row: dict, text: str) -> str | None:
        """Admin notices nobody chose a channel for: the bot's owner, by direct message."""
        info = await self._call(self.bot.application_info())
        owner_id = info.team.owner_id if info.team and info.team.owner_id else info.owner.id
        owner = self.bot.get_user(owner_id)
        if owner is None:
            owner = await self._call(self.bot.fetch_user(owner_id))
        dm = await self._call(owner.create_dm())
        msg = await self._call(
            dm.send(
                embed=discord.Embed.from_dict(render.notice_embed(text)),
                nonce=outbox.nonce(self.bot.app.db, int(row["id"])),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        )
        return str(msg.id)

    async def destination_broken(self, dest: dict, reason: str) -> None:
        """Tell the guild's admins, somewhere they can read it, that a channel stopped working."""
        guild = self.bot.get_guild(int(dest["guild_id"])) if dest.get("guild_id") else None
        if guild is None:
            return
        text = (
            f"casewatch can no longer post {dest['purpose']} in <#{dest['channel_id']}>: {reason}. "
            "Nothing is lost: the messages wait until a server admin fixes the channel's "
            "permissions and runs `/watch alerts` (or `/watch digest`) for it again."
        )
        # The admins' notices channel first, when the server chose one (`/watch notices`).
        chosen = notice_store.channel_for(self.bot.app.db, str(guild.id))
        notices_channel = guild.get_channel(int(chosen)) if chosen else None
        candidates = [
            notices_channel if isinstance(notices_channel, discord.TextChannel) else None,
            guild.system_channel,
            guild.public_updates_channel,
            *guild.text_channels,
        ]
        for channel in candidates:
            if channel is None or str(channel.id) == dest["channel_id"]:
                continue
            if not channel.permissions_for(guild.me).send_messages:
                continue
            try:
                await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.HTTPException:
                continue
        log.warning("guild %s: no channel to tell admins that %s", guild.id, text)


class AlertsCog(commands.Cog):
    """Drains the outbox into Discord on a short schedule."""

    def __init__(self, bot: CasewatchBot) -> None:
        self.bot = bot
        # Admin notices reach the bot's owner by DM (as well as any `/watch notices` channel).
        notice_store.ensure_owner(bot.app.db, now=bot.app.clock.now())
        self.delivery = DiscordDelivery(bot)
        self._lock = asyncio.Lock()

    async def drain(self) -> None:
        """Deliver what is due (skipped when a drain is already running)."""
        if self._lock.locked() or not self.bot.is_ready():
            return
        async with self._lock:
            await self.bot.app.dispatcher.drain(self.delivery)


async def setup(bot: CasewatchBot) -> None:
    await bot.add_cog(AlertsCog(bot))
