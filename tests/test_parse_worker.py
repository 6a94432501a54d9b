"""The parse worker process (issue 9): started before the first response by a cycle that will
parse (a source never read before), and warmed up with the modules its jobs need; never started
for nothing."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from aiohttp import web

from casewatch.app import OnDemandPool
from casewatch.clock import FakeClock
from casewatch.worker import JOB_MODULES
from tests.casewatch_helpers import START, app_for, item
from tests.feedserver import FeedServer, rss

pytestmark = pytest.mark.timeout(120)

CASE = "ICC urged to open Uyghur genocide case over deportations from Tajikistan"
WORKER = {"interval": "10m", "parse_workers": 1}


async def test_a_cycle_that_will_fetch_starts_the_worker_before_the_first_response(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The feed answers only once the worker has started and imported its modules: a worker
    started by the first response (as it was) would never warm up, and the test time out."""
    released = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response(body=rss([item(1, CASE)]), content_type="application/rss+xml")

    url = feed_server.route("/held.xml", held)
    async with app_for(tmp_path, [{"name": "Held", "url": url}], defaults=WORKER) as app:
        pool = app.monitor.executor
        assert isinstance(pool, OnDemandPool) and not pool.warm_ups  # nothing started yet
        cycle = asyncio.create_task(app.monitor.poll_once())
        for _ in range(200):
            if pool.warm_ups or cycle.done():
                break
            await asyncio.sleep(0.01)
        # no parse job yet: the one job is the sentence model's load (Monitor._warm_event_model)
        assert len(pool.warm_ups) == 1 and pool.jobs == 1
        warmed = await asyncio.wait_for(asyncio.wrap_future(pool.warm_ups[0]), 90)
        assert feed_server.hits["/held.xml"] == 1 and not cycle.done()  # still on the network
        released.set()
        report = await cycle
    assert warmed == list(JOB_MODULES)
    assert [(o.status, o.relevant) for o in report.outcomes] == [("new", 1)]
    assert pool.jobs >= 1  # then it parsed the feed


async def test_a_cycle_with_nothing_due_starts_no_worker(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/f.xml", rss([item(1, CASE)]))
    async with app_for(tmp_path, [{"name": "F", "url": url}], defaults=WORKER) as app:
        pool = app.monitor.executor
        assert isinstance(pool, OnDemandPool)
        await app.monitor.poll_once()  # the first poll: due, so the worker starts
        started = pool.warm_ups
        assert len(started) == 1
        report = await app.monitor.poll_once()  # polled a moment ago: nothing is due
        assert report.outcomes == [] and pool.warm_ups is started  # not started again
    empty = tmp_path / "empty"
    empty.mkdir()
    async with app_for(empty, [], defaults=WORKER) as app:
        pool = app.monitor.executor
        assert isinstance(pool, OnDemandPool)
        await app.monitor.poll_once()
        assert pool.warm_ups == [] and pool.jobs == 0


async def test_a_cycle_of_sources_read_before_starts_the_worker_only_for_a_job(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Sources read before may all answer "unchanged": such a cycle does not start the worker
    ahead (a `poll --once` every few minutes would start one for nothing each time)."""
    url = feed_server.route("/f.xml", rss([item(1, CASE)]))
    clock = FakeClock(START)
    async with app_for(tmp_path, [{"name": "F", "url": url}], clock=clock, defaults=WORKER) as app:
        await app.monitor.poll_once()
        assert app.monitor.executor.warm_ups  # type: ignore[union-attr]  # a new source
    clock.advance(3600)  # due again (every 10 minutes)
    async with app_for(tmp_path, [{"name": "F", "url": url}], clock=clock, defaults=WORKER) as app:
        pool = app.monitor.executor
        assert isinstance(pool, OnDemandPool)
        report = await app.monitor.poll_once()
        assert [o.status for o in report.outcomes] == ["unchanged"]
        assert pool.warm_ups == [] and pool.jobs == 0


def test_a_pool_with_no_job_left_stops_its_workers_instead_of_waiting_for_them() -> None:
    """Once every job is done, a worker holds nothing to finish: it is stopped (SIGTERM), not
    waited for while its interpreter winds down with the models loaded."""
    pool = OnDemandPool(1)
    assert pool.submit(sum, [1, 2, 3]).result(timeout=90) == 6
    processes = list(pool._pool._processes.values())  # type: ignore[union-attr]
    pool.shutdown()
    assert [p.exitcode for p in processes] == [-signal.SIGTERM]


def test_a_pool_with_a_job_still_running_lets_it_finish() -> None:
    pool = OnDemandPool(1)
    pool.submit(sum, []).result(timeout=90)  # the worker is up
    running = pool.submit(time.sleep, 0.5)
    processes = list(pool._pool._processes.values())  # type: ignore[union-attr]
    pool.shutdown()
    assert running.done() and running.exception() is None
    assert [p.exitcode for p in processes] == [0]
