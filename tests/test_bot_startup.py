"""`python bot.py` as a process: Discord start-up failures are one line, Discord mode keeps the
command line's contract, and commands that never talk to Discord do not import it."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.schema import migrations
from tests.casewatch_helpers import item
from tests.discord_twin import DiscordTwin
from tests.feedserver import FeedServer, rss

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parent.parent
CASE = "ICC urged to open Uyghur genocide case over deportations from Tajikistan"


def write_config(tmp: Path, feed_url: str) -> Path:
    cfg = tmp / "feeds.yaml"
    cfg.write_text(
        "case: {name: Test case}\ndefaults: {parse_workers: 0}\n"
        "relevance:\n  groups: {people: ['Uyghur*'], forum: [ICC]}\n"
        "  rules: [{name: case, all: [people, forum], score: 2}]\n"
        f"sources:\n  - {{name: Configured, url: '{feed_url}'}}\n",
        encoding="utf-8",
    )
    return cfg


async def bot_py(
    tmp: Path, *args: str, env: dict[str, str], python: tuple[str, ...] = ()
) -> asyncio.subprocess.Process:
    """`python bot.py ARGS` with the environment `env` on top of a clean one (no Discord)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *python,
        str(ROOT / "bot.py"),
        *args,
        env={
            **base,
            "CASEWATCH_CONFIG": str(tmp / "feeds.yaml"),
            "CASEWATCH_DB": str(tmp / "c.db"),
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp,
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = 60) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- issue 12, point 12: Discord start-up ----------------------------------------------------------


async def test_a_wrong_token_is_one_line_naming_it_and_a_nonzero_exit(
    discord_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, feed_server.route("/f.xml", rss([])))
    wrong = "MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong-token.abcdefghijklmnopqrstuvwxyz1"
    proc = await bot_py(
        tmp_path, "run", env={"DISCORD_TOKEN": wrong, "DISCORD_API_BASE": discord_twin.api_base}
    )
    code, out, err = await finish(proc)
    assert code == 1
    assert err == (
        f"Discord refused the bot token (401 Unauthorized at {discord_twin.api_base}):"
        " check DISCORD_TOKEN\n"
    )
    assert wrong not in out + err
    assert discord_twin.requests_to("GET", r"/users/@me$")  # it did ask the (twin) API


async def test_an_unreachable_discord_api_is_one_line_and_a_nonzero_exit(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, feed_server.route("/f.xml", rss([])))
    api = f"http://127.0.0.1:{closed_port()}/api/v10"
    proc = await bot_py(
        tmp_path, "run", env={"DISCORD_TOKEN": "twin.secret-token", "DISCORD_API_BASE": api}
    )
    code, _, err = await finish(proc)
    assert code == 1
    assert err.startswith(f"cannot reach the Discord API at {api}: ") and err.count("\n") == 1
    assert "secret-token" not in err
    assert feed_server.hits["/f.xml"] == 0  # no polling before Discord said yes


async def test_a_malformed_discord_api_base_is_one_line(tmp_path: Path) -> None:
    write_config(tmp_path, "https://example.org/f.xml")
    proc = await bot_py(
        tmp_path, "sync", env={"DISCORD_TOKEN": "twin.x", "DISCORD_API_BASE": "discord.local/api"}
    )
    code, _, err = await finish(proc)
    assert code == 1
    assert err.startswith("DISCORD_API_BASE / DISCORD_GATEWAY_URL: api_base must be an absolute")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "hook",
    [
        "https://discord.com/api/webhooks/notanumber/S3CRET-hook-token",
        "discord.com/api/webhooks/123/S3CRET-hook-token",
        "https://discord.com/api/webhooks/123/S3CRET-hook-token extra",
    ],
)
async def test_a_malformed_webhook_url_is_reported_without_its_secret(
    hook: str, tmp_path: Path
) -> None:
    write_config(tmp_path, "https://example.org/f.xml")
    proc = await bot_py(tmp_path, "run", env={"DISCORD_WEBHOOK_URL": hook})
    code, out, err = await finish(proc)
    assert code == 2 and err.startswith("DISCORD_WEBHOOK_URL: not a Discord webhook URL")
    assert err.count("\n") == 1 and "S3CRET" not in out + err

    proc = await bot_py(tmp_path, "check", env={"DISCORD_WEBHOOK_URL": hook})
    code, out, err = await finish(proc)
    assert code == 2 and "DISCORD_WEBHOOK_URL: not a Discord webhook URL" in err
    assert "S3CRET" not in out + err


# -- issue 12, points 1, 3 and 5 in Discord mode: the same loop, the same contract -------------


async def test_discord_mode_polls_only_the_tried_feed_and_does_not_keep_it(
    discord_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    write_config(tmp_path, feed_server.route("/configured.xml", rss([])))
    trial = feed_server.route("/trial.xml", rss([item(1, CASE)]))
    discord = {"DISCORD_TOKEN": discord_twin.token, "DISCORD_API_BASE": discord_twin.api_base}
    proc = await bot_py(tmp_path, "run", "--source", trial, "--interval", "1s", env=discord)
    try:
        await discord_twin.wait_ready(timeout=60)
        for _ in range(400):
            if feed_server.hits["/trial.xml"] >= 2:  # polled every second, as in console mode
                break
            await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        code, _, err = await finish(proc, 30)
    assert code == 0, err[-2000:]
    assert feed_server.hits["/trial.xml"] >= 2
    assert feed_server.hits["/configured.xml"] == 0

    proc = await bot_py(tmp_path, "sources", "--json", env={})
    code, out, err = await finish(proc)
    assert code == 0, err
    assert [json.loads(x)["name"] for x in out.splitlines()] == ["Configured"]


def test_bot_py_and_the_cli_call_no_private_function_of_each_other() -> None:
    """One run loop, reached through public names: bot.py/cogs never call `cli._x`, and the
    core's cli never imports bot.py or the Discord client."""
    for path in [ROOT / "bot.py", *sorted((ROOT / "cogs").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        private = [
            f"{path.name}:{n.lineno}: cli.{n.attr}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id == "cli"
            and n.attr.startswith("_")
        ]
        assert private == []
    cli_tree = ast.parse((ROOT / "casewatch" / "cli.py").read_text(encoding="utf-8"))
    imported = {
        a.name.split(".")[0]
        for n in ast.walk(cli_tree)
        if isinstance(n, ast.Import)
        for a in n.names
    } | {
        (n.module or "").split(".")[0] for n in ast.walk(cli_tree) if isinstance(n, ast.ImportFrom)
    }
    assert not imported & {"bot", "cogs", "discord"}


# -- issue 9: commands that never talk to Discord do not import it ---------------------------------


@pytest.mark.parametrize(
    "args",
    [("poll", "--once"), ("latest",), ("check",), ("sources", "--json"), ("run", "--help")],
)
async def test_commands_that_never_talk_to_discord_do_not_import_it(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, "https://example.org/f.xml")
    cfg.write_text(cfg.read_text(encoding="utf-8").split("sources:")[0] + "sources: []\n")
    # The database exists (with every migration) and the config was read once before, as on
    # any run but the first.
    code, _, err = await finish(await bot_py(tmp_path, "poll", "--once", env={}))
    assert code == 0, err
    proc = await bot_py(tmp_path, *args, env={}, python=("-X", "importtime"))
    code, _, err = await finish(proc)
    assert code == 0, err[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if "|" in line}
    assert "casewatch.cli" in modules  # the import log is there
    assert not {m for m in modules if m.split(".")[0] in ("discord", "apscheduler")}
    # The config read before is read back from the cache as it was validated: pydantic (about
    # half of a cached start) is imported only to validate a file not read before.
    assert not {m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core")}
    # Nothing was parsed: no feed parser, and no worker pool (whose creation alone starts
    # multiprocessing's resource tracker, a process of its own).
    assert not {m for m in modules if m.split(".")[0] in ("feedparser", "multiprocessing")}
    # Nothing was fetched and no vector computed (issue 9: a poll with no sources under 0.3 s):
    # no HTTP client, no numpy; and a database with every migration is opened with sqlite3
    # alone (sqlite-utils applies migrations).
    assert not {m for m in modules if m.split(".")[0] in ("aiohttp", "yarl", "numpy")}
    assert not {m for m in modules if m.split(".")[0] == "sqlite_utils"}
    # Nothing was judged or filed: the ingest stages (and their regular expressions) wait for
    # an entry to judge.
    assert not INGEST_STAGES & modules


INGEST_STAGES = {
    "casewatch.judging",
    "casewatch.dedup",
    "casewatch.filing",
    "casewatch.event_filing",
    "casewatch.outlets",
    "casewatch.clean",
    "casewatch.summary",
    "casewatch.links",
    "casewatch.parse",
    "sentencex",
    # the engines of the config's sections (their types are in casewatch.sections)
    "casewatch.relevance",
    "casewatch.events",
    "casewatch.pages",
}


async def test_a_new_database_is_made_with_every_migration_without_sqlite_utils(
    tmp_path: Path,
) -> None:
    """The other side of the test above: a command on a new file makes every migration's schema
    at once (`storage.fresh_schema`, no sqlite-utils: issue 9), and the next one finds them all."""
    cfg = write_config(tmp_path, "https://example.org/f.xml")
    cfg.write_text(cfg.read_text(encoding="utf-8").split("sources:")[0] + "sources: []\n")
    proc = await bot_py(tmp_path, "poll", "--once", env={}, python=("-X", "importtime"))
    code, _, err = await finish(proc)
    assert code == 0, err[-2000:]
    assert "sqlite_utils" not in {line.rsplit("|", 1)[-1].strip() for line in err.splitlines()}
    with contextlib.closing(sqlite3.connect(tmp_path / "c.db")) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert tuple(names) == migrations.names()
    code, out, err = await finish(await bot_py(tmp_path, "check", env={}))
    assert code == 0 and "valid" in out, err


# A `sitecustomize` module on PYTHONPATH runs in every Python process started with that
# environment, spawned parse workers included: this one writes, as each process ends, which
# modules it had imported, and what it was (the bot, a spawned worker, another helper); an idle
# worker ends by SIGTERM, so that writes too.
_MODULE_LOG = """\
import atexit, os, signal, sys

def _write() -> None:
    mp = sys.modules.get("multiprocessing")
    if mp is not None and mp.parent_process() is not None:
        role = "worker"
    elif sys.argv[0].endswith("bot.py"):
        role = "main"
    else:
        role = "other"  # multiprocessing's resource tracker
    path = os.path.join(os.environ["MODULE_LOG_DIR"], f"{role}-{os.getpid()}.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\n".join(sorted(sys.modules)))

def _stopped(signum, frame) -> None:  # a parse worker is stopped with SIGTERM once idle
    _write()
    os._exit(0)

atexit.register(_write)
signal.signal(signal.SIGTERM, _stopped)
"""


def module_log(tmp: Path) -> tuple[dict[str, str], Callable[[str], list[set[str]]]]:
    """The environment that logs every process's modules at exit, and the reader of that log
    (one set of module names per process of a role: "main", "worker" or "other")."""
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_MODULE_LOG, encoding="utf-8")
    logs = tmp / "modules"
    logs.mkdir()
    env = {"PYTHONPATH": str(hook), "MODULE_LOG_DIR": str(logs)}

    def read(role: str) -> list[set[str]]:
        return [
            set(f.read_text(encoding="utf-8").split()) for f in sorted(logs.glob(f"{role}-*.txt"))
        ]

    return env, read


HEAVY = ("aiohttp", "numpy", "discord", "sqlite_utils", "feedparser", "multiprocessing")


def heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> set[str]:
    return {m for m in modules if m.split(".")[0] in names}


async def test_parse_workers_import_only_what_their_jobs_need(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A spawned worker runs bot.py again before its first job: it must not import the command
    line, the HTTP client, the database's write side or Discord for that (issue 9: the worker
    parses every feed, so its start-up is on the cycle's critical path)."""
    url = feed_server.route("/f.xml", rss([item(1, CASE), item(2, "Weather report")]))
    cfg = write_config(tmp_path, url)
    cfg.write_text(cfg.read_text().replace("parse_workers: 0", "parse_workers: 1"))
    env, modules_of = module_log(tmp_path)
    proc = await bot_py(tmp_path, "poll", "--once", "--backfill", "--json", env=env)
    code, out, err = await finish(proc)
    assert code == 0, err[-2000:]
    assert [json.loads(line)["title"] for line in out.splitlines()] == [CASE]
    [main] = modules_of("main")
    [worker] = modules_of("worker")
    assert {"casewatch.cli", "aiohttp", "casewatch.pipeline"} <= main
    assert "casewatch.parse" in worker and "feedparser" in worker  # it did the parsing
    # ... and the bot's process named the job without importing the parser (issue 9)
    assert not {"casewatch.parse", "casewatch.pages"} & main and not heavy(main, ("feedparser",))
    assert not heavy(worker, ("aiohttp", "discord", "sqlite_utils", "dotenv"))
    # Of the database layer, only the read-only look (`storage.reader`: a source's seen keys,
    # whether a story holds an entry's keys) and what it imports.
    assert heavy(worker, ("storage",)) <= {
        "storage",
        "storage.db",
        "storage.schema",
        "storage.reader",
        "storage.stories",
        "storage.timeutil",
    }
    assert not {"casewatch.cli", "casewatch.app", "casewatch.pipeline"} & worker


async def test_invite_does_import_discord(tmp_path: Path) -> None:
    """The other side of the test above: the Discord commands still reach discord.py."""
    write_config(tmp_path, "https://example.org/f.xml")
    proc = await bot_py(
        tmp_path,
        "invite",
        env={"DISCORD_APPLICATION_ID": "123456789012345678"},
        python=("-X", "importtime"),
    )
    code, out, err = await finish(proc)
    assert code == 0, err[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if "|" in line}
    assert "client_id=123456789012345678" in out and "discord" in modules


async def test_a_source_added_from_discord_is_never_named_by_its_credentials(
    discord_at_twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> None:
    from casewatch.app import open_app
    from casewatch.clock import FakeClock
    from tests.casewatch_helpers import START, make_config
    from tests.discord_twin.world import MANAGE_GUILD
    from tests.test_bot_e2e import bot_on

    twin = discord_at_twin
    g = twin.add_guild("Researchers")
    ch = twin.add_channel(g, "general")
    admin = twin.add_member(g, "admin", permissions=MANAGE_GUILD)
    feed_server.route("/untitled.xml", rss([item(1, CASE)], title=""))
    url = f"http://reader:hunter2@127.0.0.1:{feed_server.port}/untitled.xml"
    cfg = make_config([], fetch={"allow_internal": True})
    async with open_app(cfg, tmp_path / "c.db", clock=FakeClock(START)) as app, bot_on(twin, app):
        res = await twin.invoke("watch add-source", {"url": url}, guild=g, channel=ch, member=admin)
        await res.wait_response(timeout=10)
        names = [r[0] for r in app.db.execute("SELECT name FROM sources").fetchall()]
    assert "Added" in res.content and "hunter2" not in res.content, res.describe()
    assert names == [f"127.0.0.1:{feed_server.port}/untitled.xml"]


def test_modules_every_command_imports_compile_no_pattern_at_import(tmp_path: Path) -> None:
    """Issue 9 (start-up): the casewatch and storage modules that `bot.py` imports for every
    command hold no compiled regular expression once imported (`casewatch.patterns.LazyPattern`
    compiles on first use): compiling was about a sixth of a no-sources poll."""
    probe = (
        "import re, sys; import casewatch.cli, casewatch.app;"
        " print('\\n'.join(sorted(f'{name}.{attr}' for name, module in list(sys.modules.items())"
        " if name.split('.')[0] in ('casewatch', 'storage')"
        " for attr, value in vars(module).items() if isinstance(value, re.Pattern))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_modules_a_cycle_files_with_compile_no_pattern_and_load_no_text_engines(
    tmp_path: Path,
) -> None:
    """Issue 9: the modules the bot's process imports to judge, file and match a cycle's
    entries hold no compiled regular expression once imported (the cleaner's 25 patterns were
    compiled in the bot's process although the worker cleans), and bring neither the sentence
    splitter, the language model, lexbor's cleaner users nor numpy: those are the worker's."""
    probe = (
        "import re, sys;"
        " import casewatch.pipeline, casewatch.judging, casewatch.filing, casewatch.dedup,"
        " casewatch.event_filing, casewatch.events, casewatch.summary, casewatch.outlets,"
        " casewatch.links, casewatch.embed, casewatch.clean;"
        " print('\\n'.join(sorted(f'{name}.{attr}' for name, module in list(sys.modules.items())"
        " if name.split('.')[0] in ('casewatch', 'storage')"
        " for attr, value in vars(module).items() if isinstance(value, re.Pattern))));"
        " print('\\n'.join(sorted(name for name in sys.modules"
        " if name.split('.')[0] in ('numpy', 'sentencex', 'fasttext', 'feedparser'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
