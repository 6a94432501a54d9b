"""Who an item is credited to, and one spelling per outlet, as tables."""

from __future__ import annotations

import pytest

from casewatch.config import SourceConfig
from casewatch.model import Entry
from casewatch.outlets import OutletNames, credited_outlet

NAMES = OutletNames(["The Guardian", "Hong Kong Free Press", "UN News", "The Diplomat"])


@pytest.mark.parametrize(
    ("seen", "counted_as"),
    [
        ("The Guardian", "The Guardian"),
        ("Guardian", "The Guardian"),
        ("theguardian.com", "The Guardian"),
        ("Hong Kong Free Press HKFP", "Hong Kong Free Press"),
        ("The Diplomat on MSN", "The Diplomat"),
        ("Associated Press", "AP"),
        ("AP News", "AP"),
        ("Agence France-Presse", "AFP"),
        ("Reuters.com", "Reuters"),
        ("BBC", "BBC News"),
        ("Guardian Nigeria", "Guardian Nigeria"),  # another outlet, not a spelling
        ("Hong Kong Economic Journal", "Hong Kong Economic Journal"),
        ("  Nikkei   Asia ", "Nikkei Asia"),
    ],
)
def test_one_outlet_has_one_spelling(seen: str, counted_as: str) -> None:
    assert NAMES.canonical(seen) == counted_as


FEED = SourceConfig(
    name="The Guardian, Xinjiang", url="https://g.example/rss", publisher="Guardian"
)
SEARCH = SourceConfig(name="Google News, ICC", url="https://news.example/rss", format="search")
PLAIN = SourceConfig(name="Some blog", url="https://blog.example/feed")


@pytest.mark.parametrize(
    ("entry", "cfg", "outlet"),
    [
        # what the item says wins (a wire credit or the aggregator's source element)
        (Entry(title="X", publisher="Reuters"), FEED, "Reuters"),
        (Entry(title="X"), FEED, "The Guardian"),  # the source's publisher:
        (
            Entry(title="ICC urged to act - Hong Kong Free Press HKFP"),
            SEARCH,
            "Hong Kong Free Press",
        ),
        (Entry(title="ICC urged to act - Reuters"), SEARCH, "Reuters"),
        (Entry(title="Uyghur tribunal - what happens next?"), SEARCH, None),
        (Entry(title="X"), PLAIN, None),  # unknown: never our own name for the feed
    ],
)
def test_an_item_is_credited_to_the_outlet_that_wrote_it(
    entry: Entry, cfg: SourceConfig, outlet: str | None
) -> None:
    assert credited_outlet(entry, cfg, NAMES) == outlet


@pytest.mark.parametrize(
    ("feed_title", "outlet"),
    [
        ("Xinjiang | The Guardian", "The Guardian"),
        ("Example Rights Monitor", "Example Rights Monitor"),
        ("Example Daily News - World", "Example Daily News"),  # the section is no outlet
        ("Press Releases – Example Uyghur Advocacy Group", "Example Uyghur Advocacy Group"),
        ("JURIST – News", "JURIST"),
        ("Lawfare: Hard national security choices", "Lawfare: Hard national security choices"),
        ("x" * 120, None),
    ],
)
def test_a_feed_without_publisher_is_credited_to_the_outlet_its_title_names(
    feed_title: str, outlet: str | None
) -> None:
    found = credited_outlet(Entry(title="X"), PLAIN, NAMES, feed_title=feed_title)

    assert found == outlet


def test_a_search_feed_title_is_never_the_outlet() -> None:
    found = credited_outlet(Entry(title="X"), SEARCH, NAMES, feed_title="Uyghur - Google News")

    assert found is None
