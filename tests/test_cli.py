"""The command line as a user runs it: `python bot.py ...` in a subprocess, feeds on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casewatch.cli import build_parser, main
from casewatch.config import ConfigError, load_config
from tests.casewatch_helpers import item as _item
from tests.feedserver import FeedServer, rss

ROOT = Path(__file__).resolve().parent.parent
CASE = "Lawyers file new ICC submission on Uyghur deportations from Tajikistan"
CASE_B = "Uyghur Tribunal judgment cited in renewed International Criminal Court request"
NOISE = "ICC announces cricket World Cup venues"
NEW = "Uyghur activists deported from Cambodia: ICC filing names officials"

CONFIG = """\
case: {{name: Test case, short: test, vocabulary: [uyghur, icc]}}
defaults: {{interval: 10m}}
relevance:
  threshold: 2
  groups:
    people: ["Uyghur*"]
    forum: [ICC, International Criminal Court, Tribunal, deport*]
    cricket: [cricket]
  rules:
    - {{name: case, all: [people, forum], score: 2}}
  drop:
    - {{name: cricket, any: [cricket], unless: [people]}}
sources:
  - {{name: Loopback feed, url: "{url}"}}
timeline:
  - {{date: 2020-07-06, title: Communication filed with the ICC Prosecutor, kind: court}}
  - {{date: 2020-12-14, title: Prosecutor finds no territorial jurisdiction, kind: court}}
"""


def item(n: int, title: str) -> dict:
    """Items dated now: the subprocess runs on the real clock, and old entries do not alert."""
    return _item(n, title, when=datetime.now(UTC) - timedelta(minutes=5))


async def bot(tmp: Path, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "CASEWATCH_CONFIG": str(tmp / "feeds.yaml"),
        "CASEWATCH_DB": str(tmp / "c.db"),
    }
    env.pop("DISCORD_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_poll_once_json_prints_one_line_per_alert_and_query_commands_answer(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/f.xml", rss([item(1, CASE), item(2, CASE_B), item(3, NOISE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")

    code, out, err = await bot(tmp_path, "poll", "--once", "--json")
    assert code == 0, err
    assert out == ""  # first poll: stored, nothing alerted
    assert "3 new items" in err

    feed_server.route("/f.xml", rss([item(1, CASE), item(2, CASE_B), item(3, NOISE), item(4, NEW)]))
    code, out, err = await bot(tmp_path, "poll", "--once", "--json", "--all")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [x["title"] for x in lines] == [NEW]
    assert {"story_id", "title", "url", "source", "published", "kind", "matched"} <= lines[0].keys()

    code, out, _ = await bot(tmp_path, "latest", "--json")
    assert [json.loads(x)["title"] for x in out.splitlines()][-1] in (CASE, CASE_B)

    code, out, _ = await bot(tmp_path, "search", "tribunal", "--json")
    found = [json.loads(x) for x in out.splitlines()]
    assert [f["title"] for f in found] == [CASE_B]

    code, out, _ = await bot(tmp_path, "why", "3")
    assert code == 0 and "dropped" in out and "cricket" in out

    code, out, _ = await bot(tmp_path, "why", "999")
    assert code == 1

    code, out, _ = await bot(tmp_path, "timeline", "--newest")
    assert out.index("2020-12-14") < out.index("2020-07-06")

    code, out, _ = await bot(tmp_path, "sources", "--json")
    health = json.loads(out.splitlines()[0])
    assert health["state"] == "ok" and health["last_entry_count"] == 4

    code, out, _ = await bot(tmp_path, "story", str(found[0]["story_id"]))
    assert CASE_B in out and "Loopback feed" in out

    code, out, _ = await bot(tmp_path, "digest", "--since", "1d")
    assert code == 0 and "developments: " in out

    code, _, err = await bot(tmp_path, "chart", "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_poll_with_source_flags_tries_a_feed_before_adding_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    configured = feed_server.route("/configured.xml", rss([item(1, NOISE)]))
    trial = feed_server.route("/trial.xml", rss([item(5, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=configured), encoding="utf-8")
    code, out, err = await bot(
        tmp_path, "poll", "--once", "--json", "--backfill", "--source", trial
    )
    assert code == 0, err
    assert [json.loads(x)["title"] for x in out.splitlines()] == [CASE]
    assert feed_server.hits["/configured.xml"] == 0

    listing = tmp_path / "urls.txt"
    listing.write_text(f"# trial feeds\n{trial}\nnot a url\n", encoding="utf-8")
    code, out, err = await bot(tmp_path, "poll", "--once", "--sources", str(listing))
    assert code != 0 and f"{listing}:3: not an http(s) URL" in err


async def test_broken_config_makes_data_commands_exit_2(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "case: {name: x}\nrelevance: {}\nsourcez: []\n", encoding="utf-8"
    )
    code, _, err = await bot(tmp_path, "latest")
    assert code == 2 and "feeds.yaml:3: sourcez: unknown key" in err


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = list(sub.choices)  # type: ignore[arg-type]
    assert len(names) >= 10
    missing = [n for n in names if f"python bot.py {n}" not in readme]
    assert missing == []


def test_a_command_parsed_alone_parses_as_with_every_command() -> None:
    """Issue 9 (start-up): `main` builds only the named command's parser; that parser is the
    one every command's parser holds, and a name that is no command gets argparse's error."""
    full = build_parser()
    sub = next(a for a in full._actions if a.dest == "command")
    for name, parser in sub.choices.items():  # type: ignore[union-attr]
        alone = build_parser(only=name)
        [one] = [a for a in alone._actions if a.dest == "command"]
        assert list(one.choices) == [name]  # type: ignore[arg-type]
        assert one.choices[name].format_help() == parser.format_help()  # type: ignore[index]
    assert build_parser(only="pol").format_help() == full.format_help()


async def test_run_in_console_mode_prints_alerts_as_they_come_and_stops_cleanly(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/f.xml", rss([item(1, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    env = {
        **os.environ,
        "CASEWATCH_CONFIG": str(tmp_path / "feeds.yaml"),
        "CASEWATCH_DB": str(tmp_path / "c.db"),
    }
    env.pop("DISCORD_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "run",
        "--interval",
        "1s",
        "--tick",
        "0.3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    try:
        # the first poll stores (and alerts nothing), then a new entry arrives; a loaded
        # machine can take seconds to start the process, so wait for that poll, not a guess
        for _ in range(150):
            if feed_server.hits["/f.xml"] >= 1:
                break
            await asyncio.sleep(0.2)
        assert feed_server.hits["/f.xml"] >= 1, "the run never polled its feed in 30 s"
        feed_server.route("/f.xml", rss([item(1, CASE), item(2, CASE_B)]))
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert CASE_B in line.decode()
    finally:
        proc.send_signal(15)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "console mode" in err.decode() and "stopped" in err.decode()


# -- the command line's contract (issue 12, points 1-4) --------------------------------------------


async def start_run(tmp: Path, *args: str) -> asyncio.subprocess.Process:
    """`python bot.py run ARGS` in console mode as a real process, once its loop runs (it has
    printed its banner); stop it with `stop_run`."""
    env = {
        **os.environ,
        "CASEWATCH_CONFIG": str(tmp / "feeds.yaml"),
        "CASEWATCH_DB": str(tmp / "c.db"),
    }
    env.pop("DISCORD_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "run",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp,
    )
    assert proc.stderr is not None
    banner = b""
    while b"console mode" not in banner:
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert line, banner + await proc.stderr.read()
        banner += line
    proc.banner = banner.decode()  # type: ignore[attr-defined]
    return proc


async def stop_run(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """SIGTERM, then the exit status and what the process printed (banner included)."""
    proc.send_signal(15)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode(), proc.banner + err.decode()  # type: ignore[attr-defined]


async def until(check: Any, timeout: float = 30.0) -> None:
    """Wait until `check()` holds (polling), or fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_run_with_source_flags_polls_those_feeds_instead_of_the_configured_ones(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    configured = feed_server.route("/configured.xml", rss([item(1, NOISE)]))
    trial = feed_server.route("/trial.xml", rss([item(5, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=configured), encoding="utf-8")
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# one feed\n{trial}\n", encoding="utf-8")
    proc = await start_run(tmp_path, "--sources", str(listing), "--interval", "1s")
    try:
        await until(lambda: feed_server.hits["/trial.xml"] >= 2)  # polled every second
    finally:
        code, _, err = await stop_run(proc)
    assert code == 0, err
    assert feed_server.hits["/configured.xml"] == 0
    assert "1 sources (from --source/--sources)" in err


async def test_an_empty_or_comment_only_sources_file_polls_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    configured = feed_server.route("/configured.xml", rss([item(1, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=configured), encoding="utf-8")
    listing = tmp_path / "urls.txt"
    listing.write_text("# nothing to try yet\n\n", encoding="utf-8")
    code, _, err = await bot(tmp_path, "poll", "--once", "--sources", str(listing))
    assert code == 0, err
    assert f"{listing}: no feed listed" in err and "polled 0 sources" in err
    proc = await start_run(tmp_path, "--sources", str(listing), "--interval", "1s")
    try:
        await asyncio.sleep(2.5)  # two intervals: the configured feed would have been polled
    finally:
        code, _, err = await stop_run(proc)
    assert code == 0, err
    assert feed_server.hits["/configured.xml"] == 0


async def test_interval_shorter_than_the_tick_polls_at_that_interval(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/f.xml", rss([item(1, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    proc = await start_run(tmp_path, "--interval", "1", "--tick", "1h")  # the tick follows
    try:
        # From the second poll: the first cycle also loads the sentence model (once a process).
        await until(lambda: feed_server.hits["/f.xml"] >= 2)
        first = asyncio.get_running_loop().time()
        await until(lambda: feed_server.hits["/f.xml"] >= 4)
        took = asyncio.get_running_loop().time() - first
    finally:
        code, _, err = await stop_run(proc)
    assert code == 0, err
    assert took < 10, took  # two more polls at about 1 s each (a 30 s tick would take 60 s)
    assert "looked at every 1s" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--tick", "-1"],
        ["run", "--tick", "0"],
        ["run", "--tick", "nan"],
        ["run", "--tick", "inf"],
        ["run", "--interval", "0s"],
        ["run", "--interval", "-3"],
        ["run", "--interval", "NaN"],
        ["run", "--interval", "99999999999w"],
        ["digest", "--since=-1d"],
        ["search", "x", "--since", "infinity"],
        ["health", "--max-age", "0"],
        ["chart", "--out", "x.png", "--since", "nan"],
    ],
)
def test_a_duration_that_is_not_positive_and_finite_is_refused_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "duration" in err and "--" in err, err


def test_durations_in_feeds_yaml_refuse_nan_and_infinity(tmp_path: Path) -> None:
    for value in (".nan", ".inf", "-.inf", "0", "1e400"):
        cfg = tmp_path / "feeds.yaml"
        cfg.write_text(CONFIG.format(url="https://example.org/f").replace("10m", value), "utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(cfg)
        assert caught.value.errors[0].startswith(f"{cfg}:2: defaults.interval:"), value


async def test_run_with_a_short_tick_stops_at_once_on_sigterm(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/f.xml", rss([item(1, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    proc = await start_run(tmp_path, "--tick", "0.05", "--interval", "0.05")
    try:
        await until(lambda: feed_server.hits["/f.xml"] >= 3)
    finally:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        code, _, err = await stop_run(proc)
    assert code == 0 and "stopped" in err, err
    assert loop.time() - asked < 10


async def test_trying_a_feed_does_not_subscribe_to_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    configured = feed_server.route("/configured.xml", rss([item(1, NOISE)]))
    trial = feed_server.route("/trial.xml", rss([item(5, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=configured), encoding="utf-8")
    code, out, err = await bot(tmp_path, "poll", "--once", "--json", "--source", trial)
    assert code == 0 and feed_server.hits["/trial.xml"] == 1, err

    code, out, _ = await bot(tmp_path, "sources", "--json")
    assert [json.loads(x)["url"] for x in out.splitlines()] == [configured]

    feed_server.route("/trial.xml", rss([item(5, CASE), item(6, CASE_B)]))
    proc = await start_run(tmp_path, "--interval", "1s")
    try:
        await until(lambda: feed_server.hits["/configured.xml"] >= 2)
    finally:
        code, out, err = await stop_run(proc)
    assert code == 0, err
    assert feed_server.hits["/trial.xml"] == 1 and CASE_B not in out  # not polled, not alerted

    # Trying it again takes up where the first try left off: only the new entry alerts.
    code, out, err = await bot(tmp_path, "poll", "--once", "--json", "--source", trial)
    assert code == 0, err
    assert [json.loads(x)["title"] for x in out.splitlines()] == [CASE_B]


async def test_a_source_url_of_any_length_with_credentials_is_polled_and_named_without_them(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    path = "/feeds/" + "uyghur-icc-" * 30 + ".xml"  # 340 characters
    feed_server.route(path, rss([item(5, CASE)]))
    configured = feed_server.route("/configured.xml", rss([]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=configured), encoding="utf-8")
    long_url = f"HTTP://reader:hunter2@127.0.0.1:{feed_server.port}{path}"
    code, out, err = await bot(
        tmp_path, "poll", "--once", "--json", "--backfill", "--source", long_url
    )
    assert code == 0, err
    alerts = [json.loads(x) for x in out.splitlines()]
    assert [a["title"] for a in alerts] == [CASE]
    # The alert credits the outlet the feed's own title names, never its address.
    assert alerts[0]["source"] == "Test feed"
    assert "hunter2" not in out + err and "Traceback" not in err
    auth = dict(feed_server.requests[-1][1])["Authorization"]
    assert auth.startswith("Basic ")  # the credentials were used to fetch, only never shown


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "--source: empty URL"),
        ("file:///etc/passwd", "--source: not an http(s) URL: 'file:///etc/passwd'"),
        ("ftp://example.org/feed", "--source: not an http(s) URL: 'ftp://example.org/feed'"),
        ("javascript:alert(1)", "--source: not an http(s) URL: 'javascript:alert(1)'"),
        ("ftp://u:hunter2@example.org/", "--source: not an http(s) URL: 'ftp://***@example.org/'"),
    ],
)
def test_a_source_flag_that_is_not_an_http_url_is_refused_in_one_line(
    value: str, says: str, tmp_path: Path
) -> None:
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url="https://example.org/f"), "utf-8")
    err = io.StringIO()
    code = main(
        [
            "poll",
            "--once",
            "--config",
            str(tmp_path / "feeds.yaml"),
            "--db",
            str(tmp_path / "c.db"),
            "--source",
            value,
        ],
        err=err,
    )
    assert code == 2 and err.getvalue() == says + "\n"
    assert not (tmp_path / "c.db").exists()  # refused before anything was opened


async def test_a_sources_file_with_bom_capitals_and_fragments_is_read_and_a_latin1_one_refused(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    trial = feed_server.route("/trial.xml", rss([item(5, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=trial), encoding="utf-8")
    listing = tmp_path / "urls.txt"
    upper = trial.replace("http://", "HTTP://") + "#latest"
    listing.write_bytes(f"\ufeff# to try\r\n{upper}   # the fragment stays\r\n".encode())
    code, out, err = await bot(tmp_path, "poll", "--once", "--backfill", "--sources", str(listing))
    assert code == 0 and CASE in out, err

    listing.write_bytes(f"# essai: actualités\n{trial}\n".encode("latin-1"))
    code, out, err = await bot(tmp_path, "poll", "--once", "--sources", str(listing))
    assert (
        code == 2
        and err
        == f"{listing}:1: not UTF-8 text (invalid continuation byte at byte 17); save it as UTF-8\n"
    )


async def test_a_tried_feed_alerts_the_terminal_not_the_channels_of_a_later_run(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    import sqlite3

    from storage import destinations, open_store

    configured = feed_server.route("/configured.xml", rss([]))
    trial = feed_server.route("/trial.xml", rss([item(5, CASE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=configured), encoding="utf-8")
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err
    db = open_store(tmp_path / "c.db")
    try:  # a Discord channel subscribed to alerts, as /watch alerts leaves it
        destinations.upsert(
            db,
            type="discord",
            purpose="alerts",
            now=datetime.now(UTC),
            guild_id="1",
            channel_id="2",
        )
    finally:
        db.close()

    code, out, err = await bot(tmp_path, "poll", "--once", "--backfill", "--source", trial)
    assert code == 0 and CASE in out, err
    with sqlite3.connect(tmp_path / "c.db") as conn:
        reached = conn.execute(
            "SELECT d.type FROM outbox o JOIN destinations d ON d.id = o.destination_id"
        ).fetchall()
    assert reached == [("console",)]  # printed here; nothing queued for the channel


async def test_a_failing_source_is_reported_once_per_cycle_not_also_as_a_log_warning(
    tmp_path: Path,
) -> None:
    dead = "http://127.0.0.1:9/feed.xml"  # the discard port: nothing listens there
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=dead), encoding="utf-8")
    code, out, err = await bot(tmp_path, "poll", "--once")
    assert "failed: Loopback feed" in err
    assert err.count(dead) == 1, err
    assert "WARNING" not in err, err


async def test_commands_still_answer_after_a_tried_feed_added_a_court_development_to_the_timeline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    filing = "Uyghur groups file new ICC complaint over deportations from Tajikistan"
    trial = feed_server.route("/trial.xml", rss([item(5, filing)]))
    (tmp_path / "feeds.yaml").write_bytes((ROOT / "feeds.yaml").read_bytes())  # the real rules
    code, out, err = await bot(tmp_path, "poll", "--once", "--backfill", "--source", trial)
    assert code == 0 and "[court]" in out, err
    code, out, err = await bot(tmp_path, "latest")
    assert code == 0 and "Traceback" not in err, err
    assert filing in out


def test_help_of_story_and_why_speaks_of_the_development_as_the_readme_does() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    helps = {a.dest: a.help for a in sub._choices_actions}  # type: ignore[attr-defined]
    assert "development" in (helps["story"] or "")
    assert "event" in (helps["why"] or "")
