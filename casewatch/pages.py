"""Sources that are HTML pages without a feed: CSS selectors turn a list page into entries.

A page source is configured with `PageSelectors`. `parse_page` never fails silently: a selector
that stops matching (the site changed its layout) comes back as `ParseResult.error`, so an admin
sees a source error instead of a source that quietly yields nothing.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin, urlsplit

from casewatch.model import Entry, ParseResult
from casewatch.patterns import LazyPattern

# A page source's selectors live apart from the parser (see casewatch.sections).
from casewatch.sections import PageSelectors
from casewatch.text import collapse, fold, node_text

if TYPE_CHECKING:  # the HTML parser: imported by the first page read, not by `feeds.yaml`
    from selectolax.lexbor import LexborHTMLParser, LexborNode

# The HTML standard treats these labels as windows-1252; pages that declare latin-1 routinely
# carry curly quotes and dashes from the 0x80-0x9F range, which latin-1 would turn into C1 controls.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"}
_PRESCAN_BYTES = 4096
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET_PARAM = LazyPattern(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def parse_page(
    body: bytes, selectors: PageSelectors, *, url: str, content_type: str | None = None
) -> ParseResult:
    """Turn an HTML list page into entries, or say which selector no longer matches."""
    if not body or not body.strip():
        return ParseResult(entries=[], error=f"empty page body from {url}", format="html-page")
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_html(body, content_type))
    base = _base_url(tree, url)
    feed_title = _node_text(tree.css_first("title")) or None
    language = _page_language(tree)

    nodes = tree.css(selectors.entries)
    if not nodes:
        return ParseResult(
            entries=[],
            error=(
                f"page layout changed: selector {selectors.entries!r} matched no entries on {url}"
            ),
            feed_title=feed_title,
            feed_language=language,
            format="html-page",
        )

    entries: list[Entry] = []
    skipped: list[str] = []
    seen_links: set[str] = set()
    without_link = 0
    for number, node in enumerate(nodes, start=1):
        title_node = node.css_first(selectors.title)
        title = _node_text(title_node)
        if not title:
            skipped.append(
                f"entry {number} on {url}: no title (selector {selectors.title!r} "
                f"{'found only empty text' if title_node is not None else 'matched nothing'})"
            )
            continue
        link = _entry_link(node, title_node, selectors, base)
        if link is None:
            without_link += 1
        elif link in seen_links:
            skipped.append(f"entry {number} on {url}: {link} already listed above")
            continue
        else:
            seen_links.add(link)
        published, date_problem = _entry_date(node, selectors)
        if date_problem:
            skipped.append(
                f"entry {number} {title!r} on {url}: {date_problem}; kept without a date"
            )
        summary = ""
        if selectors.summary:
            summary_node = node.css_first(selectors.summary)
            if summary_node is not None:
                from casewatch import clean  # not at the top: `feeds.yaml` needs PageSelectors only

                summary = clean.clean_report(summary_node.html or "", title=title).text
        entries.append(
            Entry(
                title=title,
                link=link,
                guid=link,
                summary=summary,
                published=published,
                language=language,
            )
        )

    error = None
    if not entries:
        error = (
            f"page layout changed: title selector {selectors.title!r} found no title in any of the "
            f"{len(nodes)} entries matched by {selectors.entries!r} on {url}"
        )
    elif without_link == len(entries):
        link_rule = (
            f"link selector {selectors.link!r} (attribute {selectors.link_attr!r})"
            if selectors.link
            else "the default link (the title link or the first a[href])"
        )
        error = (
            f"page layout changed: {link_rule} found no link in any of the "
            f"{len(nodes)} entries matched by {selectors.entries!r} on {url}"
        )
        entries = []
    return ParseResult(
        entries=entries,
        skipped=skipped,
        error=error,
        feed_title=feed_title,
        feed_language=language,
        format="html-page",
    )


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode a page: byte-order mark, then the HTTP charset, then a <meta> charset, else UTF-8."""
    for bom, bom_encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(bom_encoding, errors="replace")
    encoding = _known_encoding(_header_charset(content_type))
    if encoding is None:
        encoding = _known_encoding(_meta_charset(body[:_PRESCAN_BYTES]))
        if encoding is not None and encoding.startswith("utf-16"):
            # A <meta> readable as ASCII cannot sit in a UTF-16 document (the HTML standard
            # reads this declaration as UTF-8).
            encoding = "utf-8"
    return body.decode(encoding or "utf-8", errors="replace")


def parse_date(text: str) -> datetime | None:
    """Read a date as pages print it; aware UTC, or None when it is not understood.

    Understood: ISO 8601 ("2020-12-14", "2020-12-14T09:30:00+01:00"), "14 December 2020",
    "December 14, 2020", "Mon, 14 Dec 2020 09:30", month names in English, French, Spanish and
    German, and numeric "14/12/2020" or "14.12.2020". Numeric dates are read day first (the
    usage of the courts and UN bodies watched here) unless the first number cannot be a month's
    day order, e.g. "12/14/2020" is read as December 14. Times without a zone are taken as UTC.
    """
    text = collapse(text)
    if not text:
        return None
    iso = _iso_datetime(text)
    if iso is not None:
        return iso
    folded = fold(text)
    day_month_year = _dates_with_names(folded)
    if day_month_year is None:
        day_month_year = _numeric_date(folded)
    if day_month_year is None:
        return None
    day, month, year = day_month_year
    hour, minute, offset = _time_of_day(folded)
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=timezone(offset))
    except ValueError:
        return None
    return local.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# decoding


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    found = _CHARSET_PARAM.search(content_type)
    return found.group(1) if found else None


def _meta_charset(head: bytes) -> str | None:
    # Meta charset labels are ASCII, so a latin-1 view of the first bytes finds them whatever the
    # real encoding is.
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(head.decode("latin-1"))
    for meta in tree.css("meta[charset]"):
        charset = meta.attributes.get("charset")
        if charset:
            return charset.strip()
    for meta in tree.css("meta[http-equiv][content]"):
        if (meta.attributes.get("http-equiv") or "").strip().lower() == "content-type":
            found = _CHARSET_PARAM.search(meta.attributes.get("content") or "")
            if found:
                return found.group(1)
    return None


def _known_encoding(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


# ---------------------------------------------------------------------------------------------
# fields


def _node_text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return node_text(node)


def _base_url(tree: LexborHTMLParser, url: str) -> str:
    base = tree.css_first("base[href]")
    href = (base.attributes.get("href") or "").strip() if base is not None else ""
    return urljoin(url, href) if href else url


def _page_language(tree: LexborHTMLParser) -> str | None:
    html = tree.css_first("html")
    lang = (html.attributes.get("lang") or "").strip() if html is not None else ""
    primary = lang.split("-")[0].lower()
    return primary or None


def _absolute_link(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    link = urldefrag(urljoin(base, href)).url  # "#top" and the like name the same document
    if urlsplit(link).scheme not in ("http", "https"):
        return None  # javascript:, mailto: and the like are not entries
    return link


def _entry_link(
    node: LexborNode, title_node: LexborNode | None, selectors: PageSelectors, base: str
) -> str | None:
    if selectors.link:
        link_node = node.css_first(selectors.link)
        if link_node is None:
            return None
        link = _absolute_link(link_node.attributes.get(selectors.link_attr), base)
        if link is None and selectors.link_attr == "href":
            inner = link_node.css_first("a[href]")  # a selector naming the heading around the link
            link = _absolute_link(inner.attributes.get("href"), base) if inner else None
        return link
    # The title's own link first: a teaser image or a category link may come before it.
    for scope in (title_node, node):
        if scope is None:
            continue
        for anchor in scope.css("a[href]"):  # css() includes the scope itself
            link = _absolute_link(anchor.attributes.get("href"), base)
            if link:
                return link
    return None


def _entry_date(node: LexborNode, selectors: PageSelectors) -> tuple[datetime | None, str | None]:
    """The entry's date and, when a date was there but not understood, what went wrong."""
    if selectors.date:
        date_node = node.css_first(selectors.date)
        if date_node is None:
            return None, None
    elif selectors.date_attr:
        date_node = node
    else:
        date_node = node.css_first("time[datetime]")
        if date_node is None:
            return None, None
    raw = ""
    if selectors.date_attr:
        raw = (date_node.attributes.get(selectors.date_attr) or "").strip()
    else:
        # A machine-readable <time datetime> beats the printed text, which often drops the time.
        time_node = date_node.css_first("time[datetime]")
        if time_node is not None:
            raw = (time_node.attributes.get("datetime") or "").strip()
    if not raw:
        raw = _node_text(date_node)
    if not raw:
        return None, None
    published = parse_date(raw)
    if published is None:
        where = f"selector {selectors.date!r}" if selectors.date else "the entry"
        return None, f"date {raw!r} not understood ({where})"
    return published, None


# ---------------------------------------------------------------------------------------------
# dates

_MONTHS = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # French (folded: "décembre" -> "decembre")
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # Spanish
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    # German
    "januar": 1, "februar": 2, "marz": 3, "juni": 6, "juli": 7, "oktober": 10,
    "dezember": 12,
}  # fmt: skip

_ISO = LazyPattern(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
)
_DAY_NAME_YEAR = LazyPattern(
    r"\b(\d{1,2})(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?([a-z]{3,10})\.?,?\s+(?:de\s+)?(\d{4})\b"
)
_NAME_DAY_YEAR = LazyPattern(r"\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_NUMERIC = LazyPattern(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_TIME = LazyPattern(
    r"\b(\d{1,2})[:h](\d{2})(?::\d{2})?\s*(a\.?m\.?|p\.?m\.?)?(?:\s*(utc|gmt|z|[+-]\d{2}:?\d{2}))?"
)


def _offset(zone: str | None) -> timedelta:
    if not zone or zone.upper() in ("Z", "UTC", "GMT"):
        return timedelta(0)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))


def _iso_datetime(text: str) -> datetime | None:
    found = _ISO.search(text)
    if found is None:
        return None
    year, month, day, hour, minute, second, zone = found.groups()
    try:
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=timezone(_offset(zone)),
        )
    except ValueError:
        return None
    return local.astimezone(UTC)


def _dates_with_names(folded: str) -> tuple[int, int, int] | None:
    found = _DAY_NAME_YEAR.search(folded)
    if found and found.group(2) in _MONTHS:
        return int(found.group(1)), _MONTHS[found.group(2)], int(found.group(3))
    found = _NAME_DAY_YEAR.search(folded)
    if found and found.group(1) in _MONTHS:
        return int(found.group(2)), _MONTHS[found.group(1)], int(found.group(3))
    return None


def _numeric_date(folded: str) -> tuple[int, int, int] | None:
    found = _NUMERIC.search(folded)
    if found is None:
        return None
    first, second, year = (int(part) for part in found.groups())
    if second > 12 >= first:  # "12/14/2020" can only be month first
        return second, first, year
    return first, second, year


def _time_of_day(folded: str) -> tuple[int, int, timedelta]:
    found = _TIME.search(folded)
    if found is None:
        return 0, 0, timedelta(0)
    hour, minute = int(found.group(1)), int(found.group(2))
    meridiem = (found.group(3) or "").replace(".", "")
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return 0, 0, timedelta(0)
    return hour, minute, _offset(found.group(4))
