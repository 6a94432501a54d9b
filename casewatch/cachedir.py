"""The user's cache folder: parsed configs and the prepared sentence model are kept there.

Its own module so that the parse worker, which prepares the model, does not import the
configuration's loader to find it.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/casewatch, else ~/.cache/casewatch (it may not exist, or be read-only)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "casewatch"
