"""Opening the database: what the file is, WAL, foreign keys, busy timeout, migrations applied.

Several processes may share one file (`run` and a `poll --once`, two polls): every write
transaction starts with BEGIN IMMEDIATE, so a process waits for the writer before it reads what
it is about to change (a deferred transaction that read first fails at once with "database is
locked" when another process wrote meanwhile, whatever the busy timeout), and migrations run once,
under that lock. A file that is not ours, or is newer than this code, is refused before anything
is written to it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Generator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.schema import migrations

# How long a statement waits for another process's write transaction before giving up. Below
# Discord's gateway heartbeat (about 41 s): a wait blocks the event loop.
BUSY_TIMEOUT_MS = 20_000

# Every migration this code knows, in order; PRAGMA user_version is their count.
KNOWN_MIGRATIONS: tuple[str, ...] = migrations.names()
MIGRATIONS_TABLE = migrations.migrations_table


class StoreError(Exception):
    """The database cannot be used; the message is one line saying which file, why, what to do."""


class Database:
    """An open casewatch database: its sqlite3 connection (`conn`, in autocommit mode), the
    statements run on it, and write transactions that take the write lock when they begin.

    This is all the storage modules ask of a database; sqlite-utils is loaded only to apply
    migrations (`storage.schema`), so opening a current file costs no more than sqlite3.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
    ) -> sqlite3.Cursor:
        return self.conn.execute(sql, parameters)

    @contextlib.contextmanager
    def atomic(self) -> Generator[Database, None, None]:
        """One transaction (BEGIN IMMEDIATE: it waits for another process's writer before
        reading what it will change); inside another one, a savepoint."""
        if self.conn.in_transaction:
            savepoint = f"nested_{secrets.token_hex(8)}"
            self.conn.execute(f"SAVEPOINT {savepoint}")
            try:
                yield self
            except BaseException:
                # An error may have ended the whole transaction, savepoints included.
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    self.conn.execute(f"RELEASE SAVEPOINT {savepoint}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {savepoint}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()


def is_busy(exc: BaseException) -> bool:
    """True when SQLite gave up waiting for another process (not a problem of the file)."""
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
        or "database is locked" in str(exc)
    )


def explain(exc: BaseException, path: str | Path) -> str:
    """One line for an error of the database file itself: which file, what is wrong, what to do."""
    if isinstance(exc, StoreError):
        return str(exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = "text that is not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
    if is_busy(exc):
        return (
            f"database {path}: still locked by another process after "
            f"{BUSY_TIMEOUT_MS // 1000}s ({text}); run again when it is done"
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return (
            f"database {path}: the disk is full ({text}); free space and run again "
            "(the change being written was rolled back, nothing stored before it is lost)"
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return (
            f"database {path} is read-only ({text}); casewatch writes to it on every run: "
            "give this user write access to the file and its folder, or choose another --db"
        )
    if name.startswith("SQLITE_NOTADB") or "not a database" in text:
        return (
            f"database {path} is not a SQLite database ({text}); "
            "point --db (or CASEWATCH_DB) at a casewatch database or at a new file name"
        )
    if (
        isinstance(exc, UnicodeDecodeError)
        or name.startswith("SQLITE_CORRUPT")
        or "malformed" in text
    ):
        return (
            f"database {path} is corrupt ({text}); restore it from a backup, or move it "
            "aside and start a new one (the sources are polled again, alerts of the first poll "
            "are not repeated)"
        )
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) or "disk I/O" in text:
        return (
            f"database {path}: cannot read or write the file ({text}); "
            "check the disk, its free space and the file's permissions"
        )
    return f"database {path}: {type(exc).__name__}: {text}"


def open_store(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the casewatch database at `path`.

    Raises StoreError (one line) for a file that is not a SQLite database, not a casewatch one,
    written by a newer casewatch, corrupt, read-only or on a full disk; nothing is written then.
    """
    memory = str(path) == ":memory:"
    if not memory:
        target = Path(path)
        if target.is_dir():
            raise StoreError(f"database {path} is a folder; --db names a file")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"database {path}: cannot create its folder: {exc}") from None
    try:
        # isolation_level=None: no implicit transactions; every multi-statement write goes
        # through db.atomic(), so what is in a transaction is explicit.
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, path)) from None
    try:
        return _prepare(conn, path, memory=memory)
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # garbled schema text: corrupt
        conn.close()
        raise StoreError(explain(exc, path)) from None
    except BaseException:
        conn.close()
        raise


def inspect_store(path: str | Path) -> str | None:
    """What is wrong with the database file at `path`, in one line, or None (also when it does
    not exist yet: it is created on first use). Opens it read-only; nothing is written."""
    target = Path(path)
    if str(path) == ":memory:" or not target.exists():
        return None
    if target.is_dir():
        return f"database {path} is a folder; --db names a file"
    if why := _not_writable(target):
        return str(_read_only(path, why))
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return explain(exc, path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_identity(Database(conn), path)
        problems = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            return explain(sqlite3.DatabaseError("malformed: " + "; ".join(problems)), path)
    except StoreError as exc:
        return str(exc)
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        return explain(exc, path)
    finally:
        conn.close()
    return None


def _prepare(conn: sqlite3.Connection, path: str | Path, *, memory: bool) -> Database:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db = Database(conn)
    applied = _check_identity(db, path)  # reads only: a foreign or newer file is refused
    if not memory and (why := _not_writable(path)):
        raise _read_only(path, why)
    if not memory and db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.execute("PRAGMA journal_mode = wal")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    _migrate(db, path, applied)
    return db


def _check_identity(db: Database, path: str | Path) -> list[str] | None:
    """Raise StoreError unless the file is empty or a casewatch database this code can run.

    Returns the names of the migrations it has, None when it holds no table yet (a new file)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    version = _user_version(db)
    if not tables and version == 0:
        return None
    applied: list[str] = []
    if MIGRATIONS_TABLE in tables:
        applied = [
            r[0]
            for r in db.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", (migrations.name,)
            )
        ]
    if not applied:
        shown = ", ".join(sorted(tables)[:4]) + (", ..." if len(tables) > 4 else "")
        raise StoreError(
            f"database {path} is not a casewatch database (it holds other tables: {shown}); "
            "nothing was changed: point --db (or CASEWATCH_DB) at a casewatch database or at a "
            "new file name"
        )
    unknown = [name for name in applied if name not in KNOWN_MIGRATIONS]
    if unknown or version > len(KNOWN_MIGRATIONS):
        what = f"migration {unknown[0]}" if unknown else f"schema version {version}"
        raise StoreError(
            f"database {path} was written by a newer casewatch ({what} is unknown to this one, "
            f"which knows {len(KNOWN_MIGRATIONS)}); nothing was changed: upgrade casewatch, "
            "or use another --db"
        )
    return applied


def _migrate(db: Database, path: str | Path, applied: list[str] | None) -> None:
    """Apply pending migrations once, under the write lock (another process may be doing it);
    a new file gets the schema they make at once (`_create`). With nothing to apply (`applied`: what the file had when it was opened), no lock is taken
    (`health` must not wait for a running bot) and sqlite-utils is not even imported."""
    if set(applied or ()) >= set(KNOWN_MIGRATIONS) and _user_version(db) == len(KNOWN_MIGRATIONS):
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        # again: another process may have migrated meanwhile
        if _check_identity(db, path) is not None or not _create(db):
            migrations.apply(db)
        db.execute(f"PRAGMA user_version = {len(KNOWN_MIGRATIONS)}")
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def _create(db: Database) -> bool:
    """Make the schema of every migration in a new file at once (`storage.fresh_schema`),
    with the record of the migrations sqlite-utils would have written; False (nothing done)
    when that snapshot is not of every migration this code knows."""
    from storage import fresh_schema

    if fresh_schema.MIGRATIONS != KNOWN_MIGRATIONS:
        return False
    for statement in fresh_schema.STATEMENTS:
        db.execute(statement)
    now = str(datetime.now(UTC))  # as sqlite-utils records it
    db.conn.executemany(
        f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
        [(migrations.name, name, now) for name in KNOWN_MIGRATIONS],
    )
    return True


def _user_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _not_writable(path: str | Path) -> str | None:
    """Why casewatch could not write the file at `path` (access() also sees read-only mounts and
    immutable files, even for root), or None."""
    target = Path(path)
    if target.exists() and not os.access(target, os.W_OK):
        return "the file is not writable"
    if not os.access(target.parent, os.W_OK):
        return "its folder is not writable (SQLite keeps its journal files there)"
    return None


def _read_only(path: str | Path, why: str) -> StoreError:
    return StoreError(
        f"database {path} is read-only ({why}); casewatch writes to it on every run: "
        "give this user write access to the file and its folder, or choose another --db"
    )


def path_of(db: Database) -> str:
    """The file of an open database (for messages)."""
    with contextlib.suppress(sqlite3.Error):
        for row in db.conn.execute("PRAGMA database_list"):
            if row[1] == "main":
                return str(row[2]) or ":memory:"
    return "(database)"


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
