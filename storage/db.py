"""Opening the database: WAL, foreign keys, busy timeout, migrations applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from storage.schema import migrations


def open_store(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the casewatch database at `path`."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; every multi-statement write goes through
    # db.atomic(), so what is in a transaction is explicit.
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    db = Database(conn)
    db.execute("PRAGMA busy_timeout = 5000")
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    migrations.apply(db)
    return db


def rows(db: Database, sql: str, params: tuple | list | dict = ()) -> list[dict]:
    """Run a query and return plain dicts."""
    cur = db.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(db: Database, sql: str, params: tuple | list | dict = ()) -> dict | None:
    """Run a query and return the first row as a dict, or None."""
    cur = db.execute(sql, params)
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def scalar(db: Database, sql: str, params: tuple | list | dict = ()) -> object:
    """Run a query and return the first column of the first row (None when no row)."""
    row = db.execute(sql, params).fetchone()
    return None if row is None else row[0]
