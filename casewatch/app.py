"""The resources of a running casewatch, opened once at the top and handed to everything."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import random
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlite_utils import Database

from casewatch.clock import Clock, SystemClock
from casewatch.config import Config, load_config
from casewatch.delivery import Dispatcher
from casewatch.digest import schedule_digests
from casewatch.fetch import Fetcher, make_session
from casewatch.pipeline import CycleReport, Monitor, ProgressFn
from storage import destinations, open_store, settings

log = logging.getLogger(__name__)


@dataclass
class App:
    """Config, database, clock, HTTP and the monitor built on them."""

    config: Config
    db: Database
    clock: Clock
    session: aiohttp.ClientSession
    fetcher: Fetcher
    monitor: Monitor
    dispatcher: Dispatcher
    interval_override: float | None = None
    extra: dict = field(default_factory=dict)

    async def cycle(
        self, *, backfill: bool = False, only_urls: list[str] | None = None
    ) -> CycleReport:
        """Poll what is due, then enqueue any digest that came due."""
        report = await self.monitor.poll_once(backfill=backfill, only_urls=only_urls)
        self.schedule_digests()
        return report

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
        cfg = cfg.model_copy(
            update={"defaults": cfg.defaults.model_copy(update={"interval": interval_override})}
        )
        cfg = cfg.model_copy(
            update={"sources": [s.model_copy(update={"interval": None}) for s in cfg.sources]}
        )
    clock = clock or SystemClock()
    db = open_store(db_path)
    settings = cfg.fetch
    session = make_session(settings)
    workers = cfg.defaults.parse_workers
    # Processes start on the first parse only, so commands that never poll never pay for them.
    # "spawn": a forked child would inherit the locks of this process's threads.
    parsers = (
        ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        if workers
        else None
    )
    try:
        fetcher = Fetcher(settings, session=session, clock=clock)
        monitor = Monitor(cfg, db, fetcher, clock, rng=rng, progress=progress, executor=parsers)
        monitor.sync_config()
        yield App(
            config=cfg,
            db=db,
            clock=clock,
            session=session,
            fetcher=fetcher,
            monitor=monitor,
            dispatcher=Dispatcher(db, clock, rng=rng),
            interval_override=interval_override,
        )
    finally:
        await session.close()
        if parsers is not None:
            parsers.shutdown(cancel_futures=True)
        db.close()
