"""Discord's request checks: message and embed limits, components, commands, modals.

Lengths are counted in code points, as Discord's (Python) API does: an emoji outside the BMP is
one character, not two UTF-16 units. Failures are collected the way Discord reports them: one 400 with code 50035 "Invalid Form Body"
and an `errors` tree keyed by the path of each bad field, e.g.
`{"embeds": {"0": {"description": {"_errors": [{"code": ..., "message": ...}]}}}}`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

JSON = dict[str, Any]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
NONCE_MAX = 25
WEBHOOK_USERNAME_MAX = 80
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
COMMANDS_MAX = 100
OPTIONS_MAX = 25
CHOICES_MAX = 25
MODAL_TITLE_MAX = 45

# Names of chat-input commands and options: lower case letters, digits, '-', '_', 1-32 chars.
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")

Path = tuple[str | int, ...]


class ApiError(Exception):
    """An error response in Discord's shape: HTTP status, JSON error code, message, errors."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: JSON | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> JSON:
        """The JSON error body Discord sends."""
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        data.update(self.extra)
        return data


class FormErrors:
    """Collects field errors; `raise_if_any` turns them into Discord's 400 / 50035."""

    def __init__(self) -> None:
        self.tree: JSON = {}
        self.count = 0

    def add(self, path: Path, code: str, message: str) -> None:
        """Record one error at `path` (keys and list indexes)."""
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
        self.count += 1

    def max_length(self, path: Path, value: Any, limit: int) -> None:
        """A string or list longer than `limit`."""
        if isinstance(value, (str, list)) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def between(self, path: Path, value: Any, low: int, high: int) -> None:
        """A string or list whose length is outside [low, high]."""
        if isinstance(value, (str, list)) and not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def string(self, path: Path, value: Any, *, required: bool = False) -> str | None:
        """`value` if it is a string; else record why not (absent only matters if required)."""
        if value is None:
            if required:
                self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return None
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
            return None
        return value

    def raise_if_any(self) -> None:
        """Raise the collected errors as one 400 / 50035."""
        if self.count:
            raise ApiError(400, 50035, "Invalid Form Body", self.tree)


def check_message(body: JSON, *, creating: bool, has_files: bool = False) -> None:
    """Refuse a message body that Discord would refuse (limits, types, empty messages)."""
    errors = FormErrors()
    content = body.get("content")
    if errors.string(("content",), content):
        errors.max_length(("content",), content, CONTENT_MAX)
    if "embed" in body:
        errors.add(("embed",), "UNKNOWN_FIELD", "Unknown field; use embeds")
    embeds = body.get("embeds")
    if embeds is not None:
        _check_embeds(errors, embeds)
    nonce = body.get("nonce")
    if nonce is not None:
        if isinstance(nonce, bool) or not isinstance(nonce, (str, int)):
            errors.add(("nonce",), "BASE_TYPE_STRING", "Must be a string or an integer.")
        elif isinstance(nonce, str):
            errors.max_length(("nonce",), nonce, NONCE_MAX)
    if body.get("enforce_nonce") and nonce is None:
        errors.add(("nonce",), "BASE_TYPE_REQUIRED", "This field is required")
    allowed = body.get("allowed_mentions")
    if allowed is not None:
        _check_allowed_mentions(errors, allowed)
    components = body.get("components")
    if components is not None:
        check_components(errors, ("components",), components)
    username = body.get("username")
    if username is not None and errors.string(("username",), username):
        errors.between(("username",), username, 1, WEBHOOK_USERNAME_MAX)
    errors.raise_if_any()
    if creating and not (
        content
        or embeds
        or has_files
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _check_embeds(errors: FormErrors, embeds: Any) -> None:
    if not isinstance(embeds, list):
        errors.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    errors.max_length(("embeds",), embeds, EMBEDS_MAX)
    total = 0
    for index, embed in enumerate(embeds):
        path: Path = ("embeds", index)
        if not isinstance(embed, dict):
            errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        total += _check_embed(errors, path, embed)
    if total > EMBED_TOTAL_MAX:
        errors.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _check_embed(errors: FormErrors, path: Path, embed: JSON) -> int:
    """Check one embed; return its size as Discord counts it toward the 6000 total."""
    size = 0
    for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
        value = errors.string((*path, key), embed.get(key))
        if value is not None:
            errors.max_length((*path, key), value, limit)
            size += len(value)
    for key in ("url",):
        _check_url(errors, (*path, key), embed.get(key), allow_attachment=False)
    color = embed.get("color")
    if color is not None and (
        isinstance(color, bool) or not isinstance(color, int) or not 0 <= color <= 0xFFFFFF
    ):
        errors.add(
            (*path, "color"),
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 16777215.",
        )
    timestamp = embed.get("timestamp")
    if timestamp is not None:
        try:
            datetime.fromisoformat(str(timestamp))
        except ValueError:
            errors.add(
                (*path, "timestamp"),
                "DATE_TIME_TYPE_PARSE",
                f"Could not parse {timestamp}. Should be ISO8601.",
            )
    footer = embed.get("footer")
    if isinstance(footer, dict):
        text = errors.string((*path, "footer", "text"), footer.get("text"), required=True)
        if text is not None:
            errors.max_length((*path, "footer", "text"), text, EMBED_FOOTER_MAX)
            size += len(text)
        _check_url(errors, (*path, "footer", "icon_url"), footer.get("icon_url"), True)
    author = embed.get("author")
    if isinstance(author, dict):
        name = errors.string((*path, "author", "name"), author.get("name"), required=True)
        if name is not None:
            errors.max_length((*path, "author", "name"), name, EMBED_AUTHOR_MAX)
            size += len(name)
        _check_url(errors, (*path, "author", "url"), author.get("url"), False)
        _check_url(errors, (*path, "author", "icon_url"), author.get("icon_url"), True)
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if isinstance(media, dict):
            _check_url(errors, (*path, key, "url"), media.get("url"), True, required=True)
    fields = embed.get("fields")
    if fields is not None:
        if not isinstance(fields, list):
            errors.add((*path, "fields"), "BASE_TYPE_ARRAY", "Must be an array.")
        else:
            errors.max_length((*path, "fields"), fields, EMBED_FIELDS_MAX)
            for i, item in enumerate(fields):
                fpath: Path = (*path, "fields", i)
                if not isinstance(item, dict):
                    errors.add(fpath, "DICT_TYPE_CONVERT", "Only dictionaries may be used")
                    continue
                name = errors.string((*fpath, "name"), item.get("name"), required=True)
                value = errors.string((*fpath, "value"), item.get("value"), required=True)
                if name is not None:
                    errors.max_length((*fpath, "name"), name, EMBED_FIELD_NAME_MAX)
                    if not name:
                        errors.add((*fpath, "name"), "BASE_TYPE_REQUIRED", "This field is required")
                if value is not None:
                    errors.max_length((*fpath, "value"), value, EMBED_FIELD_VALUE_MAX)
                    if not value:
                        errors.add(
                            (*fpath, "value"), "BASE_TYPE_REQUIRED", "This field is required"
                        )
                size += len(_text(name)) + len(_text(value))
    return size


def _check_url(
    errors: FormErrors, path: Path, value: Any, allow_attachment: bool, *, required: bool = False
) -> None:
    if value is None:
        if required:
            errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", "Must be a string.")
        return
    schemes = ("http", "https", "attachment") if allow_attachment else ("http", "https")
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in schemes:
        errors.add(
            path,
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{scheme}" is not supported. Scheme must be one of {schemes}.',
        )
    elif len(value) > 2048:
        errors.max_length(path, value, 2048)


def _check_allowed_mentions(errors: FormErrors, allowed: Any) -> None:
    if not isinstance(allowed, dict):
        errors.add(("allowed_mentions",), "DICT_TYPE_CONVERT", "Only dictionaries may be used")
        return
    parse = allowed.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in ("users", "roles", "everyone"):
            errors.add(
                ("allowed_mentions", "parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of {'users', 'roles', 'everyone'}.",
            )
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            errors.add(
                ("allowed_mentions", "parse"),
                "SET_TYPE_ALREADY_CONTAINS_VALUE",
                f"parse:{kind} and {kind}: [ids...] are mutually exclusive.",
            )
        errors.max_length(("allowed_mentions", kind), allowed.get(kind) or [], 100)


def check_components(errors: FormErrors, path: Path, rows: Any) -> None:
    """Action rows of buttons and selects: counts, ids, labels, link buttons."""
    if not isinstance(rows, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    errors.max_length(path, rows, ACTION_ROWS_MAX)
    seen: set[str] = set()
    for r, row in enumerate(rows):
        rpath: Path = (*path, r)
        if not isinstance(row, dict):
            errors.add(rpath, "DICT_TYPE_CONVERT", "Only dictionaries may be used")
            continue
        if row.get("type") != 1:
            # Components V2 layouts are accepted as sent; only action rows are checked.
            continue
        items = row.get("components") or []
        errors.max_length((*rpath, "components"), items, ROW_ITEMS_MAX)
        for i, item in enumerate(items):
            _check_component(errors, (*rpath, "components", i), item, seen)


def _check_component(errors: FormErrors, path: Path, item: Any, seen: set[str]) -> None:
    if not isinstance(item, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used")
        return
    kind = item.get("type")
    custom_id = item.get("custom_id")
    if kind == 2 and item.get("style") == 5:
        if not item.get("url"):
            errors.add((*path, "url"), "BASE_TYPE_REQUIRED", "This field is required")
        if custom_id is not None:
            errors.add(
                (*path, "custom_id"),
                "COMPONENT_INVALID",
                "A link button cannot have a custom_id",
            )
    elif kind in (2, 3, 4, 5, 6, 7, 8) and item.get("style") != 6:
        checked = errors.string((*path, "custom_id"), custom_id, required=True)
        if checked is not None:
            errors.between((*path, "custom_id"), checked, 1, CUSTOM_ID_MAX)
            if checked in seen:
                errors.add(
                    (*path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(checked)
    if kind == 2:
        label = item.get("label")
        if label is not None:
            errors.max_length((*path, "label"), label, BUTTON_LABEL_MAX)
    if kind == 3:
        options = item.get("options") or []
        errors.between((*path, "options"), options, 1, SELECT_OPTIONS_MAX)


def check_modal(data: Any) -> None:
    """A modal (callback type 9): custom id, title of at most 45, one to five components."""
    errors = FormErrors()
    if not isinstance(data, dict):
        errors.add(("data",), "DICT_TYPE_CONVERT", "Only dictionaries may be used")
        errors.raise_if_any()
        return
    if errors.string(("data", "custom_id"), data.get("custom_id"), required=True):
        errors.between(("data", "custom_id"), data["custom_id"], 1, CUSTOM_ID_MAX)
    if errors.string(("data", "title"), data.get("title"), required=True):
        errors.between(("data", "title"), data["title"], 1, MODAL_TITLE_MAX)
    components = data.get("components")
    if not isinstance(components, list):
        errors.add(("data", "components"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        errors.between(("data", "components"), components, 1, 5)
    errors.raise_if_any()


def check_commands(commands: Any) -> None:
    """A bulk overwrite of application commands, checked like Discord does."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
        return
    errors.max_length((), commands, COMMANDS_MAX)
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        if not isinstance(command, dict):
            errors.add((index,), "DICT_TYPE_CONVERT", "Only dictionaries may be used")
            continue
        check_command(errors, (index,), command)
        key = (int(command.get("type", 1) or 1), str(command.get("name")))
        if key in seen:
            errors.add(
                (index, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {key[1]}",
            )
        seen.add(key)
    errors.raise_if_any()


def check_command(errors: FormErrors, path: Path, command: JSON) -> None:
    """One command: name rules, description, options, defaults."""
    kind = command.get("type", 1) or 1
    name = errors.string((*path, "name"), command.get("name"), required=True)
    if name is not None:
        if kind == 1:
            _check_name(errors, (*path, "name"), name)
        else:
            errors.between((*path, "name"), name, 1, 32)
    description = command.get("description")
    if kind == 1:
        if errors.string((*path, "description"), description, required=True):
            errors.between((*path, "description"), description, 1, 100)
    elif description:
        errors.add(
            (*path, "description"),
            "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
            "Context menu commands cannot have description",
        )
    perms = command.get("default_member_permissions")
    if perms is not None:
        try:
            int(perms)
        except (TypeError, ValueError):
            errors.add((*path, "default_member_permissions"), "NUMBER_TYPE_COERCE", "Not an int")
    options = command.get("options") or []
    if kind != 1 and options:
        errors.add((*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.")
    _check_options(errors, (*path, "options"), options, depth=0)


def _check_name(errors: FormErrors, path: Path, name: str) -> None:
    if not _COMMAND_NAME.match(name) or name != name.lower():
        errors.add(
            path,
            "APPLICATION_COMMAND_INVALID_NAME",
            f"Command name is invalid: {name!r} (lower case, 1-32 of letters, digits, - and _)",
        )


def _check_options(errors: FormErrors, path: Path, options: Any, *, depth: int) -> None:
    if not isinstance(options, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    errors.max_length(path, options, OPTIONS_MAX)
    names: set[str] = set()
    seen_optional = False
    kinds = [o.get("type") for o in options if isinstance(o, dict)]
    if any(k in (1, 2) for k in kinds) and any(k not in (1, 2) for k in kinds):
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        )
    for i, option in enumerate(options):
        opath: Path = (*path, i)
        if not isinstance(option, dict):
            errors.add(opath, "DICT_TYPE_CONVERT", "Only dictionaries may be used")
            continue
        kind = option.get("type")
        if kind not in range(1, 12):
            errors.add((*opath, "type"), "BASE_TYPE_CHOICES", f"Value must be 1..11, got {kind}")
            continue
        name = errors.string((*opath, "name"), option.get("name"), required=True)
        if name is not None:
            _check_name(errors, (*opath, "name"), name)
            if name in names:
                errors.add(
                    (*opath, "name"),
                    "APPLICATION_COMMAND_OPTION_NAME_NOT_UNIQUE",
                    f"Option names must be unique: {name}",
                )
            names.add(name)
        description = option.get("description")
        if errors.string((*opath, "description"), description, required=True):
            errors.between((*opath, "description"), description, 1, 100)
        if kind == 2 and depth > 0:
            errors.add((*opath, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Nested group")
        if kind == 1 and depth > 1:
            errors.add((*opath, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Too deep")
        if kind in (1, 2):
            child_depth = depth + (1 if kind == 2 else 2)
            _check_options(
                errors, (*opath, "options"), option.get("options") or [], depth=child_depth
            )
            if kind == 2 and not option.get("options"):
                errors.add((*opath, "options"), "BASE_TYPE_REQUIRED", "A group needs sub-commands")
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    (*opath, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = option.get("choices")
        if choices is not None:
            errors.max_length((*opath, "choices"), choices, CHOICES_MAX)
            for c, choice in enumerate(choices if isinstance(choices, list) else []):
                cname = choice.get("name") if isinstance(choice, dict) else None
                if errors.string((*opath, "choices", c, "name"), cname, required=True):
                    errors.between((*opath, "choices", c, "name"), cname, 1, 100)
