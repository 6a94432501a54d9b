"""`DiscordTwin`: a loopback Discord (REST API v10 + gateway) that the real discord.py logs into.

Tests build a world (guilds, channels, members), start the bot against `api_base`, then drive
it as Discord would (slash commands, clicks, modals, dropped connections, 429s) and read what
it did (messages, command registrations, every request).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web

from casewatch.clock import Clock, SystemClock

from .gateway import (
    GUILD_MEMBERS,
    GUILDS,
    PRIVILEGED_INTENTS,
    ConnectionRecord,
    Gateway,
)
from .interactions import (
    InteractionResult,
    check_may_use,
    click_data,
    command_data,
    modal_submit_data,
    new_record,
    walk_components,
)
from .rest import Fault, RecordedRequest, RestApi
from .waiting import Changes
from .world import (
    ADMINISTRATOR,
    BOT_DEFAULT,
    EVERYONE_DEFAULT,
    JSON,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    TEXT_CHANNEL,
    USE_APPLICATION_COMMANDS,
    VIEW_CHANNEL,
    InteractionRecord,
    Overwrite,
    TwinChannel,
    TwinGuild,
    TwinMember,
    TwinRole,
    TwinUser,
    TwinWebhook,
    World,
    deep_copy,
)

GuildRef = TwinGuild | int
ChannelRef = TwinChannel | int


class DiscordTwin:
    """A Discord for one bot on 127.0.0.1: state builders, assertions, fault injection."""

    def __init__(
        self,
        *,
        token: str | None = None,
        heartbeat_interval: float = 41.25,
        ack_deadline: float = 3.0,
        nonce_window: float = 300.0,
        privileged_intents: int = PRIVILEGED_INTENTS,
        recommended_shards: int = 1,
        clock: Clock | None = None,
        bot_name: str = "casewatch",
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.token = token or "twin." + secrets.token_urlsafe(32)
        self.world = World(self.clock, token=self.token, bot_name=bot_name)
        self.ack_deadline = ack_deadline
        self.nonce_window = timedelta(seconds=nonce_window)
        self.recommended_shards = recommended_shards
        self.changes = Changes()
        self.gateway = Gateway(
            self.world,
            heartbeat_interval=heartbeat_interval,
            privileged_intents=privileged_intents,
            resume_url=lambda: self.resume_gateway_url,
            on_change=self.changes.notify,
        )
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a free port."""
        if self._runner is not None:
            raise RuntimeError("DiscordTwin.start: already started")
        app = web.Application(client_max_size=25 * 1024 * 1024)
        app.router.add_route("*", "/api/{tail:.*}", self.rest.handle)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._serve_file)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every gateway connection and the listener."""
        if self._runner is None:
            return
        await self.gateway.close_all()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> DiscordTwin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("DiscordTwin is not started: await twin.start() first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST base for DISCORD_API_BASE, e.g. http://127.0.0.1:PORT/api/v10."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user_id(self) -> int:
        return self.world.bot_user.id

    # -- building the world ------------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        *,
        bot_permissions: int = BOT_DEFAULT,
        everyone_permissions: int = EVERYONE_DEFAULT,
    ) -> TwinGuild:
        """A guild with @everyone, the bot (with its managed role) and an owner."""
        world = self.world
        now = self.clock.now()
        guild = TwinGuild(
            id=world.ids.next(), name=name, owner_id=world.owner_user.id, created_at=now
        )
        guild.roles[guild.id] = TwinRole(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=everyone_permissions
        )
        bot_role = TwinRole(
            id=world.ids.next(),
            guild_id=guild.id,
            name=world.bot_user.username,
            permissions=bot_permissions,
            position=1,
            managed=True,
            bot_id=world.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[world.owner_user.id] = TwinMember(guild.id, world.owner_user, [], now)
        guild.members[world.bot_user.id] = TwinMember(guild.id, world.bot_user, [bot_role.id], now)
        world.guilds[guild.id] = guild
        self.gateway.dispatch("GUILD_CREATE", world.gateway_guild(guild), guild_id=guild.id)
        self.changes.notify()
        return guild

    def add_role(
        self,
        guild: GuildRef,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        color: int = 0,
    ) -> TwinRole:
        """A role in `guild`, above the existing ones."""
        g = self._guild(guild)
        role = TwinRole(
            id=self.world.ids.next(),
            guild_id=g.id,
            name=name,
            permissions=permissions,
            position=max(r.position for r in g.roles.values()) + 1,
            mentionable=mentionable,
            color=color,
        )
        g.roles[role.id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(g.id), "role": role.payload()}, guild_id=g.id
        )
        self.changes.notify()
        return role

    def add_member(
        self,
        guild: GuildRef,
        name: str,
        *,
        permissions: int | None = None,
        admin: bool = False,
        roles: Sequence[TwinRole] = (),
    ) -> TwinMember:
        """A human member; `permissions`/`admin` come through a role of their own, as on Discord."""
        g = self._guild(guild)
        user = TwinUser(id=self.world.ids.next(), username=name)
        self.world.users[user.id] = user
        role_ids = [r.id for r in roles]
        if permissions is not None or admin:
            bits = (permissions or 0) | (ADMINISTRATOR if admin else 0)
            role_ids.append(self.add_role(g, f"{name} permissions", permissions=bits).id)
        member = TwinMember(g.id, user, role_ids, self.clock.now())
        g.members[user.id] = member
        self.gateway.dispatch(
            "GUILD_MEMBER_ADD",
            member.payload() | {"guild_id": str(g.id)},
            guild_id=g.id,
            intent=GUILD_MEMBERS,
        )
        self.changes.notify()
        return member

    def owner(self, guild: GuildRef) -> TwinMember:
        """The guild owner: every permission."""
        g = self._guild(guild)
        return g.members[g.owner_id]

    def bot_member(self, guild: GuildRef) -> TwinMember:
        """The bot as a member of `guild` (to change its roles or overwrites)."""
        return self.world.bot_member(self._guild(guild))

    def add_channel(
        self,
        guild: GuildRef,
        name: str,
        *,
        bot_can_view: bool = True,
        bot_can_send: bool = True,
        topic: str | None = None,
        type: int = TEXT_CHANNEL,
        category: TwinChannel | None = None,
    ) -> TwinChannel:
        """A channel; the bot's access is set with a member overwrite, as a moderator would."""
        g = self._guild(guild)
        channel = TwinChannel(
            id=self.world.ids.next(),
            guild_id=g.id,
            name=name,
            type=type,
            position=len(g.channels),
            topic=topic,
            parent_id=None if category is None else category.id,
        )
        deny = (0 if bot_can_view else VIEW_CHANNEL) | (0 if bot_can_send else SEND_MESSAGES)
        if deny:
            channel.overwrites.append(Overwrite(id=self.bot_user_id, type=1, deny=deny))
        g.channels[channel.id] = channel
        self.gateway.dispatch("CHANNEL_CREATE", channel.payload(), guild_id=g.id, intent=GUILDS)
        self.changes.notify()
        return channel

    def set_permissions(
        self,
        channel: ChannelRef,
        target: TwinMember | TwinRole,
        *,
        allow: int = 0,
        deny: int = 0,
    ) -> None:
        """Replace the overwrite of `target` in `channel` (CHANNEL_UPDATE is dispatched)."""
        ch = self._channel(channel)
        kind = 1 if isinstance(target, TwinMember) else 0
        ch.overwrites = [o for o in ch.overwrites if o.id != target.id]
        if allow or deny:
            ch.overwrites.append(Overwrite(id=target.id, type=kind, allow=allow, deny=deny))
        self.gateway.dispatch("CHANNEL_UPDATE", ch.payload(), guild_id=ch.guild_id, intent=GUILDS)
        self.changes.notify()

    def delete_channel(self, channel: ChannelRef, *, announce: bool = True) -> None:
        """Delete a channel: its endpoints answer 404 10003; CHANNEL_DELETE unless told not to."""
        ch = self._channel(channel)
        ch.deleted = True
        if announce:
            self.gateway.dispatch(
                "CHANNEL_DELETE", ch.payload(), guild_id=ch.guild_id, intent=GUILDS
            )
        self.changes.notify()

    def add_webhook(self, channel: ChannelRef, name: str = "casewatch alerts") -> TwinWebhook:
        """An incoming webhook on `channel`; its `url` is what DISCORD_WEBHOOK_URL would hold."""
        ch = self._channel(channel)
        webhook = TwinWebhook(
            id=self.world.ids.next(),
            token=secrets.token_urlsafe(48),
            guild_id=ch.guild_id,
            channel_id=ch.id,
            name=name,
            api_base=self.api_base,
        )
        self.world.webhooks[webhook.id] = webhook
        return webhook

    def say(self, channel: ChannelRef, member: TwinMember, content: str) -> JSON:
        """A member posts a message (MESSAGE_CREATE reaches the bot per its intents)."""
        ch = self._channel(channel)
        perms = self.world.channel_permissions(ch, member)
        if not perms & VIEW_CHANNEL or not perms & SEND_MESSAGES:
            raise PermissionError(f"{member.user.username!r} cannot post in #{ch.name}")
        message = self.rest.new_message(
            ch,
            {"content": content},
            [],
            author=member.user.payload(),
            author_id=member.id,
            member=member,
            may_mention_everyone=bool(perms & MENTION_EVERYONE),
        )
        self.changes.notify()
        return deep_copy(message.payload)

    # -- reading what the bot did ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every REST request received, in order (method, path, query, json, headers, status)."""
        return self.rest.requests

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Requests whose method matches and whose API path fully matches `path_regex`."""
        pattern = re.compile(path_regex)
        return [
            r for r in self.rest.requests if method in ("*", r.method) and pattern.fullmatch(r.path)
        ]

    @property
    def gateway_connections(self) -> list[ConnectionRecord]:
        return self.gateway.connections

    def messages(self, channel: ChannelRef) -> list[JSON]:
        """The channel's messages, oldest first, as stored (embeds exactly as sent)."""
        ch_id = channel if isinstance(channel, int) else channel.id
        return [deep_copy(m.payload) for m in self.world.channel_messages(ch_id)]

    def dms(self, user: TwinUser | int) -> list[JSON]:
        """The bot's direct messages to a user, oldest first."""
        user_id = user if isinstance(user, int) else user.id
        channel_id = self.world.dm_channels.get(user_id)
        return deep_copy(self.world.dm_messages.get(channel_id, [])) if channel_id else []

    @property
    def app_owner(self) -> TwinUser:
        """The application's owner (who `bot.is_owner` recognises)."""
        return self.world.owner_user

    def message(self, message_id: int) -> JSON:
        """Any message by id, ephemeral ones included."""
        stored = self.world.messages.get(message_id)
        if stored is None:
            raise KeyError(f"the twin has no message {message_id}")
        return deep_copy(stored.payload)

    def attachment_bytes(self, attachment_id: int | str) -> bytes:
        """The bytes of an uploaded file, by attachment id."""
        return self.world.files[int(attachment_id)]

    def commands(self, guild_id: GuildRef | None = None) -> list[JSON]:
        """The synced commands, global (None) or of one guild, as Discord stores them."""
        scope = None if guild_id is None else self._guild(guild_id).id
        return [deep_copy(c.payload) for c in self.world.commands_for(scope)]

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until the bot identified (or resumed) and was sent all its guilds."""
        await self.changes.wait_until(
            lambda: self.gateway.ready.is_set() or None,
            timeout,
            lambda: f"gateway not ready; connections: {self.gateway.connections}",
        )

    async def wait_for_messages(
        self, channel: ChannelRef, count: int, timeout: float = 5.0
    ) -> list[JSON]:
        """Wait until `channel` holds at least `count` messages; return them."""
        ch_id = channel if isinstance(channel, int) else channel.id
        await self.changes.wait_until(
            lambda: len(self.world.channel_messages(ch_id)) >= count or None,
            timeout,
            lambda: f"channel {ch_id} has {len(self.world.channel_messages(ch_id))} of {count}",
        )
        return self.messages(ch_id)

    async def wait_for_request(
        self, method: str, path_regex: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until at least `count` requests matched; return the matches."""
        await self.changes.wait_until(
            lambda: len(self.requests_to(method, path_regex)) >= count or None,
            timeout,
            lambda: f"{len(self.requests_to(method, path_regex))} of {count} {method} {path_regex}",
        )
        return self.requests_to(method, path_regex)

    # -- driving the bot -----------------------------------------------------------------------

    async def invoke(
        self,
        command: str | Sequence[str],
        options: dict[str, Any] | None = None,
        *,
        guild: GuildRef | None = None,
        channel: ChannelRef | None = None,
        member: TwinMember | None = None,
        locale: str = "en-US",
        bypass_default_permissions: bool = False,
    ) -> InteractionResult:
        """Run a slash command as `member` in `channel`, typed from the synced definitions."""
        g, ch, who = self._context(guild, channel, member)
        path = command.split() if isinstance(command, str) else list(command)
        if not path:
            raise ValueError("invoke: empty command path")
        perms = self.world.channel_permissions(ch, who)
        if (
            perms & (VIEW_CHANNEL | USE_APPLICATION_COMMANDS)
            != VIEW_CHANNEL | USE_APPLICATION_COMMANDS
        ):
            raise PermissionError(
                f"{who.user.username!r} cannot use application commands in #{ch.name} "
                f"(permissions {perms:#x})"
            )
        stored = self.world.find_command(g.id, path[0])
        if stored is None:
            known = sorted(
                c.name for c in [*self.world.commands_for(g.id), *self.world.global_commands]
            )
            raise LookupError(
                f"/{path[0]} is not synced (global or in {g.name!r}); synced: {known}"
            )
        contexts = stored.payload.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise PermissionError(f"/{path[0]} is not available in guilds (contexts={contexts})")
        if not bypass_default_permissions:
            check_may_use(self.world, stored, g, who)
        data = command_data(
            self.world, stored, path, options or {}, guild=g, channel=ch, member=who
        )
        record = new_record(
            self.world,
            type_=2,
            data=data,
            guild=g,
            channel=ch,
            member=who,
            locale=locale,
            command_name=" ".join(path),
        )
        return self._send(record)

    async def autocomplete(
        self,
        command: str | Sequence[str],
        options: dict[str, Any],
        focused: str,
        *,
        guild: GuildRef | None = None,
        channel: ChannelRef | None = None,
        member: TwinMember | None = None,
    ) -> InteractionResult:
        """Ask for autocomplete choices of option `focused` (the bot answers with callback 8)."""
        g, ch, who = self._context(guild, channel, member)
        path = command.split() if isinstance(command, str) else list(command)
        stored = self.world.find_command(g.id, path[0])
        if stored is None:
            raise LookupError(f"/{path[0]} is not synced")
        data = command_data(
            self.world, stored, path, options, guild=g, channel=ch, member=who, focused=focused
        )
        record = new_record(
            self.world,
            type_=4,
            data=data,
            guild=g,
            channel=ch,
            member=who,
            locale="en-US",
            command_name=" ".join(path),
        )
        return self._send(record)

    async def click(
        self,
        target: InteractionResult | JSON | int,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
        member: TwinMember | None = None,
    ) -> InteractionResult:
        """Press a button (or choose select `values`) on a message the bot sent."""
        message = self._find_component_message(target, custom_id)
        stored = self.world.messages[int(message["id"])]
        channel = self._channel(stored.channel_id)
        guild = self.world.guild_of(channel)
        if member is None:
            member = (
                target.record.member if isinstance(target, InteractionResult) else self.owner(guild)
            )
        data = click_data(message, custom_id, values)
        record = new_record(
            self.world,
            type_=3,
            data=data,
            guild=guild,
            channel=channel,
            member=member,
            locale="en-US",
            message=message,
            source_message_id=stored.id,
        )
        return self._send(record)

    async def submit_modal(
        self,
        opened: InteractionResult,
        values: dict[str, str | Sequence[str]],
        *,
        member: TwinMember | None = None,
    ) -> InteractionResult:
        """Fill in and submit the modal the bot opened in answer to `opened`."""
        modal = opened.record.modal
        if modal is None:
            raise LookupError(
                f"{opened.describe()} opened no modal (callback {opened.callback_type})"
            )
        source = opened.record
        channel = self._channel(source.channel_id)
        guild = self.world.guild_of(channel)
        message = None
        if source.source_message_id is not None:
            message = deep_copy(self.world.messages[source.source_message_id].payload)
        record = new_record(
            self.world,
            type_=5,
            data=modal_submit_data(modal, values),
            guild=guild,
            channel=channel,
            member=member or source.member,
            locale="en-US",
            message=message,
            source_message_id=source.source_message_id,
        )
        return self._send(record)

    def _send(self, record: InteractionRecord) -> InteractionResult:
        delivered = self.gateway.dispatch(
            "INTERACTION_CREATE", record.payload, guild_id=record.guild_id
        )
        if not delivered:
            raise RuntimeError(
                "no gateway session for this guild: is the bot connected? "
                "await twin.wait_ready() before invoking"
            )
        self.changes.notify()
        return InteractionResult(self, record)

    def _find_component_message(
        self, target: InteractionResult | JSON | int, custom_id: str
    ) -> JSON:
        if isinstance(target, int):
            return self.message(target)
        if isinstance(target, dict):
            return self.message(int(target["id"]))
        record = target.record
        candidates = [record.original_message_id, *reversed(record.followup_ids)]
        for mid in candidates:
            if mid is None:
                continue
            payload = self.world.messages[mid].payload
            if any(
                c.get("custom_id") == custom_id
                for c in walk_components(payload.get("components") or [])
            ):
                return deep_copy(payload)
        raise LookupError(f"{target.describe()}: no message of it has a component {custom_id!r}")

    # -- faults --------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.2,
        times: int = 1,
        global_: bool = False,
        *,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` (429 carries retry_after)."""
        self.rest.faults.append(
            Fault(
                method=method.upper(),
                pattern=re.compile(path_regex),
                status=status,
                retry_after=retry_after,
                times=times,
                global_=global_,
                code=code,
                message=message,
            )
        )

    async def drop_gateway(self, resume: bool = True, *, code: int = 4000) -> None:
        """Close the bot's gateway socket (resumable code), or invalidate its session."""
        await self.gateway.drop(resume=resume, code=code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, as Discord does before maintenance."""
        await self.gateway.request_reconnect()

    # -- helpers -------------------------------------------------------------------------------

    def _guild(self, guild: GuildRef) -> TwinGuild:
        gid = guild if isinstance(guild, int) else guild.id
        found = self.world.guilds.get(gid)
        if found is None:
            raise KeyError(f"the twin has no guild {gid}")
        return found

    def _channel(self, channel: ChannelRef) -> TwinChannel:
        cid = channel if isinstance(channel, int) else channel.id
        found = self.world.channel(cid)
        if found is None:
            raise KeyError(f"the twin has no channel {cid}")
        return found

    def _context(
        self, guild: GuildRef | None, channel: ChannelRef | None, member: TwinMember | None
    ) -> tuple[TwinGuild, TwinChannel, TwinMember]:
        if channel is not None:
            ch = self._channel(channel)
            g = self.world.guild_of(ch)
        else:
            if guild is None:
                if len(self.world.guilds) != 1:
                    raise ValueError("say which guild (or channel): the twin has several")
                g = next(iter(self.world.guilds.values()))
            else:
                g = self._guild(guild)
            texts = [c for c in g.live_channels() if c.type == TEXT_CHANNEL]
            if not texts:
                raise ValueError(f"guild {g.name!r} has no text channel to invoke in")
            ch = texts[0]
        if guild is not None and self._guild(guild).id != g.id:
            raise ValueError(f"channel {ch.name!r} is not in guild {guild!r}")
        if ch.deleted:
            raise ValueError(f"channel {ch.name!r} was deleted")
        who = member or g.members[g.owner_id]
        if who.guild_id != g.id:
            raise ValueError(f"member {who.user.username!r} is not in guild {g.name!r}")
        return g, ch, who

    async def _serve_file(self, request: web.Request) -> web.Response:
        data = self.world.files.get(int(request.match_info["attachment"]))
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data)
