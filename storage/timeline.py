"""The case's timeline: configured events plus court items added as they arrive."""

from __future__ import annotations

from storage.db import Database, rows


def add(
    db: Database,
    *,
    date: str,
    title: str,
    url: str | None,
    kind: str,
    origin: str = "config",
    item_id: int | None = None,
) -> bool:
    """Add an event unless the same (date, title) exists. True if added."""
    cur = db.execute(
        "INSERT OR IGNORE INTO timeline (date, title, url, kind, origin, item_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (date, title, url, kind, origin, item_id),
    )
    return cur.rowcount > 0


def add_court_act(
    db: Database,
    *,
    story_id: int,
    date: str,
    title: str,
    url: str | None,
    item_id: int,
    near_days: int = 2,
) -> bool:
    """Add a court development found in the feeds, once per story; not when a configured court
    event lies within `near_days` of it (that event is the development). True if added."""
    known = db.execute(
        "SELECT 1 FROM timeline JOIN items ON items.id = timeline.item_id"
        " WHERE timeline.origin = 'item' AND items.story_id = ?"
        " UNION ALL SELECT 1 FROM timeline WHERE origin = 'config' AND kind = 'court'"
        " AND abs(julianday(date) - julianday(?)) <= ? LIMIT 1",
        (story_id, date, near_days),
    ).fetchone()
    if known is not None:
        return False
    return add(db, date=date, title=title, url=url, kind="court", origin="item", item_id=item_id)


def repeats_per_event(db: Database) -> list[int]:
    """Automatic entries beyond the first of their development: when stories of one event each
    added one (the event stage files stories after they were stored), the earliest stays."""
    return [
        int(r[0])
        for r in db.execute(
            "SELECT t.id FROM timeline t JOIN items i ON i.id = t.item_id"
            " JOIN stories s ON s.id = i.story_id"
            " WHERE t.origin = 'item' AND s.event_id IS NOT NULL AND EXISTS ("
            "  SELECT 1 FROM timeline t2 JOIN items i2 ON i2.id = t2.item_id"
            "  JOIN stories s2 ON s2.id = i2.story_id"
            "  WHERE t2.origin = 'item' AND s2.event_id = s.event_id"
            "  AND (t2.date < t.date OR (t2.date = t.date AND t2.id < t.id)))"
        ).fetchall()
    ]


def auto_entries(db: Database) -> list[dict]:
    """Entries added from the feeds, oldest first, with their item's text, story and source."""
    return rows(
        db,
        "SELECT timeline.id, timeline.date, timeline.url, items.title, items.summary,"
        " items.story_id, items.fetched_at, sources.url AS source_url, sources.kind AS source_kind"
        " FROM timeline LEFT JOIN items ON items.id = timeline.item_id"
        " LEFT JOIN sources ON sources.id = items.source_id"
        " WHERE timeline.origin = 'item' ORDER BY timeline.date, timeline.id",
    )


def near_configured_court_event(db: Database, date: str, near_days: int = 2) -> bool:
    """Whether a configured court event lies within `near_days` of a date."""
    return (
        db.execute(
            "SELECT 1 FROM timeline WHERE origin = 'config' AND kind = 'court'"
            " AND abs(julianday(date) - julianday(?)) <= ? LIMIT 1",
            (date, near_days),
        ).fetchone()
        is not None
    )


def remove(db: Database, ids: list[int]) -> None:
    db.conn.executemany("DELETE FROM timeline WHERE id = ?", [(i,) for i in ids])


def set_url(db: Database, entry_id: int, url: str | None) -> None:
    db.execute("UPDATE timeline SET url = ? WHERE id = ?", (url, entry_id))


def set_date(db: Database, entry_id: int, day: str) -> None:
    db.execute("UPDATE timeline SET date = ? WHERE id = ?", (day, entry_id))


def sync_configured(db: Database, events: list[dict]) -> None:
    """Make configured events match the config (items added automatically are kept)."""
    with db.atomic():
        db.execute("DELETE FROM timeline WHERE origin = 'config'")
        for e in events:
            add(db, date=e["date"], title=e["title"], url=e.get("url"), kind=e.get("kind", "news"))


def listing(db: Database, *, newest_first: bool = False, year: int | None = None) -> list[dict]:
    cond = ""
    params: tuple[str, ...] = ()
    if year is not None:
        cond, params = " WHERE substr(date, 1, 4) = ?", (f"{year:04d}",)
    order = "DESC" if newest_first else "ASC"
    return rows(db, f"SELECT * FROM timeline{cond} ORDER BY date {order}, id {order}", params)
