"""The sentence model lives in one parse worker, however many there are (`parse_workers`).

A cycle embeds its stories in one batch, which one process runs: the warm-up and the batch go
to the same worker (the pool's model lane), and no other worker ever loads the model.
Real processes ("spawn", as the bot runs them); a barrier makes every worker answer a probe.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from casewatch import embed
from casewatch.app import OnDemandPool, is_model_job, lane_for
from casewatch.clock import FakeClock
from casewatch.parse import parse_feed
from tests.casewatch_helpers import START, app_for
from tests.feedserver import FeedServer, rss
from tests.test_event_stage import CASE, DECLINES, RULES, filler, report

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize(
    ("model_job", "running", "sizes", "lane"),
    [
        # one worker: everything goes to it
        (True, (0,), (1,), 0),
        (False, (3,), (1,), 0),
        # the model's jobs always go to its worker, however busy
        (True, (0, 0), (1, 2), 0),
        (True, (4, 0), (1, 2), 0),
        # other jobs: the other workers while one is free, then the model's worker if free
        (False, (0, 0), (1, 2), 1),
        (False, (0, 1), (1, 2), 1),
        (False, (0, 2), (1, 2), 0),
        (False, (0, 1), (1, 1), 0),
        # all busy: the lane with the fewest jobs per process, the other workers on a tie
        (False, (1, 2), (1, 2), 1),
        (False, (2, 2), (1, 2), 1),
        (False, (1, 3), (1, 2), 0),
    ],
)
def test_model_jobs_go_to_one_worker_and_other_jobs_where_a_worker_is_free(
    model_job: bool, running: tuple[int, ...], sizes: tuple[int, ...], lane: int
) -> None:
    assert lane_for(model_job, running, sizes) == lane


def test_the_model_jobs_are_told_apart_from_parsing() -> None:
    assert is_model_job(embed.warm) and is_model_job(embed.embed)
    assert is_model_job(functools.partial(embed.embed, ["a"]))
    assert not is_model_job(parse_feed) and not is_model_job(functools.partial(parse_feed, b""))
    assert not is_model_job(sum)


def probe(barrier: Any) -> tuple[int, str | None]:
    """This worker's pid and where its model came from (None: never loaded). Every probe waits
    for the others, so each runs in a process of its own."""
    barrier.wait(60)
    module = sys.modules.get("casewatch.embed")
    return os.getpid(), None if module is None else module.loaded_from()


def every_worker(pool: OnDemandPool) -> dict[int, str | None]:
    """Ask each of the pool's processes (lane_for: the probes fill the other workers first,
    then the model's) whether it holds the model."""
    with multiprocessing.get_context("spawn").Manager() as manager:
        barrier = manager.Barrier(pool.workers)
        futures = [pool.submit(probe, barrier) for _ in range(pool.workers)]
        found = dict(f.result(timeout=90) for f in futures)
    assert len(found) == pool.workers  # each process answered once
    return found


def test_the_warm_up_and_the_batch_run_in_the_one_worker_that_holds_the_model() -> None:
    pool = OnDemandPool(3)
    try:
        pool.start()
        for started in pool.warm_ups:
            started.result(timeout=90)
        # Submitted together, as a cycle may: with one plain pool the batch would start in
        # another worker while the first loads the model, and load it a second time.
        warm = pool.submit(embed.warm)
        batch = pool.submit(embed.embed, [DECLINES[0][0], DECLINES[1][0]])
        assert warm.result(timeout=90) in ("prepared", "package")
        assert len(embed.vectors(batch.result(timeout=90))) == 2
        loaded = [pid for pid, source in every_worker(pool).items() if source is not None]
        assert len(loaded) == 1
        (model_worker,) = pool._pool._processes  # type: ignore[union-attr]
        assert loaded == [model_worker]
    finally:
        pool.shutdown()


async def test_a_cycle_with_three_workers_loads_the_model_in_one(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    urls = [feed_server.route(f"/{n}.xml", rss([filler(n)])) for n in range(3)]
    sources = [{"name": f"Outlet {n}", "url": u} for n, u in enumerate(urls)]
    defaults = {"interval": "10m", "parse_workers": 3}
    clock = FakeClock(START)
    async with app_for(
        tmp_path, sources, clock=clock, relevance=RULES, case=CASE, defaults=defaults
    ) as app:
        await app.monitor.poll_once()
        for n, (title, lead) in enumerate(DECLINES[:3]):
            feed_server.route(f"/{n}.xml", rss([report(n, title, lead)]))
        clock.advance(3600)
        cycle = await app.monitor.poll_once()
        assert len(cycle.alerts) == 1  # one development: the stage embedded and matched them
        pool = app.monitor.executor
        assert isinstance(pool, OnDemandPool)
        loaded = [pid for pid, source in every_worker(pool).items() if source is not None]
        assert len(loaded) == 1, f"model in {len(loaded)} workers"
