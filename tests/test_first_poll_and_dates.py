"""When a poll may alert: the first poll that receives entries, dates that cannot be true, and
the age rule (`defaults.alert_max_age`), which court sources are not held to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from casewatch.clock import FakeClock
from casewatch.judging import plausible_date
from storage import timeline
from storage.db import rows
from tests.casewatch_helpers import START, app_for, item
from tests.feedserver import FeedServer, rss

CASES = [
    "Uyghur activists deported from Tajikistan: ICC filing names officials",
    "Uyghur Tribunal judgment cited in renewed International Criminal Court request",
    "Lawyers file new ICC submission on Uyghur deportations from Cambodia",
    "ICC Prosecutor asked again to open Uyghur deportation inquiry",
    "Uyghur groups take Tajikistan deportations to the ICC Appeals Chamber",
]


def case_item(n: int, when: datetime) -> dict:
    return item(n, CASES[n % len(CASES)] + f" (part {n})", when=when)


async def test_a_304_or_an_empty_first_answer_does_not_spend_the_no_flood_protection(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", b"", status=304)
    # The backlog repeats five headlines: grouped into developments, the new entry would be
    # another report of one of them. The first-poll rule is under test, not grouping.
    feed = [{"name": "Feed", "url": url}]
    async with app_for(tmp_path, feed, clock=clock, events={"enabled": False}) as app:
        await app.monitor.poll_once()  # 304: nothing received
        feed_server.route("/f.xml", rss([]))
        clock.advance(3600)
        await app.monitor.poll_once()  # an empty feed: nothing received either
        backlog = [case_item(n, clock.now() - timedelta(hours=n + 1)) for n in range(19)]
        feed_server.route("/f.xml", rss(backlog))
        clock.advance(3600)
        first = await app.monitor.poll_once()  # the first poll that receives entries
        assert first.outcomes[0].new_items == 19 and first.alerts == []
        feed_server.route("/f.xml", rss([case_item(19, clock.now()), *backlog]))
        clock.advance(3600)
        later = await app.monitor.poll_once()
        assert len(later.alerts) == 1


@pytest.mark.parametrize(
    ("when", "plausible"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), False),  # a feed's "no date"
        (datetime(1970, 1, 1, tzinfo=UTC), False),  # the Unix epoch: a zero timestamp
        (datetime(1989, 12, 31, 23, 0, tzinfo=UTC), False),
        (datetime(1990, 1, 1, tzinfo=UTC), True),
        (START - timedelta(days=3000), True),
        (START + timedelta(hours=23), True),  # a time zone off by a few hours
        (START + timedelta(days=2), False),
        (datetime(2099, 1, 1, tzinfo=UTC), False),
        (None, False),
    ],
)
def test_only_dates_that_can_be_true_are_taken(when: datetime | None, plausible: bool) -> None:
    assert (plausible_date(when, now=START) == when and when is not None) is plausible


def test_the_case_start_narrows_the_window() -> None:
    assert plausible_date(datetime(2019, 6, 1, tzinfo=UTC), now=START) is not None
    assert (
        plausible_date(datetime(2019, 6, 1, tzinfo=UTC), now=START, earliest=date(2020, 7, 1))
        is None
    )


async def test_impossible_dates_are_stored_as_unknown_and_never_reach_the_timeline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    bad = [datetime(1, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)]
    bad += [datetime(2099, 1, 1, tzinfo=UTC), datetime(2019, 6, 1, tzinfo=UTC)]
    entries = [case_item(n, when) for n, when in enumerate(bad)]
    url = feed_server.route("/icc.xml", rss(entries))
    court = {"name": "ICC press releases", "url": url, "kind": "court", "relevance": "all"}
    async with app_for(
        tmp_path, [court], clock=clock, case={"name": "Test", "start": "2020-07-01"}
    ) as app:
        await app.monitor.poll_once()
        stored = rows(app.db, "SELECT title, published_at FROM items ORDER BY id")
        days = {e["date"] for e in timeline.listing(app.db) if e["origin"] == "item"}
    assert len(stored) == 4 and all(r["published_at"] is None for r in stored)
    assert days and all(d.startswith("2026-") for d in days), days  # the day it was found


async def test_old_entries_are_stored_not_alerted_and_counted_but_not_from_court_sources(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    news = feed_server.route("/news.xml", rss([item(90, "Weather for the weekend")]))
    court = feed_server.route("/court.xml", rss([item(91, "Weather for the weekend")]))
    sources = [
        {"name": "News", "url": news},
        {"name": "Court", "url": court, "kind": "court", "relevance": "all"},
    ]
    async with app_for(tmp_path, sources, clock=clock) as app:
        await app.monitor.poll_once()
        clock.advance(3600)
        month_old = clock.now() - timedelta(days=30)
        feed_server.route("/news.xml", rss([case_item(1, month_old), case_item(2, clock.now())]))
        feed_server.route("/court.xml", rss([case_item(3, month_old)]))
        report = await app.monitor.poll_once(force=True)
    by_name = {o.name: o for o in report.outcomes}
    assert (by_name["News"].relevant, len(by_name["News"].alerts), by_name["News"].too_old) == (
        2,
        1,
        1,
    )
    assert (len(by_name["Court"].alerts), by_name["Court"].too_old) == (1, 0)
    assert "(1 more not alerted: published too long ago, defaults.alert_max_age)" in (
        report.summary_line()
    )
