"""Small key/value settings per scope (e.g. the command payload hash, the heartbeat)."""

from __future__ import annotations

import secrets

from storage.db import Database, one


def get(db: Database, scope: str, key: str) -> str | None:
    row = one(db, "SELECT value FROM settings WHERE scope = ? AND key = ?", (scope, key))
    return None if row is None else str(row["value"])


def put(db: Database, scope: str, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO settings (scope, key, value) VALUES (?, ?, ?)"
        " ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
        (scope, key, value),
    )


def instance_id(db: Database) -> str:
    """A random id of this database file, made on first use and kept.

    It prefixes Discord nonces: a new database counts outbox rows from 1 again, and a bare row
    id would then match a nonce Discord still remembers from the old file (it keeps them a few
    minutes) and be answered with the old message instead of a new one."""
    value = get(db, "runtime", "instance")
    if value is None:  # first use; DO NOTHING keeps whichever process wrote first
        db.execute(
            "INSERT INTO settings (scope, key, value) VALUES ('runtime', 'instance', ?)"
            " ON CONFLICT (scope, key) DO NOTHING",
            (secrets.token_hex(4),),
        )
        value = get(db, "runtime", "instance")
    assert value is not None
    return value
