"""What a parse worker process does before its first job.

The worker is a "spawn" process (casewatch.app.OnDemandPool): it starts as a bare interpreter,
runs bot.py again (which imports nothing at its top), and imports each module the first time a
job names it. `warm_up` is its first job when a cycle is about to fetch: the imports that the
first parse and the first judging would otherwise do after the first response arrives happen
while the requests are still on the network. This module imports nothing itself, so the job
costs nothing to unpickle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from casewatch.model import ParseResult

# What the worker's jobs run: feeds and pages parsed, entries judged (rules, lead, language),
# the source's seen keys read (read-only) to judge only new entries.
JOB_MODULES = (
    "casewatch.parse",
    "casewatch.pages",
    "casewatch.judging",
    "casewatch.config",
    "storage.reader",
)


@runtime_checkable
class StartsEarly(Protocol):
    """An executor whose workers can be started before its first job (see OnDemandPool)."""

    def start(self) -> None: ...


def warm_up() -> list[str]:
    """Import the modules of the worker's jobs; returns their names (for tests and logs)."""
    for name in JOB_MODULES:
        importlib.import_module(name)
    return list(JOB_MODULES)


# The parse jobs, by a name that costs the bot's process nothing to give: casewatch.parse brings
# feedparser and the cleaner (about 30 ms), which only the worker runs.


def parse_feed(body: bytes, *, content_type: str | None, url: str) -> ParseResult:
    """`casewatch.parse.parse_feed`, imported where the job runs."""
    from casewatch.parse import parse_feed as parse

    return parse(body, content_type=content_type, url=url)


def parse_page(body: bytes, selectors: Any, *, url: str, content_type: str | None) -> ParseResult:
    """`casewatch.pages.parse_page`, imported where the job runs."""
    from casewatch.pages import parse_page as parse

    return parse(body, selectors, url=url, content_type=content_type)
