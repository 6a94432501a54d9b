"""Storage: migrations upgrade an existing file; WAL; the outbox's uniqueness."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import destinations, items, open_store, outbox, stories
from storage.db import Database as Store
from storage.db import explain, is_busy, scalar
from storage.schema import migrations

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _sqlite_error(text: str, name: str) -> sqlite3.OperationalError:
    """An error as sqlite3 raises it: its message and its SQLite error name."""
    error = sqlite3.OperationalError(text)
    error.sqlite_errorname = name
    return error


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
    assert "stale_notified" in Database(db.conn)["sources"].columns_dict
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


def test_one_claim_wins_and_a_lease_that_ran_out_can_be_taken_over(tmp_path: Path) -> None:
    first, second = open_store(tmp_path / "c.db"), open_store(tmp_path / "c.db")  # two processes
    dest = destinations.upsert(first, type="console", purpose="alerts", now=NOW)
    row = outbox.enqueue(first, destination_id=dest, kind="alert", ref="story:1", now=NOW)
    assert row is not None
    lease = NOW + timedelta(minutes=5)
    assert outbox.claim(first, row, owner="a", now=NOW, until=lease)
    assert not outbox.claim(second, row, owner="b", now=NOW, until=lease)
    assert outbox.pending(second, now=NOW, types=("console",)) == []  # nor offered meanwhile
    # process "a" died: when its lease ends, "b" takes the row over
    assert outbox.claim(second, row, owner="b", now=lease, until=lease + timedelta(minutes=5))
    outbox.mark_delivered(second, row, now=lease, message_id=None)
    assert not outbox.claim(first, row, owner="a", now=lease + timedelta(hours=1), until=lease)
    # a failed attempt frees the row, but only once its retry time has come
    again = outbox.enqueue(first, destination_id=dest, kind="alert", ref="story:2", now=NOW)
    assert again is not None and outbox.claim(first, again, owner="a", now=NOW, until=lease)
    outbox.mark_failed(first, again, error="503", retry_at=NOW + timedelta(minutes=1))
    assert not outbox.claim(second, again, owner="b", now=NOW, until=lease)
    assert outbox.claim(second, again, owner="b", now=NOW + timedelta(minutes=1), until=lease)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (_sqlite_error("database or disk is full", "SQLITE_FULL"), "the disk is full"),
        (_sqlite_error("disk I/O error", "SQLITE_IOERR_WRITE"), "cannot read or write"),
        (_sqlite_error("database disk image is malformed", "SQLITE_CORRUPT"), "is corrupt"),
        (_sqlite_error("file is not a database", "SQLITE_NOTADB"), "is not a SQLite database"),
        (_sqlite_error("attempt to write a readonly database", "SQLITE_READONLY"), "read-only"),
        (_sqlite_error("database is locked", "SQLITE_BUSY"), "still locked by another process"),
    ],
)
def test_each_database_error_is_one_line_naming_the_file_and_what_to_do(
    error: sqlite3.Error, says: str
) -> None:
    line = explain(error, "data/c.db")
    assert says in line and "data/c.db" in line and "\n" not in line
    assert is_busy(error) is (says == "still locked by another process")


def test_a_documents_seen_keys_are_looked_up_at_once_however_many(tmp_path: Path) -> None:
    db = open_store(tmp_path / "seen.db")
    db.execute(
        "INSERT INTO sources (name, url, created_at) VALUES ('S', 'https://s.example', ?)",
        (NOW.isoformat(),),
    )
    db.execute(
        "INSERT INTO sources (name, url, created_at) VALUES ('T', 'https://t.example', ?)",
        (NOW.isoformat(),),
    )
    stored = [(f"g:{n}", 1000 + n) for n in range(0, 1400, 2)]  # 700 keys, every other one
    items.add_seen_many(db, 1, stored)
    items.add_seen(db, 2, ["g:1"], 7)  # another source's key is not this source's

    asked = [f"g:{n}" for n in range(1400)] + ["g:0"]  # more than one statement's worth
    assert items.seen_keys(db, 1, asked) == dict(stored)
    assert items.seen_keys(db, 2, asked) == {"g:1": 7}
    assert items.seen_keys(db, 1, []) == {}


def test_counting_an_item_in_its_story_gives_the_story_before_and_its_counts_after(
    tmp_path: Path,
) -> None:
    db = open_store(tmp_path / "count.db")
    for name in ("Reuters feed", "AP feed"):
        db.execute(
            "INSERT INTO sources (name, url, created_at) VALUES (?, ?, ?)",
            (name, f"https://{name[:2]}.example", NOW.isoformat()),
        )
    story = stories.create(
        db,
        title="ICC Prosecutor declines to open Uyghur inquiry",
        url=None,
        kind="news",
        relevant=False,
        now=NOW,
        published_at=None,
        summary="",
        signature=None,
    )
    for n, (source, publisher) in enumerate([(1, None), (1, None), (2, None), (2, "Reuters")]):
        db.execute(
            "INSERT INTO items (source_id, entry_key, story_id, title, publisher, fetched_at,"
            " verdict) VALUES (?, ?, ?, 'x', ?, ?, 'relevant')",
            (source, f"k{n}", story, publisher, NOW.isoformat()),
        )
        counted = stories.count_item(db, story, now=NOW + timedelta(minutes=n))
        assert counted.before is not None
        assert (counted.before["item_count"], counted.items) == (n, n + 1)
        # outlets: the publisher an entry names, else its source's name
        assert counted.outlets == [1, 1, 2, 3][n]
    assert (stories.get(db, story) or {})["last_seen_at"] == (
        NOW + timedelta(minutes=3)
    ).isoformat()
    assert stories.count_item(db, story + 1, now=NOW) == stories.Counted(None, 0, 0)


# -- storage's Database: transactions ---------------------------------------------------------------


def _keys(db: Store) -> list[str]:
    return [r[0] for r in db.execute("SELECT key FROM settings ORDER BY key")]


@pytest.mark.parametrize(
    ("inner_fails", "outer_fails", "kept"),
    [
        (False, False, ["inner", "outer"]),
        (True, False, ["outer"]),  # the inner block alone is undone (a savepoint)
        (False, True, []),  # the outer block undoes everything, inner included
        (True, True, []),
    ],
)
def test_nested_transactions_undo_only_their_own_writes(
    tmp_path: Path, inner_fails: bool, outer_fails: bool, kept: list[str]
) -> None:
    db = open_store(tmp_path / "t.db")

    def write(key: str) -> None:
        db.execute("INSERT INTO settings (scope, key, value) VALUES ('test', ?, '1')", (key,))

    outer = pytest.raises(ZeroDivisionError) if outer_fails else contextlib.nullcontext()
    with outer, db.atomic():
        write("outer")
        try:
            with db.atomic():
                write("inner")
                if inner_fails:
                    1 / 0  # noqa: B018
        except ZeroDivisionError:
            pass
        if outer_fails:
            1 / 0  # noqa: B018
    assert not db.conn.in_transaction
    assert _keys(db) == kept


def test_a_transaction_takes_the_write_lock_when_it_begins(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: another process cannot write (nor begin a transaction) meanwhile."""
    first, second = open_store(tmp_path / "l.db"), open_store(tmp_path / "l.db")
    second.execute("PRAGMA busy_timeout = 0")
    with first.atomic(), pytest.raises(sqlite3.OperationalError, match="locked"):
        second.conn.execute("BEGIN IMMEDIATE")
    second.conn.execute("BEGIN IMMEDIATE")  # free again once the first one committed
    second.conn.execute("ROLLBACK")


def _contents(path: Path) -> dict[str, object]:
    """Everything a database file holds: its schema, every table's rows (the dates migrations
    were applied left out), its schema version."""
    conn = sqlite3.connect(str(path))
    try:
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        found: dict[str, object] = {"schema": schema}
        for name in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
            kept = ", ".join(f'"{c}"' for c in columns if c != "applied_at")
            found[name] = sorted(conn.execute(f'SELECT {kept} FROM "{name}"').fetchall())
        found["user_version"] = conn.execute("PRAGMA user_version").fetchone()[0]
        return found
    finally:
        conn.close()


def test_a_new_file_is_made_at_once_and_is_the_file_the_migrations_make(tmp_path: Path) -> None:
    """Issue 9: a new file gets the schema from `storage.fresh_schema` in one transaction, not
    migration by migration with sqlite-utils (0.1-0.2 s of a first `poll --once`). If this
    fails after a migration was added: run `.venv/bin/python scripts/fresh_schema.py`."""
    from storage import fresh_schema

    migrated = Database(sqlite3.connect(str(tmp_path / "migrated.db"), isolation_level=None))
    migrations.apply(migrated)
    migrated.execute(f"PRAGMA user_version = {len(migrations.names())}")
    migrated.close()
    assert migrations.names() == fresh_schema.MIGRATIONS
    open_store(tmp_path / "new.db").conn.close()
    assert _contents(tmp_path / "new.db") == _contents(tmp_path / "migrated.db")
    db = open_store(tmp_path / "new.db")  # and it opens as a current file: nothing to apply
    assert [m.name for m in migrations.pending(db)] == []


def test_a_new_file_is_opened_without_sqlite_utils(tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from storage import open_store; open_store(sys.argv[1]);"
        " print('sqlite_utils' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "new.db")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


def test_a_new_file_is_migrated_step_by_step_when_the_snapshot_lags_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import fresh_schema

    monkeypatch.setattr(fresh_schema, "MIGRATIONS", fresh_schema.MIGRATIONS[:-1])
    monkeypatch.setattr(fresh_schema, "STATEMENTS", ("CREATE TABLE wrong (x)",))
    open_store(tmp_path / "new.db").conn.close()
    migrated = Database(sqlite3.connect(str(tmp_path / "migrated.db"), isolation_level=None))
    migrations.apply(migrated)
    migrated.execute(f"PRAGMA user_version = {len(migrations.names())}")
    migrated.close()
    assert _contents(tmp_path / "new.db") == _contents(tmp_path / "migrated.db")
