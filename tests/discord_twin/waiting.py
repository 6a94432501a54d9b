"""Waiting for the twin's state to change, with time-outs that say what was awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Changes:
    """Wakes every waiter whenever the twin's state changes; waiters re-check a predicate."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        """Something changed: let every waiter look again."""
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def wait_until(
        self, check: Callable[[], T | None], timeout: float, describe: Callable[[], str]
    ) -> T:
        """Return `check()` once it is not None/False; TimeoutError with `describe()` if late."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = check()
            if value is not None and value is not False:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"after {timeout:.1f}s: {describe()}")
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append(future)
            await asyncio.wait([future], timeout=remaining)
