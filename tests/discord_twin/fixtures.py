"""pytest fixtures: a started Discord twin, and discord.py pointed at it for in-process bots."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from .twin import DiscordTwin


@pytest.fixture
async def discord_twin() -> AsyncIterator[DiscordTwin]:
    """A started twin with a short heartbeat; stopped after the test."""
    twin = DiscordTwin(heartbeat_interval=0.5)
    await twin.start()
    try:
        yield twin
    finally:
        await twin.stop()


@pytest.fixture
def discord_at_twin(discord_twin: DiscordTwin) -> Iterator[DiscordTwin]:
    """discord.py in this process talks to the twin (REST and gateway); restored afterwards."""
    from cogs.endpoints import point_discord_at, reset_discord_endpoints

    point_discord_at(discord_twin.api_base)
    try:
        yield discord_twin
    finally:
        reset_discord_endpoints()
