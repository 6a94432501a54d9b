"""Every slash command is well-formed: lowercase names, descriptions, described options, and an
explicit permission decision (public, or hidden behind default_permissions with a real check)."""

from __future__ import annotations

import re
from pathlib import Path

from discord import app_commands

from bot import EXTENSIONS, CasewatchBot, invite_url
from casewatch.app import open_app
from casewatch.clock import FakeClock
from tests.casewatch_helpers import START, make_config

PUBLIC = {"case"}  # everyone may use these; every other top-level command must be admin-only
ADMIN = {"watch"}
NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def walk(cmds: list[app_commands.Command | app_commands.Group]) -> list[app_commands.Command]:
    out: list[app_commands.Command] = []
    for c in cmds:
        if isinstance(c, app_commands.Group):
            out += walk(list(c.commands))
        else:
            out.append(c)
    return out


async def test_every_app_command_is_named_described_and_has_a_permission_decision(
    tmp_path: Path,
) -> None:
    cfg = make_config([])
    async with open_app(cfg, tmp_path / "m.db", clock=FakeClock(START)) as app:
        bot = CasewatchBot(app, run_jobs=False)
        for ext in EXTENSIONS:
            await bot.load_extension(ext)
        top = [c for c in bot.tree.get_commands() if not isinstance(c, app_commands.ContextMenu)]
        assert len(top) == len(bot.tree.get_commands())  # no context menus: nothing unchecked
        assert {c.name for c in top} == PUBLIC | ADMIN
        for group in top:
            assert NAME.match(group.name) and group.description
            if group.name in ADMIN:
                assert (
                    group.default_permissions is not None and group.default_permissions.manage_guild
                )
                assert group.guild_only
            else:
                assert group.default_permissions is None
        leaves = walk(top)
        assert {c.qualified_name for c in leaves} >= {
            "case latest",
            "case search",
            "case story",
            "case timeline",
            "case sources",
            "case why",
            "case about",
            "case activity",
            "watch alerts",
            "watch digest",
            "watch stop",
            "watch test",
            "watch pause",
            "watch resume",
            "watch add-source",
            "watch remove-source",
        }
        for cmd in leaves:
            assert NAME.match(cmd.name), cmd.qualified_name
            assert cmd.description and cmd.description != "…", cmd.qualified_name
            assert len(cmd.description) <= 100
            for param in cmd.parameters:
                assert NAME.match(param.name), f"{cmd.qualified_name} {param.name}"
                assert param.description and param.description != "…", (
                    f"{cmd.qualified_name}: option {param.name} is not described"
                )
            if cmd.qualified_name.startswith("watch "):
                # the real check lives on the cog; it must be wired for every admin command
                assert cmd.binding is not None and hasattr(cmd.binding, "interaction_check")
        await bot.close()


def test_invite_url_asks_for_the_permissions_the_bot_needs() -> None:
    url = invite_url(1234)
    assert "client_id=1234" in url and "applications.commands" in url and "permissions=" in url
    perms = int(re.search(r"permissions=(\d+)", url).group(1))  # type: ignore[union-attr]
    for bit in (10, 11, 14, 15, 16):  # view, send, embed links, attach files, read history
        assert perms & (1 << bit)
    assert not perms & (1 << 3)  # never Administrator
