"""Small key/value settings per scope (e.g. the command payload hash, the heartbeat)."""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import one


def get(db: Database, scope: str, key: str) -> str | None:
    row = one(db, "SELECT value FROM settings WHERE scope = ? AND key = ?", (scope, key))
    return None if row is None else str(row["value"])


def put(db: Database, scope: str, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO settings (scope, key, value) VALUES (?, ?, ?)"
        " ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
        (scope, key, value),
    )
