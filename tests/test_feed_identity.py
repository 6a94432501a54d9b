"""Per-source identity on real feed shapes: repeated guids, empty entries."""

from __future__ import annotations

from pathlib import Path

from casewatch.clock import FakeClock
from tests.casewatch_helpers import START, app_for, item
from tests.feedserver import FeedServer, rss

HEADLINES = [
    "Uyghur activists deported from Tajikistan: ICC filing names officials",
    "Uyghur Tribunal judgment cited in renewed International Criminal Court request",
    "Lawyers file new ICC submission on Uyghur deportations from Cambodia",
    "ICC Prosecutor asked again to open Uyghur deportation inquiry",
    "Uyghur groups take Tajikistan deportations to the ICC Appeals Chamber",
]


def same_guid(n: int) -> dict:
    """A feed (a misconfigured WordPress, say) that gives every entry one guid: its home page."""
    return item(n, HEADLINES[n], guid="https://blog.example.org/")


async def test_a_feed_repeating_one_guid_still_gets_its_new_entries(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    url = feed_server.route("/f.xml", rss([same_guid(2), same_guid(1), same_guid(0)]))
    # Identity is under test, not grouping: each headline alerts on its own.
    blog = [{"name": "Blog", "url": url}]
    async with app_for(tmp_path, blog, clock=clock, events={"enabled": False}) as app:
        first = await app.monitor.poll_once()
        assert first.outcomes[0].new_items == 3
        # Two new entries at the top, same guid again: new, whatever their position.
        feed_server.route("/f.xml", rss([same_guid(n) for n in (4, 3, 2, 1, 0)]))
        clock.advance(3600)
        report = await app.monitor.poll_once()
        assert report.outcomes[0].new_items == 2
        assert len(report.alerts) == 2
        clock.advance(3600)
        again = await app.monitor.poll_once(force=True)
        assert again.outcomes[0].new_items == 0 and again.alerts == []


async def test_an_empty_entry_is_skipped_not_the_whole_source(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # A title of punctuation only, no guid, no link, no text: nothing to recognise it by.
    empty = {"title": "—"}
    url = feed_server.route("/f.xml", rss([item(1, HEADLINES[0]), empty, item(2, HEADLINES[1])]))
    async with app_for(tmp_path, [{"name": "Feed", "url": url}]) as app:
        report = await app.monitor.poll_once()
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.error, outcome.new_items) == ("new", None, 2)
    assert "an entry without guid, link, title or text" in outcome.skipped


async def test_an_entry_repeated_within_one_document_is_stored_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # A court page's feed without guids or links lists entries twice (pinned copies at the
    # top): one identity, one item each, whether the rules keep it or not; and a reissue
    # under a new guid is no new item.
    filing = {"title": HEADLINES[0], "description": "The filing names eleven officials."}
    notice = {"title": "Registry closed on Friday", "description": "Opening hours change."}
    reissued = item(1, HEADLINES[1], guid="guid-1-reissued")
    url = feed_server.route(
        "/f.xml",
        rss([filing, notice, item(1, HEADLINES[1]), dict(filing), reissued, dict(notice)]),
    )
    async with app_for(tmp_path, [{"name": "Court", "url": url}]) as app:
        report = await app.monitor.poll_once(backfill=True)
        assert report.outcomes[0].new_items == 3
        assert len(report.alerts) == 2
        again = await app.monitor.poll_once(force=True)
        assert again.outcomes[0].new_items == 0 and again.alerts == []
