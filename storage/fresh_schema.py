"""The schema every migration of `storage.schema` makes, as the statements that create
it in a new database file at once (`storage.db`): applying the migrations one by one,
with sqlite-utils imported for them, was 0.1-0.2 s of a first `poll --once`. A file
that exists is migrated as before, and so is a new one when `MIGRATIONS` is not every
migration this code knows.

Generated, never edited: after adding a migration, run
    .venv/bin/python scripts/fresh_schema.py
(tests/test_storage.py checks that a file made with it is the file the migrations make).
"""

MIGRATIONS = (
    "m001_initial",
    "m002_stale_notices",
    "m003_index_only_kept_items",
    "m004_outbox_claims",
    "m005_item_images",
    "m006_events",
    "m007_story_lookups_by_index",
)

STATEMENTS = (
    """CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
)""",
    """CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name")""",
    """CREATE TABLE sources (
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
        , stale_notified INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE stories (
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
        , event_id INTEGER REFERENCES events(id), event_day TEXT, event_vector BLOB, event_why TEXT, event_pinned INTEGER NOT NULL DEFAULT 0)""",
    """CREATE INDEX stories_first_seen ON stories(first_seen_at)""",
    """CREATE TABLE items (
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
            reason TEXT NOT NULL DEFAULT '', image_url TEXT,
            UNIQUE(source_id, entry_key)
        )""",
    """CREATE INDEX items_story ON items(story_id)""",
    """CREATE INDEX items_fetched ON items(fetched_at)""",
    """CREATE INDEX items_verdict_fetched ON items(verdict, fetched_at)""",
    """CREATE TABLE seen (
            source_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            item_id INTEGER NOT NULL,
            PRIMARY KEY (source_id, key)
        ) WITHOUT ROWID""",
    """CREATE TABLE story_keys (
            key TEXT NOT NULL,
            story_id INTEGER NOT NULL,
            PRIMARY KEY (key, story_id)
        ) WITHOUT ROWID""",
    """CREATE TABLE destinations (
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
        )""",
    """CREATE TABLE outbox (
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
            last_error TEXT, claimed_by TEXT, claimed_until TEXT,
            UNIQUE (destination_id, kind, ref)
        )""",
    """CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at)""",
    """CREATE TABLE timeline (
            id INTEGER PRIMARY KEY,
            date TEXT NOT NULL,
            title TEXT NOT NULL,
            url TEXT,
            kind TEXT NOT NULL DEFAULT 'news',
            origin TEXT NOT NULL DEFAULT 'config',
            item_id INTEGER,
            UNIQUE (date, title)
        )""",
    """CREATE TABLE settings (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        ) WITHOUT ROWID""",
    """CREATE VIRTUAL TABLE "items_fts" USING FTS5 (
    "title", "summary", "publisher",
    tokenize='unicode61 remove_diacritics 2',
    content="items"
)""",
    """CREATE INDEX sources_next_poll ON sources(removed, paused, next_poll_at)""",
    """CREATE TRIGGER items_ai AFTER INSERT ON items WHEN new.verdict != 'dropped' BEGIN
            INSERT INTO items_fts (rowid, title, summary, publisher)
            VALUES (new.rowid, new.title, new.summary, new.publisher);
        END""",
    """CREATE TRIGGER items_ad AFTER DELETE ON items WHEN old.verdict != 'dropped' BEGIN
            INSERT INTO items_fts (items_fts, rowid, title, summary, publisher)
            VALUES ('delete', old.rowid, old.title, old.summary, old.publisher);
        END""",
    """CREATE TRIGGER items_au AFTER UPDATE ON items BEGIN
            INSERT INTO items_fts (items_fts, rowid, title, summary, publisher)
            SELECT 'delete', old.rowid, old.title, old.summary, old.publisher
            WHERE old.verdict != 'dropped';
            INSERT INTO items_fts (rowid, title, summary, publisher)
            SELECT new.rowid, new.title, new.summary, new.publisher
            WHERE new.verdict != 'dropped';
        END""",
    """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            alert_story_id INTEGER NOT NULL REFERENCES stories(id),
            first_day TEXT NOT NULL,
            last_day TEXT NOT NULL,
            created_at TEXT NOT NULL,
            story_count INTEGER NOT NULL DEFAULT 1
        )""",
    """CREATE INDEX events_last_day ON events(last_day)""",
    """CREATE INDEX stories_event ON stories(event_id)""",
    """CREATE TABLE event_queue (
            story_id INTEGER PRIMARY KEY REFERENCES stories(id),
            source_id INTEGER REFERENCES sources(id),
            first_poll INTEGER NOT NULL DEFAULT 0,
            backfill INTEGER NOT NULL DEFAULT 0,
            court_source INTEGER NOT NULL DEFAULT 0,
            published_at TEXT,
            queued_at TEXT NOT NULL
        )""",
    """CREATE INDEX items_story_source ON items(story_id, source_id, publisher)
            WHERE story_id IS NOT NULL""",
    """CREATE INDEX outbox_story ON outbox(story_id) WHERE story_id IS NOT NULL""",
    """CREATE INDEX timeline_item ON timeline(item_id) WHERE item_id IS NOT NULL""",
)
