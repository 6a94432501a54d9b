"""casewatch entry point: the command line, and the Discord bot built on the core.

    python bot.py run          # Discord with DISCORD_TOKEN, else console mode
    python bot.py poll --once  # one cycle, prints the alerts it would post
    python bot.py --help       # every command

Only this file and cogs/ import discord; everything else is the Discord-free core. discord.py
is imported only by the commands that talk to Discord (`run` with DISCORD_TOKEN, `sync`,
`invite`): importing it costs a good part of a second that `poll`, `search` and the rest would
pay for nothing. The Discord client itself lives in cogs/client.py.

Nothing is imported at the top of this file either: a feed-parsing worker is a "spawn" process,
which runs this file again (as `__mp_main__`, not `__main__`) before its first job, and needs
none of the command line; it imports only what its jobs need (see casewatch.app.OnDemandPool).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casewatch import cli
    from casewatch.app import App
    from cogs.client import (
        EXTENSIONS,
        PERMISSIONS,
        CasewatchBot,
        application_id_from_token,
        invite_url,
    )

_REEXPORTED = {
    "EXTENSIONS",
    "PERMISSIONS",
    "CasewatchBot",
    "application_id_from_token",
    "invite_url",
}


class DiscordCommands:
    """The commands that talk to Discord, imported on first use (see cli.DiscordAdapter)."""

    async def run(self, app: App, plan: cli.RunPlan) -> int:
        from cogs.client import run_discord

        return await run_discord(app, plan)

    async def sync(self, config: str, db: str, guild_id: str | None) -> int:
        from cogs.client import sync_discord

        return await sync_discord(config, db, guild_id)

    def invite(self) -> int:
        from cogs.client import print_invite

        return print_invite()


def dotenv_file() -> str | None:
    """The `.env` python-dotenv would read: the first one in this file's folder or above it."""
    folder = os.path.dirname(os.path.abspath(__file__))
    while True:
        candidate = os.path.join(folder, ".env")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def main(argv: list[str] | None = None) -> int:
    # pydantic looks for plugins in the entry points of every installed package when it builds
    # its first validator (tens of milliseconds of a start that validates feeds.yaml: one whose
    # config is not cached); casewatch uses none. The parse workers inherit this. Set
    # PYDANTIC_DISABLE_PLUGINS yourself to choose otherwise.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from casewatch import cli

    env_file = dotenv_file()
    if env_file is not None:  # python-dotenv is imported only when there is a file to read
        from dotenv import load_dotenv

        load_dotenv(env_file)
    cli.setup_logging()
    return cli.main(argv, discord=DiscordCommands())


def __getattr__(name: str) -> Any:
    """`from bot import CasewatchBot` (tests, cogs' type hints) without importing discord for
    every command."""
    if name in _REEXPORTED:
        from cogs import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "EXTENSIONS",
    "PERMISSIONS",
    "CasewatchBot",
    "DiscordCommands",
    "application_id_from_token",
    "invite_url",
    "main",
]
