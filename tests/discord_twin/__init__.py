"""A loopback Discord (REST v10 + gateway) for end-to-end tests of the real discord.py bot."""

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
