"""The database as operators meet it: two processes on one file, and files that are not ours.

Every test runs `python bot.py ...` as a real process on a real SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.db
from casewatch.clock import FakeClock
from storage import sources
from tests.casewatch_helpers import START, app_for
from tests.casewatch_helpers import item as _item
from tests.discord_twin import DiscordTwin
from tests.feedserver import FeedServer, rss

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
case: {{name: Test case, short: test, vocabulary: [uyghur, icc]}}
defaults: {{interval: 10m, parse_workers: 0}}
# The headlines below share one template: here each is a development of its own.
events: {{enabled: false}}
relevance:
  threshold: 2
  groups:
    people: ["Uyghur*"]
    forum: [ICC, International Criminal Court, Tribunal, deport*]
  rules:
    - {{name: case, all: [people, forum], score: 2}}
sources:
{sources}
"""

PLACES = ["Tajikistan", "Cambodia", "Kazakhstan", "Turkey", "Egypt", "Thailand", "Dubai"]
ACTS = ["filing names officials", "lawyers ask ICC to act", "tribunal hears witnesses"]


def headline(n: int) -> str:
    """Distinct relevant headlines (no two share a story)."""
    return (
        f"Uyghur case {n}: deportation from {PLACES[n % len(PLACES)]}, "
        f"{ACTS[n % len(ACTS)]} (report {n * 7919 % 10007})"
    )


def entries(first: int, count: int) -> list[dict[str, Any]]:
    when = datetime.now(UTC) - timedelta(minutes=5)
    return [
        _item(n, headline(n), when=when, description=f"Filing {n} about Uyghur deportation.")
        for n in range(first, first + count)
    ]


def write_config(tmp: Path, urls: list[str]) -> None:
    lines = "\n".join(f'  - {{name: "Feed {i}", url: "{u}"}}' for i, u in enumerate(urls))
    (tmp / "feeds.yaml").write_text(CONFIG.format(sources=lines), encoding="utf-8")


async def start(tmp: Path, *args: str, db: Path | None = None) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "CASEWATCH_CONFIG": str(tmp / "feeds.yaml"),
        "CASEWATCH_DB": str(db or tmp / "c.db"),
    }
    env.pop("DISCORD_TOKEN", None)
    env.pop("DISCORD_WEBHOOK_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp,
    )


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def bot(tmp: Path, *args: str, db: Path | None = None) -> tuple[int, str, str]:
    return await finish(await start(tmp, *args, db=db))


def alert_ids(out: str) -> list[int]:
    """The story ids of the alerts a `--json` process printed (digests and notices left out)."""
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [j["story_id"] for j in lines if j["type"] == "alert"]


async def test_two_polls_on_one_file_never_print_one_alert_twice_nor_blame_the_sources(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    urls = [feed_server.url(f"/f{i}.xml") for i in range(6)]
    for i in range(6):
        feed_server.route(f"/f{i}.xml", rss(entries(i * 100, 3)))
    write_config(tmp_path, urls)
    code, _, err = await bot(tmp_path, "poll", "--once")  # first poll: stores, alerts nothing
    assert code == 0, err

    for i in range(6):
        feed_server.route(f"/f{i}.xml", rss(entries(i * 100, 3) + entries(i * 100 + 50, 25)))
    runs = [await start(tmp_path, "poll", "--once", "--all", "--json") for _ in range(2)]
    (code_a, out_a, err_a), (code_b, out_b, err_b) = await asyncio.gather(
        *(finish(p) for p in runs)
    )
    assert (code_a, code_b) == (0, 0), err_a + err_b
    printed = alert_ids(out_a) + alert_ids(out_b)
    assert len(printed) == 6 * 25  # every new story once ...
    assert len(set(printed)) == len(printed)  # ... by one of the two processes
    for err in (err_a, err_b):
        assert "locked" not in err and "0 failed" in err, err


async def test_run_and_a_poll_on_one_file_print_each_alert_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    urls = [feed_server.url(f"/f{i}.xml") for i in range(4)]
    for i in range(4):
        feed_server.route(f"/f{i}.xml", rss(entries(i * 100, 3)))
    write_config(tmp_path, urls)
    code, _, err = await bot(tmp_path, "poll", "--once")  # first poll: stores, alerts nothing
    assert code == 0, err
    run = await start(tmp_path, "run", "--json", "--interval", "1s", "--tick", "0.3")
    try:
        for i in range(4):
            feed_server.route(f"/f{i}.xml", rss(entries(i * 100, 3) + entries(i * 100 + 50, 20)))
        polls = [await start(tmp_path, "poll", "--once", "--all", "--json") for _ in range(2)]
        results = await asyncio.gather(*(finish(p) for p in polls))
        await asyncio.sleep(3)  # the run loop's next ticks
    finally:
        run.send_signal(signal.SIGTERM)
        code, run_out, run_err = await finish(run)
    assert code == 0, run_err
    printed = alert_ids(run_out) + [sid for _, out, _ in results for sid in alert_ids(out)]
    assert sorted(printed) == sorted(set(printed)) and len(printed) == 4 * 20
    for code, _, err in results:
        assert code == 0 and "locked" not in err and "0 failed" in err, err
    assert "locked" not in run_err


async def test_two_processes_starting_on_a_new_file_both_start(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 2)))])
    runs = [await start(tmp_path, "poll", "--once") for _ in range(4)]
    results = await asyncio.gather(*(finish(p) for p in runs))
    assert [code for code, _, _ in results] == [0, 0, 0, 0], [err for _, _, err in results]
    with sqlite3.connect(tmp_path / "c.db") as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    assert len(names) == len(set(names))  # each migration ran once


def only_line(err: str) -> str:
    """The one line a refused database gives (no traceback, no other output)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


async def refused_everywhere(tmp: Path, db: Path, expected: str) -> None:
    """`poll` refuses the file in one line, exit 1, without a byte changed; `check` says it too."""
    before = db.read_bytes()
    code, out, err = await bot(tmp, "poll", "--once", db=db)
    assert code == 1 and out == ""
    assert expected in only_line(err) and str(db) in err
    assert db.read_bytes() == before  # nothing overwritten
    code, _, err = await bot(tmp, "check", db=db)
    assert code == 2 and expected in err, err


async def test_a_file_that_is_not_a_database_is_refused_in_one_line(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 2)))])
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 200, encoding="utf-8")
    await refused_everywhere(tmp_path, notes, "is not a SQLite database")


async def test_another_programs_database_is_refused_and_left_as_it_was(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 2)))])
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
        conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
        conn.commit()
    await refused_everywhere(tmp_path, other, "is not a casewatch database")


async def test_a_database_of_a_newer_casewatch_is_refused_not_migrated(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 2)))])
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err
    db = tmp_path / "c.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('casewatch', 'm999_from_the_future', '2030-01-01')"
        )
        conn.commit()
    await refused_everywhere(tmp_path, db, "was written by a newer casewatch")

    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm999_from_the_future'")
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
    await refused_everywhere(tmp_path, db, "was written by a newer casewatch")


@pytest.mark.parametrize("garbled", ["every page but the first", "the second half"])
async def test_a_corrupt_database_is_reported_not_blamed_on_the_sources(
    feed_server: FeedServer, tmp_path: Path, garbled: str
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 40)))])
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err
    db = tmp_path / "c.db"
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    first = page if garbled == "every page but the first" else len(data) // page // 2 * page
    for at in range(first, len(data), 97):
        data[at] = (data[at] + 101) % 256
    db.write_bytes(bytes(data))
    feed_server.route("/f.xml", rss(entries(1, 40) + entries(100, 3)))
    code, out, err = await bot(tmp_path, "poll", "--once", "--all")
    assert code == 1 and out == ""
    assert "is corrupt" in only_line(err) and "failed:" not in err
    code, _, err = await bot(tmp_path, "check")
    assert code == 2 and "is corrupt" in err, err


async def test_a_read_only_database_is_refused_in_one_line(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 2)))])
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err
    db = tmp_path / "c.db"
    with read_only(db):
        before = db.read_bytes()
        code, out, err = await bot(tmp_path, "poll", "--once", "--all")
        assert code == 1 and out == ""
        assert "is read-only" in only_line(err)
        assert db.read_bytes() == before
        code, _, err = await bot(tmp_path, "check")
        assert code == 2 and "is read-only" in err, err


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file read-only for this user; root ignores modes, so it gets the immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without the immutable flag")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def small_disk(limit: int) -> Callable[[], None]:
    """For a child process: no file may grow beyond `limit` bytes, as on a full disk."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


async def test_a_full_disk_stops_the_poll_in_one_line_and_loses_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(1, 5)))])
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err
    db = tmp_path / "c.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        stored = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    feed_server.route("/f.xml", rss(entries(1, 5) + entries(100, 300)))
    env = {**os.environ, "CASEWATCH_CONFIG": str(tmp_path / "feeds.yaml"), "CASEWATCH_DB": str(db)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "poll",
        "--once",
        "--all",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        preexec_fn=small_disk(db.stat().st_size + 64 * 1024),
    )
    code, out, err = await finish(proc)
    assert code == 1 and out == ""
    line = only_line(err.split("polled")[0] if "polled" in err else err)
    assert "disk is full" in line or "cannot read or write" in line, err
    assert "failed:" not in err
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == stored


async def test_a_database_held_by_another_process_defers_the_source_without_blaming_it(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 300)  # the real wait is 20 s
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss(entries(1, 2)))
    async with app_for(tmp_path, [{"name": "Feed", "url": url}], clock=clock) as app:
        await app.monitor.poll_once()
        feed_server.route("/f.xml", rss(entries(1, 2) + entries(10, 3)))
        clock.advance(3600)
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); print('holding', flush=True); time.sleep(30)\n",
            str(tmp_path / "casewatch.db"),
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert holder.stdout is not None
            assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"holding\n"
            report = await app.monitor.poll_once()
        finally:
            holder.kill()
            await holder.wait()
        assert [o.status for o in report.outcomes] == ["deferred"]
        assert "1 deferred (database busy)" in report.summary_line()
        src = sources.active(app.db)[0]
        assert src["failures"] == 0 and src["last_error"] is None  # not the source's fault
        again = await app.monitor.poll_once()  # still due: stored as soon as the lock is free
        assert [(o.status, o.new_items) for o in again.outcomes] == [("new", 3)]


async def test_run_stops_in_one_line_when_the_disk_is_full_instead_of_logging_each_tick(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(100, 300)))])
    code, _, err = await bot(tmp_path, "sources")  # makes the database; polls nothing
    assert code == 0, err
    db = tmp_path / "c.db"
    env = {**os.environ, "CASEWATCH_CONFIG": str(tmp_path / "feeds.yaml"), "CASEWATCH_DB": str(db)}
    env.pop("DISCORD_TOKEN", None)
    env.pop("DISCORD_WEBHOOK_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "run",
        "--interval",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        preexec_fn=small_disk(db.stat().st_size + 64 * 1024),
    )
    code, out, err = await finish(proc)  # it stops by itself: no signal is sent
    assert code == 1, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1].startswith(f"database {db}")


async def test_discord_mode_stops_in_one_line_when_the_disk_is_full(
    discord_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, [feed_server.route("/f.xml", rss(entries(100, 300)))])
    code, _, err = await bot(tmp_path, "sources")  # makes the database; polls nothing
    assert code == 0, err
    db = tmp_path / "c.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")},
        "CASEWATCH_CONFIG": str(tmp_path / "feeds.yaml"),
        "CASEWATCH_DB": str(db),
        "DISCORD_TOKEN": discord_twin.token,
        "DISCORD_API_BASE": discord_twin.api_base,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "run",
        "--interval",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        preexec_fn=small_disk(db.stat().st_size + 64 * 1024),
    )
    code, _, err = await finish(proc)  # it stops by itself: no signal is sent
    assert code == 1, err[-2000:]
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1].startswith(f"database {db}")
