"""Feed documents to entries: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed by hand.

Fast path: feedparser-rs (Rust, 20-60x faster) reads the document when it reads it as feedparser
does, and its result is shaped as feedparser's, so one function makes our entries from either;
any document it misreads, refuses or raises on goes to feedparser (`fast_path` says why;
tests/test_parse_fast.py holds the two paths to identical results on every fixture). Only a
document expat (feedparser's strict parser) finds well-formed is taken. One difference is left:
HTML inside a description that is itself broken (an attribute cut short) reaches the cleaner
as written, where feedparser first re-wrote it through its sanitizer; lexbor repairs it its own
way, so a few words can differ (found only by fuzzing mutated fixtures).

Hostile XML (a DOCTYPE with an internal subset, which is where entity bombs and external entities
live) is refused before feedparser sees the bytes. HTML pages served in place of a feed are named
as such. One broken entry is skipped with a message; it never costs the rest of the feed.
"""

from __future__ import annotations

import codecs
import html
import html.entities
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit
from xml.parsers import expat
from xml.sax import SAXParseException

import feedparser
import feedparser_rs
from feedparser.datetimes import _parse_date as _feedparser_date
from feedparser.urls import _urljoin as _feedparser_urljoin

from casewatch import clean, links
from casewatch.model import Entry, ParseResult
from casewatch.text import collapse, html_to_text

Parser = Literal["auto", "feedparser"]
JSON_FEED_FORMAT = "json1"
_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel"})
_HTML_ROOTS = frozenset({"html", "head", "body"})
# feedparser reports these as "bozo" although the document parsed fine.
_BENIGN_BOZO = (
    feedparser.CharacterEncodingOverride,
    feedparser.NonXMLContentType,
)


class HostileDocument(ValueError):
    """The XML prolog declares things a feed never needs and an attacker often does."""


@dataclass(frozen=True)
class _Prolog:
    root: str | None  # local name of the first element, lower-cased; None if not reached
    doctype: str | None  # the DOCTYPE's name, lower-cased


def parse_feed(
    body: bytes, *, content_type: str | None = None, url: str = "", parser: Parser = "auto"
) -> ParseResult:
    """Parse one fetched feed document into entries, refusing hostile or non-feed documents.

    `parser="feedparser"` skips the fast path (the differential tests compare the two).
    """
    where = f"{url}: " if url else ""
    if not body or not body.strip():
        return ParseResult(entries=[], error=f"{where}empty document")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url)
    try:
        prolog = inspect_prolog(body)
    except HostileDocument as exc:
        return ParseResult(entries=[], error=f"{where}refused: {exc}")
    if prolog.doctype == "html" or prolog.root in _HTML_ROOTS:
        return ParseResult(entries=[], error=f"{where}not a feed: looks like an HTML page")
    return _parse_xml_feed(body, content_type, url, prolog, parser)


def inspect_prolog(body: bytes) -> _Prolog:
    """Walk the XML prolog up to the root element; raise HostileDocument on a DTD subset."""
    text = _decode_head(body)
    i, n = 0, len(text)
    doctype: str | None = None
    while i < n:
        c = text[i]
        if c.isspace() or c == "\ufeff":
            i += 1
            continue
        if c != "<":
            # Text before the root: not well-formed; leave the verdict to the parsers, but a
            # DOCTYPE further on is still looked at, because the lenient parser reads it.
            nxt = text.find("<", i)
            if nxt < 0:
                break
            i = nxt
            continue
        if text.startswith("<?", i):
            i = _skip_past(text, i, "?>")
        elif text.startswith("<!--", i):
            i = _skip_past(text, i, "-->")
        elif text[i : i + 9].upper() == "<!DOCTYPE":
            name, i = _read_doctype(text, i)
            doctype = doctype or name
        elif text.startswith("<!", i):
            # <!ENTITY, <!ELEMENT, <![CDATA[ ... outside a DOCTYPE: never part of a feed prolog.
            word = text[i + 2 : i + 10].upper()
            if word.startswith(("ENTITY", "ELEMENT", "ATTLIST", "NOTATION")):
                raise HostileDocument(f"markup declaration <!{word.split()[0]} outside a DOCTYPE")
            i = _skip_past(text, i, ">")
        else:
            tag = text[i + 1 : i + 200]
            name = ""
            for ch in tag:
                if ch.isspace() or ch in "/>":
                    break
                name += ch
            local = name.rsplit(":", 1)[-1].lower()
            return _Prolog(root=local or None, doctype=doctype)
    return _Prolog(root=None, doctype=doctype)


def _decode_head(body: bytes) -> str:
    """The document as text, good enough to read its ASCII markup whatever the encoding."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    if body.startswith(b"<\x00\x00\x00"):
        return body.decode("utf-32-le", errors="replace")
    if body.startswith(b"\x00\x00\x00<"):
        return body.decode("utf-32-be", errors="replace")
    if body.startswith(b"<\x00"):
        return body.decode("utf-16-le", errors="replace")
    if body.startswith(b"\x00<"):
        return body.decode("utf-16-be", errors="replace")
    # Every ASCII-compatible encoding spells markup the same way; latin-1 never fails.
    return body.decode("latin-1")


def _skip_past(text: str, start: int, end: str) -> int:
    found = text.find(end, start + 2)
    return len(text) if found < 0 else found + len(end)


def _read_doctype(text: str, start: int) -> tuple[str, int]:
    """Read `<!DOCTYPE name ...>`; return its name and the index after it, or refuse it."""
    i = start + len("<!DOCTYPE")
    quote: str | None = None
    words: list[str] = []
    word = ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = None
                words.append(word)
                word = ""
            else:
                word += c
        elif c in "\"'":
            quote = c
        elif c == "[":
            raise HostileDocument(
                "DOCTYPE with an internal subset (entity declarations are never needed in a feed)"
            )
        elif c == ">":
            if word:
                words.append(word)
            break
        elif c.isspace():
            if word:
                words.append(word)
                word = ""
        else:
            word += c
        i += 1
    else:
        raise HostileDocument("DOCTYPE never closed")
    name = words[0].lower() if words else ""
    # An external DTD is only acceptable from the web (RSS 0.91's Netscape DTD, XHTML's);
    # feedparser never loads it, but a file: or other local reference is a probe, not a feed.
    for literal in words[1:]:
        scheme = urlsplit(literal).scheme.lower()
        if scheme and scheme not in ("http", "https"):
            raise HostileDocument(f"DOCTYPE refers to a non-web resource: {literal[:80]!r}")
    return name, i + 1


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    head = body.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if head == b"{":
        return True
    return bool(content_type and "json" in content_type.lower() and head != b"<")


def _parse_xml_feed(
    body: bytes, content_type: str | None, url: str, prolog: _Prolog, parser: Parser
) -> ParseResult:
    where = f"{url}: " if url else ""
    headers: dict[str, str] = {}
    if content_type:
        headers["content-type"] = content_type
    if url:
        headers["content-location"] = url
    parsed: Mapping[str, Any] | None = None
    if parser == "auto" and prolog.root in _FEED_ROOTS:
        # Only a document whose first element is a feed's: feedparser-rs fetches a URL it is given.
        parsed, _ = fast_path(body, content_type, url)
    if parsed is None:
        # A BytesIO, never the bytes themselves: feedparser treats a bare string as a file name
        # or URL.
        try:
            parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
        except Exception as exc:  # feedparser's own bugs on some broken documents
            return ParseResult(
                entries=[],
                error=f"{where}not a feed: feedparser could not read it "
                f"({type(exc).__name__}: {collapse(str(exc))[:200]})",
            )
    version = parsed.get("version") or ""
    raw_entries = parsed.get("entries") or []
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not version and not raw_entries:
        if content_type and "html" in content_type.lower() and prolog.root not in _FEED_ROOTS:
            return ParseResult(entries=[], error=f"{where}not a feed: looks like an HTML page")
        detail = f" ({_describe_bozo(bozo)})" if bozo and not isinstance(bozo, _BENIGN_BOZO) else ""
        return ParseResult(
            entries=[],
            error=f"{where}not a feed: no RSS, Atom or JSON Feed structure found{detail}",
        )
    feed = parsed.get("feed") or {}
    feed_language = _language(feed.get("language"))
    result = ParseResult(
        entries=[],
        feed_title=_plain(feed.get("title"), feed.get("title_detail")) or None,
        feed_language=feed_language,
        format=version or "unknown",
    )
    if bozo is not None and not isinstance(bozo, _BENIGN_BOZO):
        result.skipped.append(
            f"document: not well-formed XML ({_describe_bozo(bozo)}); entries recovered leniently"
        )
    for index, raw in enumerate(raw_entries, start=1):
        try:
            entry = _entry_from_feedparser(raw, feed_language)
        except Exception as exc:  # one bad entry must not cost the feed
            result.skipped.append(f"entry {index}: {type(exc).__name__}: {exc}")
            continue
        if not entry.title and not entry.link:
            result.skipped.append(f"entry {index}: no title and no link")
            continue
        result.entries.append(entry)
    return result


# ---------------------------------------------------------------------------------------------
# The fast path: feedparser-rs (Rust) where it reads a document as feedparser does, in the shape
# feedparser gives, so one function makes our entries from either.

_FAST_VERSIONS = frozenset(
    {"rss090", "rss091n", "rss091u", "rss092", "rss093", "rss094", "rss20", "rss10", "atom10"}
)
_XML_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)
_UTF8 = frozenset({"utf-8", "utf8"})
# Elements feedparser-rs does not read and our entries do: Bing News' <News:Source>, <News:Image>,
# and dates of other vocabularies than RSS's, Atom's and dc:date (atom:updated or dcterms:issued
# inside RSS, which feedparser reads).
_FAST_UNREAD = re.compile(rb"<news:(?:source|image)\b", re.I)
# An '&' that starts no XML reference; the second pattern only counts those outside CDATA
# sections and comments (group 1), and only runs when the first finds one.
_BAD_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_UNDEFINED_ENTITY = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->"
    rb"|(&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)[^\s;<&]{0,12};?)",
    re.S,
)
_FAST_CAPS = (
    ("tags", 100),
    ("enclosures", 20),
    ("media_content", 20),
    ("media_thumbnail", 20),
    ("content", 10),
)
# The start of an item or entry, and an unprefixed title, description or summary element.
_ENTRY_OR_TEXT = re.compile(rb"<(?:item|entry)\b|<(title|description|summary)[\s>/]")
_GUID = re.compile(rb"<guid\b([^>]*)>(.*?)</guid>", re.S)
_PERMALINK = re.compile(rb"\bispermalink\s*=\s*[\"']([^\"']*)", re.I)
# An Atom title, subtitle or summary: its attributes and, from the first '&' or '<' of its text on
# (an entity, CDATA or an element), what follows; none of that means a plain text is plain.
_ATOM_TEXT = re.compile(rb"<(?:atom:)?(?:title|subtitle|summary)\b([^>]*)>[^<&]*(&|<(?!/))?")
_PREFIXED_DATE = re.compile(
    rb"<([\w.-]+):(updated|published|modified|issued|created|date|pubdate)\b", re.I
)


def fast_path(
    body: bytes, content_type: str | None = None, url: str = ""
) -> tuple[dict[str, Any] | None, str | None]:
    """feedparser-rs's reading of a document as feedparser would shape it, or why not (None, why).

    Not taken: anything but UTF-8 (feedparser's encoding detection and recovery decide), xml:base
    (feedparser-rs resolves against the channel's link, feedparser against the document's
    address), Bing News' own elements, and any document feedparser-rs finds not well-formed
    (feedparser's lenient parser recovers more) or raises on.
    """
    why, dc_dates = _fast_refusal(body, content_type, url)
    if why:
        return None, why
    try:
        parsed = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
        if parsed.bozo:
            return None, f"not well-formed for feedparser-rs: {parsed.bozo_exception}"
        version = parsed.version or ""
        if version not in _FAST_VERSIONS:
            return None, f"feedparser-rs format {version!r} not taken"
        rss = version.startswith("rss")
        feed = parsed.feed
        if sum(1 for entry in parsed.entries if entry.get("dc_date")) != dc_dates:
            # feedparser-rs drops a dc:date it cannot read, text and all; feedparser reads
            # more forms ("2026-03-07:00:00").
            return None, "a dc:date feedparser-rs cannot read"
        if _repeats_a_text_field(body):
            # feedparser-rs keeps an item's last title or description, feedparser its first
            # (and makes a second description part of the content).
            return None, "an entry with two titles, descriptions or summaries"
        if not rss and any(len(entry.authors) > 1 for entry in parsed.entries):
            # feedparser names an Atom entry's last author, feedparser-rs its first.
            return None, "an Atom entry with several authors"
        if not rss and feed.authors:
            # feedparser-rs gives the feed's author to entries without their own (as RFC 4287
            # says), feedparser does not.
            return None, "Atom feed-level author"
        if not rss and any(
            b"type=" not in found.group(1) and found.group(2) for found in _ATOM_TEXT.finditer(body)
        ):
            # Atom text without a type is plain text; feedparser-rs reads titles and summaries
            # as HTML, which only matters when an entity, CDATA or an element is in them.
            return None, "Atom text without a type holding markup characters"
        for entry in parsed.entries:
            if any(len(entry[field]) >= cap for field, cap in _FAST_CAPS):
                # feedparser-rs keeps at most `cap` of them without a word; feedparser keeps all.
                return None, "more tags, enclosures, media or contents than feedparser-rs keeps"
        if any(
            entry.link == "" or any(not enclosure.href for enclosure in entry.enclosures)
            for entry in parsed.entries
        ):
            # feedparser-rs blanks links to internal hosts (loopback, private, link-local):
            # whether those are followed is casewatch's decision (fetch.allow_internal).
            return None, "a link feedparser-rs blanks (an internal host) or an empty one"
        shaped = {
            "version": version,
            "bozo": 0,
            "feed": {
                "title": feed.title,
                "title_detail": _fast_text(feed.title_detail, rss=rss),
                "language": feed.language,
            },
            "entries": [_fast_entry(entry, url, rss=rss) for entry in parsed.entries],
        }
    except BaseException as exc:  # any surprise of the fast parser: feedparser decides
        # A Rust panic arrives as pyo3's PanicException, which is not an Exception.
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        return None, f"feedparser-rs raised {type(exc).__name__}: {exc}"
    return shaped, None


def _fast_refusal(body: bytes, content_type: str | None, url: str) -> tuple[str | None, int]:
    """Why not to take the fast path, or None; and how many dc:date elements entries hold."""
    why = _refusal(body, content_type, url)
    if why:
        return why, 0
    malformed, structure = _not_well_formed(body)
    return malformed, structure.entry_dc_dates


def _refusal(body: bytes, content_type: str | None, url: str) -> str | None:
    charset = _CHARSET.search(content_type or "")
    if charset and charset.group(1).lower() not in _UTF8:
        return f"served as {charset.group(1)}"
    text = body[3:] if body.startswith(codecs.BOM_UTF8) else body
    declared = _XML_DECLARED_ENCODING.match(text[:512])
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8:
        return f"declared {declared.group(1).decode('ascii', 'replace')}"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "not valid UTF-8"
    for found in _UNDEFINED_ENTITY.finditer(body) if _BAD_AMPERSAND.search(body) else ():
        if found.group(1):
            # Not well-formed XML: feedparser-rs ignores it outside the fields it reads,
            # feedparser says so (and recovers what it can).
            return f"undefined entity {found.group(1).decode('ascii', 'replace')}"
    if b"xml:base" in body:
        return "xml:base"
    if _FAST_UNREAD.search(body):
        return "Bing News elements"
    for found in _PREFIXED_DATE.finditer(body):
        if found.group(0).lower() != b"<dc:date":
            return f"date element {found.group(0)[1:].decode('ascii', 'replace')}"
    for found in _GUID.finditer(body):
        # feedparser resolves a permalink guid against the document's address (and takes it as
        # the link); feedparser-rs does neither, nor does it say which guids are permalinks.
        permalink = _PERMALINK.search(found.group(1))
        if permalink and permalink.group(1) == b"false":
            continue
        if permalink and permalink.group(1) != b"true":
            return f"guid isPermaLink={permalink.group(1).decode('ascii', 'replace')!r}"
        guid = found.group(2).strip().decode("utf-8", "replace")
        guid = html.unescape(guid) if "&" in guid else guid
        if _joined(url, guid) != guid:
            return "a permalink guid that is not an absolute address"
    return None


# An http(s) address that resolving leaves as it is: a host, an optional port, path segments that
# are neither empty nor dot segments, and a query and fragment that are not empty; no ';'.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?"
    r"(?:/(?!\.\.?(?:[/?#]|\Z))[^/\s;?#]+)*/?(?:\?[^\s#;]+)?(?:#[^\s;]+)?\Z"
)


def _joined(base: str, ref: str) -> str:
    """feedparser's resolution of `ref` against `base` (urllib's urljoin costs ~10 us a call;
    most addresses in a feed are absolute and come out unchanged)."""
    return ref if _PLAIN_URL.match(ref) else _feedparser_urljoin(base, ref)


def _repeats_a_text_field(body: bytes) -> bool:
    """Whether an item or entry has two titles, descriptions or summaries (one in its
    <source> counts too: the fallback is only slower)."""
    seen: set[bytes] | None = None  # None before the first item: the channel's own fields
    for found in _ENTRY_OR_TEXT.finditer(body):
        name = found.group(1)
        if name is None:
            seen = set()  # a new item or entry
        elif seen is None:
            continue
        elif name in seen:
            return True
        else:
            seen.add(name)
    return False


_RSS_NAMESPACES = ("", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")
_ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
# Elements whose text we read: markup inside one (unescaped HTML in a description, a stray
# element in a title) is text to feedparser and a cut to feedparser-rs.
_TEXT_ELEMENTS = frozenset(
    [
        *(
            f"{ns} {name}".lstrip()
            for ns in _RSS_NAMESPACES
            for name in (
                *("title", "description", "link", "guid", "pubDate", "author", "category"),
                *("comments", "source", "language"),
            )
        ),
        *(
            f"http://purl.org/dc/elements/1.1/ {name}"
            for name in ("creator", "date", "subject", "title", "description", "language")
        ),
        "http://purl.org/rss/1.0/modules/content/ encoded",
        *(f"{_ATOM_NAMESPACE} {name}" for name in ("id", "published", "updated", "name", "email")),
    ]
)
# Atom text constructs: children only as the single <div> of type="xhtml".
_ATOM_TEXTS = frozenset(
    f"{_ATOM_NAMESPACE} {name}" for name in ("title", "subtitle", "summary", "content", "rights")
)
_XML_LANG = "http://www.w3.org/XML/1998/namespace lang"
_DC_DATE = "http://purl.org/dc/elements/1.1/ date"
_ENTRY_ELEMENTS = frozenset(
    [f"{_ATOM_NAMESPACE} entry", *(f"{ns} item".lstrip() for ns in _RSS_NAMESPACES)]
)


class _Structure:
    """expat handlers that note what feedparser-rs reads otherwise than feedparser."""

    def __init__(self) -> None:
        self.open: list[tuple[str, bool]] = []  # (element, whether it is text we read)
        self.why: str | None = None
        self.entries = 0  # open items or entries
        self.entry_dc_dates = 0  # dc:date elements in items or entries

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name in _ENTRY_ELEMENTS:
            self.entries += 1
        elif name == _DC_DATE and self.entries:
            self.entry_dc_dates += 1
        if self.open and self.open[-1][1] and self.why is None:
            self.why = f"an element inside <{self.open[-1][0].rsplit(' ', 1)[-1]}>"
        if _XML_LANG in attrs and self.open and name not in _ENTRY_ELEMENTS and self.why is None:
            # feedparser reads xml:lang on any element; feedparser-rs on the feed and entries.
            self.why = f"xml:lang on <{name.rsplit(' ', 1)[-1]}>"
        text = name in _TEXT_ELEMENTS or (name in _ATOM_TEXTS and attrs.get("type") != "xhtml")
        self.open.append((name, text))

    def end(self, name: str) -> None:
        self.open.pop()
        if name in _ENTRY_ELEMENTS:
            self.entries -= 1


def _not_well_formed(body: bytes) -> tuple[str | None, _Structure]:
    """Why expat, feedparser's strict parser, refuses the document, or the first element
    feedparser-rs would read otherwise (markup inside a text, xml:lang deep down); None when
    neither.

    feedparser-rs reads much that is not well-formed (a stray '<', an unbound prefix, a NUL) in
    its own way, where feedparser says so and its lenient parser recovers other entries. Only a
    DOCTYPE without an internal subset gets here, and no external entity is ever loaded."""
    structure = _Structure()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = structure.start
    parser.EndElementHandler = structure.end
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        return f"not well-formed XML ({exc})", structure
    return structure.why, structure


def _fast_text(detail: Any, *, rss: bool) -> dict[str, Any] | None:
    if detail is None:
        return None
    kind = detail.type
    value = detail.value
    if rss and kind == "text/html" and not _looks_like_html(value or ""):
        kind = "text/plain"  # feedparser's verdict on an RSS text field
    return {"type": kind, "language": detail.language, "value": value}


def _fast_entry(entry: Any, url: str, *, rss: bool) -> dict[str, Any]:
    # feedparser resolves links, and Atom ids, against the document's address.
    link = _joined(url, entry.link) if entry.link else entry.link
    guid = entry.id
    if guid and not rss:
        guid = _joined(url, guid)
    shaped: dict[str, Any] = {
        "title": entry.title,
        "title_detail": _fast_text(entry.title_detail, rss=rss),
        "summary": entry.summary,
        "summary_detail": _fast_text(entry.summary_detail, rss=False),
        "content": [{"value": c.value, "type": c.type} for c in entry.content],
        "tags": [{"term": t.term, "label": t.label} for t in entry.tags],
        "id": guid,
        "link": link,
        "published_parsed": _fast_date(entry.published_parsed, entry.published),
        "updated_parsed": _fast_date(entry.updated_parsed, entry.updated),
        "author": entry.author,
        "media_content": [
            {"url": m.url, "type": m.type, "medium": m.medium, "width": m.width}
            for m in entry.media_content
        ],
        "media_thumbnail": [{"url": m.url} for m in entry.media_thumbnail],
        "links": [{"rel": "enclosure", "type": e.type, "href": e.href} for e in entry.enclosures],
    }
    source = entry.source
    if source is not None:
        shaped["source"] = {"title": source.title}
    if url:
        # feedparser resolved relative addresses in the markup against the document's address.
        shaped["markup_base"] = url
    return shaped


def _fast_date(parsed: time.struct_time | None, text: str | None) -> time.struct_time | None:
    """feedparser-rs's date, else feedparser's reading of the same text: feedparser reads more
    forms ("Monday, 02 March 2026", a "+01:00" offset, named zones such as CET)."""
    if parsed is None and text:
        return _feedparser_date(text)
    return parsed


_CLOSE_TAG = re.compile(r"</(\w+)>")
_ENTITY = re.compile(r"&#?\w+;")
_OPEN_TAG = re.compile(r"</?(\w+)")
_NAMED_ENTITY = re.compile(r"&(\w+);")


def _looks_like_html(text: str) -> bool:
    """feedparser's test of whether an RSS text field holds markup (else it is plain text)."""
    if not (_CLOSE_TAG.search(text) or _ENTITY.search(text)):
        return False
    allowed = feedparser.sanitizer._HTMLSanitizer.acceptable_elements
    if any(tag.lower() not in allowed for tag in _OPEN_TAG.findall(text)):
        return False
    return all(name in html.entities.entitydefs for name in _NAMED_ENTITY.findall(text))


def _describe_bozo(exc: object) -> str:
    if isinstance(exc, SAXParseException):
        return f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    return collapse(str(exc))


def _entry_from_feedparser(raw: dict[str, Any], feed_language: str | None) -> Entry:
    title = _plain(raw.get("title"), raw.get("title_detail"))
    parts = [part for part in raw.get("content") or [] if part.get("value")]
    summary_detail = raw.get("summary_detail")
    if summary_detail is None and parts and raw.get("summary") == parts[0].get("value"):
        # feedparser copies an Atom entry's content into a missing summary, but not its type:
        # HTML content read as text put its tags in the lead.
        summary_detail = parts[0]
    described = _report(raw.get("summary"), summary_detail, title)
    contents = [_report(part.get("value"), part, title) for part in parts]
    content = "\n\n".join(r.text for r in contents if r.text)
    content_html = "\n".join(str(p.get("value")) for p in parts if "html" in str(p.get("type")))
    summary = described.text
    if summary and content_html:
        # WordPress makes the excerpt from the post's text: a caption becomes its first words.
        summary = clean.without_content_captions(summary, content_html)
    if _informative(content) >= _THIN_SUMMARY and (
        _informative(summary) < _THIN_SUMMARY or summary.endswith("…")
    ):
        summary = content  # the post itself reads better than a thin or truncated excerpt
    # The outlet that wrote the report: a wire credited in the text (a syndicated copy), else
    # what the item says (Google News <source>, Bing News <News:Source>).
    wire = described.wire or next((r.wire for r in contents if r.wire), None)
    publisher = wire or _item_publisher(raw)
    tags = []
    for tag in raw.get("tags") or []:
        term = collapse(str(tag.get("term") or tag.get("label") or ""))
        if term and term not in tags:
            tags.append(term)
    language = None
    for detail_key in ("title_detail", "summary_detail"):
        detail = raw.get(detail_key)
        if isinstance(detail, Mapping) and detail.get("language"):
            language = _language(detail.get("language"))
            break
    # dict.get skips feedparser's deprecated fallback of `updated` to `published`.
    updated = _from_struct(dict.get(raw, "updated_parsed"))
    # RSS 1.0 (dc:date) and many Atom feeds only say when an entry was updated.
    published = _from_struct(dict.get(raw, "published_parsed")) or updated
    if updated == published:
        updated = None  # says nothing more (feedparser-rs copies `published` into it)
    link = links.web_url(raw.get("link"))
    if link:
        # Search engines link through their own redirects: readers get the article itself.
        link = links.web_url(links.article_url(link)) or link
    summary_html = str(raw.get("summary") or "")
    return Entry(
        title=title,
        link=link,
        guid=collapse(str(raw.get("id") or "")) or None,
        summary=summary,
        content=content,
        published=published,
        updated=updated,
        author=collapse(str(raw.get("author") or "")) or None,
        publisher=publisher,
        language=language or feed_language,
        tags=tags,
        image=_entry_image(
            raw,
            f"{summary_html}\n{content_html}",
            base=link or "",
            markup_base=str(raw.get("markup_base") or link or ""),
        ),
    )


_THIN_SUMMARY = 80  # letters: an excerpt shorter than this says less than the post's own text


def _informative(text: str) -> int:
    return sum(map(str.isalnum, text))  # 3x a generator's speed: a post's content is long


def _report(value: object, detail: object, title: str) -> clean.Report:
    """A description or content field cleaned for reading; markup cleaned as markup."""
    if not value:
        return clean.Report("")
    text = str(value)
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if "html" not in str(kind) and "<" in text:
        text = html.escape(text, quote=False)  # text/plain: angle brackets are the author's
    return clean.clean_report(text, title=title)


def _item_publisher(raw: Mapping[str, Any]) -> str | None:
    """The outlet an aggregator's item names: Google News <source>, Bing News <News:Source>."""
    source = raw.get("source")
    if isinstance(source, Mapping):
        name = collapse(str(source.get("title") or ""))
        if name:
            return name
    name = collapse(str(raw.get("news_source") or ""))
    return name or None


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif")


def _entry_image(raw: Mapping[str, Any], markup: str, *, base: str, markup_base: str) -> str | None:
    """The picture the feed gives an entry: media:content or media:thumbnail of an image,
    an enclosure of an image type, Bing's <News:Image>, else the first image in its markup."""
    images: list[tuple[int, str]] = []
    for media in raw.get("media_content") or []:
        medium = str(media.get("medium") or "").lower()
        kind = str(media.get("type") or "").lower()
        url = str(media.get("url") or "")
        is_image = medium == "image" or kind.startswith("image/")
        if not medium and not kind:
            is_image = urlsplit(url).path.lower().endswith(_IMAGE_SUFFIXES)
        if is_image and (found := clean.web_url(url, base=base)):
            width = str(media.get("width") or "")
            images.append((int(width) if width.isdigit() else 0, found))
    if images:
        # The Guardian lists one picture in several widths: the widest reads best.
        return max(images, key=lambda image: image[0])[1]
    for media in raw.get("media_thumbnail") or []:
        if found := clean.web_url(str(media.get("url") or ""), base=base):
            return found
    for enclosure in raw.get("links") or []:
        is_image = str(enclosure.get("type") or "").lower().startswith("image/")
        if enclosure.get("rel") != "enclosure" or not is_image:
            continue
        if found := clean.web_url(str(enclosure.get("href") or ""), base=base):
            return found
    if found := clean.web_url(str(raw.get("news_image") or ""), base=base):
        return found
    return clean.first_image(markup, base=markup_base)


def _plain(value: object, detail: object = None) -> str:
    """Plain text of a field; markup is stripped when its type (feedparser's verdict) is HTML."""
    if not value:
        return ""
    text = str(value)
    # feedparser already re-types text/plain fields that look like HTML (escaped markup).
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if "html" in str(kind):
        return html_to_text(text)
    return collapse(text)


def _from_struct(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _language(value: object) -> str | None:
    if not value or not isinstance(value, str):
        return None
    return value.strip().replace("_", "-").lower() or None


def _parse_json_feed(body: bytes, url: str) -> ParseResult:
    where = f"{url}: " if url else ""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return ParseResult(entries=[], error=f"{where}not a feed: invalid JSON ({exc})")
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/1"):
        return ParseResult(
            entries=[], error=f"{where}not a feed: JSON without a JSON Feed 1.x version"
        )
    items = doc.get("items")
    if not isinstance(items, list):
        return ParseResult(entries=[], error=f"{where}not a JSON Feed: 'items' is not a list")
    base = doc.get("home_page_url") or doc.get("feed_url") or url
    base = base if isinstance(base, str) else url
    feed_language = _language(doc.get("language"))
    result = ParseResult(
        entries=[],
        feed_title=collapse(str(doc.get("title") or "")) or None,
        feed_language=feed_language,
        format=JSON_FEED_FORMAT,
    )
    for index, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise ValueError(f"an item must be an object, got {type(item).__name__}")
            entry = _entry_from_json(item, base, feed_language)
        except Exception as exc:  # one bad item must not cost the feed
            result.skipped.append(f"item {index}: {type(exc).__name__}: {exc}")
            continue
        if not entry.title and not entry.link:
            result.skipped.append(f"item {index}: no title and no url")
            continue
        result.entries.append(entry)
    return result


def _entry_from_json(item: dict[str, Any], base: str, feed_language: str | None) -> Entry:
    content_html = item.get("content_html")
    content_text = item.get("content_text")
    title = _plain(item.get("title")) if isinstance(item.get("title"), str) else ""
    report = clean.Report("")
    if isinstance(content_html, str) and content_html:
        report = clean.clean_report(content_html, title=title)
    elif isinstance(content_text, str):
        report = _report(content_text, {"type": "text/plain"}, title)
    content = report.text
    summary_raw = item.get("summary")
    summary = _plain(summary_raw) if isinstance(summary_raw, str) else ""
    authors = item.get("authors")
    if not isinstance(authors, list):
        single = item.get("author")  # JSON Feed 1.0
        authors = [single] if isinstance(single, dict) else []
    names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
    tags = [collapse(str(t)) for t in item.get("tags") or [] if isinstance(t, str | int)]
    item_id = item.get("id")
    updated = _from_rfc3339(item.get("date_modified"), "date_modified")
    link = links.web_url(item.get("url") or item.get("external_url"), base=base)
    image = None
    for key in ("image", "banner_image"):
        value = item.get(key)
        if isinstance(value, str) and (image := clean.web_url(value, base=base)):
            break
    if image is None and isinstance(content_html, str):
        image = clean.first_image(content_html, base=link or base)
    return Entry(
        title=title,
        link=link,
        guid=str(item_id) if item_id not in (None, "") else None,
        summary=summary or content,
        content=content,
        published=_from_rfc3339(item.get("date_published"), "date_published") or updated,
        updated=updated,
        author=", ".join(names) or None,
        publisher=report.wire,
        language=_language(item.get("language")) or feed_language,
        tags=[t for t in tags if t],
        image=image,
    )


def _from_rfc3339(value: object, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an RFC 3339 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{field} is not an RFC 3339 date: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
