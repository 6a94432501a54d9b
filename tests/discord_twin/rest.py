"""The twin's REST API (v10): routing, auth, request log, fault injection and the endpoints."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .gateway import GUILD_MESSAGES, MESSAGE_CONTENT
from .validation import (
    ApiError,
    FormErrors,
    check_command,
    check_commands,
    check_message,
    check_modal,
)
from .world import (
    ATTACH_FILES,
    CATEGORY_CHANNEL,
    EMBED_LINKS,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    JSON,
    MANAGE_MESSAGES,
    MENTION_EVERYONE,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    InteractionRecord,
    StoredCommand,
    StoredMessage,
    TwinChannel,
    TwinGuild,
    TwinMember,
    deep_copy,
    iso,
)

if TYPE_CHECKING:
    from .twin import DiscordTwin

_PREFIX = re.compile(r"^/api(?:/v(?P<version>\d+))?(?P<path>/.*)$")
_FILE_FIELD = re.compile(r"^files\[(\d+)\]$|^file(\d*)$")
CREATE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2 | (1 << 13)
INTERACTION_TOKEN_LIFETIME = timedelta(minutes=15)


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One request the twin received: what the bot sent and what it was answered."""

    method: str
    path: str  # relative to the API base, e.g. /channels/1/messages
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    at: datetime
    files: list[UploadedFile] = field(default_factory=list)
    status: int = 0
    injected: bool = False  # answered by fail_next, not by the endpoint


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    times: int
    global_: bool
    code: int | None
    message: str | None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """A request as handlers see it."""

    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[UploadedFile]
    record: RecordedRequest

    def id(self, name: str) -> int:
        """A snowflake path parameter."""
        return int(self.params[name])

    def flag(self, name: str) -> bool:
        """A boolean query parameter (true/1)."""
        return self.query.get(name, "").lower() in ("true", "1")


Handler = Callable[[Call], Awaitable[Reply]]


class RestApi:
    """Routes `/api[/v10]/...` to endpoint methods, after recording, auth and fault injection."""

    def __init__(self, twin: DiscordTwin) -> None:
        self.twin = twin
        self.world = twin.world
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        snow = r"(?P<{}>\d+)"
        app_cmds = f"/applications/{snow.format('app')}"
        guild_cmds = f"{app_cmds}/guilds/{snow.format('guild')}/commands"
        channel = f"/channels/{snow.format('channel')}"
        message = f"{channel}/messages/{snow.format('message')}"
        hook = f"/webhooks/{snow.format('hook')}/(?P<token>[^/]+)"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", f"/users/{snow.format('user')}", self._get_user, True),
            ("POST", "/users/@me/channels", self._open_dm, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", f"{app_cmds}/commands", self._list_commands, True),
            ("PUT", f"{app_cmds}/commands", self._put_commands, True),
            ("POST", f"{app_cmds}/commands", self._upsert_command, True),
            ("GET", f"{app_cmds}/commands/{snow.format('cmd')}", self._get_command, True),
            ("PATCH", f"{app_cmds}/commands/{snow.format('cmd')}", self._edit_command, True),
            ("DELETE", f"{app_cmds}/commands/{snow.format('cmd')}", self._delete_command, True),
            ("GET", guild_cmds, self._list_commands, True),
            ("PUT", guild_cmds, self._put_commands, True),
            ("POST", guild_cmds, self._upsert_command, True),
            ("GET", f"{guild_cmds}/{snow.format('cmd')}", self._get_command, True),
            ("PATCH", f"{guild_cmds}/{snow.format('cmd')}", self._edit_command, True),
            ("DELETE", f"{guild_cmds}/{snow.format('cmd')}", self._delete_command, True),
            ("GET", channel, self._get_channel, True),
            ("GET", f"{channel}/messages", self._list_messages, True),
            ("POST", f"{channel}/messages", self._create_message, True),
            ("GET", message, self._get_message, True),
            ("PATCH", message, self._edit_message, True),
            ("DELETE", message, self._delete_message, True),
            ("POST", f"{channel}/typing", self._typing, True),
            ("GET", f"/guilds/{snow.format('guild')}", self._get_guild, True),
            ("GET", f"/guilds/{snow.format('guild')}/channels", self._get_guild_channels, True),
            ("GET", f"/guilds/{snow.format('guild')}/roles", self._get_roles, True),
            ("GET", f"/guilds/{snow.format('guild')}/members", self._list_members, True),
            (
                "GET",
                f"/guilds/{snow.format('guild')}/members/{snow.format('user')}",
                self._get_member,
                True,
            ),
            (
                "POST",
                f"/interactions/{snow.format('interaction')}/(?P<token>[^/]+)/callback",
                self._interaction_callback,
                False,
            ),
            ("POST", hook, self._execute_webhook, False),
            ("GET", hook, self._get_webhook, False),
            ("GET", f"{hook}/messages/(?P<mid>@original|\\d+)", self._get_hook_message, False),
            ("PATCH", f"{hook}/messages/(?P<mid>@original|\\d+)", self._edit_hook_message, False),
            (
                "DELETE",
                f"{hook}/messages/(?P<mid>@original|\\d+)",
                self._delete_hook_message,
                False,
            ),
        ]
        for method, pattern, handler, auth in table:
            self._routes.append((method, re.compile(f"^{pattern}$"), handler, auth))

    # -- plumbing ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp view behind every /api path."""
        match = _PREFIX.match(request.path)
        path = match.group("path") if match else request.path
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=None,
            headers=dict(request.headers),
            at=self.world.clock.now(),
        )
        self.requests.append(record)
        try:
            reply = await self._handle(request, match, record)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body(), exc.headers)
        record.status = reply.status
        self.twin.changes.notify()
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        # Exactly "application/json", no charset: discord.py parses nothing else as JSON.
        headers = {"Content-Type": "application/json", **reply.headers}
        body = json.dumps(reply.body, ensure_ascii=False).encode()
        return web.Response(status=reply.status, body=body, headers=headers)

    async def _handle(
        self, request: web.Request, match: re.Match[str] | None, record: RecordedRequest
    ) -> Reply:
        if match is None:
            raise ApiError(404, 0, "404: Not Found")
        version = match.group("version")
        if version is not None and version not in ("9", "10"):
            raise ApiError(400, 50041, f"Invalid API version provided: v{version}")
        body, files = await self._read_body(request)
        record.json, record.files = body, files
        handler, params, auth = self._route(request.method, record.path)
        if auth and request.headers.get("Authorization") != f"Bot {self.world.token}":
            raise ApiError(401, 0, "401: Unauthorized")
        fault = self._take_fault(request.method, record.path)
        if fault is not None:
            record.injected = True
            return fault
        return await handler(Call(params, record.query, body, files, record))

    async def _read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        if ctype == "multipart/form-data":
            form = await request.post()
            payload: Any = None
            files: list[UploadedFile] = []
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    if name == "payload_json":
                        payload = self._parse_json(data.decode())
                    else:
                        files.append(UploadedFile(name, value.filename, value.content_type, data))
                elif name == "payload_json":
                    text = value if isinstance(value, str) else bytes(value).decode()
                    payload = self._parse_json(text)
            return payload if payload is not None else {}, files
        raw = await request.text()
        if not raw:
            return None, []
        if ctype == "application/json" or raw.lstrip().startswith(("{", "[")):
            return self._parse_json(raw), []
        return raw, []

    @staticmethod
    def _parse_json(raw: str) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _route(self, method: str, path: str) -> tuple[Handler, dict[str, str], bool]:
        allowed = False
        for route_method, pattern, handler, auth in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            if route_method == method:
                return handler, found.groupdict(), auth
            allowed = True
        if allowed:
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise ApiError(404, 0, "404: Not Found")

    def _take_fault(self, method: str, path: str) -> Reply | None:
        for fault in self.faults:
            if fault.times <= 0 or fault.method not in ("*", method):
                continue
            if not fault.pattern.fullmatch(path):
                continue
            fault.times -= 1
            if fault.status == 429:
                return self._rate_limited(fault)
            message = fault.message or f"{fault.status}: injected by the twin"
            return Reply(fault.status, {"message": message, "code": fault.code or 0})
        return None

    @staticmethod
    def _rate_limited(fault: Fault) -> Reply:
        retry = fault.retry_after
        headers = {
            "Retry-After": str(max(1, math.ceil(retry))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
            "X-RateLimit-Reset-After": f"{retry:.3f}",
            "X-RateLimit-Scope": "global" if fault.global_ else "user",
            # discord.py treats a 429 without Via as a Cloudflare ban and does not retry.
            "Via": "1.1 google",
        }
        if fault.global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers["X-RateLimit-Bucket"] = "twin-" + fault.pattern.pattern.encode().hex()[:16]
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry,
            "global": fault.global_,
            "code": 0,
        }
        return Reply(429, body, headers)

    # -- lookups with Discord's errors ---------------------------------------------------------

    def _channel(self, channel_id: int) -> TwinChannel:
        channel = self.world.channel(channel_id)
        if channel is None or channel.deleted:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _visible_channel(self, channel_id: int) -> tuple[TwinChannel, int]:
        channel = self._channel(channel_id)
        perms = self.world.channel_permissions(channel, self._bot(channel.guild_id))
        if not perms & VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        return channel, perms

    def _guild(self, guild_id: int) -> TwinGuild:
        guild = self.world.guilds.get(guild_id)
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        if self.world.bot_user.id not in guild.members:
            raise ApiError(403, 50001, "Missing Access")
        return guild

    def _bot(self, guild_id: int) -> TwinMember:
        return self.world.guilds[guild_id].members[self.world.bot_user.id]

    def _message(self, channel: TwinChannel, message_id: int) -> StoredMessage:
        message = self.world.messages.get(message_id)
        if (
            message is None
            or message.deleted
            or message.channel_id != channel.id
            or message.ephemeral
        ):
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _check_app(self, call: Call) -> None:
        if call.id("app") != self.world.application_id:
            raise ApiError(
                403, 20012, "You are not authorized to perform this action on this application"
            )

    # -- gateway, users, application -----------------------------------------------------------

    async def _get_gateway(self, call: Call) -> Reply:
        return Reply(200, {"url": self.twin.gateway_url})

    async def _get_gateway_bot(self, call: Call) -> Reply:
        total = 1000
        remaining = max(0, total - self.twin.gateway.identify_count)
        return Reply(
            200,
            {
                "url": self.twin.gateway_url,
                "shards": self.twin.recommended_shards,
                "session_start_limit": {
                    "total": total,
                    "remaining": remaining,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            },
        )

    async def _get_me(self, call: Call) -> Reply:
        data = self.world.bot_user.payload()
        data.update(verified=True, mfa_enabled=False, locale="en-US", email=None)
        return Reply(200, data)

    async def _get_user(self, call: Call) -> Reply:
        user = self.world.users.get(call.id("user"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return Reply(200, user.payload())

    async def _get_application(self, call: Call) -> Reply:
        world = self.world
        return Reply(
            200,
            {
                "id": str(world.application_id),
                "name": world.bot_user.username,
                "icon": None,
                "description": "casewatch (Discord twin)",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "00" * 32,
                "owner": world.owner_user.payload(),
                "team": None,
                "flags": world.application_flags,
                "bot": world.bot_user.payload(),
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "redirect_uris": [],
                "tags": [],
                "approximate_guild_count": len(world.guilds),
                "install_params": None,
                "integration_types_config": {"0": {}},
            },
        )

    # -- application commands ------------------------------------------------------------------

    def _command_scope(self, call: Call) -> int | None:
        self._check_app(call)
        if "guild" in call.params:
            return self._guild(call.id("guild")).id
        return None

    def _stored(self, data: JSON, guild_id: int | None, keep_id: int | None) -> StoredCommand:
        payload = deep_copy(data)
        kind = int(payload.get("type") or 1)
        perms = payload.get("default_member_permissions")
        payload.update(
            id=str(keep_id if keep_id is not None else self.world.ids.next()),
            application_id=str(self.world.application_id),
            version=str(self.world.ids.next()),
            type=kind,
            default_member_permissions=None if perms is None else str(perms),
            description=payload.get("description") or "",
            options=payload.get("options") or [],
            nsfw=bool(payload.get("nsfw", False)),
            name_localizations=payload.get("name_localizations"),
            description_localizations=payload.get("description_localizations"),
        )
        payload.setdefault("dm_permission", True)
        payload.setdefault("contexts", None)
        payload.setdefault("integration_types", [0])
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload.pop("dm_permission", None)
        return StoredCommand(payload)

    async def _list_commands(self, call: Call) -> Reply:
        scope = self._command_scope(call)
        return Reply(200, [deep_copy(c.payload) for c in self.world.commands_for(scope)])

    async def _put_commands(self, call: Call) -> Reply:
        scope = self._command_scope(call)
        check_commands(call.body)
        existing = {(c.type, c.name): int(c.payload["id"]) for c in self.world.commands_for(scope)}
        # A bulk overwrite keeps the id of a command whose name and type stay the same.
        stored = [
            self._stored(d, scope, existing.get((int(d.get("type") or 1), d["name"])))
            for d in call.body
        ]
        if scope is None:
            self.world.global_commands = stored
        else:
            self.world.guild_commands[scope] = stored
        return Reply(200, [deep_copy(c.payload) for c in stored])

    async def _upsert_command(self, call: Call) -> Reply:
        scope = self._command_scope(call)
        if not isinstance(call.body, dict):
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "_errors": [
                        {"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used"}
                    ]
                },
            )
        errors = FormErrors()
        check_command(errors, (), call.body)
        errors.raise_if_any()
        commands = self.world.commands_for(scope)
        kind = int(call.body.get("type") or 1)
        for i, command in enumerate(commands):
            if command.type == kind and command.name == call.body["name"]:
                commands[i] = self._stored(call.body, scope, int(command.payload["id"]))
                return Reply(200, deep_copy(commands[i].payload))
        stored = self._stored(call.body, scope, None)
        commands.append(stored)
        return Reply(201, deep_copy(stored.payload))

    def _find_command(self, call: Call) -> tuple[list[StoredCommand], int]:
        scope = self._command_scope(call)
        commands = self.world.commands_for(scope)
        for i, command in enumerate(commands):
            if int(command.payload["id"]) == call.id("cmd"):
                return commands, i
        raise ApiError(404, 10063, "Unknown application command")

    async def _get_command(self, call: Call) -> Reply:
        commands, i = self._find_command(call)
        return Reply(200, deep_copy(commands[i].payload))

    async def _edit_command(self, call: Call) -> Reply:
        commands, i = self._find_command(call)
        merged = deep_copy(commands[i].payload)
        merged.update(call.body or {})
        errors = FormErrors()
        check_command(errors, (), merged)
        errors.raise_if_any()
        scope = None if "guild" not in call.params else call.id("guild")
        commands[i] = self._stored(merged, scope, int(commands[i].payload["id"]))
        return Reply(200, deep_copy(commands[i].payload))

    async def _delete_command(self, call: Call) -> Reply:
        commands, i = self._find_command(call)
        del commands[i]
        return Reply(204)

    # -- guilds --------------------------------------------------------------------------------

    async def _get_guild(self, call: Call) -> Reply:
        guild = self._guild(call.id("guild"))
        data = guild.payload()
        if call.flag("with_counts"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return Reply(200, data)

    async def _get_guild_channels(self, call: Call) -> Reply:
        guild = self._guild(call.id("guild"))
        return Reply(200, [c.payload() for c in guild.live_channels()])

    async def _get_roles(self, call: Call) -> Reply:
        guild = self._guild(call.id("guild"))
        return Reply(200, [r.payload() for r in guild.roles.values()])

    async def _list_members(self, call: Call) -> Reply:
        guild = self._guild(call.id("guild"))
        limit = max(1, min(1000, int(call.query.get("limit", "1"))))
        after = int(call.query.get("after", "0"))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return Reply(200, [m.payload() for m in members[:limit]])

    async def _get_member(self, call: Call) -> Reply:
        guild = self._guild(call.id("guild"))
        member = guild.members.get(call.id("user"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return Reply(200, member.payload())

    # -- channels and messages -----------------------------------------------------------------

    async def _get_channel(self, call: Call) -> Reply:
        channel, _ = self._visible_channel(call.id("channel"))
        return Reply(200, channel.payload())

    async def _typing(self, call: Call) -> Reply:
        _, perms = self._visible_channel(call.id("channel"))
        if not perms & SEND_MESSAGES:
            raise ApiError(403, 50013, "Missing Permissions")
        return Reply(204)

    async def _list_messages(self, call: Call) -> Reply:
        channel, perms = self._visible_channel(call.id("channel"))
        if not perms & READ_MESSAGE_HISTORY:
            return Reply(200, [])
        limit = max(1, min(100, int(call.query.get("limit", "50"))))
        messages = self.world.channel_messages(channel.id)
        if "before" in call.query:
            messages = [m for m in messages if m.id < int(call.query["before"])]
        if "after" in call.query:
            newer = [m for m in messages if m.id > int(call.query["after"])]
            return Reply(200, [deep_copy(m.payload) for m in reversed(newer[:limit])])
        if "around" in call.query:
            pivot = int(call.query["around"])
            older = [m for m in messages if m.id <= pivot][-(limit // 2 + limit % 2) :]
            newer = [m for m in messages if m.id > pivot][: limit // 2]
            messages = older + newer
        return Reply(200, [deep_copy(m.payload) for m in reversed(messages[-limit:])])

    async def _get_message(self, call: Call) -> Reply:
        channel, perms = self._visible_channel(call.id("channel"))
        if not perms & READ_MESSAGE_HISTORY:
            raise ApiError(403, 50013, "Missing Permissions")
        return Reply(200, deep_copy(self._message(channel, call.id("message")).payload))

    async def _open_dm(self, call: Call) -> Reply:
        """The DM channel with a user (the same one on every call)."""
        body = call.body if isinstance(call.body, dict) else {}
        try:
            user = self.world.users.get(int(body.get("recipient_id") or 0))
        except (TypeError, ValueError):
            user = None
        if user is None:
            raise ApiError(400, 50035, "Invalid Form Body")
        channel_id = self.world.dm_channels.setdefault(user.id, self.world.ids.next())
        self.world.dm_messages.setdefault(channel_id, [])
        return Reply(
            200,
            {
                "id": str(channel_id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user.payload()],
            },
        )

    def _create_dm_message(self, call: Call, channel_id: int) -> Reply:
        """A message from the bot in a DM: no guild, no permissions, only the recipient's
        will (a user who closed DMs makes Discord answer 403 50007)."""
        world = self.world
        user_id = next(u for u, c in world.dm_channels.items() if c == channel_id)
        if user_id in world.dms_closed:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        body = call.body if isinstance(call.body, dict) else {}
        check_message(body, creating=True, has_files=bool(call.files))
        payload: JSON = {
            "id": str(world.ids.next()),
            "type": 0,
            "channel_id": str(channel_id),
            "author": world.bot_user.payload(),
            "content": body.get("content") or "",
            "timestamp": iso(world.clock.now()),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": deep_copy(body.get("embeds") or []),
            "reactions": [],
            "pinned": False,
            "flags": 0,
            "components": [],
        }
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        world.dm_messages[channel_id].append(payload)
        self.twin.changes.notify()
        return Reply(200, deep_copy(payload))

    async def _create_message(self, call: Call) -> Reply:
        if call.id("channel") in self.world.dm_messages:
            return self._create_dm_message(call, call.id("channel"))
        channel, perms = self._visible_channel(call.id("channel"))
        if channel.type == CATEGORY_CHANNEL:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if not perms & SEND_MESSAGES:
            raise ApiError(403, 50013, "Missing Permissions")
        body = call.body if isinstance(call.body, dict) else {}
        check_message(body, creating=True, has_files=bool(call.files))
        if call.files and not perms & ATTACH_FILES:
            raise ApiError(403, 50013, "Missing Permissions")
        bot = self._bot(channel.guild_id)
        nonce = body.get("nonce")
        now = self.world.clock.now()
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.world.nonces.get((channel.id, bot.id, str(nonce)))
            if seen is not None and now - seen[1] <= self.twin.nonce_window:
                earlier = self.world.messages[seen[0]]
                if earlier.deleted:
                    # What discord.py documents as NotFound for a reused nonce.
                    raise ApiError(404, 10008, "Unknown Message")
                return Reply(200, deep_copy(earlier.payload))
        if not perms & EMBED_LINKS:
            body = dict(body, embeds=[])  # Discord drops embeds the author may not post
        message = self.new_message(
            channel,
            body,
            call.files,
            author=self.world.bot_user.payload(),
            author_id=bot.id,
            member=bot,
            may_mention_everyone=bool(perms & MENTION_EVERYONE),
        )
        if nonce is not None:
            self.world.nonces[(channel.id, bot.id, str(nonce))] = (message.id, now)
        return Reply(200, deep_copy(message.payload))

    async def _edit_message(self, call: Call) -> Reply:
        channel, _ = self._visible_channel(call.id("channel"))
        message = self._message(channel, call.id("message"))
        if message.author_id != self.world.bot_user.id or message.webhook_id is not None:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        body = call.body if isinstance(call.body, dict) else {}
        check_message(body, creating=False)
        self.apply_edit(message, body, call.files)
        return Reply(200, deep_copy(message.payload))

    async def _delete_message(self, call: Call) -> Reply:
        channel, perms = self._visible_channel(call.id("channel"))
        message = self._message(channel, call.id("message"))
        if message.author_id != self.world.bot_user.id and not perms & MANAGE_MESSAGES:
            raise ApiError(403, 50013, "Missing Permissions")
        self.remove_message(message)
        return Reply(204)

    # -- message building, shared by channels, webhooks and interactions ----------------------

    def new_message(
        self,
        channel: TwinChannel,
        body: JSON,
        files: list[UploadedFile],
        *,
        author: JSON,
        author_id: int,
        member: TwinMember | None,
        may_mention_everyone: bool,
        type_: int = 0,
        flags: int = 0,
        webhook_id: int | None = None,
        interaction: InteractionRecord | None = None,
    ) -> StoredMessage:
        """Create, store and announce (MESSAGE_CREATE) a message; ephemeral ones stay private."""
        world = self.world
        guild = world.guild_of(channel)
        content = body.get("content") or ""
        everyone, mentions, roles = world.mentions(
            content, body.get("allowed_mentions"), guild, may_mention_everyone=may_mention_everyone
        )
        flags |= int(body.get("flags") or 0) & CREATE_FLAGS
        message_id = world.ids.next()
        payload: JSON = {
            "id": str(message_id),
            "type": type_,
            "channel_id": str(channel.id),
            "author": author,
            "content": content,
            "timestamp": iso(world.clock.now()),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": roles,
            "mention_channels": [],
            "attachments": self._attachments(channel.id, body, files, []),
            "embeds": deep_copy(body.get("embeds") or []),
            "reactions": [],
            "pinned": False,
            "flags": flags,
            "components": deep_copy(body.get("components") or []),
        }
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        if webhook_id is not None:
            payload["webhook_id"] = str(webhook_id)
        if interaction is not None:
            payload["application_id"] = str(world.application_id)
            payload["interaction_metadata"] = self._interaction_metadata(interaction)
            payload["interaction"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "name": interaction.command_name,
                "user": interaction.member.user.payload(),
                "member": interaction.member.payload(with_user=False),
            }
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id") is not None:
            self._attach_reference(payload, channel, reference)
        stored = StoredMessage(
            payload=payload,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            ephemeral=bool(flags & FLAG_EPHEMERAL),
            webhook_id=webhook_id,
            interaction_id=None if interaction is None else interaction.id,
        )
        world.store_message(stored)
        if not stored.ephemeral:
            self._announce("MESSAGE_CREATE", stored, member)
        return stored

    def _interaction_metadata(self, record: InteractionRecord) -> JSON:
        data: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": record.member.user.payload(),
            "authorizing_integration_owners": {"0": str(record.guild_id)},
        }
        if record.type == 2:
            data.update(name=record.command_name, command_type=1)
        if record.source_message_id is not None:
            data["interacted_message_id"] = str(record.source_message_id)
        return data

    def _attach_reference(self, payload: JSON, channel: TwinChannel, reference: JSON) -> None:
        target = self.world.messages.get(int(reference["message_id"]))
        if target is None or target.deleted or target.channel_id != channel.id:
            if reference.get("fail_if_not_exists", True):
                errors = FormErrors()
                errors.add(
                    ("message_reference",),
                    "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                    "Unknown message",
                )
                errors.raise_if_any()
            return
        payload["type"] = 19 if payload["type"] == 0 else payload["type"]
        payload["message_reference"] = {
            "type": 0,
            "message_id": str(target.id),
            "channel_id": str(channel.id),
            "guild_id": str(channel.guild_id),
        }
        payload["referenced_message"] = deep_copy(target.payload)

    def _attachments(
        self, channel_id: int, body: JSON, files: list[UploadedFile], existing: list[JSON]
    ) -> list[JSON]:
        by_index: dict[int, UploadedFile] = {}
        for position, upload in enumerate(files):
            found = _FILE_FIELD.match(upload.field)
            index = int(found.group(1) or found.group(2) or position) if found else position
            by_index[index] = upload
        wanted = body.get("attachments")
        result: list[JSON] = []
        if wanted is None:
            result = list(existing)
            entries: list[JSON] = [{"id": i} for i in sorted(by_index)]
        else:
            keep = {str(a.get("id")) for a in wanted if isinstance(a, dict)}
            result = [a for a in existing if a["id"] in keep]
            entries = [
                a
                for a in wanted
                if isinstance(a, dict) and str(a.get("id")) not in {x["id"] for x in existing}
            ]
        for entry in entries:
            found_upload = by_index.get(int(entry.get("id", -1)))
            if found_upload is None:
                continue
            upload = found_upload
            attachment_id = self.world.ids.next()
            self.world.files[attachment_id] = upload.data
            filename = entry.get("filename") or upload.filename
            url = f"{self.twin.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            data: JSON = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": upload.content_type,
            }
            if entry.get("description"):
                data["description"] = entry["description"]
            result.append(data)
        return result

    def apply_edit(self, message: StoredMessage, body: JSON, files: list[UploadedFile]) -> None:
        """Apply a PATCH: content, embeds, components, attachments, suppress flag."""
        payload = message.payload
        channel = self.world.channel(message.channel_id)
        guild = None if channel is None else self.world.guild_of(channel)
        if "content" in body:
            payload["content"] = body["content"] or ""
            everyone, mentions, roles = self.world.mentions(
                payload["content"], body.get("allowed_mentions"), guild, may_mention_everyone=False
            )
            payload.update(mention_everyone=everyone, mentions=mentions, mention_roles=roles)
        if "embeds" in body:
            payload["embeds"] = deep_copy(body["embeds"] or [])
        if "components" in body:
            payload["components"] = deep_copy(body["components"] or [])
        if "attachments" in body or files:
            assert channel is not None
            payload["attachments"] = self._attachments(
                channel.id, body, files, payload.get("attachments", [])
            )
        if body.get("flags") is not None:
            keep = payload["flags"] & ~FLAG_SUPPRESS_EMBEDS
            payload["flags"] = keep | (int(body["flags"]) & FLAG_SUPPRESS_EMBEDS)
        payload["edited_timestamp"] = iso(self.world.clock.now())
        if not message.ephemeral:
            self._announce("MESSAGE_UPDATE", message, None)

    def remove_message(self, message: StoredMessage) -> None:
        """Delete a message and announce MESSAGE_DELETE."""
        message.deleted = True
        if not message.ephemeral:
            self.twin.gateway.dispatch(
                "MESSAGE_DELETE",
                {
                    "id": str(message.id),
                    "channel_id": str(message.channel_id),
                    "guild_id": str(message.guild_id),
                },
                guild_id=message.guild_id,
                intent=GUILD_MESSAGES,
            )

    def _announce(self, event: str, message: StoredMessage, member: TwinMember | None) -> None:
        data = deep_copy(message.payload)
        data["guild_id"] = str(message.guild_id)
        if member is not None:
            data["member"] = member.payload(with_user=False)
        intents = self.twin.gateway.session_intents(message.guild_id)
        mentioned = any(int(u["id"]) == self.world.bot_user.id for u in data.get("mentions", []))
        if (
            not intents & MESSAGE_CONTENT
            and message.author_id != self.world.bot_user.id
            and not mentioned
        ):
            data.update(content="", embeds=[], attachments=[], components=[])
        self.twin.gateway.dispatch(event, data, guild_id=message.guild_id, intent=GUILD_MESSAGES)

    # -- interactions --------------------------------------------------------------------------

    def _interaction(self, interaction_id: int, token: str) -> InteractionRecord:
        record = self.world.interactions.get(interaction_id)
        if record is None or record.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        return record

    async def _interaction_callback(self, call: Call) -> Reply:
        record = self._interaction(call.id("interaction"), call.params["token"])
        now = self.world.clock.now()
        if record.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if (now - record.created_at).total_seconds() > self.twin.ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        body = call.body if isinstance(call.body, dict) else {}
        kind = body.get("type")
        raw_data = body.get("data")
        data: JSON = raw_data if isinstance(raw_data, dict) else {}
        allowed = {
            2: (4, 5, 9),
            3: (4, 5, 6, 7, 9),
            4: (8,),
            5: (4, 5) + ((6, 7) if record.source_message_id is not None else ()),
        }[record.type]
        if kind not in allowed:
            errors = FormErrors()
            errors.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Callback type {kind} is not valid for interaction type {record.type}; "
                f"expected one of {allowed}",
            )
            errors.raise_if_any()
        message: StoredMessage | None = None
        if kind == 4:
            check_message(data, creating=True, has_files=bool(call.files))
            message = self._interaction_message(record, data, call.files, loading=False)
        elif kind == 5:
            message = self._interaction_message(
                record, {"flags": data.get("flags")}, [], loading=True
            )
        elif kind in (6, 7):
            assert record.source_message_id is not None
            message = self.world.messages[record.source_message_id]
            if kind == 7:
                check_message(data, creating=False)
                self.apply_edit(message, data, call.files)
                record.resolved = True
        elif kind == 8:
            record.choices = list(data.get("choices") or [])
        elif kind == 9:
            check_modal(data)
            record.modal = deep_copy(data)
        record.callback_type = kind
        record.callback_data = deep_copy(data)
        record.acknowledged_at = now
        if message is not None:
            record.original_message_id = message.id
        if not call.flag("with_response"):
            return Reply(204)
        response: JSON = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message is not None and message.ephemeral),
            }
        }
        resource: JSON = {"type": kind}
        if message is not None:
            response["interaction"]["response_message_id"] = str(message.id)
            resource["message"] = deep_copy(message.payload)
        response["resource"] = resource
        return Reply(200, response)

    def _interaction_message(
        self, record: InteractionRecord, data: JSON, files: list[UploadedFile], *, loading: bool
    ) -> StoredMessage:
        channel = self._channel(record.channel_id)
        flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
        if loading:
            flags |= FLAG_LOADING
        return self.new_message(
            channel,
            data,
            files,
            author=self.world.bot_user.payload(),
            author_id=self.world.bot_user.id,
            member=self.world.guilds[channel.guild_id].members.get(self.world.bot_user.id),
            may_mention_everyone=True,
            type_=20 if record.type == 2 else 0,
            flags=flags,
            webhook_id=self.world.application_id,
            interaction=record,
        )

    # -- webhooks: interaction follow-ups and incoming webhooks --------------------------------

    def _hook_target(self, call: Call) -> InteractionRecord | int:
        """The interaction (application id + interaction token) or incoming webhook id."""
        hook_id, token = call.id("hook"), call.params["token"]
        if hook_id == self.world.application_id:
            for record in self.world.interactions.values():
                if record.token == token:
                    if self.world.clock.now() - record.created_at > INTERACTION_TOKEN_LIFETIME:
                        raise ApiError(401, 50027, "Invalid Webhook Token")
                    return record
            raise ApiError(404, 10015, "Unknown Webhook")
        webhook = self.world.webhooks.get(hook_id)
        if webhook is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if webhook.token != token:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        channel = self.world.channel(webhook.channel_id)
        if channel is None or channel.deleted:
            raise ApiError(404, 10015, "Unknown Webhook")
        return hook_id

    async def _get_webhook(self, call: Call) -> Reply:
        target = self._hook_target(call)
        if isinstance(target, InteractionRecord):
            raise ApiError(404, 10015, "Unknown Webhook")
        return Reply(200, self.world.webhooks[target].payload())

    async def _execute_webhook(self, call: Call) -> Reply:
        target = self._hook_target(call)
        body = call.body if isinstance(call.body, dict) else {}
        check_message(body, creating=True, has_files=bool(call.files))
        if isinstance(target, InteractionRecord):
            message = self._followup(target, body, call.files)
        else:
            webhook = self.world.webhooks[target]
            channel = self._channel(webhook.channel_id)
            author = {
                "id": str(webhook.id),
                "username": body.get("username") or webhook.name,
                "avatar": None,
                "discriminator": "0000",
                "global_name": None,
                "bot": True,
            }
            message = self.new_message(
                channel,
                body,
                call.files,
                author=author,
                author_id=webhook.id,
                member=None,
                may_mention_everyone=True,
                webhook_id=webhook.id,
            )
        if not call.flag("wait"):
            return Reply(204)
        return Reply(200, deep_copy(message.payload))

    def _followup(
        self, record: InteractionRecord, body: JSON, files: list[UploadedFile]
    ) -> StoredMessage:
        if not record.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        original = (
            None
            if record.original_message_id is None
            else self.world.messages.get(record.original_message_id)
        )
        if (
            record.callback_type == 5
            and original is not None
            and original.payload["flags"] & FLAG_LOADING
        ):
            # The first follow-up after a deferred reply takes the place of "thinking...".
            self.apply_edit(original, body, files)
            original.payload["flags"] &= ~FLAG_LOADING
            record.resolved = True
            return original
        message = self._interaction_message(record, body, files, loading=False)
        record.followup_ids.append(message.id)
        return message

    def _hook_message(self, call: Call) -> tuple[StoredMessage, InteractionRecord | None]:
        target = self._hook_target(call)
        mid = call.params["mid"]
        if isinstance(target, InteractionRecord):
            wanted = target.original_message_id if mid == "@original" else int(mid)
            allowed = {target.original_message_id, *target.followup_ids}
            if wanted is None or wanted not in allowed:
                raise ApiError(404, 10008, "Unknown Message")
            message = self.world.messages.get(wanted)
            if message is None or message.deleted:
                raise ApiError(404, 10008, "Unknown Message")
            return message, target
        if mid == "@original":
            raise ApiError(404, 10008, "Unknown Message")
        message = self.world.messages.get(int(mid))
        if message is None or message.deleted or message.webhook_id != target:
            raise ApiError(404, 10008, "Unknown Message")
        return message, None

    async def _get_hook_message(self, call: Call) -> Reply:
        message, _ = self._hook_message(call)
        return Reply(200, deep_copy(message.payload))

    async def _edit_hook_message(self, call: Call) -> Reply:
        message, record = self._hook_message(call)
        body = call.body if isinstance(call.body, dict) else {}
        check_message(body, creating=False)
        self.apply_edit(message, body, call.files)
        if record is not None and message.id == record.original_message_id:
            if message.payload["flags"] & FLAG_LOADING:
                message.payload["flags"] &= ~FLAG_LOADING
            record.resolved = True
        return Reply(200, deep_copy(message.payload))

    async def _delete_hook_message(self, call: Call) -> Reply:
        message, _ = self._hook_message(call)
        self.remove_message(message)
        return Reply(204)
