"""The cycle's documents shared between the parse worker and the main process (issue 9).

A burst of responses (100 changed feeds answering within 0.1 s) used to become 100 jobs sent to
the worker at once: the worker was the critical path while the main process waited on it, and
the sentence model's jobs queued behind every parse. Now a few jobs are in the worker at a time
(`limit`); the others wait here, first come first served. When a worker job is done the next
waiting one goes to the worker; when the main process is free (nothing else ready on its event
loop: it has filed what came back) it takes the next waiting one and prepares it itself. Each
side takes the next document when it is free, so the split follows who is free, not a guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

IN_FLIGHT_PER_WORKER = 2  # jobs in a worker process at a time: one running, one ready to start


@dataclass
class _Waiting(Generic[T]):
    in_worker: Callable[[], T]  # the job as the worker runs it (a picklable partial)
    inline: Callable[[], T]  # the job as the main process runs it
    result: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop


class SharedQueue(Generic[T]):
    """Runs each job in the worker (`executor`), at most `limit` at a time, or inline in this
    process when it is free first; with no executor, every job runs in a thread of this process
    (`loop.run_in_executor(None, ...)`), as a cycle with `parse_workers: 0` always did.

    The worker's next job is sent as soon as one is done, from the thread that receives the
    result (the executor's), not when this process's event loop gets to it: a loop busy
    preparing or filing a document for 20 ms would leave the worker idle meanwhile."""

    def __init__(self, executor: Executor | None, limit: int) -> None:
        self.executor = executor
        self.limit = max(1, limit)
        self.in_flight = 0  # jobs sent to the worker whose result has not come back
        self.most_in_flight = 0
        self.sent = 0  # jobs run by the worker
        self.taken = 0  # jobs run inline, by this process
        self._waiting: deque[_Waiting[T]] = deque()
        self._lock = threading.Lock()  # the executor's thread sends the next job too
        self._taker: asyncio.Task[None] | None = None

    async def run(self, in_worker: Callable[[], T], inline: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        if self.executor is None:
            return await loop.run_in_executor(None, inline)
        waiting = _Waiting(in_worker, inline, loop.create_future(), loop)
        with self._lock:
            self._waiting.append(waiting)
        self._fill()
        if self._waiting and (self._taker is None or self._taker.done()):
            self._taker = loop.create_task(self._take())
        return await waiting.result

    def _next(self) -> _Waiting[T] | None:
        """The next waiting job still wanted (its caller may have been cancelled); under lock."""
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.result.done():
                return waiting
        return None

    def _fill(self) -> None:
        """Send waiting jobs to the worker while it has fewer than `limit` (any thread)."""
        assert self.executor is not None
        while True:
            with self._lock:
                if self.in_flight >= self.limit:
                    return
                waiting = self._next()
                if waiting is None:
                    return
                self.in_flight += 1
                self.sent += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                job = self.executor.submit(waiting.in_worker)
            except Exception as exc:  # a worker that cannot take it: its source fails, as it did
                with self._lock:
                    self.in_flight -= 1
                failed: Future[T] = Future()
                failed.set_exception(exc)
                self._settle_soon(waiting, failed)
                continue
            job.add_done_callback(functools.partial(self._done, waiting))

    def _done(self, waiting: _Waiting[T], job: Future[T]) -> None:
        with self._lock:
            self.in_flight -= 1
        self._fill()  # the worker's next job first
        self._settle_soon(waiting, job)

    def _settle_soon(self, waiting: _Waiting[T], job: Future[T]) -> None:
        # a closed loop: nobody waits for the result any more
        with contextlib.suppress(RuntimeError):
            waiting.loop.call_soon_threadsafe(_settle, waiting.result, job)

    async def _take(self) -> None:
        """This process's share: whenever its event loop has nothing else ready (what came back
        is filed first), the next waiting job, run here."""
        while True:
            await asyncio.sleep(0)  # one turn of the loop: whatever is ready runs first
            with self._lock:
                waiting = self._next()
            if waiting is None:
                return
            self.taken += 1
            try:
                result = waiting.inline()
            except Exception as exc:
                waiting.result.set_exception(exc)
            else:
                waiting.result.set_result(result)


def _settle(result: asyncio.Future[T], job: Future[T]) -> None:
    """The worker's outcome, for the caller waiting on this loop (unless it stopped waiting)."""
    if result.done():
        return
    if job.cancelled():
        result.cancel()
    elif (exc := job.exception()) is not None:
        result.set_exception(exc)
    else:
        result.set_result(job.result())
