"""The fast path of parse_feed (feedparser-rs) against feedparser: the differential specification.

Every feed fixture, under the content types feeds are served with, gives the same ParseResult
(our entries, field by field) through both paths. Where feedparser-rs reads a document otherwise
than feedparser, the fast path refuses it and feedparser decides: each such case is a row below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import feedparser_rs
import pytest

from casewatch.parse import Parser, _feedparser_urljoin, _joined, fast_path, parse_feed
from tests.feedserver import atom, rss

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
URL = "https://feeds.example.test/feed"
XML_FIXTURES = sorted(
    path
    for path in FEEDS.rglob("*")
    if path.is_file() and path.suffix in (".xml", ".rdf", ".html", ".json")
)
CONTENT_TYPES = [
    "application/rss+xml",
    None,
    "text/xml",
    "application/xml; charset=utf-8",
    "text/html",
    "application/atom+xml; charset=ISO-8859-1",
]

# Shapes the fast path must read itself: if these fell back, the speed-up would be gone.
FAST = [
    "rss20.xml",
    "atom.xml",
    "rss10.rdf",
    "google-news.xml",
    "outlets/google-news-search.xml",
    "outlets/guardian.xml",
    "outlets/press-release.xml",
    "outlets/wire-copies.xml",
    "outlets/wordpress.xml",
    "shapes/google-news-cbmi.xml",
    "shapes/wordpress-full.xml",
    "shapes/atom-relative.xml",
    "shapes/rss10-full.rdf",
    "shapes/court-press-releases.xml",
    "shapes/media-rss.xml",
    "shapes/dates-odd.xml",
    "shapes/entities-cdata.xml",
    "shapes/rss092.xml",
    "shapes/empty-channel.xml",
    "shapes/utf8-bom.xml",
    "shapes/utf8-undeclared.xml",
    "shapes/authors.xml",
    "shapes/atom-authors.xml",
]


def both(body: bytes, content_type: str | None, url: str = URL) -> tuple[object, object]:
    slow = parse_feed(body, content_type=content_type, url=url, parser="feedparser")
    fast = parse_feed(body, content_type=content_type, url=url)
    return slow, fast


def assert_item_goes_to_feedparser(item: str, why: str) -> None:
    """An RSS item holding `item` is given to feedparser for `why`, and reads the same."""
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        f"<link>https://a.example/1</link>{item}</item></channel></rss>"
    ).encode()
    assert fast_path(body)[1] == why
    slow, fast = both(body, None)
    assert fast == slow


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("path", XML_FIXTURES, ids=lambda p: str(p.relative_to(FEEDS)))
def test_every_fixture_parses_the_same_through_both_paths(
    path: Path, content_type: str | None
) -> None:
    slow, fast = both(path.read_bytes(), content_type)
    assert fast == slow


@pytest.mark.parametrize("url", [URL, ""])
def test_built_feeds_parse_the_same_through_both_paths(url: str) -> None:
    when = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    items = [
        {
            "title": f"Entry {n} & <things> about the ICC",
            "link": f"https://a.example/{n}",
            "guid": f"g{n}",
            "description": f"<p>Paragraph {n}.</p><p>GENEVA (Reuters) - More text {n}.</p>",
            "pubDate": when,
            "source": "AP" if n % 2 else None,
        }
        for n in range(5)
    ]
    for body in (rss(items), atom(items), rss(items, language=None)):
        slow, fast = both(body, "application/rss+xml", url)
        assert fast == slow


@pytest.mark.parametrize("name", FAST)
def test_usual_shapes_take_the_fast_path(name: str) -> None:
    shaped, why = fast_path((FEEDS / name).read_bytes(), "application/rss+xml", URL)
    assert why is None
    assert shaped is not None


@pytest.mark.parametrize(
    ("name", "content_type", "why"),
    [
        # Encodings: feedparser's detection and recovery decide anything but UTF-8.
        ("shapes/latin1-declared.xml", None, "declared ISO-8859-1"),
        ("shapes/windows-1252-declared.xml", None, "declared windows-1252"),
        ("shapes/latin1-undeclared.xml", None, "not valid UTF-8"),
        ("windows-1252.xml", None, "not valid UTF-8"),  # declared UTF-8, is not
        ("shapes/utf16-bom.xml", None, "not valid UTF-8"),
        ("shapes/utf16-le-no-declaration.xml", None, "not valid UTF-8"),
        ("rss20.xml", "text/xml; charset=iso-8859-1", "served as iso-8859-1"),
        # feedparser-rs resolves relative links against the channel's link, not xml:base.
        ("shapes/atom-xml-base.xml", None, "xml:base"),
        # feedparser-rs does not read Bing News' <News:Source> (the outlet) or <News:Image>.
        ("outlets/bing-news.xml", None, "Bing News elements"),
        # ...nor dcterms:issued/modified or atom:updated inside RSS.
        ("shapes/dcterms-dates.xml", None, "date element dcterms:issued"),
        # A self-closing <category/> (or <guid/>, <author/>...) in an item ends its reading.
        ("shapes/author-forms.xml", None, "not well-formed for feedparser-rs"),
        # Not well-formed: feedparser's lenient parser recovers the entries.
        ("invalid.xml", None, "undefined entity &"),
        ("broken-entry.xml", "text/xml; charset=utf-16", "served as utf-16"),
        # feedparser names an Atom entry's last author, feedparser-rs its first.
        ("shapes/atom-two-authors.xml", None, "an Atom entry with several authors"),
        # JSON Feed is ours; HTML is named as such.
        ("jsonfeed.json", None, "not well-formed XML (not well-formed (invalid token)"),
        ("html-page.html", None, "not well-formed XML (mismatched tag"),
    ],
)
def test_documents_read_otherwise_go_to_feedparser(
    name: str, content_type: str | None, why: str
) -> None:
    shaped, reason = fast_path((FEEDS / name).read_bytes(), content_type, URL)
    assert shaped is None
    assert reason is not None and why in reason


def test_self_closing_item_elements_lose_fields_in_the_fast_parser_but_not_in_ours() -> None:
    body = (FEEDS / "shapes" / "author-forms.xml").read_bytes()
    misread = feedparser_rs.parse(body)  # what the fallback is for: <comments/> ends the item
    assert misread.bozo and misread.entries[0].get("author") is None
    result = parse_feed(body, url=URL)
    assert len(result.entries) == 7
    assert result.entries[0].author == "editor@authors.example.org (Jo Editor)"


@pytest.mark.parametrize(
    "link", ["http://127.0.0.1:8080/article", "http://10.1.2.3/a", "http://[::1]/a", ""]
)
def test_links_to_internal_hosts_are_kept_as_feedparser_keeps_them(link: str) -> None:
    # feedparser-rs blanks them; following them or not is casewatch's call (fetch.allow_internal).
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>x</title>'
        f'<link>{link}</link><enclosure url="{link or "http://10.0.0.1/p.jpg"}" type="image/jpeg"/>'
        "</item></channel></rss>"
    ).encode()
    assert fast_path(body)[1] == "a link feedparser-rs blanks (an internal host) or an empty one"
    slow, fast = both(body, None)
    assert fast == slow
    (entry,) = parse_feed(body).entries
    assert entry.link == (link or None)


@pytest.mark.parametrize(
    ("item", "why"),
    [
        pytest.param(
            "<title>a</title><title>b</title><description>d1</description>"
            "<description>d2</description>",
            "an entry with two titles, descriptions or summaries",
            id="repeated fields",
        ),
        pytest.param(
            "".join(f"<category>t{n}</category>" for n in range(120)),
            "more tags, enclosures, media or contents than feedparser-rs keeps",
            id="120 categories",
        ),
        pytest.param(
            "".join(
                f'<enclosure url="https://a.example/{n}.jpg" type="image/jpeg"/>' for n in range(25)
            ),
            "more tags, enclosures, media or contents than feedparser-rs keeps",
            id="25 enclosures",
        ),
    ],
)
def test_entries_the_fast_parser_would_cut_short_go_to_feedparser(item: str, why: str) -> None:
    assert_item_goes_to_feedparser(item, why)


def test_atom_feed_author_is_not_given_to_entries_without_their_own() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><author><name>Desk</name>'
        b"</author><entry><title>No author</title><link href='https://a.example/1'/></entry>"
        b"</feed>"
    )
    assert feedparser_rs.parse(body).entries[0].author  # what the fallback is for
    assert fast_path(body)[1] == "Atom feed-level author"
    (entry,) = parse_feed(body).entries
    assert entry.author is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Monday, 02 March 2026 07:00:00 GMT", datetime(2026, 3, 2, 7, 0, tzinfo=UTC)),
        ("Mon, 02 Mar 2026 07:00:00 +01:00", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        # feedparser does not know CET and reads the time as UTC: what casewatch always did.
        ("Fri, 27 Feb 2026 17:30:00 CET", datetime(2026, 2, 27, 17, 30, tzinfo=UTC)),
        ("Mon, 02 Mar 2026 07:00:00 EST", datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
        ("yesterday", None),
        ("Mon, 31 Feb 2026 07:00:00 GMT", None),
    ],
)
def test_dates_the_fast_parser_cannot_read_are_read_as_feedparser_reads_them(
    text: str, expected: datetime | None
) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        f"<title>x</title><link>https://a.example/1</link><pubDate>{text}</pubDate>"
        "</item></channel></rss>"
    ).encode()
    assert fast_path(body)[1] is None
    (entry,) = parse_feed(body).entries
    assert entry.published == expected


@pytest.mark.parametrize("parser", ["auto", "feedparser"])
def test_atom_html_content_without_a_summary_gives_a_lead_without_tags(parser: Parser) -> None:
    # feedparser copied the content into the summary without its type: the lead showed "<p>".
    body = (FEEDS / "shapes" / "atom-authors.xml").read_bytes()
    entry = parse_feed(body, url=URL, parser=parser).entries[1]
    assert entry.summary == "Zwei Autoren."


def test_relative_pictures_in_markup_resolve_against_the_documents_address() -> None:
    body = (FEEDS / "shapes" / "wordpress-full.xml").read_bytes()
    slow, fast = both(body, None, "https://watchers.example.org/feed/")
    assert fast == slow
    entry = parse_feed(body, url="https://watchers.example.org/feed/").entries[1]
    assert entry.image == "https://watchers.example.org/wp-content/uploads/2026/03/roundup.png"


# Hostile and huge documents: the fast parser refuses them quickly and feedparser (behind the
# prolog check that refuses entity declarations) decides, as it did before.

HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>x</title>'
TAIL = b"<link>https://a.example/1</link></item></channel></rss>"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        pytest.param(HEAD + b"<a>" * 5000 + b"</a>" * 5000 + TAIL, "nesting depth", id="deep"),
        pytest.param(
            HEAD + b"<description>" + b"x" * (11 * 1024 * 1024) + b"</description>" + TAIL,
            "exceeds maximum length",
            id="huge text",
        ),
        pytest.param(
            HEAD.replace(b"<item><title>x</title>", b"")
            + b"<item><title>x</title></item>" * 10_001
            + b"</channel></rss>",
            "Entry limit exceeded",
            id="too many entries",
        ),
        pytest.param(HEAD + b"<a>&xxe;</a>" + TAIL, "undefined entity &xxe;", id="entity"),
        pytest.param(HEAD + b"<a>&#xZZ;</a>" + TAIL, "undefined entity &#xZZ;", id="bad ref"),
    ],
)
def test_hostile_documents_are_refused_by_the_fast_parser(body: bytes, why: str) -> None:
    shaped, reason = fast_path(body, None, URL)
    assert shaped is None
    assert reason is not None and why in reason


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-entity.xml"])
def test_entity_declarations_never_reach_either_parser(name: str) -> None:
    result = parse_feed((FEEDS / name).read_bytes(), url=URL)
    assert result.entries == []
    assert result.error is not None and "refused" in result.error


def test_a_body_that_is_an_address_is_never_fetched() -> None:
    # feedparser-rs fetches a *string* that is a URL; parse_feed hands it bytes of a document
    # whose first element is a feed's, never anything else.
    result = parse_feed(b"http://127.0.0.1:9/feed.xml", url=URL)
    assert result.entries == []
    assert result.error is not None and "not a feed" in result.error


@pytest.mark.parametrize("base", ["https://feeds.example.test/feed", "", "http://h.example/a/"])
@pytest.mark.parametrize(
    "ref",
    [
        "https://a.example",
        "https://a.example/",
        "https://a.example/x?a=1&b=2#frag",
        "https://a.example:8443/x/y.html",
        "https://a.example/x?",  # urljoin drops an empty query
        "https://a.example/x#",
        "https://a.example/x;",
        "https://a.example//x",
        "https://a.example/./x",
        "https://a.example/a/../x",
        "https://a.example/x/..",
        "http:///a.example/x",  # feedparser's fix-up of extra slashes
        "https://a.example/a b",
        "HTTPS://a.example/x",
        "/relative/x",
        "relative",
        "urn:uuid:1f0c8a6e-2b9d-4e35-8f1a-0d9b8c7e6f51",
        "tag:courtwatch.example.net,2026:1",
        "31885 at https://court.example.int",
    ],
)
def test_addresses_resolve_as_feedparser_resolves_them(base: str, ref: str) -> None:
    assert _joined(base, ref) == _feedparser_urljoin(base, ref)


class PanicException(BaseException):
    """What pyo3 raises for a panic in Rust code: a BaseException, not an Exception."""


@pytest.mark.parametrize("error", [RuntimeError("boom"), PanicException("index out of bounds")])
def test_a_fast_parser_failure_falls_back_to_feedparser(
    monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    def failing(*args: object, **kwargs: object) -> object:
        raise error

    monkeypatch.setattr(feedparser_rs, "parse", failing)
    body = (FEEDS / "rss20.xml").read_bytes()
    assert fast_path(body)[1] == f"feedparser-rs raised {type(error).__name__}: {error}"
    result = parse_feed(body, url=URL)
    assert [e.title for e in result.entries] == [
        "Uyghur groups ask the ICC to reconsider",
        "Relative links are resolved against the feed",
    ]


def test_an_interrupt_is_not_taken_for_a_fast_parser_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(feedparser_rs, "parse", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fast_path((FEEDS / "rss20.xml").read_bytes())


@pytest.mark.parametrize(
    ("item", "why"),
    [
        pytest.param(
            "<description>Text <b>bold</b> and <p>more</p></description>",
            "an element inside <description>",
            id="unescaped HTML in a description",
        ),
        pytest.param(
            "<title>A <em>title</em></title><description>d</description>",
            "an element inside <title>",
            id="markup in a title",
        ),
        pytest.param(
            '<title xml:lang="de">Titel</title>',
            "xml:lang on <title>",
            id="xml:lang on a field",
        ),
        pytest.param(
            "<title>x</title><description>a <i>b</i> &lt; c</description>",
            "an element inside <description>",
            id="markup and escapes",
        ),
    ],
)
def test_markup_inside_text_fields_goes_to_feedparser(item: str, why: str) -> None:
    # feedparser reads the markup as part of the text; feedparser-rs stops at it.
    assert_item_goes_to_feedparser(item, why)


def test_a_document_feedparser_itself_fails_on_is_a_one_line_error() -> None:
    # An XML declaration naming a broken encoding made feedparser raise UnicodeDecodeError.
    body = b'<?xml version="1.0" encoding="utf\xc3-8"?>\n<rss version="2.0"><channel/></rss>'
    result = parse_feed(body, url=URL)
    assert result.entries == []
    assert result.error is not None
    assert result.error.startswith(f"{URL}: not a feed: feedparser could not read it (")
    assert "\n" not in result.error


def test_a_dc_date_the_fast_parser_cannot_read_is_read_by_feedparser() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<channel><title>T</title><dc:date>2026-03-01T00:00:00Z</dc:date><item><title>x</title>"
        b"<link>https://a.example/1</link><dc:date>2026-03-07:00:00</dc:date></item>"
        b"</channel></rss>"
    )
    assert fast_path(body)[1] == "a dc:date feedparser-rs cannot read"
    (entry,) = parse_feed(body).entries
    assert entry.published == datetime(2026, 3, 7, tzinfo=UTC)
