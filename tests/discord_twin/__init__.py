"""A loopback Discord (REST v10 + gateway) for end-to-end tests of the real discord.py bot.

Use (see tests/test_discord_twin.py for a complete bot)::

    async def test_latest(discord_twin):              # fixture: a started twin
        guild = discord_twin.add_guild("Uyghur case watch")
        alerts = discord_twin.add_channel(guild, "alerts")
        # in-process bot: point_discord_at(discord_twin.api_base) (or the `discord_at_twin`
        # fixture); a bot subprocess: env DISCORD_API_BASE=discord_twin.api_base, and the token
        # discord_twin.token. Then start the bot and:
        await discord_twin.wait_ready()
        result = await discord_twin.invoke("case latest", {"count": 3}, channel=alerts)
        await result.wait_response()
        assert result.embeds and not result.ephemeral

Speed notes for bots under test: pass `guild_ready_timeout=0.05` to the client (discord.py
otherwise waits 2 s after the last GUILD_CREATE before on_ready) and override
`before_identify_hook` to return at once (discord.py sleeps 5 s before every re-IDENTIFY).
"""

from .gateway import ConnectionRecord
from .interactions import InteractionResult
from .rest import RecordedRequest
from .twin import DiscordTwin
from .validation import ApiError
from .world import (
    ADMINISTRATOR,
    BOT_DEFAULT,
    EMBED_LINKS,
    EVERYONE_DEFAULT,
    FLAG_EPHEMERAL,
    MANAGE_GUILD,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    TwinChannel,
    TwinGuild,
    TwinMember,
    TwinRole,
    TwinUser,
    TwinWebhook,
)

__all__ = [
    "ADMINISTRATOR",
    "BOT_DEFAULT",
    "EMBED_LINKS",
    "EVERYONE_DEFAULT",
    "FLAG_EPHEMERAL",
    "MANAGE_GUILD",
    "MENTION_EVERYONE",
    "SEND_MESSAGES",
    "VIEW_CHANNEL",
    "ApiError",
    "ConnectionRecord",
    "DiscordTwin",
    "InteractionResult",
    "RecordedRequest",
    "TwinChannel",
    "TwinGuild",
    "TwinMember",
    "TwinRole",
    "TwinUser",
    "TwinWebhook",
]
