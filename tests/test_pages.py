"""HTML list pages as sources: selectors, absolute links, dates, charsets, layout changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from casewatch.pages import PageSelectors, decode_html, parse_date, parse_page
from casewatch.validation import validate

PAGES = Path(__file__).parent / "fixtures" / "pages"
PAGE_URL = "https://www.example.org/en/press/releases"
RELEASES = PageSelectors(
    entries="li.pr-item", title=".pr-title", date=".pr-date", summary=".pr-teaser"
)


def _page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_press_release_list_yields_one_entry_per_titled_item() -> None:
    result = parse_page(_page("press_releases.html"), RELEASES, url=PAGE_URL)

    assert result.error is None
    assert [entry.title for entry in result.entries] == [
        "Statement on the annual report on preliminary examination activities",
        "Office acknowledges receipt of a new submission on deportations",
        "New Prosecutor takes office",
        "Hearing schedule published",
    ]
    assert result.format == "html-page"
    assert result.feed_title == "Press releases | Office of an Example Prosecutor"
    assert result.feed_language == "en"
    assert result.entries[0].summary.startswith("The Office sets out its conclusions")


def test_entry_without_title_is_skipped_with_a_message_naming_the_selector() -> None:
    result = parse_page(_page("press_releases.html"), RELEASES, url=PAGE_URL)

    assert len(result.skipped) == 1
    assert "entry 5" in result.skipped[0]
    assert "'.pr-title'" in result.skipped[0]
    assert PAGE_URL in result.skipped[0]


def test_links_are_made_absolute_against_the_page_url_and_used_as_guid() -> None:
    result = parse_page(_page("press_releases.html"), RELEASES, url=PAGE_URL)

    links = [entry.link for entry in result.entries]
    assert links == [
        "https://www.example.org/news/statement-preliminary-examination-report",
        "https://www.example.org/en/press/statements/new-submission-received",
        "https://media.example.org/releases/2021/prosecutor-takes-office",
        "https://www.example.org/en/archive/hearing-schedule?year=2021",
    ]
    assert [entry.guid for entry in result.entries] == links


def test_dates_in_several_printed_formats_become_aware_utc() -> None:
    result = parse_page(_page("press_releases.html"), RELEASES, url=PAGE_URL)

    assert [entry.published for entry in result.entries] == [
        datetime(2020, 12, 14, tzinfo=UTC),  # "14 December 2020"
        datetime(2021, 6, 10, tzinfo=UTC),  # "June 10, 2021"
        datetime(2021, 6, 16, tzinfo=UTC),  # "16/06/2021"
        datetime(2021, 11, 11, 8, 30, tzinfo=UTC),  # <time datetime="...T09:30:00+01:00">
    ]


def test_base_href_sets_the_base_of_relative_links_and_non_http_links_are_dropped() -> None:
    selectors = PageSelectors(entries="tr.record", title="a.name", date="td:nth-child(2)")
    result = parse_page(_page("base_href.html"), selectors, url="https://www.example.org/records")

    assert [entry.link for entry in result.entries] == [
        "https://cdn.example.org/court/records/filing-0042.html",
        "https://cdn.example.org/court/records/filing-0043.html",
        None,  # javascript:void(0) is not an address
    ]
    assert [entry.published for entry in result.entries] == [
        datetime(2022, 6, 20, tzinfo=UTC),
        datetime(2022, 7, 4, tzinfo=UTC),
        datetime(2022, 7, 12, tzinfo=UTC),
    ]


def test_changed_layout_is_a_source_error_not_an_empty_success() -> None:
    result = parse_page(_page("press_releases_redesigned.html"), RELEASES, url=PAGE_URL)

    assert result.entries == []
    assert result.error == (
        f"page layout changed: selector 'li.pr-item' matched no entries on {PAGE_URL}"
    )


def test_new_selectors_read_the_redesigned_layout() -> None:
    selectors = PageSelectors(
        entries="article.card", title=".card__heading", link="a.card__link", date=".card__meta"
    )
    result = parse_page(_page("press_releases_redesigned.html"), selectors, url=PAGE_URL)

    assert result.error is None
    assert [(entry.link, entry.published) for entry in result.entries] == [
        (
            "https://www.example.org/news/statement-preliminary-examination-report",
            datetime(2020, 12, 14, tzinfo=UTC),
        ),
        (
            "https://www.example.org/news/new-submission-received",
            datetime(2021, 6, 10, tzinfo=UTC),
        ),
    ]


def test_title_selector_matching_nothing_in_any_entry_is_an_error_naming_it() -> None:
    selectors = PageSelectors(entries="li.pr-item", title="h2.headline")
    result = parse_page(_page("press_releases.html"), selectors, url=PAGE_URL)

    assert result.entries == []
    assert result.error is not None
    assert "'h2.headline'" in result.error
    assert "5 entries" in result.error


def test_link_selector_matching_nothing_in_any_entry_is_an_error_naming_it() -> None:
    selectors = PageSelectors(entries="li.pr-item", title=".pr-title", link="a.permalink")
    result = parse_page(_page("press_releases.html"), selectors, url=PAGE_URL)

    assert result.entries == []
    assert result.error is not None
    assert "'a.permalink'" in result.error


def test_windows_1252_page_declared_in_meta_is_decoded() -> None:
    selectors = PageSelectors(entries=".communique", title="a.titre", date=".date")
    result = parse_page(
        _page("communiques_windows1252.html"), selectors, url="https://www.example.org/fr/"
    )

    assert [entry.title for entry in result.entries] == [
        "Déclaration du Bureau du Procureur – « examen préliminaire » clôturé",
        "L’audience est reportée… à une date ultérieure",
    ]
    assert [entry.published for entry in result.entries] == [
        datetime(2020, 12, 14, tzinfo=UTC),  # "14 décembre 2020"
        datetime(2021, 6, 10, tzinfo=UTC),  # "10 juin 2021"
    ]
    assert result.entries[0].language == "fr"


def test_http_charset_wins_over_meta_and_latin1_labels_mean_windows_1252() -> None:
    body = '<meta charset="utf-8"><p>Uyghur’s “case”</p>'.encode("cp1252")

    assert "Uyghur’s “case”" in decode_html(body, "text/html; charset=ISO-8859-1")
    assert "\ufffd" in decode_html(body, None)  # the meta says UTF-8, so the bytes are invalid


def test_undeclared_page_falls_back_to_utf8_with_replacement() -> None:
    assert decode_html("Ürümqi".encode()) == "Ürümqi"
    assert decode_html(b"caf\xe9 <b>x</b>") == "caf\ufffd <b>x</b>"


def test_repeated_link_on_a_page_is_one_entry() -> None:
    body = b"""<ul>
      <li><a href="/a">First listing</a></li>
      <li><a href="/a#more">First listing again, in a teaser box</a></li>
      <li><a href="/b">Second</a></li></ul>"""
    result = parse_page(body, PageSelectors(entries="li", title="a"), url="https://x.example/")

    assert [entry.link for entry in result.entries] == [
        "https://x.example/a",
        "https://x.example/b",
    ]
    assert "already listed" in result.skipped[0]


def test_default_link_is_the_titles_own_link_not_an_earlier_one() -> None:
    body = b"""<div class="e"><a href="/topics/asia">Asia</a>
      <h2><a href="/news/ruling">Ruling on the appeal</a></h2></div>
      <a class="e" href="/news/whole-card"><h2>Whole card is a link</h2></a>"""
    result = parse_page(body, PageSelectors(entries=".e", title="h2"), url="https://x.example/")

    assert [entry.link for entry in result.entries] == [
        "https://x.example/news/ruling",
        "https://x.example/news/whole-card",
    ]


def test_unreadable_date_keeps_the_entry_and_says_so() -> None:
    body = b'<div class="e"><a href="/a">Title</a><span class="d">sometime soon</span></div>'
    selectors = PageSelectors(entries="div.e", title="a", date="span.d")
    result = parse_page(body, selectors, url="https://x.example/")

    assert [entry.published for entry in result.entries] == [None]
    assert "'sometime soon' not understood" in result.skipped[0]


def test_date_from_an_attribute_of_the_entry_itself() -> None:
    body = b'<div class="e" data-published="2022-08-31T16:00:00Z"><a href="/r">Report</a></div>'
    selectors = PageSelectors(entries="div.e", title="a", date_attr="data-published")
    result = parse_page(body, selectors, url="https://x.example/")

    assert result.entries[0].published == datetime(2022, 8, 31, 16, 0, tzinfo=UTC)


def test_empty_body_is_an_error_naming_the_url() -> None:
    result = parse_page(b"  ", RELEASES, url=PAGE_URL)

    assert result.error == f"empty page body from {PAGE_URL}"


@pytest.mark.parametrize("field", ["entries", "title", "link", "date", "summary"])
def test_selector_that_does_not_compile_is_refused_naming_it(field: str) -> None:
    values = {"entries": "li", "title": "a", field: "div >"}
    with pytest.raises(ValidationError) as raised:
        validate(PageSelectors, values)

    assert "'div >'" in str(raised.value)
    assert field in str(raised.value)


def test_unknown_selector_option_is_refused() -> None:
    with pytest.raises(ValidationError, match="headline"):
        validate(PageSelectors, {"entries": "li", "title": "a", "headline": "h2"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 December 2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("2020-12-14", datetime(2020, 12, 14, tzinfo=UTC)),
        ("December 14, 2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("Dec. 14, 2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("Monday, 14th December 2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("14/12/2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("04/12/2020", datetime(2020, 12, 4, tzinfo=UTC)),  # ambiguous: day first
        ("12/14/2020", datetime(2020, 12, 14, tzinfo=UTC)),  # only month first is possible
        ("14.12.2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("2020-12-14T10:15:00Z", datetime(2020, 12, 14, 10, 15, tzinfo=UTC)),
        ("2020-12-14T10:15:00.250-05:00", datetime(2020, 12, 14, 15, 15, tzinfo=UTC)),
        ("Published 14 Dec 2020, 3:45 pm GMT", datetime(2020, 12, 14, 15, 45, tzinfo=UTC)),
        ("14 décembre 2020", datetime(2020, 12, 14, tzinfo=UTC)),
        ("16 de agosto de 2022", datetime(2022, 8, 16, tzinfo=UTC)),
        ("31. März 2023", datetime(2023, 3, 31, tzinfo=UTC)),
    ],
)
def test_common_date_formats(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "31 February 2021", "Smarch 3, 2020"])
def test_dates_not_understood_are_none(text: str) -> None:
    assert parse_date(text) is None
