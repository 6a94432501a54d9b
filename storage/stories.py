"""Stories: one development, however many outlets report it. Looked up by indexed keys only."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, one, rows
from storage.timeutil import iso


def pack_signature(sig: tuple[int, ...]) -> bytes:
    """A MinHash signature as the BLOB stored in `stories.signature` (32-bit values)."""
    return array("I", sig).tobytes()


def unpack_signature(blob: bytes) -> tuple[int, ...]:
    return tuple(array("I", blob))


def find_by_keys(
    db: Database, keys: list[str], *, titles_since: datetime | None = None
) -> int | None:
    """The story already holding any of these exact keys (canonical URL, title key), or None.

    Title keys ("t:...") only match stories seen since `titles_since`: a recurring headline
    months later is a new development, while a URL is the same article whenever it returns.
    """
    for key in keys:
        if key.startswith("t:") and titles_since is not None:
            row = db.execute(
                "SELECT story_keys.story_id FROM story_keys JOIN stories"
                " ON stories.id = story_keys.story_id"
                " WHERE story_keys.key = ? AND stories.last_seen_at >= ? LIMIT 1",
                (key, iso(titles_since)),
            ).fetchone()
        else:
            row = db.execute(
                "SELECT story_id FROM story_keys WHERE key = ? LIMIT 1", (key,)
            ).fetchone()
        if row is not None:
            return int(row[0])
    return None


def band_candidates(
    db: Database, band_keys: list[str], *, since: datetime | None = None, limit: int = 50
) -> list[tuple[int, tuple[int, ...]]]:
    """Stories sharing at least one LSH band with a signature: (story id, signature)."""
    if not band_keys:
        return []
    marks = ",".join("?" for _ in band_keys)
    cur = db.execute(
        f"SELECT DISTINCT stories.id, stories.signature FROM story_keys"
        f" JOIN stories ON stories.id = story_keys.story_id"
        f" WHERE story_keys.key IN ({marks}) AND stories.signature IS NOT NULL"
        f" AND stories.last_seen_at >= ? ORDER BY stories.id DESC LIMIT ?",
        (*band_keys, iso(since) or "", limit),
    )
    return [(int(r[0]), unpack_signature(bytes(r[1]))) for r in cur.fetchall()]


def create(
    db: Database,
    *,
    title: str,
    url: str | None,
    kind: str,
    relevant: bool,
    now: datetime,
    published_at: datetime | None,
    summary: str,
    signature: tuple[int, ...] | None,
) -> int:
    cur = db.execute(
        """INSERT INTO stories (title, url, kind, relevant, first_seen_at, last_seen_at,
             published_at, item_count, outlet_count, summary, signature)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)""",
        (
            title,
            url,
            kind,
            int(relevant),
            iso(now),
            iso(now),
            iso(published_at),
            summary,
            None if signature is None else pack_signature(signature),
        ),
    )
    return int(cur.lastrowid or 0)


def add_keys(db: Database, story_id: int, keys: list[str]) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO story_keys (key, story_id) VALUES (?, ?)",
        [(k, story_id) for k in keys],
    )


def same_entry_again(
    db: Database, story_id: int, source_id: int, canonical_url: str | None, title: str
) -> int | None:
    """An item of this source in the story with the same URL or title (a re-guided entry)."""
    row = db.execute(
        "SELECT id FROM items WHERE story_id = ? AND source_id = ?"
        " AND ((? IS NOT NULL AND canonical_url = ?) OR title = ?) LIMIT 1",
        (story_id, source_id, canonical_url, canonical_url, title),
    ).fetchone()
    return int(row[0]) if row else None


def item_leads(db: Database, story_id: int, *, limit: int = 12) -> list[tuple[int, str]]:
    """(item id, lead) of a story's first items that have a lead: candidates for its summary."""
    found = db.execute(
        "SELECT id, summary FROM items WHERE story_id = ? AND summary != '' ORDER BY id LIMIT ?",
        (story_id, limit),
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in found]


def outlet_of(item_publisher: str | None, source_name: str) -> str:
    """The outlet an item counts as: the publisher named in the entry, else the source."""
    return (item_publisher or source_name).strip()


@dataclass(frozen=True)
class Counted:
    """A story as an item found it (`before`: its row before the item counted, None if there
    is no such story) and its counts after."""

    before: dict | None
    items: int
    outlets: int


def count_item(db: Database, story_id: int, *, now: datetime) -> Counted:
    """Refresh a story's counts after an item joined it: two statements, the row before (what
    filing decides on) and the update, which returns the counts after."""
    before = one(
        db,
        "SELECT title, kind, relevant, item_count, outlet_count, summary, lead_item_id"
        " FROM stories WHERE id = ?",
        (story_id,),
    )
    after = db.execute(
        """UPDATE stories SET
             item_count = (SELECT count(*) FROM items WHERE story_id = :id),
             outlet_count = (SELECT count(DISTINCT COALESCE(items.publisher, sources.name))
                             FROM items JOIN sources ON sources.id = items.source_id
                             WHERE items.story_id = :id),
             last_seen_at = :now
           WHERE id = :id RETURNING item_count, outlet_count""",
        {"id": story_id, "now": iso(now)},
    ).fetchone()
    if after is None:
        return Counted(None, 0, 0)
    return Counted(before, int(after[0]), int(after[1]))


def attach_item(db: Database, story_id: int, *, now: datetime) -> tuple[int, int]:
    """Refresh a story's counts after an item joined it; return (items, outlets) before."""
    before = count_item(db, story_id, now=now).before
    if before is None:
        return 0, 0
    return int(before["item_count"]), int(before["outlet_count"])


def set_relevant(db: Database, story_id: int, *, kind: str | None = None) -> None:
    """Promote a story to relevant (e.g. a relevant item joined a context story)."""
    if kind == "court":
        db.execute("UPDATE stories SET relevant = 1, kind = 'court' WHERE id = ?", (story_id,))
    else:
        db.execute("UPDATE stories SET relevant = 1 WHERE id = ?", (story_id,))


def set_summary(db: Database, story_id: int, summary: str, lead_item_id: int | None) -> None:
    db.execute(
        "UPDATE stories SET summary = ?, lead_item_id = ? WHERE id = ?",
        (summary, lead_item_id, story_id),
    )


def get(db: Database, story_id: int) -> dict | None:
    return one(db, "SELECT * FROM stories WHERE id = ?", (story_id,))


def outlets(db: Database, story_id: int) -> list[str]:
    """Outlets of a story in the order they reported it."""
    found = rows(
        db,
        "SELECT COALESCE(items.publisher, sources.name) AS outlet, min(items.id) AS first"
        " FROM items JOIN sources ON sources.id = items.source_id"
        " WHERE items.story_id = ? GROUP BY outlet ORDER BY first",
        (story_id,),
    )
    return [r["outlet"] for r in found]


def first_outlet(db: Database, story_id: int) -> str:
    """The outlet that reported a story first."""
    found = outlets(db, story_id)
    return found[0] if found else ""


def refresh_lead(db: Database, item_id: int, summary: str) -> bool:
    """A story whose lead item got a better summary shows it (as does one that had none, which
    takes this item as its lead item). True when the story's summary changed."""
    cur = db.execute(
        "UPDATE stories SET summary = ?,"
        " lead_item_id = CASE WHEN summary IS NULL OR summary = '' THEN ? ELSE lead_item_id END"
        " WHERE id = (SELECT story_id FROM items WHERE id = ?)"
        " AND (lead_item_id = ? OR summary IS NULL OR summary = '') AND COALESCE(summary, '') != ?",
        (summary, item_id, item_id, item_id, summary),
    )
    return cur.rowcount > 0


def count_relevant(db: Database) -> int:
    """How many relevant stories the archive holds."""
    row = db.execute("SELECT count(*) FROM stories WHERE relevant = 1").fetchone()
    return int(row[0]) if row else 0
