"""Shared fixtures. Each fixture family lives in its own module, registered here."""

pytest_plugins: list[str] = ["tests.feedserver", "tests.discord_twin.fixtures"]
