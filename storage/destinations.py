"""Where alerts and digests go: console, webhook, or a Discord channel of a guild."""

from __future__ import annotations

import json
from datetime import datetime

from storage.db import Database, one, rows
from storage.timeutil import iso

KINDS_ALL = ("news", "court")


def upsert(
    db: Database,
    *,
    type: str,
    purpose: str,
    now: datetime,
    guild_id: str = "",
    channel_id: str = "",
    role_id: str | None = None,
    court_role_id: str | None = None,
    kinds: tuple[str, ...] = KINDS_ALL,
    frequency: str | None = None,
    at_time: str | None = None,
    timezone: str | None = None,
    empty_mode: str | None = None,
) -> int:
    """Create or reconfigure a destination (reactivating it); return its id.

    One statement: two processes starting on a new file both create the console destinations,
    and a read-then-insert let the slower one fail on the unique key."""
    row = db.execute(
        "INSERT INTO destinations (type, purpose, guild_id, channel_id, role_id, court_role_id,"
        " kinds, frequency, at_time, timezone, empty_mode, created_at)"
        " VALUES (:type, :purpose, :guild_id, :channel_id, :role_id, :court_role_id, :kinds,"
        " :frequency, :at_time, :timezone, :empty_mode, :now)"
        " ON CONFLICT (type, purpose, guild_id, channel_id) DO UPDATE SET"
        " role_id=excluded.role_id, court_role_id=excluded.court_role_id, kinds=excluded.kinds,"
        " frequency=excluded.frequency, at_time=excluded.at_time, timezone=excluded.timezone,"
        " empty_mode=excluded.empty_mode, active=1, broken_reason=NULL, broken_at=NULL"
        " RETURNING id",
        {
            "role_id": role_id,
            "court_role_id": court_role_id,
            "kinds": json.dumps(list(kinds)),
            "frequency": frequency,
            "at_time": at_time,
            "timezone": timezone,
            "empty_mode": empty_mode,
            "type": type,
            "purpose": purpose,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "now": iso(now),
        },
    ).fetchone()
    return int(row[0])


def decode(row: dict) -> dict:
    row["kinds"] = tuple(json.loads(row["kinds"]))
    return row


def get(db: Database, destination_id: int) -> dict | None:
    row = one(db, "SELECT * FROM destinations WHERE id = ?", (destination_id,))
    return decode(row) if row else None


def alert_targets(db: Database, kind: str) -> list[dict]:
    """Active alert destinations that want stories of this kind (broken ones keep their rows)."""
    found = [
        decode(r)
        for r in rows(db, "SELECT * FROM destinations WHERE purpose = 'alerts' AND active = 1")
    ]
    return [d for d in found if kind in d["kinds"]]


def listing(db: Database, *, type: str | None = None, guild_id: str | None = None) -> list[dict]:
    cond, params = ["active = 1"], []
    if type:
        cond.append("type = ?")
        params.append(type)
    if guild_id is not None:
        cond.append("guild_id = ?")
        params.append(guild_id)
    return [
        decode(r)
        for r in rows(
            db,
            "SELECT * FROM destinations WHERE " + " AND ".join(cond) + " ORDER BY id",
            tuple(params),
        )
    ]


def stop(db: Database, *, type: str, guild_id: str, channel_id: str) -> int:
    """Deactivate every destination of a channel; return how many."""
    cur = db.execute(
        "UPDATE destinations SET active = 0 WHERE type=? AND guild_id=? AND channel_id=?"
        " AND active = 1",
        (type, guild_id, channel_id),
    )
    return cur.rowcount


def mark_broken(db: Database, destination_id: int, reason: str, now: datetime) -> bool:
    """Stop sending to a destination Discord refused (rows are kept). True if newly broken."""
    cur = db.execute(
        "UPDATE destinations SET broken_reason = ?, broken_at = ? WHERE id = ?"
        " AND broken_reason IS NULL",
        (reason, iso(now), destination_id),
    )
    return cur.rowcount > 0


def set_digest_key(db: Database, destination_id: int, key: str) -> None:
    db.execute("UPDATE destinations SET last_digest_key = ? WHERE id = ?", (key, destination_id))
