"""The `items` table (every parsed entry, relevant or not), its `seen` keys and full-text search."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from storage import reader
from storage.db import Database, one, rows
from storage.events import development_kind_sql
from storage.timeutil import iso


@dataclass
class NewItem:
    """An item ready to store, with its relevance evidence."""

    source_id: int
    entry_key: str
    title: str
    url: str | None
    canonical_url: str | None
    publisher: str | None
    summary: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    kind: str
    court: bool
    verdict: str
    score: float
    rules: tuple[str, ...]
    terms: tuple[str, ...]
    reason: str
    story_id: int | None = None
    image_url: str | None = None  # http(s) only: media:content, enclosure, og:image ...


def seen_item(db: Database, source_id: int, keys: list[str]) -> int | None:
    """The item id already stored under any of these identity keys of this source, or None."""
    for key in keys:
        row = db.execute(
            "SELECT item_id FROM seen WHERE source_id = ? AND key = ?", (source_id, key)
        ).fetchone()
        if row is not None:
            return int(row[0])
    return None


def seen_keys(db: Database, source_id: int, keys: list[str]) -> dict[str, int]:
    """Which of these identity keys of a source are stored, with their item ids: a whole
    fetched document's keys in one statement (per 500 keys). Inside the write transaction
    that stores the entries, this is the authoritative answer (`storage.reader` reads it
    for the parse worker, as a hint)."""
    return reader.lookup(db.conn, source_id, keys)


def add_seen(db: Database, source_id: int, keys: list[str], item_id: int) -> None:
    """Remember identity keys of a source (aliases of an item included). Never pruned."""
    add_seen_many(db, source_id, [(k, item_id) for k in keys])


def add_seen_many(db: Database, source_id: int, pairs: list[tuple[str, int]]) -> None:
    """Remember (identity key, item id) pairs of a source: a document's in one statement."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO seen (source_id, key, item_id) VALUES (?, ?, ?)",
        [(source_id, key, item_id) for key, item_id in pairs],
    )


@lru_cache(maxsize=1024)
def _json_list(values: tuple[str, ...], ascii_only: bool) -> str:
    # Most items carry one of a few rule and term lists (none at all, for dropped ones).
    return json.dumps(list(values), ensure_ascii=ascii_only)


def insert(db: Database, item: NewItem) -> int:
    """Store one item; return its id."""
    cur = db.conn.execute(
        """INSERT INTO items (source_id, entry_key, story_id, title, url, canonical_url, publisher,
             summary, language, published_at, fetched_at, kind, court, verdict, score, rules,
             terms, reason, image_url)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            item.source_id,
            item.entry_key,
            item.story_id,
            item.title,
            item.url,
            item.canonical_url,
            item.publisher,
            item.summary,
            item.language,
            iso(item.published_at),
            iso(item.fetched_at),
            item.kind,
            int(item.court),
            item.verdict,
            item.score,
            _json_list(tuple(item.rules), True),
            _json_list(tuple(item.terms), False),
            item.reason,
            item.image_url,
        ),
    )
    return int(cur.lastrowid or 0)


def first_image(db: Database, story_ids: list[int]) -> str | None:
    """The picture of the first item (in these stories' order) that has one."""
    for story_id in story_ids:
        row = db.execute(
            "SELECT image_url FROM items WHERE story_id = ? AND image_url IS NOT NULL"
            " ORDER BY id LIMIT 1",
            (story_id,),
        ).fetchone()
        if row is not None:
            return str(row[0])
    return None


def set_image(db: Database, item_id: int, image_url: str) -> bool:
    """Give an item the picture its article page names, unless the feed gave one; True if set."""
    cur = db.execute(
        "UPDATE items SET image_url = ? WHERE id = ? AND image_url IS NULL", (image_url, item_id)
    )
    return cur.rowcount > 0


def get(db: Database, item_id: int) -> dict | None:
    """One item with its source name, evidence decoded."""
    row = one(
        db,
        "SELECT items.*, sources.name AS source_name FROM items"
        " JOIN sources ON sources.id = items.source_id WHERE items.id = ?",
        (item_id,),
    )
    if row:
        row["rules"] = json.loads(row["rules"])
        row["terms"] = json.loads(row["terms"])
    return row


def for_story(db: Database, story_id: int) -> list[dict]:
    """Every item of a story, earliest first, with source names."""
    return rows(
        db,
        "SELECT items.*, sources.name AS source_name FROM items"
        " JOIN sources ON sources.id = items.source_id"
        " WHERE story_id = ? ORDER BY fetched_at, items.id",
        (story_id,),
    )


# Endings taken off a typed word before it becomes a prefix, longest first: "Argentina" and
# "Argentine" both search "argentin*", "deported" and "deportation" both "deport*".
_ENDINGS = ("ations", "ation", "ians", "ian", "ings", "ing", "ed", "es", "s")
_VOWELS = "aeiouy"
_MIN_STEM = 4


def search_stem(word: str) -> str:
    """The prefix a typed word searches: lower case, a common ending and a final vowel off,
    never shorter than 4 letters.

    FTS5 indexes whole tokens and its stemmer (porter) is English-only, so a query word becomes a
    prefix of its stem: "Argentina" finds "Argentine" and "argentinos", "Uyghurs" finds "Uyghur".
    """
    low = word.lower()
    if len(low) <= _MIN_STEM or not low.isalpha():
        return low
    for ending in _ENDINGS:
        if low.endswith(ending) and len(low) - len(ending) >= _MIN_STEM:
            low = low[: -len(ending)]
            break
    if low[-1] in _VOWELS and len(low) > _MIN_STEM:
        low = low[:-1]
    return low


def fts_query(text: str) -> str | None:
    """Turn what a user typed into a safe FTS5 query: words ANDed, quoted phrases kept.

    Users type `"rodney dixon" icc`; FTS5 syntax errors must never reach them, so every token is
    quoted and operators are not passed through. A bare word searches its stem as a prefix
    (`search_stem`); a quoted phrase is matched as typed. None when nothing searchable is left.
    """
    parts: list[str] = []
    for phrase, word in re.findall(r'"([^"]+)"|(\S+)', text):
        words = re.findall(r"\w+", phrase or word)  # compiled by the first search
        if not words:
            continue
        if phrase:
            parts.append('"' + " ".join(words) + '"')
        else:
            parts.extend(f'"{search_stem(w)}"*' if len(w) >= _MIN_STEM else f'"{w}"' for w in words)
    return " ".join(parts) if parts else None


def search(
    db: Database,
    query: str,
    *,
    since: datetime | None = None,
    source: str | None = None,
    kind: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """Ranked (bm25) full-text search over kept items (dropped ones are not indexed), one row
    per development (an event; a story without one, or an item without a story, counts as its
    own): its best-ranked item, with `copies` = how many of the development's items matched,
    `event_id`, and `development` = the story whose alert stands for it (the number `story`
    and `/case story` take). `kind` keeps developments of that kind (court when any of its
    stories is).

    Returns (page of rows, total developments matched).
    """
    match = fts_query(query)
    if match is None:
        return [], 0
    where = ["items_fts MATCH :match"]
    params: dict = {"match": match, "limit": limit, "offset": offset}
    if since is not None:
        where.append("items.fetched_at >= :since")
        params["since"] = iso(since)
    if source:
        where.append("(lower(sources.name) LIKE :source OR lower(items.publisher) LIKE :source)")
        params["source"] = f"%{source.lower()}%"
    if kind:
        where.append(f"COALESCE({development_kind_sql('stories')}, items.kind) = :kind")
        params["kind"] = kind
    hits = (
        "WITH hits AS (SELECT items.*, sources.name AS source_name,"
        " bm25(items_fts, 10.0, 2.0, 1.0) AS rank, stories.event_id AS event_id,"
        " COALESCE(events.alert_story_id, items.story_id) AS development,"
        " CASE WHEN events.id IS NOT NULL THEN 'e' || events.id"
        " WHEN items.story_id IS NOT NULL THEN 's' || items.story_id"
        " ELSE 'i' || items.id END AS grp"
        " FROM items_fts JOIN items ON items.rowid = items_fts.rowid"
        " JOIN sources ON sources.id = items.source_id"
        " LEFT JOIN stories ON stories.id = items.story_id"
        " LEFT JOIN events ON events.id = stories.event_id WHERE " + " AND ".join(where) + ")"
    )
    total = int(db.execute(hits + " SELECT count(DISTINCT grp) FROM hits", params).fetchone()[0])
    found = rows(
        db,
        hits + ", best AS (SELECT *, row_number() OVER (PARTITION BY grp ORDER BY rank, id) AS rn,"
        " count(*) OVER (PARTITION BY grp) AS copies FROM hits)"
        " SELECT * FROM best WHERE rn = 1 ORDER BY rank, id LIMIT :limit OFFSET :offset",
        params,
    )
    for row in found:
        row.pop("rn", None)
        row.pop("grp", None)
    return found, total


def weekly_counts(db: Database, since: datetime | None = None) -> list[dict]:
    """Relevant items per ISO week (Monday): week start, items, court items."""
    params: tuple = ()
    cond = "verdict = 'relevant'"
    if since is not None:
        cond += " AND COALESCE(published_at, fetched_at) >= ?"
        params = (iso(since),)
    return rows(
        db,
        "SELECT date(COALESCE(published_at, fetched_at), 'weekday 0', '-6 days') AS week,"
        " count(*) AS items, sum(court) AS court FROM items WHERE "
        + cond
        + " GROUP BY week ORDER BY week",
        params,
    )


def activity_totals(db: Database, since: datetime | None = None) -> dict[str, Any]:
    """Relevant items since a moment (or ever): reports, developments (events; a story without
    one counts as its own), court developments (those with a court report), first day."""
    params: tuple = ()
    cond = "items.verdict = 'relevant'"
    if since is not None:
        cond += " AND COALESCE(items.published_at, items.fetched_at) >= ?"
        params = (iso(since),)
    development = (
        "CASE WHEN stories.event_id IS NOT NULL THEN 'e' || stories.event_id"
        " ELSE 's' || items.story_id END"
    )
    row = one(
        db,
        f"SELECT count(*) AS reports, count(DISTINCT {development}) AS developments,"
        f" count(DISTINCT CASE WHEN items.court = 1 THEN {development} END) AS court,"
        " min(COALESCE(items.published_at, items.fetched_at)) AS first"
        " FROM items LEFT JOIN stories ON stories.id = items.story_id WHERE " + cond,
        params,
    )
    row = row or {}
    return {
        "reports": int(row.get("reports") or 0),
        "developments": int(row.get("developments") or 0),
        "court": int(row.get("court") or 0),
        "first": row.get("first"),
    }


def set_summary(db: Database, item_id: int, summary: str) -> None:
    """Replace an item's summary (e.g. by the lead of its article page)."""
    db.execute("UPDATE items SET summary = ? WHERE id = ?", (summary, item_id))
