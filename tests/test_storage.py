"""Storage: migrations upgrade an existing file; WAL; the outbox's uniqueness."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from storage import destinations, items, open_store, outbox
from storage.db import scalar
from storage.schema import migrations

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_an_existing_file_from_the_first_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(str(path), isolation_level=None))
    migrations.apply(old, stop_before="m002_stale_notices")
    old.execute(
        "INSERT INTO sources (name, url, created_at) VALUES ('Old', 'https://o.example/feed', ?)",
        (NOW.isoformat(),),
    )
    assert "stale_notified" not in old["sources"].columns_dict
    old.close()

    db = open_store(path)
    assert "stale_notified" in db["sources"].columns_dict
    assert scalar(db, "SELECT name FROM sources") == "Old"  # data kept
    assert scalar(db, "PRAGMA journal_mode") == "wal"
    assert [m.name for m in migrations.pending(db)] == []


def test_outbox_rows_are_unique_per_destination_kind_and_ref(tmp_path: Path) -> None:
    db = open_store(tmp_path / "o.db")
    dest = destinations.upsert(db, type="console", purpose="alerts", now=NOW)
    first = outbox.enqueue(db, destination_id=dest, kind="alert", ref="story:1", now=NOW)
    again = outbox.enqueue(db, destination_id=dest, kind="alert", ref="story:1", now=NOW)
    assert first is not None and again is None
    assert scalar(db, "SELECT count(*) FROM outbox") == 1


def test_only_kept_items_are_full_text_indexed_and_the_index_stays_consistent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fts.db"
    old = Database(sqlite3.connect(str(path), isolation_level=None))
    migrations.apply(old, stop_before="m003_index_only_kept_items")
    old.execute(
        "INSERT INTO sources (name, url, created_at) VALUES ('S', 'https://s.example', ?)",
        (NOW.isoformat(),),
    )
    for n, (title, verdict) in enumerate(
        [("Cricket final tonight", "dropped"), ("Uyghur tribunal ruling", "relevant")]
    ):
        old.execute(
            "INSERT INTO items (source_id, entry_key, title, fetched_at, verdict) VALUES (1, ?, ?, ?, ?)",
            (f"k{n}", title, NOW.isoformat(), verdict),
        )
    old.close()

    db = open_store(path)
    assert items.search(db, "cricket")[1] == 0  # the dropped row left the index
    assert items.search(db, "tribunal")[1] == 1
    items.set_summary(db, 2, "Judgment read in London")  # update trigger: re-indexed
    items.set_summary(db, 1, "Judgment on the pitch")  # a dropped row stays out
    found, total = items.search(db, "judgment")
    assert total == 1 and found[0]["id"] == 2
    # The index holds exactly the kept rows (its docsize table has one row per indexed item).
    assert scalar(db, "SELECT count(*) FROM items_fts_docsize") == 1


def test_nonces_are_stable_per_database_and_differ_between_databases(tmp_path: Path) -> None:
    first = open_store(tmp_path / "a.db")
    again = outbox.nonce(first, 1)
    assert outbox.nonce(first, 1) == again and outbox.nonce(first, 1, 0) != again
    first.close()
    assert outbox.nonce(open_store(tmp_path / "a.db"), 1) == again  # survives a restart
    other = outbox.nonce(open_store(tmp_path / "b.db"), 1)  # a new file counts from 1 again
    assert other != again
    assert len(outbox.nonce(open_store(tmp_path / "a.db"), 10**12, 99)) <= 25
