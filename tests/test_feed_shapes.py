"""Feeds in the shapes real outlets publish, parsed: the report's own words, its true outlet,
the article's address and its picture (fixtures in tests/fixtures/feeds/outlets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from casewatch.model import Entry
from casewatch.pages import PageSelectors, parse_page
from casewatch.parse import parse_feed
from casewatch.summary import item_summary

OUTLETS = Path(__file__).parent / "fixtures" / "feeds" / "outlets"
PAGES = Path(__file__).parent / "fixtures" / "pages"


def entries(name: str) -> list[Entry]:
    result = parse_feed((OUTLETS / name).read_bytes(), url=f"https://feeds.example/{name}")
    assert result.error is None and not result.skipped
    return result.entries


def lead_of(entry: Entry) -> str:
    return item_summary(entry.title, entry.summary, language=entry.language)[0]


def test_google_news_search_items_have_no_lead_their_outlet_and_the_article_address() -> None:
    single, cluster, opaque = entries("google-news-search.xml")

    assert [lead_of(e) for e in (single, cluster, opaque)] == ["", "", ""]
    assert [e.publisher for e in (single, cluster, opaque)] == [
        "The Diplomat",
        "Radio Free Asia",
        "Hong Kong Free Press HKFP",
    ]
    assert single.link == (
        "https://thediplomat.com/2026/03/uyghur-groups-ask-icc-to-reconsider-tajikistan-deportations/"
    )
    assert cluster.link == "https://www.rfa.org/english/news/uyghur/icc-deportations-03022026.html"
    # A newer id names the article on Google's side only: kept, a reader follows it there.
    assert opaque.link is not None and opaque.link.startswith("https://news.google.com/rss/")


def test_bing_news_items_name_the_writer_and_link_to_the_article() -> None:
    syndicated, diplomat = entries("bing-news.xml")

    # Yahoo carries it, Reuters wrote it.
    assert syndicated.publisher == "Reuters"
    assert (
        syndicated.link == "https://www.yahoo.com/news/un-rights-office-urges-china-074512345.html"
    )
    assert lead_of(syndicated).startswith("The U.N. human rights office on Monday urged China")
    assert syndicated.image == "http://www.bing.com/th?id=OVFT.q3kRp0MzX9Lx2fJ0WcYb1C&pid=News"
    assert diplomat.publisher == "The Diplomat"
    assert diplomat.link == (
        "https://thediplomat.com/2026/03/uyghur-groups-ask-icc-to-reconsider-tajikistan-deportations/"
    )


def test_wordpress_post_lead_skips_figure_caption_byline_share_block_and_footer() -> None:
    gutenberg, classic = entries("wordpress.xml")

    assert lead_of(gutenberg) == (
        "Lawyers for two exiled Uyghur organisations on Monday asked the Prosecutor of the "
        "International Criminal Court to reconsider the decision not to open a preliminary "
        "examination."
    )
    assert "Share this" not in gutenberg.summary and "appeared first" not in gutenberg.summary
    assert gutenberg.image == (
        "https://rights.example.org/wp-content/uploads/2026/03/icc-building-1024x683.jpg"
    )
    assert lead_of(classic) == (
        "An appeals court in Buenos Aires heard arguments on Friday on whether Argentina’s courts "
        "may investigate genocide against the Uyghurs under universal jurisdiction. The World "
        "Uyghur Congress filed the complaint in 2022."
    )
    assert classic.image == "https://rights.example.org/wp-content/uploads/2026/03/comodoro-py.jpg"


def test_guardian_standfirst_loses_continue_reading_and_keeps_the_widest_picture() -> None:
    (item,) = entries("guardian.xml")

    assert lead_of(item) == (
        "Lawyers say new witness accounts show Chinese officers operating in a member state of the "
        "court, which they argue opens a route to jurisdiction"
    )
    assert item.image is not None and "width=460" in item.image
    assert item.publisher is None  # the feed does not say: feeds.yaml `publisher:` does


@pytest.mark.parametrize("index", [0, 1])
def test_press_release_lead_starts_after_its_header_and_contact_lines(index: int) -> None:
    item = entries("press-release.xml")[index]

    found = lead_of(item)

    assert "release" not in found.lower() and "contact" not in found.lower()
    assert found.startswith(("WASHINGTON, D.C. – The Example", "Four years after"))


def test_syndicated_copies_are_credited_to_the_wire_that_wrote_them() -> None:
    ap_copy, afp_copy = entries("wire-copies.xml")

    assert (ap_copy.publisher, afp_copy.publisher) == ("AP", "AFP")
    assert lead_of(ap_copy).startswith("China on Monday rejected a call")
    assert not lead_of(afp_copy).endswith("AFP")
    assert ap_copy.image == "https://daily.example.com/images/2026/03/02/beijing-briefing.jpg"
    assert afp_copy.image == "https://daily.example.com/images/2026/03/01/bangkok-court-thumb.jpg"


def test_court_page_titles_keep_inline_markup_tight_and_have_no_lead() -> None:
    selectors = PageSelectors(entries="div.views-row", title=".record-title", date="time")
    result = parse_page(
        (PAGES / "court_decisions.html").read_bytes(),
        selectors,
        url="https://court.example.int/court-records",
    )

    titles = [e.title for e in result.entries]
    assert titles[1] == (
        "Notification of the Article 15 submission by the East Turkistan Government in Exile"
    )
    assert [e.summary for e in result.entries] == ["", ""]
