"""A Discord gateway that cannot be reached at start-up while the API answers: a few attempts,
each said in one line, then `run` ends in one line with status 1 (not a traceback).

Real parts: the real discord.py client logging in to the Discord twin's REST API, its gateway
pointed at a loopback port nobody listens on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import cogs.client
from casewatch.app import open_app
from casewatch.cli import CommandError
from casewatch.clock import FakeClock
from cogs.client import CasewatchBot, _start
from cogs.endpoints import point_discord_at, reset_discord_endpoints
from tests.casewatch_helpers import START, make_config
from tests.discord_twin import DiscordTwin
from tests.test_bot_startup import closed_port

pytestmark = pytest.mark.timeout(60)


async def test_an_unreachable_gateway_is_tried_then_one_line_and_no_traceback(
    discord_twin: DiscordTwin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(cogs.client, "GATEWAY_PAUSE", 0.01)  # the pauses, not the attempts
    gateway = f"ws://127.0.0.1:{closed_port()}"
    point_discord_at(discord_twin.api_base, gateway)
    caplog.set_level(logging.INFO)
    try:
        cfg = make_config([])
        async with open_app(cfg, tmp_path / "c.db", clock=FakeClock(START)) as app:
            bot = CasewatchBot(app, run_jobs=False, auto_sync=False)
            async with bot:
                with pytest.raises(CommandError) as failed:
                    await _start(bot, discord_twin.token)
    finally:
        reset_discord_endpoints()
    message = str(failed.value)
    assert message.startswith(f"cannot connect to the Discord gateway at {gateway} (3 attempts;")
    assert f"the API at {discord_twin.api_base} answered" in message and "\n" not in message
    assert discord_twin.requests_to("GET", r"/users/@me$")  # it did log in: the API answered
    assert discord_twin.gateway_connections == []
    tries = [r for r in caplog.records if "attempt" in r.getMessage() and "of 3" in r.getMessage()]
    assert [r.levelname for r in tries] == ["WARNING", "WARNING"]  # then the final line
    # discord.py's own retry line: one line with the reason, not a traceback
    retries = [r for r in caplog.records if r.name == "discord.client" and r.levelno > logging.INFO]
    assert retries and all(r.exc_info is None for r in retries)
    assert all("gateway connection failed" in r.getMessage() for r in retries)
