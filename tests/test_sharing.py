"""A cycle's documents are shared between the parse worker and the main process (issue 9): a few
jobs in the worker at a time, the others waiting; whichever side is free takes the next one, so
a slow or stuck worker never holds the cycle back by more than the jobs it holds."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from casewatch.judging import prepare_document
from casewatch.sharing import IN_FLIGHT_PER_WORKER, SharedQueue
from tests.casewatch_helpers import app_for, item
from tests.feedserver import FeedServer, rss
from tests.test_worker_judging import INLINE, NO_EVENTS, judged_by_worker, stored

pytestmark = pytest.mark.timeout(120)

WORKER = {"interval": "10m", "parse_workers": 1}
RELEVANT = [  # one development per feed: stories that filing order cannot merge differently
    "Lawyers ask the ICC to open a Uyghur genocide case over deportations from Tajikistan",
    "ICC Prosecutor declines to open Uyghur genocide investigation, citing jurisdiction",
    "Uyghur Tribunal in London finds genocide and crimes against humanity",
    "UN human rights office report on Xinjiang detention camps published in Geneva",
    "European Parliament votes resolution on Uyghur forced labour imports ban",
    "Uyghur exile groups file second communication with International Criminal Court",
    "Canada's House of Commons motion on Uyghur genocide passes unanimously",
    "Cambodia deportation of Uyghurs cited in new submission to The Hague court",
]
FEEDS = len(RELEVANT)
LIMIT = IN_FLIGHT_PER_WORKER  # one worker process


def is_parse_job(fn: Callable[..., Any]) -> bool:
    return getattr(fn, "func", None) is prepare_document


class Counting(ThreadPoolExecutor):
    """A parse worker (a thread) that counts the parse jobs it holds, and holds each one until
    `gate` opens (open from the start: a worker that is free)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(max_workers=1)
        self.gate = gate
        self.lock = threading.Lock()
        self.holding = 0
        self.most = 0
        self.parsed = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if not is_parse_job(fn):
            return super().submit(fn, *args, **kwargs)
        with self.lock:
            self.holding += 1
            self.most = max(self.most, self.holding)

        def job() -> Any:
            try:
                self.gate.wait()
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.holding -= 1
                    self.parsed += 1

        return super().submit(job)


def feeds(feed_server: FeedServer, name: str) -> list[dict[str, Any]]:
    """`FEEDS` feeds, each with entries of its own: one relevant, one not."""
    sources = []
    for n, title in enumerate(RELEVANT):
        entries = [
            item(10 * n + 1, title),
            item(10 * n + 2, f"Council approves budget for cycle paths in district {n}"),
        ]
        url = feed_server.route(f"/{name}/{n}.xml", rss(entries))
        sources.append({"name": f"Feed {n}", "url": url})
    return sources


async def test_a_stuck_worker_leaves_the_waiting_documents_to_this_process(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The worker holds its first jobs until every other source is filed: the cycle completes
    only because this process prepared the waiting documents itself (else: the timeout). No
    more than `IN_FLIGHT_PER_WORKER` jobs were ever in the worker, and what this process
    prepared is filed exactly as with no worker at all."""
    (tmp_path / "stuck").mkdir()
    (tmp_path / "inline").mkdir()
    gate = threading.Event()
    worker = Counting(gate)
    async with app_for(
        tmp_path / "stuck", feeds(feed_server, "a"), defaults=WORKER, events=NO_EVENTS
    ) as app:
        app.monitor.executor = worker

        def progress(done: int, total: int, _: str) -> None:
            if done >= total - worker.holding:
                gate.set()  # every source the worker does not hold is filed

        app.monitor.progress = progress
        judged = judged_by_worker(app)
        try:
            report = await app.monitor.poll_once(backfill=True)
        finally:
            worker.shutdown()
        shared = stored(app.db)
    async with app_for(
        tmp_path / "inline", feeds(feed_server, "a"), defaults=INLINE, events=NO_EVENTS
    ) as app:
        await app.monitor.poll_once(backfill=True)
        inline = stored(app.db)

    assert [o.status for o in report.outcomes] == ["new"] * FEEDS
    assert worker.most == LIMIT and worker.parsed == LIMIT
    # the worker's jobs came judged; this process judged the others as it filed them
    assert sorted(len(j) for j in judged) == [0] * (FEEDS - LIMIT) + [2] * LIMIT
    for table in ("items", "stories", "story_keys", "seen", "timeline"):
        assert len(shared[table]) == len(inline[table]), table
    assert [(i["title"], i["verdict"]) for i in shared["items"]] != []
    assert sorted((i["title"], i["verdict"], i["summary"]) for i in shared["items"]) == sorted(
        (i["title"], i["verdict"], i["summary"]) for i in inline["items"]
    )


async def test_a_free_worker_takes_the_next_document_when_it_finishes_one(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A worker that is free takes documents beyond the first few it was sent, and never holds
    more than `IN_FLIGHT_PER_WORKER` at a time."""
    gate = threading.Event()
    gate.set()
    worker = Counting(gate)
    async with app_for(tmp_path, feeds(feed_server, "b"), defaults=WORKER, events=NO_EVENTS) as app:
        app.monitor.executor = worker
        try:
            report = await app.monitor.poll_once(backfill=True)
        finally:
            worker.shutdown()
    assert [o.status for o in report.outcomes] == ["new"] * FEEDS
    assert worker.most <= LIMIT
    assert worker.parsed > LIMIT


class Immediate(Executor):
    """A worker that has done each job by the time it is handed over."""

    def __init__(self) -> None:
        self.jobs = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.jobs += 1
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def job(name: str, ran: list[str]) -> Callable[[], str]:
    def run() -> str:
        ran.append(name)
        return name

    return run


class Held(Executor):
    """A worker that holds every job until `release`."""

    def __init__(self) -> None:
        self.held: list[tuple[Future[Any], Callable[[], Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.held.append((future, functools.partial(fn, *args, **kwargs)))
        return future

    def release(self) -> None:
        for future, fn in self.held:
            future.set_result(fn())


async def test_while_the_worker_holds_its_jobs_this_process_takes_the_waiting_ones() -> None:
    """Jobs handed over together: the first `limit` go to the worker at once, and while it
    holds them, this process runs the others, in turn; each caller gets its own result."""
    ran: list[str] = []
    worker = Held()
    queue: SharedQueue[str] = SharedQueue(worker, 2)
    names = [f"doc{n}" for n in range(6)]
    jobs = asyncio.gather(
        *(queue.run(job(f"{n} in worker", ran), job(f"{n} here", ran)) for n in names)
    )
    for _ in range(100):
        if queue.taken == 4:
            break
        await asyncio.sleep(0)
    assert ran == ["doc2 here", "doc3 here", "doc4 here", "doc5 here"]
    assert len(worker.held) == 2 and queue.in_flight == 2
    worker.release()
    results = await jobs
    assert results == ["doc0 in worker", "doc1 in worker"] + [f"doc{n} here" for n in range(2, 6)]
    assert queue.sent == 2 and queue.most_in_flight == 2


async def test_a_worker_free_at_once_takes_every_job() -> None:
    """A worker that has each job done when it is handed over gets the next one at once:
    this process, never free before it, takes none."""
    ran: list[str] = []
    worker = Immediate()
    queue: SharedQueue[str] = SharedQueue(worker, 2)
    results = await asyncio.gather(
        *(queue.run(job(f"{n} in worker", ran), job(f"{n} here", ran)) for n in range(10))
    )
    assert results == [f"{n} in worker" for n in range(10)]
    assert queue.sent == worker.jobs == 10 and queue.taken == 0


async def test_a_job_that_fails_here_fails_only_its_caller() -> None:
    """A document whose preparation raises here (as one that raises in the worker) fails its
    own source; the other jobs complete."""

    def broken() -> str:
        raise ValueError("not a feed")

    worker = Immediate()
    queue: SharedQueue[str] = SharedQueue(worker, 1)
    results = await asyncio.gather(
        queue.run(lambda: "first", lambda: "first here"),
        queue.run(broken, broken),
        queue.run(lambda: "third", lambda: "third here"),
        return_exceptions=True,
    )
    assert results[0] == "first"
    assert isinstance(results[1], ValueError)
    assert results[2] in ("third", "third here")


async def test_with_no_worker_every_job_runs_in_this_process() -> None:
    ran: list[str] = []
    queue: SharedQueue[str] = SharedQueue(None, 2)
    results = await asyncio.gather(*(queue.run(job("worker", ran), job("here", ran)) for _ in "ab"))
    assert results == ["here", "here"] and queue.sent == 0
