"""Shared fixtures. Each fixture family lives in its own module, registered here."""

import os
import tempfile

# Parsed configs and the prepared sentence model are cached in the user's cache folder
# (casewatch.cachedir.cache_dir): tests, and the bot processes they start, use a folder of their
# own instead of the real one.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="casewatch-tests-cache-")

pytest_plugins: list[str] = ["tests.feedserver", "tests.discord_twin.fixtures"]
