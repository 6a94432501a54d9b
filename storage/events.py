"""Events: the stories that report one development. Candidates come from an index by date."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.db import Database, one, rows
from storage.timeutil import iso, parse_iso


@dataclass(frozen=True)
class Pending:
    """A story waiting for the event stage, with when it became relevant."""

    story_id: int
    title: str
    summary: str
    day: date
    first_poll: bool
    backfill: bool
    published: datetime | None
    queued: datetime
    source_id: int | None = None  # the source of the item that made the story relevant
    court_source: bool = False


@dataclass(frozen=True)
class Member:
    """A story of an event, as event matching reads it."""

    story_id: int
    event_id: int
    title: str
    summary: str
    day: date
    vector: bytes


def story_day(published_at: str | None, first_seen_at: str | None) -> date:
    """The day a story counts for: its publication day, else the day it was first seen."""
    when = parse_iso(published_at) or parse_iso(first_seen_at)
    assert when is not None, "a story always has first_seen_at"
    return when.date()


def enqueue(
    db: Database,
    story_id: int,
    *,
    source_id: int,
    first_poll: bool,
    backfill: bool,
    court_source: bool,
    published: datetime | None,
    now: datetime,
) -> None:
    """Hand a story that became relevant to the cycle's event stage."""
    db.execute(
        "INSERT OR IGNORE INTO event_queue (story_id, source_id, first_poll, backfill,"
        " court_source, published_at, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            story_id,
            source_id,
            int(first_poll),
            int(backfill),
            int(court_source),
            iso(published),
            iso(now),
        ),
    )


def pending(db: Database, *, limit: int = 1000) -> list[Pending]:
    """Queued stories, oldest report first (so a development's first report starts it)."""
    found = rows(
        db,
        "SELECT q.*, s.title, s.summary, s.published_at AS story_published, s.first_seen_at"
        " FROM event_queue q JOIN stories s ON s.id = q.story_id"
        " ORDER BY COALESCE(s.published_at, s.first_seen_at), q.story_id LIMIT ?",
        (limit,),
    )
    return [
        Pending(
            story_id=int(r["story_id"]),
            title=r["title"],
            summary=r["summary"] or "",
            day=story_day(r["story_published"], r["first_seen_at"]),
            first_poll=bool(r["first_poll"]),
            backfill=bool(r["backfill"]),
            published=parse_iso(r["published_at"]),
            queued=parse_iso(r["queued_at"]) or datetime.min,
            source_id=r["source_id"],
            court_source=bool(r["court_source"]),
        )
        for r in found
    ]


def dequeue(db: Database, story_id: int) -> bool:
    """Take a story off the queue; False when it was not there (another process took it)."""
    return db.execute("DELETE FROM event_queue WHERE story_id = ?", (story_id,)).rowcount > 0


MAX_SPAN = 90  # days an event's reports may span and still be found from its first days


def candidates(db: Database, days: list[date], *, window: int, limit: int = 400) -> list[Member]:
    """Stories (with vectors) of the events within `window` days of any of `days`.

    An index range on `events.last_day` finds the events, `stories.event_id` their stories:
    the cost depends on how many events are that recent, not on the archive's size.
    """
    events: set[int] = set()
    for day in days:
        lo = (day - timedelta(days=window)).isoformat()
        hi = (day + timedelta(days=window)).isoformat()
        # Both ends of the range on the indexed column, so the scan is the window's events
        # only: an event that ends more than MAX_SPAN days after the day is not a candidate.
        far = (day + timedelta(days=window + MAX_SPAN)).isoformat()
        events.update(
            int(r[0])
            for r in db.execute(
                "SELECT id FROM events WHERE last_day >= ? AND last_day <= ? AND first_day <= ?"
                " ORDER BY last_day DESC LIMIT ?",
                (lo, far, hi, limit),
            ).fetchall()
        )
    if not events:
        return []
    marks = ",".join("?" for _ in events)
    found = db.execute(
        "SELECT id, event_id, title, summary, event_day, event_vector FROM stories"
        f" WHERE event_id IN ({marks}) AND event_vector IS NOT NULL"
        " ORDER BY id DESC LIMIT ?",
        (*sorted(events), limit),
    ).fetchall()
    return [
        Member(
            story_id=int(r[0]),
            event_id=int(r[1]),
            title=r[2],
            summary=r[3] or "",
            day=date.fromisoformat(r[4]),
            vector=bytes(r[5]),
        )
        for r in found
    ]


def create(db: Database, story_id: int, day: date, *, now: datetime) -> int:
    """A new event started by a story (whose alert will stand for the event)."""
    cur = db.execute(
        "INSERT INTO events (alert_story_id, first_day, last_day, created_at, story_count)"
        " VALUES (?, ?, ?, ?, 0)",
        (story_id, day.isoformat(), day.isoformat(), iso(now)),
    )
    return int(cur.lastrowid or 0)


def file_story(
    db: Database,
    event_id: int,
    story_id: int,
    day: date,
    *,
    vector: bytes | None,
    why: dict | None,
    pinned: bool = False,
) -> None:
    """Put a story in an event (with what matching needs later) and widen the event's days."""
    db.execute(
        "UPDATE stories SET event_id = ?, event_day = ?, event_vector = COALESCE(?, event_vector),"
        " event_why = ?, event_pinned = ? WHERE id = ?",
        (
            event_id,
            day.isoformat(),
            vector,
            None if why is None else json.dumps(why, ensure_ascii=False),
            int(pinned),
            story_id,
        ),
    )
    refresh(db, event_id)


def refresh(db: Database, event_id: int) -> None:
    """Recount an event's stories and days (after a story joined or left)."""
    db.execute(
        """UPDATE events SET
             story_count = (SELECT count(*) FROM stories WHERE event_id = :id),
             first_day = COALESCE((SELECT min(event_day) FROM stories WHERE event_id = :id),
                                  first_day),
             last_day = COALESCE((SELECT max(event_day) FROM stories WHERE event_id = :id),
                                 last_day)
           WHERE id = :id""",
        {"id": event_id},
    )


def get(db: Database, event_id: int) -> dict | None:
    return one(db, "SELECT * FROM events WHERE id = ?", (event_id,))


def of_story(db: Database, story_id: int) -> dict | None:
    """The event a story belongs to (None while it waits for the event stage)."""
    return one(
        db,
        "SELECT events.* FROM events JOIN stories ON stories.event_id = events.id"
        " WHERE stories.id = ?",
        (story_id,),
    )


def stories_of(db: Database, event_id: int) -> list[dict]:
    """The stories of an event, earliest first (the alert's story first)."""
    return rows(
        db,
        "SELECT id, title, url, kind, summary, published_at, first_seen_at, outlet_count,"
        " item_count, event_day, event_why, event_pinned FROM stories WHERE event_id = ?"
        " ORDER BY event_day, id",
        (event_id,),
    )


def other_kinds(db: Database, event_id: int, story_id: int) -> list[str]:
    """The kinds of an event's relevant stories other than `story_id` (what its development's
    kind was before that story joined or changed)."""
    found = db.execute(
        "SELECT DISTINCT kind FROM stories WHERE event_id = ? AND id != ? AND relevant = 1",
        (event_id, story_id),
    ).fetchall()
    return [str(r[0]) for r in found]


def outlets(db: Database, event_id: int) -> list[str]:
    """Outlets of an event in the order they reported it."""
    found = rows(
        db,
        "SELECT COALESCE(items.publisher, sources.name) AS outlet, min(items.id) AS first"
        " FROM items JOIN sources ON sources.id = items.source_id"
        " JOIN stories ON stories.id = items.story_id"
        " WHERE stories.event_id = ? GROUP BY outlet ORDER BY first",
        (event_id,),
    )
    return [r["outlet"] for r in found]


def move_stories(db: Database, from_event: int, to_event: int) -> int:
    """Put every story of one event in another (a merge); returns how many moved."""
    cur = db.execute(
        "UPDATE stories SET event_id = ?, event_pinned = 1 WHERE event_id = ?",
        (to_event, from_event),
    )
    db.execute("DELETE FROM events WHERE id = ?", (from_event,))
    refresh(db, to_event)
    return int(cur.rowcount)


def move_item(db: Database, item_id: int, story_id: int) -> None:
    """Put one item in another story (a split); the stories' counts are the caller's."""
    db.execute("UPDATE items SET story_id = ? WHERE id = ?", (story_id, item_id))


def set_alert_story(db: Database, event_id: int, story_id: int) -> None:
    """The story whose alert stands for the event (a split moves it)."""
    db.execute("UPDATE events SET alert_story_id = ? WHERE id = ?", (story_id, event_id))


def alert_story_of(db: Database, event_id: int) -> int | None:
    row = db.execute("SELECT alert_story_id FROM events WHERE id = ?", (event_id,)).fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True)
class Development:
    """One development as listings show it: its event (None for a story stored before the
    event stage, or still waiting for it, which counts as a development of its own), the
    story whose alert stands for it, and its kind."""

    event_id: int | None
    alert_story_id: int
    kind: str  # court when any of its stories is a court development, else news
    first_seen_at: str


# A story is the first of its development unless an earlier relevant story shares its event.
_FIRST_OF_EVENT = (
    "(s.event_id IS NULL OR NOT EXISTS (SELECT 1 FROM stories o"
    " WHERE o.event_id = s.event_id AND o.relevant = 1 AND (o.first_seen_at < s.first_seen_at"
    " OR (o.first_seen_at = s.first_seen_at AND o.id < s.id))))"
)


def development_kind_sql(story: str) -> str:
    """SQL for the kind of the development of the story row `story` (a table alias): court
    when any story of its event is, else news; a story without an event, its own kind."""
    return (
        f"CASE WHEN {story}.event_id IS NULL THEN {story}.kind WHEN EXISTS (SELECT 1 FROM"
        f" stories c WHERE c.event_id = {story}.event_id AND c.relevant = 1"
        " AND c.kind = 'court') THEN 'court' ELSE 'news' END"
    )


_EVENT_KIND = development_kind_sql("s")


def latest(
    db: Database, *, count: int = 5, kind: str | None = None, since: datetime | None = None
) -> list[Development]:
    """The newest developments, newest first: each once, however many stories (outlets'
    wordings, languages) it has, ordered by when its first story was seen.

    Walks `stories_first_seen` from the newest and keeps each event's first story, so the cost
    is that of the stories read until `count` developments are found, not of the archive.
    """
    cond = ["s.relevant = 1", _FIRST_OF_EVENT]
    params: list = []
    if since is not None:
        cond.append("s.first_seen_at >= ?")
        params.append(iso(since))
    if kind:
        cond.append(f"{_EVENT_KIND} = ?")
        params.append(kind)
    params.append(count)
    found = db.execute(
        f"SELECT s.event_id, COALESCE(e.alert_story_id, s.id), {_EVENT_KIND}, s.first_seen_at"
        " FROM stories s LEFT JOIN events e ON e.id = s.event_id WHERE "
        + " AND ".join(cond)
        + " ORDER BY s.first_seen_at DESC, s.id DESC LIMIT ?",
        tuple(params),
    ).fetchall()
    return [_development(r) for r in found]


def _development(r: tuple) -> Development:
    return Development(
        event_id=None if r[0] is None else int(r[0]),
        alert_story_id=int(r[1]),
        kind=str(r[2]),
        first_seen_at=str(r[3]),
    )


def first_seen_between(db: Database, start: datetime, end: datetime) -> list[Development]:
    """Developments whose first story was first seen in [start, end), in that order (a range
    of `stories_first_seen`): what a digest of the period lists."""
    found = db.execute(
        f"SELECT s.event_id, COALESCE(e.alert_story_id, s.id), {_EVENT_KIND}, s.first_seen_at"
        " FROM stories s LEFT JOIN events e ON e.id = s.event_id"
        f" WHERE s.relevant = 1 AND s.first_seen_at >= ? AND s.first_seen_at < ?"
        f" AND {_FIRST_OF_EVENT} ORDER BY s.first_seen_at, s.id",
        (iso(start), iso(end)),
    ).fetchall()
    return [_development(r) for r in found]


def kind_of(db: Database, story_id: int) -> str | None:
    """The kind of a story's development (court when any story of its event is)."""
    row = db.execute(f"SELECT {_EVENT_KIND} FROM stories s WHERE s.id = ?", (story_id,)).fetchone()
    return None if row is None else str(row[0])


def count_developments(db: Database) -> int:
    """How many developments the archive holds: its events, and the relevant stories still
    waiting for the cycle's event stage (each its own until then).

    Counting events (an index) rather than the distinct events of relevant stories keeps it
    flat: 33 ms, not 2 s, with 333,000 events of 1,000,000 stories on a busy machine.
    """
    row = db.execute(
        "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM event_queue q"
        " JOIN stories s ON s.id = q.story_id WHERE s.event_id IS NULL AND s.relevant = 1)"
    ).fetchone()
    return int(row[0]) if row else 0
