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
from typing import Protocol, runtime_checkable

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
