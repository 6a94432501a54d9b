"""Where admin notices go and what they said: notice destinations, and the failures told."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, rows
from storage.timeutil import iso

OWNER = "owner"  # the channel id of the bot owner's DM destination


def ensure_owner(db: Database, *, now: datetime) -> None:
    """In Discord mode admin notices also go to the bot's owner, by direct message (a DM the
    owner refuses marks it broken until the next start)."""
    db.execute(
        "INSERT INTO destinations (type, purpose, guild_id, channel_id, created_at)"
        " VALUES ('discord', 'notices', '', ?, ?)"
        " ON CONFLICT (type, purpose, guild_id, channel_id) DO UPDATE SET active = 1,"
        " broken_reason = NULL, broken_at = NULL",
        (OWNER, iso(now)),
    )


def targets(db: Database) -> list[dict]:
    """Active notice destinations (a server's `/watch notices` channel, the console)."""
    return rows(
        db,
        "SELECT * FROM destinations WHERE purpose = 'notices' AND active = 1 ORDER BY id",
    )


def channel_for(db: Database, guild_id: str) -> str | None:
    """The channel a server chose for admin notices (`/watch notices`), if any."""
    found = [
        d
        for d in targets(db)
        if d["type"] == "discord" and d["guild_id"] == guild_id and d["channel_id"] != OWNER
    ]
    return str(found[0]["channel_id"]) if found else None


def failure_told(db: Database, source_id: int, *, since: str | None) -> set[int]:
    """Destinations told that a source was failing (rows enqueued at or after `since`, the
    source's last good poll): the only places where its recovery is said."""
    found = rows(
        db,
        "SELECT DISTINCT outbox.destination_id FROM outbox, json_each(outbox.payload, '$.failing')"
        " AS told WHERE outbox.kind = 'notice' AND outbox.payload IS NOT NULL"
        " AND told.value = ? AND outbox.created_at >= ?",
        (source_id, since or ""),
    )
    return {int(r["destination_id"]) for r in found}


def set_channel(db: Database, *, guild_id: str, channel_id: str | None, now: datetime) -> None:
    """A server's notices go to one channel (or, with None, to no channel of it)."""
    db.execute(
        "UPDATE destinations SET active = 0 WHERE purpose = 'notices' AND type = 'discord'"
        " AND guild_id = ? AND channel_id != ?",
        (guild_id, channel_id or ""),
    )
    if channel_id is None:
        return
    db.execute(
        "INSERT INTO destinations (type, purpose, guild_id, channel_id, created_at)"
        " VALUES ('discord', 'notices', ?, ?, ?)"
        " ON CONFLICT (type, purpose, guild_id, channel_id) DO UPDATE SET active = 1,"
        " broken_reason = NULL, broken_at = NULL",
        (guild_id, channel_id, iso(now)),
    )
