"""Builders shared by core tests: a small config and an App on a real SQLite file."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from casewatch.app import App, open_app
from casewatch.clock import FakeClock
from casewatch.config import Config
from casewatch.validation import validate

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RELEVANCE: dict[str, Any] = {
    "threshold": 2,
    "groups": {
        "people": ["Uyghur*", "Uighur*", "Xinjiang"],
        "forum": ["International Criminal Court", "ICC", "genocide", "tribunal", "deport*"],
        "cricket": ["cricket", "T20", "wicket*"],
        "court": ["International Criminal Court", "prosecutor", "tribunal"],
    },
    "rules": [
        {"name": "case", "all": ["people", "forum"], "score": 2},
        {"name": "people-only", "all": ["people"], "none": ["forum"], "score": 1},
    ],
    "drop": [{"name": "cricket", "any": ["cricket"], "unless": ["people"]}],
    "court_groups": ["court"],
}


def make_config(sources: list[dict[str, Any]], **over: Any) -> Config:
    data: dict[str, Any] = {
        "case": {"name": "Test case", "short": "test", "vocabulary": ["uyghur", "uyghurs", "icc"]},
        # Parsing in-process keeps the suite fast; test_pipeline covers the worker process.
        "defaults": {"interval": "10m", "failing_after": 2, "parse_workers": 0},
        "fetch": {"connect_timeout": 2, "total_timeout": 3},
        "relevance": RELEVANCE,
        "sources": sources,
    }
    data.update(over)
    return validate(Config, data)


@contextlib.asynccontextmanager
async def app_for(
    tmp_path: Path, sources: list[dict[str, Any]], *, clock: FakeClock | None = None, **over: Any
) -> AsyncIterator[App]:
    cfg = make_config(sources, **over)
    async with open_app(
        cfg, tmp_path / "casewatch.db", clock=clock or FakeClock(START), rng=random.Random(7)
    ) as app:
        app.ensure_console_destinations()
        yield app


def item(n: int, title: str, *, when: datetime | None = None, **extra: Any) -> dict[str, Any]:
    """An RSS item dict for tests.feedserver.rss."""
    return {
        "title": title,
        "link": f"https://news.example.org/story/{n}",
        "guid": f"guid-{n}",
        "description": extra.pop(
            "description", f"{title}. More words about this development number {n}."
        ),
        "pubDate": when or START - timedelta(hours=1),
        **extra,
    }


# An entry no rule keeps. A first poll must receive entries to count as the first (it stores
# them without alerting); a test that wants the next poll to alert serves this one first.
BASELINE: dict[str, Any] = item(0, "Weather for the weekend: sunny spells and light winds")
