"""The `items` table (every parsed entry, relevant or not), its `seen` keys and full-text search."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import one, rows
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


def seen_item(db: Database, source_id: int, keys: list[str]) -> int | None:
    """The item id already stored under any of these identity keys of this source, or None."""
    for key in keys:
        row = db.execute(
            "SELECT item_id FROM seen WHERE source_id = ? AND key = ?", (source_id, key)
        ).fetchone()
        if row is not None:
            return int(row[0])
    return None


def add_seen(db: Database, source_id: int, keys: list[str], item_id: int) -> None:
    """Remember identity keys of a source (aliases of an item included). Never pruned."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO seen (source_id, key, item_id) VALUES (?, ?, ?)",
        [(source_id, k, item_id) for k in keys],
    )


def insert(db: Database, item: NewItem) -> int:
    """Store one item; return its id."""
    cur = db.execute(
        """INSERT INTO items (source_id, entry_key, story_id, title, url, canonical_url, publisher,
             summary, language, published_at, fetched_at, kind, court, verdict, score, rules,
             terms, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
            json.dumps(list(item.rules)),
            json.dumps(list(item.terms), ensure_ascii=False),
            item.reason,
        ),
    )
    return int(cur.lastrowid or 0)


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


_FTS_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn what a user typed into a safe FTS5 query: words ANDed, quoted phrases kept.

    Users type `"rodney dixon" icc`; FTS5 syntax errors must never reach them, so every token is
    quoted and operators are not passed through.
    """
    parts: list[str] = []
    for phrase, word in re.findall(r'"([^"]+)"|(\S+)', text):
        words = _FTS_WORD.findall(phrase or word)
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts) if parts else None


def search(
    db: Database,
    query: str,
    *,
    since: datetime | None = None,
    source: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """Ranked (bm25) full-text search over kept items (dropped ones are not indexed).

    Returns (page of rows, total matches).
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
    base = (
        " FROM items_fts JOIN items ON items.rowid = items_fts.rowid"
        " JOIN sources ON sources.id = items.source_id WHERE " + " AND ".join(where)
    )
    total = int(db.execute("SELECT count(*)" + base, params).fetchone()[0])
    found = rows(
        db,
        "SELECT items.*, sources.name AS source_name, bm25(items_fts, 10.0, 2.0, 1.0) AS rank"
        + base
        + " ORDER BY rank LIMIT :limit OFFSET :offset",
        params,
    )
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


def set_summary(db: Database, item_id: int, summary: str) -> None:
    """Replace an item's summary (e.g. by the lead of its article page)."""
    db.execute("UPDATE items SET summary = ? WHERE id = ?", (summary, item_id))
