"""Shared fixtures. Each fixture family lives in its own module, registered here."""

import atexit
import os
import shutil
import tempfile

# Parsed configs and the prepared sentence model are cached in the user's cache folder
# (casewatch.cachedir.cache_dir): tests, and the bot processes they start, use a folder of their
# own instead of the real one.
# Removed when the session ends: it holds the sentence model's prepared copy (81 MiB).
_CACHE = tempfile.mkdtemp(prefix="casewatch-tests-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

pytest_plugins: list[str] = ["tests.feedserver", "tests.discord_twin.fixtures"]
