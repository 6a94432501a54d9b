"""The resources of a running casewatch, opened once at the top and handed to everything."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import signal
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from casewatch.clock import Clock, SystemClock
from casewatch.config import Config, load_config
from casewatch.delivery import Dispatcher
from casewatch.digest import schedule_digests
from casewatch.fetch import Fetcher
from casewatch.pipeline import CycleReport, Monitor, ProgressFn
from storage import destinations, open_store, settings, sources
from storage.db import explain, is_busy, path_of

if TYPE_CHECKING:
    import aiohttp

    from storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class App:
    """Config, database, clock, HTTP and the monitor built on them."""

    config: Config
    db: Database
    clock: Clock
    fetcher: Fetcher
    monitor: Monitor
    dispatcher: Dispatcher
    interval_override: float | None = None
    extra: dict = field(default_factory=dict)
    trials: list[int] = field(default_factory=list)  # sources only tried by this process

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session (the fetcher's), made by its first use: a command that fetches
        nothing never imports aiohttp."""
        return self.fetcher.session

    async def cycle(
        self, *, backfill: bool = False, only_urls: list[str] | None = None
    ) -> CycleReport:
        """One turn of the run loop before delivery: heartbeat, poll what is due, enqueue any
        digest that came due."""
        self.heartbeat()
        report = await self.monitor.poll_once(backfill=backfill, only_urls=only_urls)
        self.schedule_digests()
        return report

    def try_sources(
        self, urls: list[str] | None, *, outputs: tuple[str, ...] | None = ("console",)
    ) -> None:
        """Poll `urls` (from `--source`/`--sources`) in this process without subscribing to
        them: they are retired when the app closes, never polled by a command that does not
        name them, and their alerts go to destinations of the `outputs` types only (None: to
        every destination, as in Discord mode)."""
        if urls:
            self.trials += self.monitor.add_adhoc(urls)
            self.monitor.trial_outputs = None if outputs is None else frozenset(outputs)

    def shortest_interval(self) -> float:
        """The shortest poll interval of any source (sources added from Discord get the
        default one): the run loop must look at least this often."""
        cfg = self.config
        return min([cfg.defaults.interval] + [s.interval for s in cfg.sources if s.interval])

    def heartbeat(self) -> None:
        """Record that the scheduler is alive (read by `bot.py health`, the container check)."""
        settings.put(self.db, "runtime", "heartbeat", self.clock.now().isoformat())

    def schedule_digests(self) -> list[int]:
        return schedule_digests(
            self.db,
            self.clock.now(),
            case_name=self.config.case.short or self.config.case.name,
            weekday=self.config.digest.weekday,
            search_url=self.config.case.search_url,
            max_stories=self.config.digest.max_stories,
        )

    def ensure_console_destinations(self) -> None:
        """Console mode: alerts (and digests, unless disabled) go to the terminal."""
        now = self.clock.now()
        destinations.upsert(self.db, type="console", purpose="alerts", now=now)
        # admin notices (sources failing, recovered, stale): stderr, beside the cycle summary
        destinations.upsert(self.db, type="console", purpose="notices", now=now)
        d = self.config.digest
        if d.console:
            destinations.upsert(
                self.db,
                type="console",
                purpose="digest",
                now=now,
                frequency=d.frequency,
                at_time=d.time,
                timezone=d.timezone,
                empty_mode=d.empty,
            )


MODEL_MODULE = "casewatch.embed"  # its jobs (warm, embed) use the sentence model


def is_model_job(fn: Callable[..., Any]) -> bool:
    """Whether a job uses the sentence model (a function of `MODEL_MODULE`, or a partial of one)."""
    return getattr(getattr(fn, "func", fn), "__module__", None) == MODEL_MODULE


def lane_for(model_job: bool, running: tuple[int, ...], sizes: tuple[int, ...]) -> int:
    """Which lane of the pool takes a job: lane 0 is the model's worker (one process), lane 1
    (when there is one) the other workers.

    A job of the model always goes to lane 0, so the model is loaded by one process however
    many workers parse: a cycle embeds its stories in one batch, which one process runs, and
    each other copy would only cost its memory (55 to 120 MiB) and its load. Any other job goes
    where a process is free, the other workers first (the model's worker stays free for the
    cycle's batch), else to the lane with the fewest jobs waiting per process.
    """
    if model_job or len(sizes) == 1:
        return 0
    for lane in (1, 0):
        if running[lane] < sizes[lane]:
            return lane
    return min((1, 0), key=lambda lane: running[lane] / sizes[lane])


class OnDemandPool(Executor):
    """A process pool created by its first job, or by `start` when a cycle is about to fetch.

    Creating a ProcessPoolExecutor already starts multiprocessing's resource tracker (a Python
    process of its own) and imports multiprocessing: commands that never parse a feed (every
    query command, a poll with nothing due) pay for neither. "spawn": a forked child would
    inherit the locks of this process's threads. With more than one worker, one of them (the
    pool `_pool`) is the only one that runs the sentence model's jobs (`lane_for`); the others
    (`_others`) parse and judge.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor | None = None  # the model's worker (the only one when workers=1)
        self._others: Executor | None = None  # the other workers-1
        self.warm_ups: list[Future[list[str]]] = []  # `start`'s jobs: the modules imported
        self.jobs = 0  # jobs submitted, not counting the warm-ups
        self._running: list[list[Future[Any]]] = [[], []]  # per lane: jobs maybe not done
        self._lock = threading.Lock()

    @property
    def sizes(self) -> tuple[int, ...]:
        """Processes per lane: the model's worker, then the others (if any)."""
        return (1, self.workers - 1) if self.workers > 1 else (1,)

    def _started(self) -> list[Executor]:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            spawn = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=spawn)
            if self.workers > 1:
                self._others = ProcessPoolExecutor(max_workers=self.workers - 1, mp_context=spawn)
        return [p for p in (self._pool, self._others) if p is not None]

    def start(self) -> None:
        """Start the workers now and let them import what their jobs need (`worker.warm_up`),
        unless they run already. A cycle that will fetch calls this first: a worker's start
        (a new interpreter, then its imports) then overlaps the network wait instead of
        following the first response, and the worker parses every feed of the cycle."""
        if self._pool is None:
            from casewatch.worker import warm_up

            lanes = self._started()
            self.warm_ups = [
                lane.submit(warm_up)
                for lane, size in zip(lanes, self.sizes, strict=True)
                for _ in range(size)
            ]

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        # The cycle's next parse job is sent from the thread that receives a result
        # (`sharing.SharedQueue`), the model's jobs from the event loop's.
        with self._lock:
            self.jobs += 1
            lanes = self._started()
            self._running = [[f for f in lane if not f.done()] for lane in self._running]
            running = tuple(len(self._running[i]) for i in range(len(lanes)))
            lane = lane_for(is_model_job(fn), running, self.sizes)
            future = lanes[lane].submit(fn, *args, **kwargs)
            self._running[lane].append(future)
            return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is None:
            return
        if not any(not f.done() for lane in self._running for f in lane):
            # No job is left (all done, or none came: a cycle with nothing to parse): the
            # workers hold nothing to finish, so they are stopped rather than waited for while
            # they wind down (an interpreter holding the sentence and language models takes a
            # good part of a second to exit) or still import (warming up). The executor keeps
            # its processes in `_processes` (Python 3.8 to 3.13; 3.14: terminate_workers()).
            for pool in self._started():
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
        for pool in self._started():
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def stop_on_signals(stop: Callable[[], object]) -> None:
    """SIGTERM (docker stop) and SIGINT end the run cleanly: the database closes, nothing is lost."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)


class RunLoop:
    """The run loop of console and Discord mode alike.

    Every `tick` seconds a turn (`App.cycle`: heartbeat, poll what is due, enqueue digests that
    came due) followed by delivery; delivery also runs on its own every `deliver_every` seconds.
    The tick is never longer than the shortest poll interval, so `--interval 3` polls every 3 s.
    APScheduler 3 drives it: started inside the running loop, coalesced, one instance at a time,
    generous misfire grace. Our schedules live in our tables; the jobs only tick.
    """

    def __init__(
        self,
        app: App,
        deliver: Callable[[], Awaitable[object]],
        *,
        tick: float = 30.0,
        deliver_every: float = 5.0,
        backfill: bool = False,
        only_urls: list[str] | None = None,
        on_report: Callable[[CycleReport], None] | None = None,
        on_fatal: Callable[[], object] | None = None,
    ) -> None:
        self.app = app
        self.deliver = deliver
        self.tick = min(tick, app.shortest_interval())
        self.deliver_every = deliver_every
        self.backfill = backfill
        self.only_urls = only_urls
        self.on_report = on_report
        # A database that cannot go on (corrupt, full disk, read-only) stops the loop: `fatal`
        # keeps the error for the caller to report, `on_fatal` is how the loop asks to stop.
        self.on_fatal = on_fatal
        self.fatal: BaseException | None = None
        self.scheduler: Any = None  # an AsyncIOScheduler once started
        self._polling = asyncio.Lock()
        self._delivering = asyncio.Lock()

    async def poll_tick(self) -> CycleReport | None:
        """One turn, then deliver at once (skipped while the previous turn still runs)."""
        if self._polling.locked():
            return None
        async with self._polling:
            try:
                report: CycleReport | None = await self.app.cycle(
                    backfill=self.backfill, only_urls=self.only_urls
                )
            except sqlite3.DatabaseError as exc:
                self._database_error(exc)
                report = None
            except Exception:
                log.exception("poll cycle failed")
                report = None
        if report is not None and report.outcomes and self.on_report is not None:
            self.on_report(report)
        await self.deliver_tick(wait=True)
        return report

    async def deliver_tick(self, *, wait: bool = False) -> None:
        """Drain the outbox; a scheduled drain is skipped while another one runs."""
        if self._delivering.locked() and not wait:
            return
        async with self._delivering:
            try:
                await self.deliver()
            except sqlite3.DatabaseError as exc:
                self._database_error(exc)
            except Exception:
                log.exception("delivery failed")

    def _database_error(self, exc: sqlite3.DatabaseError) -> None:
        if is_busy(exc):  # another process held the file too long: the next tick tries again
            log.warning("database busy, trying again next tick: %s", exc)
            return
        log.error("%s", explain(exc, path_of(self.app.db)))
        if self.fatal is None:
            self.fatal = exc
            if self.on_fatal is not None:
                self.on_fatal()

    def start(self) -> None:
        """Start ticking; call from inside the running event loop."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler  # only `run` pays for it

        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
        )
        self.scheduler.add_job(
            self.poll_tick, "interval", seconds=self.tick, next_run_time=datetime.now(UTC)
        )
        self.scheduler.add_job(self.deliver_tick, "interval", seconds=self.deliver_every)
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)


@contextlib.asynccontextmanager
async def open_app(
    config: Config | str | Path,
    db_path: str | Path,
    *,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
    rng: random.Random | None = None,
    interval_override: float | None = None,
) -> AsyncIterator[App]:
    """Open everything a command needs, close it all on the way out."""
    cfg = config if isinstance(config, Config) else load_config(config)
    if interval_override is not None:
        cfg = dataclasses.replace(
            cfg,
            defaults=dataclasses.replace(cfg.defaults, interval=interval_override),
            sources=[dataclasses.replace(s, interval=None) for s in cfg.sources],
        )
    clock = clock or SystemClock()
    db = open_store(db_path)
    fetcher = Fetcher(cfg.fetch, clock=clock)
    workers = cfg.defaults.parse_workers
    parsers = OnDemandPool(workers) if workers else None
    app: App | None = None
    try:
        monitor = Monitor(cfg, db, fetcher, clock, rng=rng, progress=progress, executor=parsers)
        monitor.sync_config()
        app = App(
            config=cfg,
            db=db,
            clock=clock,
            fetcher=fetcher,
            monitor=monitor,
            dispatcher=Dispatcher(db, clock, rng=rng),
            interval_override=interval_override,
        )
        yield app
    finally:
        with contextlib.suppress(Exception):  # never mask the error that got us here
            sources.retire_trials(db, app.trials if app is not None else [])
        await fetcher.close()
        if parsers is not None:
            parsers.shutdown(cancel_futures=True)
        db.close()
