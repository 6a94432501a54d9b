"""The schema as an ordered list of migrations. Never edit an applied one: add a new one.

sqlite-utils applies them (its `Migrations`, and its full-text helpers in the first one), and is
imported only to do so: opening a database that has every migration needs sqlite3 alone
(`storage.db`), which spares every command's start the import of sqlite-utils (issue 9).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlite_utils import Database as UtilsDatabase
    from sqlite_utils.migrations import Migrations as UtilsMigrations

    from storage.db import Database

Step = TypeVar("Step", bound=Callable[..., None])


def load_sqlite_utils() -> None:
    """Import sqlite-utils without numpy (and pandas).

    sqlite-utils imports numpy when it is installed, only to give numpy's scalar types a column
    type when it creates tables from rows; casewatch creates its tables by migration and stores
    vectors as bytes. numpy costs about 0.2 s, and most commands never compute a vector (the
    code that does imports it there). The modules are hidden while sqlite-utils loads, whatever
    was imported before, so it behaves the same in every process.
    """
    if "sqlite_utils" in sys.modules:
        return
    hidden = {name: sys.modules.get(name) for name in ("numpy", "pandas")}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import numpy` now fails at once
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name, module in hidden.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module


class Migrations:
    """The ordered migrations (`@migrations()` registers one), handed to sqlite-utils'
    `Migrations` when they are looked at or applied; their names are known without it."""

    name = "casewatch"  # the migration set, as recorded in the database
    migrations_table = "_sqlite_migrations"  # where sqlite-utils records the applied ones

    def __init__(self) -> None:
        self.steps: list[Callable[[UtilsDatabase], None]] = []

    def __call__(self) -> Callable[[Step], Step]:
        def register(step: Step) -> Step:
            self.steps.append(step)
            return step

        return register

    def names(self) -> tuple[str, ...]:
        """Every migration this code knows, in order."""
        return tuple(step.__name__ for step in self.steps)

    def _utils(self) -> UtilsMigrations:
        load_sqlite_utils()
        from sqlite_utils import migrations as utils

        done = utils.Migrations(self.name)
        assert done.migrations_table == self.migrations_table
        for step in self.steps:
            done()(step)
        return done

    def pending(self, db: Database | UtilsDatabase) -> list[Any]:
        return self._utils().pending(_as_utils(db))

    def apply(
        self, db: Database | UtilsDatabase, *, stop_before: str | Iterable[str] | None = None
    ) -> None:
        self._utils().apply(_as_utils(db), stop_before=stop_before)


def _as_utils(db: Database | UtilsDatabase) -> UtilsDatabase:
    """A sqlite-utils Database on the same connection (the one given, when it is one)."""
    load_sqlite_utils()
    import sqlite_utils

    if isinstance(db, sqlite_utils.Database):
        return db
    return sqlite_utils.Database(db.conn, execute_plugins=False)


migrations = Migrations()


@migrations()
def m001_initial(db: UtilsDatabase) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            url TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL DEFAULT 'news',
            format TEXT NOT NULL DEFAULT 'feed',
            origin TEXT NOT NULL DEFAULT 'config',
            guild_id TEXT,
            paused INTEGER NOT NULL DEFAULT 0,
            removed INTEGER NOT NULL DEFAULT 0,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            created_at TEXT NOT NULL,
            first_polled_at TEXT,
            last_polled_at TEXT,
            last_ok_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            next_poll_at TEXT,
            last_status INTEGER,
            last_content_type TEXT,
            last_entry_count INTEGER,
            last_new_at TEXT,
            failing_notified INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            url TEXT,
            kind TEXT NOT NULL DEFAULT 'news',
            relevant INTEGER NOT NULL DEFAULT 0,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            published_at TEXT,
            item_count INTEGER NOT NULL DEFAULT 0,
            outlet_count INTEGER NOT NULL DEFAULT 0,
            summary TEXT,
            lead_item_id INTEGER,
            signature BLOB
        );
        CREATE INDEX stories_first_seen ON stories(first_seen_at);
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            entry_key TEXT NOT NULL,
            story_id INTEGER REFERENCES stories(id),
            title TEXT NOT NULL,
            url TEXT,
            canonical_url TEXT,
            publisher TEXT,
            summary TEXT NOT NULL DEFAULT '',
            language TEXT,
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'news',
            court INTEGER NOT NULL DEFAULT 0,
            verdict TEXT NOT NULL,
            score REAL NOT NULL DEFAULT 0,
            rules TEXT NOT NULL DEFAULT '[]',
            terms TEXT NOT NULL DEFAULT '[]',
            reason TEXT NOT NULL DEFAULT '',
            UNIQUE(source_id, entry_key)
        );
        CREATE INDEX items_story ON items(story_id);
        CREATE INDEX items_fetched ON items(fetched_at);
        CREATE INDEX items_verdict_fetched ON items(verdict, fetched_at);
        -- Every identity key ever seen per source (aliases included). Never pruned.
        CREATE TABLE seen (
            source_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            item_id INTEGER NOT NULL,
            PRIMARY KEY (source_id, key)
        ) WITHOUT ROWID;
        -- Cross-source story keys: canonical URL, normalised title, MinHash LSH bands.
        CREATE TABLE story_keys (
            key TEXT NOT NULL,
            story_id INTEGER NOT NULL,
            PRIMARY KEY (key, story_id)
        ) WITHOUT ROWID;
        CREATE TABLE destinations (
            id INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            purpose TEXT NOT NULL,
            guild_id TEXT NOT NULL DEFAULT '',
            channel_id TEXT NOT NULL DEFAULT '',
            role_id TEXT,
            court_role_id TEXT,
            kinds TEXT NOT NULL DEFAULT '["news","court"]',
            frequency TEXT,
            at_time TEXT,
            timezone TEXT,
            empty_mode TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            broken_reason TEXT,
            broken_at TEXT,
            last_digest_key TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (type, purpose, guild_id, channel_id)
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            destination_id INTEGER NOT NULL REFERENCES destinations(id),
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            story_id INTEGER REFERENCES stories(id),
            payload TEXT,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            delivered_at TEXT,
            message_id TEXT,
            last_error TEXT,
            UNIQUE (destination_id, kind, ref)
        );
        CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at);
        CREATE TABLE timeline (
            id INTEGER PRIMARY KEY,
            date TEXT NOT NULL,
            title TEXT NOT NULL,
            url TEXT,
            kind TEXT NOT NULL DEFAULT 'news',
            origin TEXT NOT NULL DEFAULT 'config',
            item_id INTEGER,
            UNIQUE (date, title)
        );
        CREATE TABLE settings (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        ) WITHOUT ROWID;
        """
    )
    db.table("items").enable_fts(
        ["title", "summary", "publisher"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )


@migrations()
def m002_stale_notices(db: UtilsDatabase) -> None:
    """Remember that admins were told a source went stale, so they are told once."""
    db.execute("ALTER TABLE sources ADD COLUMN stale_notified INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX sources_next_poll ON sources(removed, paused, next_poll_at)")


@migrations()
def m003_index_only_kept_items(db: UtilsDatabase) -> None:
    """Full-text index only items that were kept (relevant or context).

    Dropped items are most of what general feeds carry; searching them is not what users ask
    for, and indexing them was most of the cost of storing an entry. `why ITEM` still reads them.
    """
    db.executescript(
        """
        DROP TRIGGER IF EXISTS items_ai;
        DROP TRIGGER IF EXISTS items_ad;
        DROP TRIGGER IF EXISTS items_au;
        INSERT INTO items_fts (items_fts, rowid, title, summary, publisher)
            SELECT 'delete', rowid, title, summary, publisher FROM items
            WHERE verdict = 'dropped';
        CREATE TRIGGER items_ai AFTER INSERT ON items WHEN new.verdict != 'dropped' BEGIN
            INSERT INTO items_fts (rowid, title, summary, publisher)
            VALUES (new.rowid, new.title, new.summary, new.publisher);
        END;
        CREATE TRIGGER items_ad AFTER DELETE ON items WHEN old.verdict != 'dropped' BEGIN
            INSERT INTO items_fts (items_fts, rowid, title, summary, publisher)
            VALUES ('delete', old.rowid, old.title, old.summary, old.publisher);
        END;
        -- One update trigger, so the old entry always leaves before the new one comes in.
        CREATE TRIGGER items_au AFTER UPDATE ON items BEGIN
            INSERT INTO items_fts (items_fts, rowid, title, summary, publisher)
            SELECT 'delete', old.rowid, old.title, old.summary, old.publisher
            WHERE old.verdict != 'dropped';
            INSERT INTO items_fts (rowid, title, summary, publisher)
            SELECT new.rowid, new.title, new.summary, new.publisher
            WHERE new.verdict != 'dropped';
        END;
        """
    )


@migrations()
def m004_outbox_claims(db: UtilsDatabase) -> None:
    """A row being delivered is claimed by one process for a while (a lease): two processes on
    one file (`run` and a `poll --once`) never deliver the same row twice, and a row whose
    process died is taken over when its lease ends."""
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_until TEXT")


@migrations()
def m005_item_images(db: UtilsDatabase) -> None:
    """The picture a feed or an article gives an item (http(s) only): the alert's thumbnail."""
    db.execute("ALTER TABLE items ADD COLUMN image_url TEXT")


@migrations()
def m006_events(db: UtilsDatabase) -> None:
    """Events: the stories (outlets, languages) that report one development; one alert each.

    `event_queue` hands stories that became relevant from a source's ingest to the cycle's
    event stage (crash-safe: written with the story, removed with the event). Stories stored
    before this migration each become an event of their own.
    """
    db.executescript(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            alert_story_id INTEGER NOT NULL REFERENCES stories(id),
            first_day TEXT NOT NULL,
            last_day TEXT NOT NULL,
            created_at TEXT NOT NULL,
            story_count INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX events_last_day ON events(last_day);
        ALTER TABLE stories ADD COLUMN event_id INTEGER REFERENCES events(id);
        ALTER TABLE stories ADD COLUMN event_day TEXT;
        ALTER TABLE stories ADD COLUMN event_vector BLOB;
        ALTER TABLE stories ADD COLUMN event_why TEXT;
        ALTER TABLE stories ADD COLUMN event_pinned INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX stories_event ON stories(event_id);
        CREATE TABLE event_queue (
            story_id INTEGER PRIMARY KEY REFERENCES stories(id),
            source_id INTEGER REFERENCES sources(id),
            first_poll INTEGER NOT NULL DEFAULT 0,
            backfill INTEGER NOT NULL DEFAULT 0,
            court_source INTEGER NOT NULL DEFAULT 0,
            published_at TEXT,
            queued_at TEXT NOT NULL
        );
        INSERT INTO events (id, alert_story_id, first_day, last_day, created_at)
            SELECT id, id, substr(COALESCE(published_at, first_seen_at), 1, 10),
                   substr(COALESCE(published_at, first_seen_at), 1, 10), first_seen_at
            FROM stories WHERE relevant = 1;
        UPDATE stories SET event_id = id,
            event_day = substr(COALESCE(published_at, first_seen_at), 1, 10)
            WHERE relevant = 1;
        """
    )


@migrations()
def m007_story_lookups_by_index(db: UtilsDatabase) -> None:
    """Lookups that filing a kept item makes, by index instead of scans that grew with a story
    or with the archive: a story's items by source and outlet (the same entry again, and the
    story's counts, read from the index alone; items without a story, the dropped ones, stay
    out of it), a story's delivered alerts (the outbox was scanned whole for every report
    joining a story), a story's timeline entry (the timeline was scanned)."""
    db.executescript(
        """
        CREATE INDEX items_story_source ON items(story_id, source_id, publisher)
            WHERE story_id IS NOT NULL;
        CREATE INDEX outbox_story ON outbox(story_id) WHERE story_id IS NOT NULL;
        CREATE INDEX timeline_item ON timeline(item_id) WHERE item_id IS NOT NULL;
        """
    )


# -- a new file: the schema the migrations make, created at once ----------------------------------


def fresh_statements(db: Database) -> list[str]:
    """Statements that make the schema of `db` (a file every migration was applied to, and
    nothing else) in a new file: its tables, indexes and triggers in the order they were made.
    SQLite makes the rest itself: a full-text table's own tables, the indexes of UNIQUE and
    PRIMARY KEY constraints, `sqlite_sequence`."""
    found = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    own = {
        f"{name}_{part}"
        for name, sql in found
        if sql.startswith("CREATE VIRTUAL TABLE")
        for part in ("data", "idx", "content", "docsize", "config")
    }
    return [sql for name, sql in found if name not in own]


def fresh_schema_module(db: Database) -> str:
    """The text of `storage/fresh_schema.py` for `db` (see `fresh_statements`)."""
    table = migrations.migrations_table
    names = [r[0] for r in db.execute(f"SELECT name FROM {table} ORDER BY id")]
    statements = []
    for sql in fresh_statements(db):
        assert '"""' not in sql and "\\" not in sql, sql
        statements.append(f'    """{sql}""",')
    lines = [
        '"""The schema every migration of `storage.schema` makes, as the statements that create',
        "it in a new database file at once (`storage.db`): applying the migrations one by one,",
        "with sqlite-utils imported for them, was 0.1-0.2 s of a first `poll --once`. A file",
        "that exists is migrated as before, and so is a new one when `MIGRATIONS` is not every",
        "migration this code knows.",
        "",
        "Generated, never edited: after adding a migration, run",
        "    .venv/bin/python scripts/fresh_schema.py",
        "(tests/test_storage.py checks that a file made with it is the file the migrations make).",
        '"""',
        "",
        "MIGRATIONS = (",
        *(f'    "{name}",' for name in names),
        ")",
        "",
        "STATEMENTS = (",
        *statements,
        ")",
    ]
    return "\n".join(lines) + "\n"
