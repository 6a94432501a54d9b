"""The twin's state: users, guilds, roles, channels, members, messages, commands, interactions.

Plain data plus the rules Discord applies to it (permissions, mentions, snowflakes) and the
JSON shapes Discord sends for each object. No I/O: the REST and gateway layers use this.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casewatch.clock import Clock

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_DEFAULT = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)
BOT_DEFAULT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | SEND_MESSAGES_IN_THREADS
)

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

# Channel types the twin models.
TEXT_CHANNEL = 0
CATEGORY_CHANNEL = 4
ANNOUNCEMENT_CHANNEL = 5

_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")


def iso(when: datetime) -> str:
    """Discord's timestamp format: ISO 8601 with microseconds and offset."""
    return when.isoformat(timespec="microseconds")


class Snowflakes:
    """Discord ids: milliseconds since 2015 in the high bits, strictly increasing."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        """A new id, later than every id handed out before."""
        ms = int(self._clock.now().timestamp() * 1000) - DISCORD_EPOCH_MS
        self._last = max(ms << 22, self._last + 1)
        return self._last


@dataclass
class TwinUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> JSON:
        """The user object Discord sends."""
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass
class TwinRole:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None  # the integration role of a bot

    def payload(self) -> JSON:
        """The role object Discord sends."""
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        """The permission overwrite object Discord sends."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class TwinChannel:
    id: int
    guild_id: int
    name: str
    type: int = TEXT_CHANNEL
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    deleted: bool = False
    last_message_id: int | None = None

    def payload(self) -> JSON:
        """The guild channel object Discord sends."""
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type != CATEGORY_CHANNEL:
            data.update(
                topic=self.topic,
                rate_limit_per_user=0,
                last_message_id=None if self.last_message_id is None else str(self.last_message_id),
                default_thread_rate_limit_per_user=0,
            )
        return data


@dataclass
class TwinMember:
    guild_id: int
    user: TwinUser
    roles: list[int]
    joined_at: datetime
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> JSON:
        """The guild member object; `permissions` is added for interaction payloads."""
        data: JSON = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class TwinGuild:
    id: int
    name: str
    owner_id: int
    created_at: datetime
    roles: dict[int, TwinRole] = field(default_factory=dict)
    channels: dict[int, TwinChannel] = field(default_factory=dict)
    members: dict[int, TwinMember] = field(default_factory=dict)

    @property
    def everyone(self) -> TwinRole:
        return self.roles[self.id]

    def payload(self) -> JSON:
        """The guild object of `GET /guilds/{id}` (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in sorted(self.roles.values(), key=lambda r: r.position)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def live_channels(self) -> list[TwinChannel]:
        """Channels not deleted, in creation order."""
        return [c for c in self.channels.values() if not c.deleted]


@dataclass
class TwinWebhook:
    """An incoming webhook: posts into one channel with a secret token, no bot token."""

    id: int
    token: str
    guild_id: int
    channel_id: int
    name: str
    api_base: str

    @property
    def url(self) -> str:
        return f"{self.api_base}/webhooks/{self.id}/{self.token}"

    def payload(self) -> JSON:
        """The webhook object of `GET /webhooks/{id}/{token}`."""
        return {
            "id": str(self.id),
            "type": 1,
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": None,
            "token": self.token,
            "application_id": None,
            "user": None,
        }


@dataclass
class StoredMessage:
    """A message and what only the twin knows about it."""

    payload: JSON
    channel_id: int
    guild_id: int | None
    author_id: int
    ephemeral: bool = False
    deleted: bool = False
    webhook_id: int | None = None
    interaction_id: int | None = None

    @property
    def id(self) -> int:
        return int(self.payload["id"])


@dataclass
class InteractionRecord:
    """One interaction the twin dispatched and everything the bot answered to it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    payload: JSON
    guild_id: int | None
    channel_id: int
    member: TwinMember
    created_at: datetime
    command_name: str = ""
    source_message_id: int | None = None  # the message a clicked component sits on
    callback_type: int | None = None
    callback_data: JSON | None = None
    acknowledged_at: datetime | None = None
    original_message_id: int | None = None
    resolved: bool = False  # a deferred answer was later given (edit or first follow-up)
    followup_ids: list[int] = field(default_factory=list)
    modal: JSON | None = None
    choices: list[JSON] | None = None

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None


@dataclass
class StoredCommand:
    payload: JSON

    @property
    def name(self) -> str:
        return str(self.payload["name"])

    @property
    def type(self) -> int:
        return int(self.payload.get("type", 1))


class World:
    """Everything the twin knows, with Discord's rules over it."""

    def __init__(self, clock: Clock, *, token: str, bot_name: str = "casewatch") -> None:
        self.clock = clock
        self.ids = Snowflakes(clock)
        self.token = token
        self.application_id = self.ids.next()
        self.bot_user = TwinUser(id=self.ids.next(), username=bot_name, bot=True)
        self.owner_user = TwinUser(id=self.ids.next(), username="app-owner")
        self.users: dict[int, TwinUser] = {
            self.bot_user.id: self.bot_user,
            self.owner_user.id: self.owner_user,
        }
        self.guilds: dict[int, TwinGuild] = {}
        self.webhooks: dict[int, TwinWebhook] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.channel_log: dict[int, list[int]] = {}  # channel id -> message ids, oldest first
        self.nonces: dict[tuple[int, int, str], tuple[int, datetime]] = {}
        self.files: dict[int, bytes] = {}  # attachment id -> bytes
        self.global_commands: list[StoredCommand] = []
        self.guild_commands: dict[int, list[StoredCommand]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.application_flags = 0
        # Direct messages from the bot: user id -> DM channel id, channel id -> its messages.
        self.dm_channels: dict[int, int] = {}
        self.dm_messages: dict[int, list[JSON]] = {}
        self.dms_closed: set[int] = set()  # users who refuse DMs (Discord answers 50007)

    # -- lookups ----------------------------------------------------------------------------

    def channel(self, channel_id: int) -> TwinChannel | None:
        """A channel of any guild by id, deleted ones included."""
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id)
            if found is not None:
                return found
        return None

    def guild_of(self, channel: TwinChannel) -> TwinGuild:
        """The guild a channel belongs to."""
        return self.guilds[channel.guild_id]

    def bot_member(self, guild: TwinGuild) -> TwinMember:
        """The bot as a member of `guild`."""
        return guild.members[self.bot_user.id]

    # -- permissions --------------------------------------------------------------------------

    def base_permissions(self, guild: TwinGuild, member: TwinMember) -> int:
        """Guild-wide permissions: @everyone plus the member's roles; owner/admin get all."""
        if member.id == guild.owner_id:
            return ALL_PERMISSIONS
        perms = guild.everyone.permissions
        for role_id in member.roles:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, channel: TwinChannel, member: TwinMember) -> int:
        """Permissions in one channel after overwrites, the way Discord computes them."""
        guild = self.guild_of(channel)
        perms = self.base_permissions(guild, member)
        if perms & ADMINISTRATOR or member.id == guild.owner_id:
            return ALL_PERMISSIONS
        by_id = {o.id: o for o in channel.overwrites}
        everyone = by_id.get(guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            overwrite = by_id.get(role_id)
            if overwrite is not None and overwrite.type == 0:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        own = by_id.get(member.id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        if not perms & VIEW_CHANNEL:
            return 0
        if not perms & SEND_MESSAGES:
            perms &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
        return perms

    # -- payloads -----------------------------------------------------------------------------

    def gateway_guild(self, guild: TwinGuild) -> JSON:
        """The GUILD_CREATE payload: the guild with channels, roles and members."""
        data = guild.payload()
        data.update(
            joined_at=iso(self.bot_member(guild).joined_at),
            large=False,
            unavailable=False,
            member_count=len(guild.members),
            voice_states=[],
            members=[m.payload() for m in guild.members.values()],
            channels=[c.payload() for c in guild.live_channels()],
            threads=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data

    def interaction_channel(self, channel: TwinChannel, member: TwinMember) -> JSON:
        """A channel as carried in interactions: with the member's permissions in it."""
        data = channel.payload()
        data["permissions"] = str(self.channel_permissions(channel, member))
        return data

    # -- messages -----------------------------------------------------------------------------

    def channel_messages(self, channel_id: int) -> list[StoredMessage]:
        """The visible (not ephemeral, not deleted) messages of a channel, oldest first."""
        ids = self.channel_log.get(channel_id, [])
        return [self.messages[i] for i in ids if not self.messages[i].deleted]

    def store_message(self, message: StoredMessage) -> None:
        """Keep a message; only non-ephemeral ones join the channel's history."""
        self.messages[message.id] = message
        if not message.ephemeral:
            self.channel_log.setdefault(message.channel_id, []).append(message.id)
            channel = self.channel(message.channel_id)
            if channel is not None:
                channel.last_message_id = message.id

    def mentions(
        self,
        content: str,
        allowed: JSON | None,
        guild: TwinGuild | None,
        *,
        may_mention_everyone: bool,
    ) -> tuple[bool, list[JSON], list[str]]:
        """Who a message really pings: Discord's parsing of content under `allowed_mentions`."""
        if allowed is None:
            parse = {"users", "roles", "everyone"}
            allowed_users: set[int] = set()
            allowed_roles: set[int] = set()
        else:
            parse = set(allowed.get("parse") or [])
            allowed_users = {int(u) for u in allowed.get("users") or []}
            allowed_roles = {int(r) for r in allowed.get("roles") or []}
        everyone = (
            "everyone" in parse
            and may_mention_everyone
            and ("@everyone" in content or "@here" in content)
        )
        users: list[JSON] = []
        for raw in dict.fromkeys(_USER_MENTION.findall(content)):
            uid = int(raw)
            if "users" not in parse and uid not in allowed_users:
                continue
            user = self.users.get(uid)
            if user is None:
                continue
            data = user.payload()
            if guild is not None and uid in guild.members:
                data["member"] = guild.members[uid].payload(with_user=False)
            users.append(data)
        roles: list[str] = []
        if guild is not None:
            for raw in dict.fromkeys(_ROLE_MENTION.findall(content)):
                rid = int(raw)
                role = guild.roles.get(rid)
                if role is None:
                    continue
                if "roles" not in parse and rid not in allowed_roles:
                    continue
                if not role.mentionable and not may_mention_everyone:
                    continue
                roles.append(str(rid))
        return everyone, users, roles

    # -- commands ------------------------------------------------------------------------------

    def commands_for(self, guild_id: int | None) -> list[StoredCommand]:
        """The command list of one scope: global (None) or a guild's."""
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def find_command(self, guild_id: int | None, name: str) -> StoredCommand | None:
        """A chat-input command by name: the guild's own first, then the global one."""
        scopes: Iterable[int | None] = (guild_id, None) if guild_id is not None else (None,)
        for scope in scopes:
            for command in self.commands_for(scope):
                if command.name == name and command.type == 1:
                    return command
        return None


def deep_copy(data: Any) -> Any:
    """A copy that later edits to the twin's state cannot reach."""
    return copy.deepcopy(data)
