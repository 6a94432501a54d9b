"""Interactions a test sends to the bot: payloads built from the synced command schema, and the
`InteractionResult` through which the test reads the bot's answer."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .world import (
    ADMINISTRATOR,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    JSON,
    InteractionRecord,
    StoredCommand,
    TwinChannel,
    TwinGuild,
    TwinMember,
    TwinRole,
    TwinUser,
    World,
    deep_copy,
)

if TYPE_CHECKING:
    from .twin import DiscordTwin

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
_TYPE_NAMES = {
    1: "sub-command",
    2: "sub-command group",
    3: "string",
    4: "integer",
    5: "boolean",
    6: "user",
    7: "channel",
    8: "role",
    9: "mentionable",
    10: "number",
    11: "attachment",
}
_SELECT_TYPES = (3, 5, 6, 7, 8)


class InteractionResult:
    """What the bot did with one interaction: its callback, its message, its follow-ups."""

    def __init__(self, twin: DiscordTwin, record: InteractionRecord) -> None:
        self._twin = twin
        self.record = record

    def __repr__(self) -> str:
        return (
            f"<InteractionResult {self.describe()} callback={self.callback_type} "
            f"content={self.content!r}>"
        )

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def payload(self) -> JSON:
        """The INTERACTION_CREATE payload the bot received."""
        return deep_copy(self.record.payload)

    @property
    def callback_type(self) -> int | None:
        """4 message, 5 deferred message, 6 deferred update, 7 update, 8 choices, 9 modal."""
        return self.record.callback_type

    @property
    def message(self) -> JSON | None:
        """The current state of the response message (for a click: the clicked message)."""
        if self.record.original_message_id is None:
            return None
        return deep_copy(self._twin.world.messages[self.record.original_message_id].payload)

    @property
    def content(self) -> str:
        message = self.message
        return "" if message is None else str(message.get("content") or "")

    @property
    def embeds(self) -> list[JSON]:
        message = self.message
        return [] if message is None else list(message.get("embeds") or [])

    @property
    def components(self) -> list[JSON]:
        message = self.message
        return [] if message is None else list(message.get("components") or [])

    @property
    def flags(self) -> int:
        message = self.message
        return 0 if message is None else int(message.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def followups(self) -> list[JSON]:
        world = self._twin.world
        return [deep_copy(world.messages[i].payload) for i in self.record.followup_ids]

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback 9): custom_id, title, components."""
        return deep_copy(self.record.modal)

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices (callback 8)."""
        return deep_copy(self.record.choices)

    def describe(self) -> str:
        """A short name for messages: id and command, click or modal."""
        record = self.record
        what = {2: f"/{record.command_name}", 3: "component click", 4: "autocomplete", 5: "modal"}
        return f"interaction {record.id} ({what.get(record.type, record.type)})"

    def _answered(self) -> bool:
        record = self.record
        if record.callback_type is None:
            return False
        if record.callback_type in (5, 6):
            return record.resolved or bool(record.followup_ids)
        return True

    async def wait_ack(self, timeout: float = 3.0) -> int:
        """Wait for the bot's interaction callback; return its type."""
        return await self._twin.changes.wait_until(
            lambda: self.record.callback_type, timeout, self._why_waiting
        )

    async def wait_response(self, timeout: float = 5.0) -> InteractionResult:
        """Wait for a visible answer: a message, an update, a modal, or a deferred one resolved."""
        await self._twin.changes.wait_until(
            lambda: self if self._answered() else None, timeout, self._why_waiting
        )
        return self

    async def wait_followups(self, count: int, timeout: float = 5.0) -> list[JSON]:
        """Wait until the bot sent at least `count` follow-up messages; return them."""
        await self._twin.changes.wait_until(
            lambda: len(self.record.followup_ids) >= count or None, timeout, self._why_waiting
        )
        return self.followups

    def _why_waiting(self) -> str:
        record = self.record
        state = (
            "no callback yet"
            if record.callback_type is None
            else f"callback type {record.callback_type}, resolved={record.resolved}, "
            f"{len(record.followup_ids)} follow-up(s)"
        )
        recent = [
            f"{r.method} {r.path} -> {r.status}"
            for r in self._twin.requests
            if r.at >= record.created_at
        ][-8:]
        return f"{self.describe()}: {state}; requests since: {recent or 'none'}"


# -- building payloads ----------------------------------------------------------------------


def new_record(
    world: World,
    *,
    type_: int,
    data: JSON,
    guild: TwinGuild,
    channel: TwinChannel,
    member: TwinMember,
    locale: str,
    command_name: str = "",
    message: JSON | None = None,
    source_message_id: int | None = None,
) -> InteractionRecord:
    """An interaction with the full payload Discord sends, registered in the world."""
    interaction_id = world.ids.next()
    token = "twin." + secrets.token_urlsafe(48)
    member_perms = world.channel_permissions(channel, member)
    bot_perms = world.channel_permissions(channel, world.bot_member(guild))
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": type_,
        "data": data,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "guild_locale": "en-US",
        "channel_id": str(channel.id),
        "channel": world.interaction_channel(channel, member),
        "member": member.payload(permissions=member_perms),
        "token": token,
        "version": 1,
        "app_permissions": str(bot_perms),
        "locale": locale,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message is not None:
        payload["message"] = message
    record = InteractionRecord(
        id=interaction_id,
        token=token,
        type=type_,
        payload=payload,
        guild_id=guild.id,
        channel_id=channel.id,
        member=member,
        created_at=world.clock.now(),
        command_name=command_name,
        source_message_id=source_message_id,
    )
    world.interactions[interaction_id] = record
    return record


def command_data(
    world: World,
    command: StoredCommand,
    path: Sequence[str],
    options: Mapping[str, Any],
    *,
    guild: TwinGuild,
    channel: TwinChannel,
    member: TwinMember,
    focused: str | None = None,
) -> JSON:
    """The `data` of an APPLICATION_COMMAND interaction, typed from the synced schema."""
    shown = "/" + " ".join(path)
    schema: list[JSON] = list(command.payload.get("options") or [])
    top: list[JSON] = []
    container = top
    for name in path[1:]:
        found = next((o for o in schema if o["name"] == name and o["type"] in (1, 2)), None)
        if found is None:
            known = [o["name"] for o in schema if o["type"] in (1, 2)]
            raise LookupError(f"{shown}: {name!r} is not a sub-command here; synced: {known}")
        node: JSON = {"name": name, "type": found["type"], "options": []}
        container.append(node)
        container = node["options"]
        schema = list(found.get("options") or [])
    subs = [o["name"] for o in schema if o["type"] in (1, 2)]
    if subs:
        raise ValueError(f"{shown} needs a sub-command, one of {subs}")
    resolved: JSON = {}
    by_name = {o["name"]: o for o in schema}
    for name, value in options.items():
        spec = by_name.get(name)
        if spec is None:
            raise ValueError(f"{shown} has no option {name!r}; synced options: {sorted(by_name)}")
        entry: JSON = {"name": name, "type": spec["type"]}
        if name == focused:
            entry["value"] = str(value)
            entry["focused"] = True
        else:
            entry["value"] = _option_value(world, shown, spec, value, resolved, channel, member)
        container.append(entry)
    for spec in schema:
        if spec.get("required") and spec["name"] not in options:
            raise ValueError(f"{shown} is missing its required option {spec['name']!r}")
    data: JSON = {"id": command.payload["id"], "name": path[0], "type": 1}
    if top:
        data["options"] = top
    if resolved:
        data["resolved"] = resolved
    if command.payload.get("guild_id") is not None:
        data["guild_id"] = command.payload["guild_id"]
    return data


def _option_value(
    world: World,
    shown: str,
    spec: JSON,
    value: Any,
    resolved: JSON,
    channel: TwinChannel,
    member: TwinMember,
) -> Any:
    kind = spec["type"]
    where = f"{shown} option {spec['name']!r} ({_TYPE_NAMES.get(kind, kind)})"
    if kind == 3:
        if not isinstance(value, str):
            raise TypeError(f"{where} takes a str, got {value!r}")
        low, high = spec.get("min_length"), spec.get("max_length")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise ValueError(f"{where}: length {len(value)} outside [{low}, {high}]")
        _check_choice(where, spec, value)
        return value
    if kind in (4, 10):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where} takes a number, got {value!r}")
        if kind == 4 and not isinstance(value, int):
            raise TypeError(f"{where} takes an int, got {value!r}")
        low, high = spec.get("min_value"), spec.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{where}: {value} outside [{low}, {high}]")
        _check_choice(where, spec, value)
        return value
    if kind == 5:
        if not isinstance(value, bool):
            raise TypeError(f"{where} takes a bool, got {value!r}")
        return value
    if kind in (6, 9) and isinstance(value, (TwinMember, TwinUser)):
        user = value.user if isinstance(value, TwinMember) else value
        resolved.setdefault("users", {})[str(user.id)] = user.payload()
        if isinstance(value, TwinMember):
            perms = world.channel_permissions(channel, value)
            resolved.setdefault("members", {})[str(user.id)] = value.payload(
                with_user=False, permissions=perms
            )
        return str(user.id)
    if kind in (8, 9) and isinstance(value, TwinRole):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return str(value.id)
    if kind == 7:
        target = world.channel(value) if isinstance(value, int) else value
        if not isinstance(target, TwinChannel) or target.deleted:
            raise ValueError(f"{where}: no such channel {value!r}")
        allowed = spec.get("channel_types")
        if allowed and target.type not in allowed:
            raise ValueError(f"{where}: channel type {target.type} not in {allowed}")
        resolved.setdefault("channels", {})[str(target.id)] = world.interaction_channel(
            target, member
        )
        return str(target.id)
    if kind == 11:
        raise TypeError(f"{where}: attachment options are not supported by the twin")
    raise TypeError(f"{where} cannot take {value!r}: pass a TwinMember/TwinUser/TwinRole")


def _check_choice(where: str, spec: JSON, value: Any) -> None:
    choices = spec.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"{where}: {value!r} is not one of {[c['value'] for c in choices]}")


def check_may_use(
    world: World, command: StoredCommand, guild: TwinGuild, member: TwinMember
) -> None:
    """Discord hides a command from members without its default permissions: refuse like it."""
    required = command.payload.get("default_member_permissions")
    if required is None:
        return
    need = int(required)
    have = world.base_permissions(guild, member)
    if have & ADMINISTRATOR:
        return
    if need == 0 or have & need != need:
        raise PermissionError(
            f"/{command.name} needs permissions {need:#x}; member {member.user.username!r} has "
            f"{have:#x} (pass bypass_default_permissions=True to test the bot's own check)"
        )


def walk_components(components: Sequence[JSON]) -> Iterator[JSON]:
    """Every component, depth first, through action rows, containers, sections and labels."""
    for item in components:
        yield item
        children = list(item.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(item.get(key), dict):
                children.append(item[key])
        yield from walk_components(children)


def click_data(message: JSON, custom_id: str, values: Sequence[str] | None) -> JSON:
    """The `data` of a component interaction on `message`."""
    found = next(
        (
            c
            for c in walk_components(message.get("components") or [])
            if c.get("custom_id") == custom_id
        ),
        None,
    )
    if found is None:
        ids = [
            c["custom_id"]
            for c in walk_components(message.get("components") or [])
            if "custom_id" in c
        ]
        raise LookupError(f"message {message['id']} has no component {custom_id!r}; it has {ids}")
    if found.get("disabled"):
        raise ValueError(f"component {custom_id!r} is disabled: Discord would not send the click")
    if message.get("flags", 0) & FLAG_LOADING:
        raise ValueError(f"message {message['id']} is still loading")
    data: JSON = {"custom_id": custom_id, "component_type": found["type"]}
    if found["type"] in _SELECT_TYPES:
        chosen = list(values or [])
        low, high = found.get("min_values", 1), found.get("max_values", 1)
        if not low <= len(chosen) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {chosen}")
        if found["type"] == 3:
            known = [o["value"] for o in found.get("options") or []]
            unknown = [v for v in chosen if v not in known]
            if unknown:
                raise ValueError(f"select {custom_id!r} has no options {unknown}; it has {known}")
        data["values"] = chosen
    elif values:
        raise ValueError(f"component {custom_id!r} is a button: it takes no values")
    return data


def modal_submit_data(modal: JSON, values: Mapping[str, str | Sequence[str]]) -> JSON:
    """The `data` of a MODAL_SUBMIT: the modal's inputs filled with `values` by custom_id."""
    used: set[str] = set()

    def fill(component: JSON) -> JSON:
        custom_id = component.get("custom_id")
        out: JSON = {"type": component["type"]}
        if component.get("id") is not None:
            out["id"] = component["id"]
        if custom_id is None:
            return out
        out["custom_id"] = custom_id
        given = values.get(custom_id)
        if component["type"] == 4:
            text = "" if given is None else str(given)
            if component.get("required", True) and not text:
                raise ValueError(f"modal input {custom_id!r} is required")
            low, high = component.get("min_length"), component.get("max_length")
            if text and (
                (low is not None and len(text) < low) or (high is not None and len(text) > high)
            ):
                raise ValueError(
                    f"modal input {custom_id!r}: length {len(text)} outside [{low}, {high}]"
                )
            out["value"] = text
        else:
            out["values"] = (
                [] if given is None else ([given] if isinstance(given, str) else list(given))
            )
        if given is not None:
            used.add(custom_id)
        return out

    rows: list[JSON] = []
    for component in modal.get("components") or []:
        if component["type"] == 1:
            rows.append(
                {"type": 1, "components": [fill(c) for c in component.get("components") or []]}
            )
        elif component["type"] == 18:
            row: JSON = {"type": 18, "component": fill(component["component"])}
            if component.get("id") is not None:
                row["id"] = component["id"]
            rows.append(row)
        else:
            rows.append(fill(component))
    unknown = set(values) - used
    if unknown:
        raise ValueError(f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}")
    return {"custom_id": modal["custom_id"], "components": rows}
