"""The parse worker's read-only look at the database: a source's `seen` identity keys, and
whether a story already holds an entry's story keys.

The parse worker judges a fetched document's entries where it parses them. It must not spend
its core on entries the database already has (`read_seen`), nor on the MinHash signature of an
entry whose story filing will find by its keys (`story_known`). It reads through a read-only
connection of its own, opened by its first read of a database file and kept for the process's
next jobs (one per thread). The database is in WAL mode, so reading never waits for the bot's
writer and never blocks it. What such a read says is a hint: the process that stores the
entries looks their keys up again inside its write transaction (`storage.items.seen_keys`,
`casewatch.filing`), so an entry another process stored meanwhile is still never stored twice.

A parse worker imports this module, not the write side of `storage`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

KEYS_PER_QUERY = 500  # bound variables per statement, well under SQLite's limit
READ_BUSY_TIMEOUT_MS = 2_000  # a reader waits only while another process recovers the file

_readers = threading.local()  # per thread: {database file: read-only connection}


def lookup(conn: sqlite3.Connection, source_id: int, keys: Iterable[str]) -> dict[str, int]:
    """Which of these identity keys of a source are stored, with their item ids: one statement
    per 500 keys."""
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), KEYS_PER_QUERY):
        chunk = unique[start : start + KEYS_PER_QUERY]
        marks = ",".join("?" * len(chunk))
        found.update(
            (str(key), int(item_id))
            for key, item_id in conn.execute(
                f"SELECT key, item_id FROM seen WHERE source_id = ? AND key IN ({marks})",
                (source_id, *chunk),
            )
        )
    return found


def read_seen(database: str, source_id: int, keys: Iterable[str]) -> set[str]:
    """The keys of a source that the database file `database` has stored, read through this
    thread's read-only connection to it (opened by the first read). Raises sqlite3.Error when
    the file cannot be read."""
    return set(lookup(_reader(database), source_id, keys))


def story_known(database: str, keys: list[str], *, titles_since: datetime | None) -> bool:
    """Whether a story of the database file `database` holds any of these story keys, as
    filing looks them up (`storage.stories.find_by_keys`)."""
    from storage.db import Database
    from storage.stories import find_by_keys

    return find_by_keys(Database(_reader(database)), keys, titles_since=titles_since) is not None


def _reader(database: str) -> sqlite3.Connection:
    cache: dict[str, sqlite3.Connection] | None = getattr(_readers, "by_path", None)
    if cache is None:
        cache = _readers.by_path = {}
    conn = cache.get(database)
    if conn is None:
        uri = f"{Path(database).resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = ON")
        cache[database] = conn
    return conn
