"""The event stage's reading of stories, started during the cycle (issue 9).

Matching needs each waiting story's `Report` (`embed.reports`: the sentence model's vector and
what it reads of the headline, lead and day). The model runs in the parse worker. Reading every
story in one batch after the last source was the cycle's serial tail (0.2 to 0.37 s), so a story
is sent to the worker as soon as its source queues it, while this process files the other
sources; the event stage then only collects what came back (`collect`).

The stories of one turn of the event loop (one source's ingest, or several) go in one job, sent
when the turn is done, with the headline, lead and day they have then; while a job is under way
the next stories wait for it and go in one job (a batch embeds each at a fraction of the cost,
and a lead changed twice is read once). A story whose headline, lead or day changed after it
was sent (another outlet's report joined it) is read again: by a later job, or at the stage.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import Executor
from datetime import date
from typing import TYPE_CHECKING

from storage import events as stored_events
from storage import stories

if TYPE_CHECKING:
    from casewatch.events import Report
    from storage.db import Database

log = logging.getLogger(__name__)

Read = tuple[str, str, date]  # headline, lead, day: what the worker reads of a story


class ReadingAhead:
    """Stories sent to the worker during a cycle, and the jobs reading them."""

    def __init__(self, db: Database, stopwords: frozenset[str]) -> None:
        self.db = db
        self.stopwords = stopwords
        self._to_send: dict[int, None] = {}  # story ids waiting for the next job, in order
        self._in_flight: asyncio.Future[list[Report]] | None = None  # the last job sent
        # story id -> what was sent of it, the job reading it and its place in that job
        self._sent: dict[int, tuple[Read, asyncio.Future[list[Report]], int]] = {}

    def soon(self, story_id: int, executor: Executor) -> None:
        """Have the worker read this story when the current turn of the event loop is done
        (nothing outside a cycle's event loop: a bench's ingest; the stage reads it then)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        first = not self._to_send
        self._to_send[story_id] = None
        if first and (self._in_flight is None or self._in_flight.done()):
            loop.call_soon(self._send, executor)

    def again(self, story_id: int, executor: Executor) -> None:
        """A story sent this cycle had another report: sent again if what the worker reads of
        it changed (`_send` compares)."""
        if story_id in self._sent:
            self.soon(story_id, executor)

    def forget(self) -> None:
        """Nothing waits for the stage: what was read this cycle is not needed any more."""
        self._to_send = {}
        self._sent.clear()

    def _send(self, executor: Executor) -> None:
        if self._in_flight is not None and not self._in_flight.done():
            return
        batch: list[tuple[int, Read]] = []
        for story_id in self._to_send:
            story = stories.get(self.db, story_id) or {}
            if not story:
                continue
            day = stored_events.story_day(story["published_at"], story["first_seen_at"])
            read = (story["title"], story["summary"] or "", day)
            sent = self._sent.get(story_id)
            if sent is None or sent[0] != read:
                batch.append((story_id, read))
        self._to_send = {}
        if not batch:
            return
        try:
            job = self._read([read for _, read in batch], executor)
        except Exception as exc:  # a worker that cannot take it: the stage tries again
            log.debug("stories not read ahead of the event stage: %s", exc)
            return
        for index, (story_id, read) in enumerate(batch):
            self._sent[story_id] = (read, job, index)
        self._in_flight = job
        job.add_done_callback(functools.partial(self._sent_done, executor))

    def _sent_done(self, executor: Executor, _: asyncio.Future[list[Report]]) -> None:
        if self._to_send:  # stories that came while the job was under way
            self._send(executor)

    def _read(self, batch: list[Read], executor: Executor | None) -> asyncio.Future[list[Report]]:
        from casewatch import embed  # no numpy here: the worker computes, this process reads

        job = functools.partial(embed.reports, batch, stopwords=self.stopwords)
        return asyncio.get_running_loop().run_in_executor(executor, job)

    async def collect(
        self, waiting: list[stored_events.Pending], executor: Executor | None
    ) -> dict[int, Report]:
        """What matching reads of each waiting story (by story id): as the worker read it
        during the cycle if its headline, lead and day are still those, the others read now in
        one batch. A story the model failed to read is left out (it starts an event of its
        own)."""
        self._to_send = {}  # not sent yet: read below with the others
        early, self._sent = self._sent, {}
        jobs = {id(job): job for _, job, _ in early.values()}
        done = await asyncio.gather(*jobs.values(), return_exceptions=True)
        results = dict(zip(jobs, done, strict=True))
        found: dict[int, Report] = {}
        for p in waiting:
            sent = early.get(p.story_id)
            if sent is not None and sent[0] == (p.title, p.summary, p.day):
                result = results[id(sent[1])]
                if isinstance(result, list):
                    found[p.story_id] = result[sent[2]]
        failed = [r for r in done if isinstance(r, BaseException)]
        if failed:
            log.error("the sentence model failed during the cycle: %r", failed[0])
        missing = [p for p in waiting if p.story_id not in found]
        if missing:
            try:
                read = await self._read([(p.title, p.summary, p.day) for p in missing], executor)
                found.update(zip((p.story_id for p in missing), read, strict=True))
            except Exception:  # without vectors these stories are events of their own
                log.exception(
                    "the sentence model failed; %d stories start events of their own",
                    len(missing),
                )
        return found
