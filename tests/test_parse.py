"""parse_feed over the fixture feeds: every format, hostile documents, non-feeds, broken entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from casewatch.model import ParseResult
from casewatch.parse import inspect_prolog, parse_feed
from tests.feedserver import atom, rss

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
URL = "https://feeds.example.test/feed"


def parse_fixture(name: str, content_type: str | None = "application/rss+xml") -> ParseResult:
    return parse_feed((FEEDS / name).read_bytes(), content_type=content_type, url=URL)


def test_rss091_with_netscape_doctype_parses() -> None:
    result = parse_fixture("rss091.xml")
    assert result.error is None
    assert result.format == "rss091n"
    assert result.feed_title == "Uyghur Rights Bulletin"
    assert result.feed_language == "en-gb"
    assert [e.title for e in result.entries] == [
        "Lawyers file Article 15 communication with the ICC Prosecutor",
        "Prosecutor: territorial precondition not met",
    ]
    assert result.entries[1].link == "http://bulletin.example.org/2020/12/no-basis"
    assert result.entries[0].summary.startswith("The East Turkistan Government in Exile")
    assert all(e.language == "en-gb" for e in result.entries)


def test_rss10_rdf_parses_with_dublin_core_dates_and_creator() -> None:
    result = parse_fixture("rss10.rdf", "application/rdf+xml")
    assert result.error is None
    assert result.format == "rss10"
    first, second = result.entries
    assert first.title == "Deportation from Tajikistan as a basis for ICC jurisdiction"
    assert first.link == "http://journal.example.net/posts/deportation-jurisdiction"
    assert first.author == "A. Jurist"
    assert first.tags == ["ICC"]
    # dc:date is the only date: it serves as published, converted to UTC.
    assert first.published == datetime(2021, 6, 10, 7, 30, tzinfo=UTC)
    assert second.published == datetime(2022, 11, 14, tzinfo=UTC)
    assert first.language == "en"


def test_rss20_parses_titles_links_guids_dates_content_and_tags() -> None:
    result = parse_fixture("rss20.xml")
    assert result.error is None
    assert result.format == "rss20"
    assert result.feed_title == "Rights & Justice News"
    first, second = result.entries
    assert first.title == "Uyghur groups ask the ICC to reconsider"  # markup stripped
    assert first.guid == "news-example-4711"
    assert first.summary == "New evidence of deportations from Tajikistan was filed."
    assert "new evidence shows deportations" in first.content
    assert "alert" not in first.content  # scripts never reach the text
    assert first.published == datetime(2021, 6, 10, 12, 5, tzinfo=UTC)
    assert first.published.tzinfo is UTC
    assert first.author == "Jane Reporter"
    assert first.tags == ["ICC", "Uyghurs"]
    assert first.language == "en-us"
    # A relative link resolves against the address the feed was fetched from.
    assert second.link == "https://feeds.example.test/2021/relative-link"


def test_atom_parses_html_and_xhtml_text_languages_and_dates() -> None:
    result = parse_fixture("atom.xml", "application/atom+xml")
    assert result.error is None
    assert result.format == "atom10"
    assert result.feed_title == "Veille Ouïghours"
    first, second = result.entries
    assert first.title == "Les Ouïghours et la Cour pénale internationale"
    assert first.link == "https://veille.example.fr/2021/06/cpi"
    assert first.guid == "tag:veille.example.fr,2021:cpi"
    assert first.summary == "Une deuxième communication au Procureur."
    assert first.content == "Le texte complet de l'article."
    assert first.published == datetime(2021, 6, 10, 14, 0, tzinfo=UTC)
    assert first.updated == datetime(2021, 6, 11, 7, 30, tzinfo=UTC)
    assert first.author == "Marie Dupont"
    assert first.language == "fr"
    assert second.language == "en"  # xml:lang on the entry wins over the feed's
    assert second.summary == "Only content, no summary."
    assert second.published == datetime(2021, 6, 9, 12, 0, tzinfo=UTC)  # from <updated>


@pytest.mark.parametrize("content_type", ["application/feed+json", "application/json", None])
def test_json_feed_11_parses(content_type: str | None) -> None:
    result = parse_fixture("jsonfeed.json", content_type)
    assert result.error is None
    assert result.format == "json1"
    assert result.feed_title == "Case Watch JSON"
    first, second = result.entries
    assert first.title == "Uyghur Tribunal delivers its judgment"
    assert first.guid == "2"
    assert first.content == "The tribunal in London found genocide."
    assert first.summary == "The independent tribunal chaired by Sir Geoffrey Nice ruled."
    assert first.published == datetime(2021, 12, 9, 10, 0, tzinfo=UTC)
    assert first.updated == datetime(2021, 12, 9, 12, 0, tzinfo=UTC)
    assert first.author == "Desk"
    assert first.tags == ["tribunal", "genocide"]
    assert first.language == "en"
    assert second.guid == "1"  # a numeric id still becomes a string
    assert second.link == "https://json.example.org/2021/ohchr-assessment"
    assert second.published == datetime(2022, 9, 1, 3, 45, tzinfo=UTC)
    assert second.summary == second.content
    assert second.language == "en-gb"


def test_json_feed_10_parses_with_single_author() -> None:
    result = parse_fixture("jsonfeed10.json", "application/json")
    assert result.error is None
    assert result.format == "json1"
    (entry,) = result.entries
    assert entry.author == "Solo Author"
    assert entry.published == datetime(2020, 7, 6, 12, 0, tzinfo=UTC)


def test_json_feed_bad_item_is_skipped_not_the_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [
            {"id": "1", "url": "https://a.example/1", "title": "good"},
            {"id": "2", "url": "https://a.example/2", "title": "bad date", "date_published": 7},
            "not an object",
            {"id": "4", "content_text": "no title and no url"},
            {"id": "5", "url": "https://a.example/5", "title": "also good"},
        ],
    }
    result = parse_feed(json.dumps(doc).encode(), content_type="application/feed+json")
    assert [e.title for e in result.entries] == ["good", "also good"]
    assert len(result.skipped) == 3
    assert "item 2" in result.skipped[0] and "date_published" in result.skipped[0]
    assert "item 3" in result.skipped[1] and "object" in result.skipped[1]
    assert "item 4: no title and no url" in result.skipped[2]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"title": "x", "items": []}', "not a feed: JSON without a JSON Feed 1.x version"),
        (b'{"version": "https://jsonfeed.org/version/1.1"', "not a feed: invalid JSON"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": 3}', "'items' is not a list"),
    ],
)
def test_json_that_is_not_a_json_feed_is_an_error(body: bytes, message: str) -> None:
    result = parse_feed(body, content_type="application/json", url=URL)
    assert result.entries == []
    assert result.error is not None
    assert result.error.startswith(URL)
    assert message in result.error


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-entity.xml"])
def test_entity_declarations_are_refused_before_parsing(name: str) -> None:
    result = parse_fixture(name)
    assert result.entries == []
    assert result.error == (
        f"{URL}: refused: DOCTYPE with an internal subset "
        "(entity declarations are never needed in a feed)"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd"><rss/>',
            "DOCTYPE refers to a non-web resource",
            id="external DTD on the local disk",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!-- c --><!ENTITY a "b"><rss version="2.0"/>',
            "markup declaration <!ENTITY outside a DOCTYPE",
            id="entity outside a doctype",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<!doctype rss [ <!ENTITY a "b"> ]><rss/>',
            "internal subset",
            id="lower-case doctype",
        ),
        pytest.param(
            '<?xml version="1.0" encoding="utf-16"?>\n<!DOCTYPE r [<!ENTITY a "x">]><rss/>'.encode(
                "utf-16"
            ),
            "internal subset",
            id="utf-16 with BOM",
        ),
        pytest.param(
            b'<!DOCTYPE rss PUBLIC "-//x//[" "http://x/" [ <!ENTITY a "b"> ]><rss/>',
            "internal subset",
            id="bracket inside a quoted literal does not hide the subset",
        ),
        pytest.param(b"<!DOCTYPE rss SYSTEM 'http://x/", "DOCTYPE never closed", id="unclosed"),
    ],
)
def test_hostile_prologs_are_refused(body: bytes, reason: str) -> None:
    result = parse_feed(body, url=URL)
    assert result.entries == []
    assert result.error is not None and result.error.startswith(f"{URL}: refused: ")
    assert reason in result.error


def test_prolog_inspection_allows_comments_and_processing_instructions() -> None:
    body = (
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n'
        b'<!-- <!ENTITY not really> -->\n<rdf:RDF xmlns:rdf="x"/>'
    )
    prolog = inspect_prolog(body)
    assert prolog.root == "rdf"
    assert prolog.doctype is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ((FEEDS / "html-page.html").read_bytes(), "text/html; charset=utf-8"),
        ((FEEDS / "html-page.html").read_bytes(), "application/rss+xml"),  # the header lies
        (b"<html><body><p>Moved</p></body></html>", None),
        (
            b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
            b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html/>',
            None,
        ),
        (b"<p>Some tag soup</p><div>without a root</div>", "text/html"),
    ],
)
def test_html_served_instead_of_a_feed_is_named(body: bytes, content_type: str | None) -> None:
    result = parse_feed(body, content_type=content_type, url=URL)
    assert result.entries == []
    assert result.error == f"{URL}: not a feed: looks like an HTML page"


def test_rss_served_as_text_html_still_parses() -> None:
    body = rss([{"title": "Served with the wrong type", "link": "https://a.example/1"}])
    result = parse_feed(body, content_type="text/html")
    assert result.error is None
    assert [e.title for e in result.entries] == ["Served with the wrong type"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"  \n ", "empty document"),
        (b"just some words", "not a feed: no RSS, Atom or JSON Feed structure found"),
        (b'<?xml version="1.0"?><config><a>1</a></config>', "not a feed: no RSS, Atom"),
    ],
)
def test_documents_without_feed_structure_are_errors(body: bytes, message: str) -> None:
    result = parse_feed(body, url=URL)
    assert result.entries == []
    assert result.error is not None and result.error.startswith(f"{URL}: {message}")


def test_invalid_xml_keeps_recovered_entries_and_notes_it() -> None:
    result = parse_fixture("invalid.xml")
    assert result.error is None
    assert [e.title for e in result.entries] == [
        "Ampersands & angle brackets break strict parsers",
        "Second entry survives",
    ]
    assert result.entries[0].published == datetime(2020, 12, 14, 10, 0, tzinfo=UTC)
    assert len(result.skipped) == 1
    assert result.skipped[0].startswith("document: not well-formed XML (line 4")


@pytest.mark.parametrize(
    ("name", "title", "summary"),
    [
        (
            "wrong-encoding-latin1.xml",
            "Les Ouïghours déportés du Tadjikistan",
            "Réfugiés renvoyés en Chine, selon la plainte.",
        ),
        (
            "windows-1252.xml",
            "“Genocide” ruling — what the tribunal said",
            "The tribunal’s chair spoke for 90 minutes…",
        ),
    ],
)
def test_wrongly_declared_encoding_still_yields_text(name: str, title: str, summary: str) -> None:
    result = parse_fixture(name, "application/rss+xml; charset=utf-8")
    assert result.error is None
    (entry,) = result.entries
    assert isinstance(entry.title, str)
    assert entry.title == title
    assert entry.summary == summary
    assert result.skipped == []  # an encoding fix-up is not a broken document


def test_one_broken_entry_is_skipped_and_the_rest_kept() -> None:
    result = parse_fixture("broken-entry.xml")
    assert result.error is None
    assert [e.title for e in result.entries] == [
        "First good entry",
        "Entry with a javascript link and a date that is not one",
        "Last good entry",
    ]
    assert result.skipped == ["entry 2: no title and no link"]
    odd = result.entries[1]
    assert odd.link is None  # only http(s) links are kept from untrusted feeds
    assert odd.published is None


def test_google_news_source_element_becomes_the_publisher() -> None:
    result = parse_fixture("google-news.xml")
    assert result.error is None
    assert [(e.publisher, e.published) for e in result.entries] == [
        ("Reuters", datetime(2020, 7, 6, 16, 12, tzinfo=UTC)),
        ("The Guardian", datetime(2020, 12, 15, 8, 30, tzinfo=UTC)),
    ]
    first = result.entries[0]
    assert first.title == "Uyghur exiles press ICC to open investigation - Reuters"
    assert first.link is not None and first.link.startswith("https://news.google.com/rss/articles/")
    assert first.guid == "CBMiVGh0dHBzOi8vd3d3LnJldXRlcnMuY29tL3dvcmxkL3V5Z2h1cg"
    assert "<a" not in first.summary and "&nbsp;" not in first.summary


def test_builders_round_trip_through_the_parser() -> None:
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    items = [
        {
            "title": "ICC & the Uyghurs <update>",
            "link": "https://a.example/1",
            "guid": "g1",
            "description": "Text",
            "pubDate": when,
            "source": "AP",
        }
    ]
    for body, fmt in ((rss(items), "rss20"), (atom(items), "atom10")):
        result = parse_feed(body)
        assert result.format == fmt
        (entry,) = result.entries
        assert (entry.title, entry.link, entry.guid, entry.summary) == (
            "ICC & the Uyghurs <update>",  # escaped text stays text, not markup
            "https://a.example/1",
            "g1",
            "Text",
        )
        assert entry.published == when
        assert entry.publisher == "AP"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://example.org/a b", "https://example.org/a%20b"),  # Discord refuses raw spaces
        ("http://[::1", None),  # unbalanced bracket
        ("javascript:alert(1)", None),
        ("/relative/path", "https://feed.example.org/relative/path"),
    ],
)
def test_entry_links_are_web_links_discord_accepts(link: str, expected: str | None) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<link>https://feed.example.org/</link><item><title>Uyghur case</title>"
        f"<link>{link}</link><guid>g1</guid></item></channel></rss>"
    ).encode()
    result = parse_feed(body, url="https://feed.example.org/rss.xml")
    assert result.entries[0].link == expected
