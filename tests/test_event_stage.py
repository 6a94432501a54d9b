"""The event stage in a poll cycle: outlets' different reports of one development are one alert.

Real parts: loopback feeds, a real SQLite file, the real sentence model (it ships in a pinned
package and loads with no network: the last test proves it in a process without sockets).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from casewatch.app import App
from casewatch.clock import FakeClock
from storage import events, stories
from storage.db import scalar
from tests.casewatch_helpers import RELEVANCE, START, app_for, item
from tests.feedserver import FeedServer, rss
from tests.test_pipeline import drain_text

ROOT = Path(__file__).resolve().parent.parent

# The test rules read French too, so a French report can be relevant.
RULES: dict[str, Any] = {
    **RELEVANCE,
    "groups": {
        **RELEVANCE["groups"],
        "people": ["Uyghur*", "Uighur*", "Ouïghour*", "Xinjiang"],
        "forum": [*RELEVANCE["groups"]["forum"], "CPI", "Cour pénale internationale"],
    },
}
CASE = {"name": "Test case", "short": "test", "vocabulary": ["uyghur", "icc", "ouïghour", "cpi"]}

# One development (the Prosecutor declines), three outlets, three wordings, two languages.
DECLINES = [
    (
        "ICC prosecutor rejects Uyghur genocide complaint against China",
        "The prosecutor's office said it cannot act on the complaint because China is not a"
        " member of the court.",
    ),
    (
        "ICC declines call to probe Uyghur genocide complaint against China",
        "International Criminal Court prosecutors have rejected calls to investigate China's"
        " treatment of its Uyghur population, the prosecutor's office said on Monday.",
    ),
    (
        "La CPI refuse d'enquêter sur le génocide des Ouïghours",
        "La Cour pénale internationale a indiqué qu'elle n'enquêterait pas sur les accusations"
        " de génocide contre la Chine.",
    ),
]
# Close in words and time, another development: a debate announced, then the vote.
PREVIEW = (
    "UK MPs to vote next week on motion declaring Uyghur genocide",
    "The House of Commons will debate a backbench motion on Thursday.",
)
VOTE = (
    "UK MPs pass motion declaring genocide against Uyghurs in Xinjiang",
    "The House of Commons unanimously declared on Thursday that China is committing genocide.",
)


def filler(n: int) -> dict[str, Any]:
    """An entry of no interest: a source's first poll must store one to count as done."""
    return report(900 + n, f"Town council {n} approves the road budget", "Nothing to see.")


def report(n: int, title: str, lead: str, **extra: Any) -> dict[str, Any]:
    return item(
        n,
        title,
        description=lead,
        link=f"https://outlet{n}.example.org/2020/12/{n}",
        **extra,
    )


async def lines_of(app: App) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (await drain_text(app)).splitlines() if x]


async def test_outlets_reports_of_one_development_make_one_alert_across_languages(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    urls = [feed_server.route(f"/{n}.xml", rss([filler(n)])) for n in range(3)]
    sources = [{"name": f"Outlet {n}", "url": u} for n, u in enumerate(urls)]
    async with app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE) as app:
        await app.monitor.poll_once()  # first polls: nothing to alert
        for n, (title, lead) in enumerate(DECLINES[:2]):
            feed_server.route(f"/{n}.xml", rss([report(n, title, lead)]))
        clock.advance(3600)
        report_ = await app.monitor.poll_once()
        assert len(report_.alerts) == 1
        got = await lines_of(app)
        assert [x["type"] for x in got] == ["alert"]
        assert sorted(got[0]["outlets"]) == ["Outlet 0", "Outlet 1"]  # polled concurrently
        assert len(got[0]["reports"]) == 1
        assert {got[0]["title"], got[0]["reports"][0]["title"]} == {t for t, _ in DECLINES[:2]}
        # a French report a day later joins: no new alert, the alert is edited
        title, lead = DECLINES[2]
        feed_server.route("/2.xml", rss([report(2, title, lead, language="fr")]))
        clock.advance(86400)
        await app.monitor.poll_once()
        got = await lines_of(app)
        assert [x["type"] for x in got] == ["update"]
        assert sorted(got[0]["outlets"]) == ["Outlet 0", "Outlet 1", "Outlet 2"]
        assert DECLINES[2][0] in [r["title"] for r in got[0]["reports"]]
        assert scalar(app.db, "SELECT count(*) FROM stories") == 3
        assert scalar(app.db, "SELECT count(DISTINCT event_id) FROM stories") == 1
        assert scalar(app.db, "SELECT count(*) FROM event_queue") == 0


async def test_a_preview_and_the_vote_a_week_later_are_two_alerts(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    url = feed_server.route("/a.xml", rss([filler(0)]))
    async with app_for(tmp_path, [{"name": "A", "url": url}], clock=clock) as app:
        await app.monitor.poll_once()
        feed_server.route("/a.xml", rss([report(1, *PREVIEW)]))
        clock.advance(3600)
        await app.monitor.poll_once()
        clock.advance(6 * 86400)
        vote = report(2, *VOTE, pubDate=clock.now() - timedelta(hours=1))
        feed_server.route("/a.xml", rss([report(1, *PREVIEW), vote]))
        await app.monitor.poll_once()
        got = await lines_of(app)
        assert [(x["type"], x["title"]) for x in got] == [("alert", PREVIEW[0]), ("alert", VOTE[0])]
        first, second = (stories.get(app.db, s) or {} for s in (1, 2))
        assert first["event_id"] != second["event_id"]


async def test_a_report_that_joins_an_old_events_first_poll_alerts_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A development first seen in a new feed's first poll is not news; its later reports
    join it quietly instead of alerting as if it were new."""
    clock = FakeClock(START)
    a = feed_server.route("/a.xml", rss([report(1, *DECLINES[0])]))
    b = feed_server.route("/b.xml", rss([filler(1)]))
    async with app_for(
        tmp_path, [{"name": "A", "url": a}, {"name": "B", "url": b}], clock=clock
    ) as app:
        await app.monitor.poll_once()
        feed_server.route("/b.xml", rss([report(2, *DECLINES[1])]))
        clock.advance(3600)
        await app.monitor.poll_once()
        assert await lines_of(app) == []
        event = events.of_story(app.db, 2)
        assert event is not None and event["alert_story_id"] == 1


async def test_a_story_waiting_for_the_event_stage_survives_a_crash(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    url = feed_server.route("/a.xml", rss([filler(0)]))
    async with app_for(tmp_path, [{"name": "A", "url": url}], clock=clock) as app:
        await app.monitor.poll_once()
        feed_server.route("/a.xml", rss([report(1, *DECLINES[0])]))
        clock.advance(3600)
        src = app.db.execute("SELECT * FROM sources").fetchone()
        await app.monitor.poll_source(dict(src))  # ingested; the cycle "crashed" before events
        assert scalar(app.db, "SELECT count(*) FROM event_queue") == 1
        assert await lines_of(app) == []
        clock.advance(600)
        report_ = await app.monitor.poll_once()  # next cycle: nothing new fetched, queue drained
        assert report_.alerts == [1]
        assert [x["type"] for x in await lines_of(app)] == ["alert"]


class RecordingExecutor(ThreadPoolExecutor):
    """The parse worker's stand-in: runs jobs in a thread and remembers what they were (and
    the texts of the model's batches)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.jobs: list[str] = []
        self.embedded: list[list[str]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        name = getattr(fn, "func", fn).__name__
        self.jobs.append(name)
        if name == "reports":  # the model's job of the event stage: (headline, lead, day)s
            self.embedded.append([title_lead for *title_lead, _ in fn.args[0]])  # type: ignore[attr-defined]
        return super().submit(fn, *args, **kwargs)


class FailingModel(RecordingExecutor):
    """A worker whose sentence model fails every batch (the other jobs run)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if getattr(fn, "func", fn).__name__ == "reports":
            self.jobs.append("reports")
            failed: Future[Any] = Future()
            failed.set_exception(MemoryError("the model could not be loaded"))
            return failed
        return super().submit(fn, *args, **kwargs)


async def test_the_worker_embeds_a_story_as_soon_as_its_source_queues_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Not at the end of the cycle (then the whole batch would be the cycle's last step), not
    in a cycle where no story became relevant, and once per story: the event stage only
    collects the vectors (issue 9: the event stage was a serial tail of the cycle)."""
    clock = FakeClock(START)
    a = feed_server.route("/a.xml", rss([filler(0)]))
    b = feed_server.route("/b.xml", rss([filler(1)]))
    sources = [{"name": "A", "url": a}, {"name": "B", "url": b}]
    async with app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE) as app:
        worker = RecordingExecutor()
        app.monitor.executor = worker
        at_event_stage: list[list[str]] = []
        event_stage = app.monitor.file_events

        async def file_events(report: Any = None) -> list[int]:
            at_event_stage.append(list(worker.jobs))
            return await event_stage(report)

        app.monitor.file_events = file_events  # type: ignore[method-assign]
        try:
            await app.monitor.poll_once()
            assert "reports" not in worker.jobs
            feed_server.route("/a.xml", rss([report(1, *DECLINES[0])]))
            feed_server.route("/b.xml", rss([filler(1), filler(2)]))
            clock.advance(3600)
            await app.monitor.poll_once()
            assert at_event_stage[-1].count("reports") == 1  # sent before the stage began
            feed_server.route("/b.xml", rss([report(2, *DECLINES[1])]))
            clock.advance(3600)
            cycle = await app.monitor.poll_once()
            assert worker.jobs.count("reports") == 2 and "warm" not in worker.jobs
            assert worker.embedded == [[list(DECLINES[0])], [list(DECLINES[1])]]
            assert cycle.alerts == []  # the second report joined the first one's development
            assert scalar(app.db, "SELECT count(DISTINCT event_id) FROM stories") == 1
        finally:
            worker.shutdown()


class EarlyStartingExecutor(RecordingExecutor):
    """A stand-in for the parse worker that can be started ahead (`worker.StartsEarly`)."""

    def start(self) -> None:
        self.jobs.append("start")


async def test_a_first_poll_has_the_worker_load_the_model_before_any_parse_job(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A cycle of sources never read starts the worker ahead; the model's load follows at once
    (in the worker's wait for the first response), not behind every parse job of the cycle.
    Once per monitor; a cycle of sources read before loads it with its first job."""
    clock = FakeClock(START)
    url = feed_server.route("/a.xml", rss([report(1, *DECLINES[0])]))
    async with app_for(
        tmp_path, [{"name": "A", "url": url}], clock=clock, relevance=RULES, case=CASE
    ) as app:
        worker = EarlyStartingExecutor()
        app.monitor.executor = worker
        try:
            await app.monitor.poll_once(backfill=True)
            assert worker.jobs[:2] == ["start", "warm"] and worker.jobs.count("warm") == 1
            feed_server.route("/a.xml", rss([report(1, *DECLINES[0]), report(2, *DECLINES[1])]))
            clock.advance(3600)
            await app.monitor.poll_once()
            assert worker.jobs.count("warm") == 1 and worker.jobs.count("start") == 1
        finally:
            worker.shutdown()


async def test_a_story_whose_lead_changed_after_it_was_embedded_is_embedded_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The stage matches the text the story has when it runs, as when it embedded everything
    at the end: a vector made earlier in the cycle of another lead is not used."""
    clock = FakeClock(START)
    url = feed_server.route("/a.xml", rss([filler(0)]))
    async with app_for(
        tmp_path, [{"name": "A", "url": url}], clock=clock, relevance=RULES, case=CASE
    ) as app:
        worker = RecordingExecutor()
        app.monitor.executor = worker
        try:
            await app.monitor.poll_once()
            feed_server.route("/a.xml", rss([report(1, *DECLINES[0])]))
            clock.advance(3600)
            src = app.db.execute("SELECT * FROM sources").fetchone()
            await app.monitor.poll_source(dict(src))
            await asyncio.sleep(0)  # the source's batch goes to the worker
            assert worker.embedded == [[list(DECLINES[0])]]
            with app.db.atomic():
                app.db.execute("UPDATE stories SET summary = ? WHERE id = 1", (DECLINES[1][1],))
            assert await app.monitor.file_events() == [1]
            assert worker.embedded[1:] == [[[DECLINES[0][0], DECLINES[1][1]]]]
            why = scalar(app.db, "SELECT count(*) FROM stories WHERE event_id IS NOT NULL")
            assert why == 1
        finally:
            worker.shutdown()


async def test_a_story_another_outlet_joins_during_the_cycle_is_read_again_then(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Another outlet's report joins a waiting story and its lead becomes the story's: the
    worker reads the story again during the cycle, so the stage has nothing left to embed."""
    clock = FakeClock(START)
    a = feed_server.route("/a.xml", rss([filler(0)]))
    b = feed_server.route("/b.xml", rss([filler(1)]))
    sources = [{"name": "A", "url": a}, {"name": "B", "url": b}]
    async with app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE) as app:
        worker = RecordingExecutor()
        app.monitor.executor = worker
        try:
            await app.monitor.poll_once()
            title, lead = DECLINES[0]
            longer = f"{DECLINES[1][1]} It said China is not a member of the court."
            feed_server.route("/a.xml", rss([report(1, title, lead)]))
            feed_server.route("/b.xml", rss([report(2, title, longer)]))
            clock.advance(3600)
            for src in app.db.execute("SELECT * FROM sources ORDER BY id").fetchall():
                await app.monitor.poll_source(dict(src))
                await asyncio.sleep(0)  # the turn is done: its stories go to the worker
            # (while a job is under way, what comes meanwhile is sent when it is done)
            assert app.monitor._ahead._in_flight is not None
            await app.monitor._ahead._in_flight
            await asyncio.sleep(0)
            story = stories.get(app.db, 1) or {}
            assert story["summary"] != lead  # the second outlet's lead is the story's now
            assert worker.embedded == [[[title, lead]], [[title, story["summary"]]]]
            assert await app.monitor.file_events() == [1]
            assert len(worker.embedded) == 2  # nothing left for the stage to embed
        finally:
            worker.shutdown()


async def test_a_failing_model_loses_no_story_each_starts_its_own_event(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    urls = [feed_server.route(f"/{n}.xml", rss([filler(n)])) for n in range(2)]
    sources = [{"name": f"Outlet {n}", "url": u} for n, u in enumerate(urls)]
    async with app_for(tmp_path, sources, clock=clock, relevance=RULES, case=CASE) as app:
        worker = FailingModel()
        app.monitor.executor = worker
        try:
            await app.monitor.poll_once()
            for n, (title, lead) in enumerate(DECLINES[:2]):
                feed_server.route(f"/{n}.xml", rss([report(n, title, lead)]))
            clock.advance(3600)
            cycle = await app.monitor.poll_once()
            # During the cycle, a job per ingest that queued a story (or one for both, when
            # both sources were parsed before either was filed), then one more at the stage.
            assert worker.jobs.count("reports") in (2, 3)
            assert sorted(cycle.alerts) == [1, 2]  # one development told twice: two alerts
            assert [x["type"] for x in await lines_of(app)] == ["alert", "alert"]
            assert scalar(app.db, "SELECT count(DISTINCT event_id) FROM stories") == 2
            assert scalar(app.db, "SELECT count(*) FROM event_queue") == 0
        finally:
            worker.shutdown()


def test_the_sentence_model_loads_and_embeds_with_no_network(tmp_path: Path) -> None:
    """In a fresh process where opening any socket fails, the model still loads from the
    package (and prepares its copy), then in another from the prepared copy, and gives
    translations of one headline closer vectors than another story."""
    code = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from casewatch import embed
v = embed.vectors(embed.embed([
    "The court refuses to investigate the deportations",
    "La cour refuse d'enquêter sur les expulsions",
    "Parliament passes a budget for road repairs",
]))
print(embed.loaded_from(), round(float(v[0] @ v[1]), 3), round(float(v[0] @ v[2]), 3), v.shape)
"""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "NO_PROXY": "*",
        "XDG_CACHE_HOME": str(tmp_path),
    }
    for expected in ("package", "prepared"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        source, same, other, shape = done.stdout.split(maxsplit=3)
        assert source == expected
        assert float(same) > float(other) + 0.2
        assert shape.strip() == "(3, 512)"


async def test_the_bots_process_files_events_without_numpy(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Issue 9: the worker embeds, the bot's process only reads the vectors and matches; numpy
    (0.2 s to import) stays out of it, even in a cycle whose stories go through the stage."""
    from tests.test_bot_startup import bot_py, finish, module_log, write_config

    url = feed_server.route("/f.xml", rss([report(1, *DECLINES[0]), report(2, *DECLINES[1])]))
    cfg = write_config(tmp_path, url)
    cfg.write_text(cfg.read_text().replace("parse_workers: 0", "parse_workers: 1"))
    env, modules_of = module_log(tmp_path)
    proc = await bot_py(tmp_path, "poll", "--once", "--backfill", "--json", env=env)
    code, out, err = await finish(proc, timeout=120)
    assert code == 0, err[-2000:]
    assert len(out.splitlines()) == 1  # one development, one alert: the stage matched them
    [main], [worker] = modules_of("main"), modules_of("worker")
    assert "casewatch.event_filing" in main and "numpy" not in main
    assert "numpy" in worker  # it embedded them
