"""The command line as a user runs it: `python bot.py ...` in a subprocess, feeds on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casewatch.cli import build_parser
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
    assert code == 0 and "stories" in out

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
        for _ in range(20):  # a few ticks: the first poll stores, then a new entry arrives
            if feed_server.hits["/f.xml"] >= 1:
                break
            await asyncio.sleep(0.2)
        feed_server.route("/f.xml", rss([item(1, CASE), item(2, CASE_B)]))
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert CASE_B in line.decode()
    finally:
        proc.send_signal(15)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "console mode" in err.decode() and "stopped" in err.decode()
