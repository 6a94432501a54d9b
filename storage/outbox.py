"""The outbox: one row per (destination, kind, ref). Delivered only after the target confirms."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from storage import destinations, settings
from storage.db import Database, one, rows
from storage.timeutil import iso


def enqueue(
    db: Database,
    *,
    destination_id: int,
    kind: str,
    ref: str,
    now: datetime,
    story_id: int | None = None,
    payload: dict | None = None,
) -> int | None:
    """Add a row unless one exists for (destination, kind, ref). Returns the new id or None."""
    cur = db.execute(
        "INSERT OR IGNORE INTO outbox (destination_id, kind, ref, story_id, payload, created_at,"
        " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            destination_id,
            kind,
            ref,
            story_id,
            json.dumps(payload, ensure_ascii=False) if payload is not None else None,
            iso(now),
            iso(now),
        ),
    )
    return int(cur.lastrowid) if cur.rowcount and cur.lastrowid else None


def rearm(
    db: Database, *, destination_id: int, kind: str, ref: str, story_id: int, now: datetime
) -> None:
    """Make an update row pending again (a story gained outlets): insert or reset it."""
    db.execute(
        "INSERT INTO outbox (destination_id, kind, ref, story_id, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (destination_id, kind, ref) DO UPDATE SET delivered_at = NULL,"
        " attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL",
        (destination_id, kind, ref, story_id, iso(now), iso(now)),
    )


def alert_story(
    db: Database,
    story_id: int,
    *,
    kind: str,
    now: datetime,
    reaches: Callable[[str], bool] | None = None,
) -> None:
    """Queue a story's alert for every destination taking alerts of `kind` (and, when given,
    of a type `reaches` accepts)."""
    for dest in destinations.alert_targets(db, kind):
        if reaches is None or reaches(str(dest["type"])):
            enqueue(
                db,
                destination_id=dest["id"],
                kind="alert",
                ref=f"story:{story_id}",
                story_id=story_id,
                now=now,
            )


def rearm_story_updates(
    db: Database, story_id: int, *, now: datetime, reaches: Callable[[str], bool] | None = None
) -> None:
    """Edit every posted alert of a story (a report joined it, an admin corrected its event)."""
    for row in delivered_alerts_for_story(db, story_id):
        if reaches is not None:
            dest = destinations.get(db, int(row["destination_id"]))
            if dest is not None and not reaches(str(dest["type"])):
                continue
        rearm(
            db,
            destination_id=row["destination_id"],
            kind="update",
            ref=f"story:{story_id}",
            story_id=story_id,
            now=now,
        )


def rearm_development_updates(
    db: Database, story_id: int, *, now: datetime, reaches: Callable[[str], bool] | None = None
) -> None:
    """Edit every posted alert of the development a story stands for: its own, and those of
    the event's other stories (a merge leaves the merged event's message; a court-only channel
    may hold its own), so every message of the development follows it."""
    found = rows(
        db,
        "SELECT DISTINCT story_id FROM outbox WHERE kind = 'alert' AND delivered_at IS NOT NULL"
        " AND story_id IN (SELECT id FROM stories WHERE event_id ="
        " (SELECT event_id FROM stories WHERE id = ?))",
        (story_id,),
    )
    for sid in sorted({story_id, *(int(r["story_id"]) for r in found)}):
        rearm_story_updates(db, sid, now=now, reaches=reaches)


def development_targets(db: Database, event_id: int, kind: str) -> list[dict]:
    """Active alert destinations that take `kind`, each with `had`: whether it has an alert
    (queued or posted) of any story of the event."""
    had = {
        int(r[0])
        for r in db.execute(
            "SELECT DISTINCT outbox.destination_id FROM outbox"
            " JOIN stories ON stories.id = outbox.story_id"
            " WHERE outbox.kind = 'alert' AND stories.event_id = ?",
            (event_id,),
        ).fetchall()
    }
    return [{**d, "had": int(d["id"]) in had} for d in destinations.alert_targets(db, kind)]


def alert_story_to(
    db: Database, story_id: int, destination_ids: list[int], *, now: datetime
) -> None:
    """Queue a story's alert for these destinations (one row each, never a second)."""
    for destination_id in destination_ids:
        enqueue(
            db,
            destination_id=destination_id,
            kind="alert",
            ref=f"story:{story_id}",
            story_id=story_id,
            now=now,
        )


def pending(db: Database, *, now: datetime, types: tuple[str, ...], limit: int = 100) -> list[dict]:
    """Rows due for delivery to destinations of these types (not broken, still active), that no
    process holds a live claim on. Deliver one only after `claim` returned True for it."""
    marks = ",".join("?" for _ in types)
    found = rows(
        db,
        "SELECT outbox.*, destinations.type AS dest_type FROM outbox"
        " JOIN destinations ON destinations.id = outbox.destination_id"
        f" WHERE outbox.delivered_at IS NULL AND outbox.next_attempt_at <= ?"
        " AND (outbox.claimed_until IS NULL OR outbox.claimed_until <= ?)"
        f" AND destinations.type IN ({marks}) AND destinations.active = 1"
        " AND destinations.broken_reason IS NULL"
        " ORDER BY outbox.id LIMIT ?",
        (iso(now), iso(now), *types, limit),
    )
    for row in found:
        row["payload"] = json.loads(row["payload"]) if row["payload"] else None
    return found


def claim(db: Database, row_id: int, *, owner: str, now: datetime, until: datetime) -> bool:
    """Take a due row for delivery until `until`, in one statement: True for exactly one of
    several processes asking at once; False when the row was delivered, rescheduled or claimed
    by another process meanwhile. A lease that ran out (its process died) can be taken over."""
    cur = db.execute(
        "UPDATE outbox SET claimed_by = ?, claimed_until = ?"
        " WHERE id = ? AND delivered_at IS NULL AND next_attempt_at <= ?"
        " AND (claimed_until IS NULL OR claimed_until <= ?)",
        (owner, iso(until), row_id, iso(now), iso(now)),
    )
    return cur.rowcount == 1


def release(db: Database, row_id: int) -> None:
    """Give a claimed row back untouched (it was not attempted)."""
    db.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ?", (row_id,))


def mark_delivered(db: Database, row_id: int, *, now: datetime, message_id: str | None) -> None:
    db.execute(
        "UPDATE outbox SET delivered_at = ?, message_id = COALESCE(?, message_id),"
        " last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
        (iso(now), message_id, row_id),
    )


def mark_failed(db: Database, row_id: int, *, error: str, retry_at: datetime) -> int:
    """Record a failed attempt; the row stays pending until `retry_at`. Returns attempts."""
    db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
        " claimed_by = NULL, claimed_until = NULL WHERE id = ?",
        (error, iso(retry_at), row_id),
    )
    row = one(db, "SELECT attempts FROM outbox WHERE id = ?", (row_id,))
    return int(row["attempts"]) if row else 0


def alert_message(db: Database, destination_id: int, story_id: int) -> dict | None:
    """The delivered alert row of a story in a destination (to edit it with new outlets)."""
    return one(
        db,
        "SELECT * FROM outbox WHERE destination_id = ? AND kind = 'alert' AND ref = ?",
        (destination_id, f"story:{story_id}"),
    )


def delivered_alerts_for_story(db: Database, story_id: int) -> list[dict]:
    return rows(
        db,
        "SELECT * FROM outbox WHERE kind = 'alert' AND story_id = ? AND delivered_at IS NOT NULL",
        (story_id,),
    )


def counts(db: Database) -> dict[str, int]:
    """Pending and delivered totals, for health output."""
    row = one(
        db,
        "SELECT sum(delivered_at IS NULL) AS pending, sum(delivered_at IS NOT NULL) AS delivered"
        " FROM outbox",
    )
    return {
        "pending": int((row or {}).get("pending") or 0),
        "delivered": int((row or {}).get("delivered") or 0),
    }


def nonce(db: Database, row_id: int, part: int | None = None) -> str:
    """The Discord nonce of one outbox row (or one part of it): the same on every retry, and
    never the same for two database files. At most 25 characters, as Discord requires."""
    value = f"{settings.instance_id(db)}-{row_id}" + ("" if part is None else f".{part}")
    if len(value) > 25:
        raise ValueError(f"nonce {value!r} is longer than Discord's 25 characters")
    return value
