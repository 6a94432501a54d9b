"""The `sources` table: what to poll, and each source's health."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from storage.db import Database, one, rows
from storage.timeutil import iso, parse_iso

TRIAL = "cli"  # the origin of a feed tried with `--source`: polled only while named


@dataclass(frozen=True)
class SourceSpec:
    """What the configuration (or an admin) says a source is."""

    name: str
    url: str
    kind: str = "news"
    format: str = "feed"
    origin: str = "config"
    guild_id: str | None = None


def sync_configured(db: Database, specs: list[SourceSpec], now: datetime) -> dict[str, int]:
    """Make the table agree with the config: add new sources, update names/kinds, keep history.

    Sources that left the config are marked removed (never deleted: their items stay).
    Returns url -> id for the configured sources.
    """
    ids: dict[str, int] = {}
    with db.atomic():
        for spec in specs:
            existing = one(db, "SELECT id FROM sources WHERE url = ?", (spec.url,))
            if existing:
                # A URL once tried on the command line becomes a configured source for good.
                db.execute(
                    "UPDATE sources SET name=?, kind=?, format=?, removed=0,"
                    " origin = CASE WHEN origin = 'cli' THEN 'config' ELSE origin END WHERE id=?",
                    (spec.name, spec.kind, spec.format, existing["id"]),
                )
                ids[spec.url] = int(existing["id"])
            else:
                ids[spec.url] = add(db, spec, now)
        configured = [s.url for s in specs]
        marks = ",".join("?" for _ in configured) or "''"
        db.execute(
            f"UPDATE sources SET removed=1 WHERE origin='config' AND url NOT IN ({marks})",
            configured,
        )
    return ids


def add(db: Database, spec: SourceSpec, now: datetime) -> int:
    """Insert a source (or revive a removed one with the same URL); return its id.

    A URL that was only tried on the command line (origin `cli`) is now subscribed: it takes the
    new origin.
    """
    existing = one(db, "SELECT id, origin FROM sources WHERE url = ?", (spec.url,))
    if existing:
        if existing["origin"] == TRIAL:
            db.execute(
                "UPDATE sources SET origin=?, guild_id=? WHERE id=?",
                (spec.origin, spec.guild_id, existing["id"]),
            )
        db.execute(
            "UPDATE sources SET removed=0, paused=0, name=?, kind=?, format=? WHERE id=?",
            (spec.name, spec.kind, spec.format, existing["id"]),
        )
        return int(existing["id"])
    cur = db.execute(
        "INSERT INTO sources (name, url, kind, format, origin, guild_id, created_at, next_poll_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            spec.name,
            spec.url,
            spec.kind,
            spec.format,
            spec.origin,
            spec.guild_id,
            iso(now),
            iso(now),
        ),
    )
    return int(cur.lastrowid or 0)


def add_trial(db: Database, spec: SourceSpec, now: datetime) -> tuple[int, bool]:
    """Register a feed tried on the command line; return (id, True if it is only a trial).

    A trial row exists because items need a source; it is polled only by a command that names
    its URL, and `retire_trials` hides it when that command ends. A URL that is already an
    active subscription (feeds.yaml or Discord) stays what it was: (id, False).
    """
    existing = one(db, "SELECT id, origin, removed FROM sources WHERE url = ?", (spec.url,))
    if existing is None:
        return add(db, replace(spec, origin=TRIAL, guild_id=None), now), True
    if existing["origin"] != TRIAL and not existing["removed"]:
        return int(existing["id"]), False
    db.execute(
        "UPDATE sources SET origin=?, removed=0, paused=0, name=?, kind=?, format=? WHERE id=?",
        (TRIAL, spec.name, spec.kind, spec.format, existing["id"]),
    )
    return int(existing["id"]), True


def retire_trials(db: Database, ids: list[int]) -> None:
    """Hide tried feeds again (their items and seen keys stay, so a second try alerts nothing
    twice)."""
    if ids:
        marks = ",".join("?" for _ in ids)
        db.execute(
            f"UPDATE sources SET removed=1 WHERE origin=? AND id IN ({marks})", (TRIAL, *ids)
        )


def get(db: Database, source_id: int) -> dict | None:
    return one(db, "SELECT * FROM sources WHERE id = ?", (source_id,))


def find(db: Database, name_or_url: str) -> dict | None:
    """A source by id, exact URL, or name (case-insensitive)."""
    if name_or_url.isdigit():
        found = get(db, int(name_or_url))
        if found:
            return found
    return one(
        db,
        "SELECT * FROM sources WHERE url = ? OR lower(name) = lower(?) ORDER BY removed LIMIT 1",
        (name_or_url, name_or_url),
    )


def active(db: Database) -> list[dict]:
    """Sources that are polled (not removed), paused ones included (for health listings)."""
    return rows(db, "SELECT * FROM sources WHERE removed = 0 ORDER BY name")


def due(
    db: Database, now: datetime, only_urls: list[str] | None = None, *, every: bool = False
) -> list[dict]:
    """Sources whose next poll time has come (never-polled ones first); all of them with `every`.

    With `only_urls`, only those; without, every subscribed source but no tried one (a feed
    tried with `--source` is never polled by a command that does not name it).
    """
    sql = "SELECT * FROM sources WHERE removed = 0 AND paused = 0"
    params: list = []
    if not every:
        sql += " AND (next_poll_at IS NULL OR next_poll_at <= ?)"
        params.append(iso(now))
    if only_urls is not None:
        sql += f" AND url IN ({','.join('?' for _ in only_urls) or chr(39) * 2})"
        params += only_urls
    else:
        sql += " AND origin != ?"
        params.append(TRIAL)
    return rows(db, sql + " ORDER BY next_poll_at IS NOT NULL, next_poll_at", tuple(params))


def set_paused(db: Database, source_id: int, paused: bool) -> None:
    db.execute("UPDATE sources SET paused = ? WHERE id = ?", (int(paused), source_id))


def remove(db: Database, source_id: int) -> None:
    """Stop polling a source; its items and keys stay."""
    db.execute("UPDATE sources SET removed = 1 WHERE id = ?", (source_id,))


def record_success(
    db: Database,
    source_id: int,
    *,
    now: datetime,
    next_poll: datetime,
    status: int | None,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    content_type: str | None,
    entry_count: int | None,
    new_items: int,
) -> bool:
    """Store a successful poll. Returns True when the source had been failing (it recovered)."""
    before = one(db, "SELECT failures, failing_notified FROM sources WHERE id=?", (source_id,))
    db.execute(
        """UPDATE sources SET
             first_polled_at = COALESCE(first_polled_at, :now),
             last_polled_at = :now, last_ok_at = :now, failures = 0, next_poll_at = :next,
             last_status = :status,
             etag = COALESCE(:etag, etag), last_modified = COALESCE(:lm, last_modified),
             body_hash = COALESCE(:hash, body_hash),
             last_content_type = COALESCE(:ctype, last_content_type),
             last_entry_count = COALESCE(:count, last_entry_count),
             last_new_at = CASE WHEN :new > 0 THEN :now ELSE last_new_at END,
             stale_notified = CASE WHEN :new > 0 THEN 0 ELSE stale_notified END,
             failing_notified = 0
           WHERE id = :id""",
        {
            "now": iso(now),
            "next": iso(next_poll),
            "status": status,
            "etag": etag,
            "lm": last_modified,
            "hash": body_hash,
            "ctype": content_type,
            "count": entry_count,
            "new": new_items,
            "id": source_id,
        },
    )
    return bool(before and before["failing_notified"])


def record_failure(
    db: Database,
    source_id: int,
    *,
    now: datetime,
    next_poll: datetime,
    error: str,
    status: int | None,
) -> int:
    """Store a failed poll; return the consecutive failure count."""
    db.execute(
        """UPDATE sources SET last_polled_at = ?, last_error = ?, last_error_at = ?,
             failures = failures + 1, next_poll_at = ?, last_status = ?
           WHERE id = ?""",
        (iso(now), error, iso(now), iso(next_poll), status, source_id),
    )
    row = one(db, "SELECT failures FROM sources WHERE id = ?", (source_id,))
    return int(row["failures"]) if row else 0


def mark_failing_notified(db: Database, source_id: int) -> None:
    db.execute("UPDATE sources SET failing_notified = 1 WHERE id = ?", (source_id,))


def first_poll_pending(source: dict) -> bool:
    """No poll of this source has stored an entry yet: the next one that does is its first poll
    (stores, alerts nothing). A 304, an empty answer or a failure does not count."""
    return source.get("last_new_at") is None


def next_poll_at(source: dict) -> datetime | None:
    return parse_iso(source.get("next_poll_at"))


def newly_stale(db: Database, *, before: datetime) -> list[dict]:
    """Healthy sources with no new entry since `before` whose admins were not told yet."""
    return rows(
        db,
        "SELECT * FROM sources WHERE removed = 0 AND paused = 0 AND stale_notified = 0"
        " AND failures = 0 AND first_polled_at IS NOT NULL"
        " AND COALESCE(last_new_at, first_polled_at) < ?",
        (iso(before),),
    )


def mark_stale_notified(db: Database, source_id: int) -> None:
    db.execute("UPDATE sources SET stale_notified = 1 WHERE id = ?", (source_id,))
