"""Point discord.py at another Discord: a REST proxy, or the loopback twin the tests run.

discord.py 2.x has a setting for neither address. REST calls are built from the class attribute
`discord.http.Route.BASE` (the library's own API-version switch rewrites it, so assigning it is
the supported-as-possible way). The gateway is worse: `Client.connect` always starts from
`DiscordWebSocket.DEFAULT_GATEWAY` (wss://gateway.discord.gg) and only the auto-sharded client
asks `GET /gateway/bot`. Changing `Route.BASE` alone therefore still dials the real gateway.
The one place every connection passes through, initial, resumed or re-identified, for plain and
sharded clients alike, is the classmethod `DiscordWebSocket.from_client(client, gateway=...)`;
we wrap it (keeping the original to restore) and decide the address there, at connect time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

# Hosts that belong to the real Discord: a resume URL pointing there must not pull a client
# that was sent elsewhere back to Discord.
_DISCORD_HOST_SUFFIXES = ("discord.gg", "discord.com", "discordapp.com", "discordapp.net")

_ORIGINAL_ROUTE_BASE: str = Route.BASE
_ORIGINAL_FROM_CLIENT: Any = DiscordWebSocket.__dict__["from_client"]


@dataclass(frozen=True)
class _Target:
    api_base: str | None
    gateway: yarl.URL | None  # None: ask the API's GET /gateway/bot at connect time


_target: _Target | None = None


def point_discord_at(api_base: str | None, gateway_url: str | None = None) -> None:
    """Send discord.py's REST calls to `api_base` and its gateway to `gateway_url`.

    With `gateway_url` None and `api_base` set, the gateway address is whatever that API's
    `GET /gateway/bot` answers when the client connects. Both None: change nothing.
    """
    global _target
    if api_base is None and gateway_url is None:
        return
    base = _check_url(api_base, "api_base", ("http", "https")) if api_base is not None else None
    gateway = (
        yarl.URL(_check_url(gateway_url, "gateway_url", ("ws", "wss")))
        if gateway_url is not None
        else None
    )
    if base is not None:
        Route.BASE = base
    _target = _Target(api_base=base, gateway=gateway)
    # setattr: assigning to a method is what mypy (rightly) refuses to do silently.
    setattr(DiscordWebSocket, "from_client", classmethod(_from_client))  # noqa: B010


def point_discord_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Apply DISCORD_API_BASE / DISCORD_GATEWAY_URL from the environment; True if either is set."""
    source = os.environ if env is None else env
    api_base = source.get("DISCORD_API_BASE") or None
    gateway_url = source.get("DISCORD_GATEWAY_URL") or None
    try:
        point_discord_at(api_base, gateway_url)
    except ValueError as exc:
        raise ValueError(f"DISCORD_API_BASE / DISCORD_GATEWAY_URL: {exc}") from None
    return api_base is not None or gateway_url is not None


def reset_discord_endpoints() -> None:
    """Undo `point_discord_at`: discord.py talks to the real Discord again (used by tests)."""
    global _target
    Route.BASE = _ORIGINAL_ROUTE_BASE
    setattr(DiscordWebSocket, "from_client", _ORIGINAL_FROM_CLIENT)  # noqa: B010
    _target = None


def current_discord_endpoints() -> tuple[str, str | None]:
    """The REST base in use and the fixed gateway URL (None: looked up or Discord's default)."""
    gateway = _target.gateway if _target is not None else None
    return Route.BASE, None if gateway is None else str(gateway)


def _check_url(value: str, name: str, schemes: tuple[str, ...]) -> str:
    url = yarl.URL(value.strip())
    if url.scheme not in schemes or not url.host:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{name} must be an absolute {wanted} URL, got {value!r}")
    return str(url).rstrip("/")


def _is_discord_host(url: yarl.URL) -> bool:
    host = (url.host or "").lower()
    return any(host == s or host.endswith("." + s) for s in _DISCORD_HOST_SUFFIXES)


async def _gateway_for(client: Any, requested: yarl.URL | None) -> yarl.URL | None:
    target = _target
    if target is None:
        return requested
    # discord.py passes None (or its DEFAULT_GATEWAY, after an invalidated session) when it
    # starts a fresh session; it passes READY's resume_gateway_url when it resumes.
    fresh = requested is None or requested == DiscordWebSocket.DEFAULT_GATEWAY
    if target.gateway is not None:
        if requested is None or fresh:
            return target.gateway
        if _is_discord_host(requested) and not _is_discord_host(target.gateway):
            return target.gateway
        return requested
    if fresh and target.api_base is not None:
        _shards, url, _limits = await client.http.get_bot_gateway()
        return yarl.URL(url)
    return requested


async def _from_client(cls: type[DiscordWebSocket], client: Any, **kwargs: Any) -> Any:
    kwargs["gateway"] = await _gateway_for(client, kwargs.get("gateway"))
    return await _ORIGINAL_FROM_CLIENT.__func__(cls, client, **kwargs)
