"""Small text helpers shared by parsing, relevance and dedup. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from casewatch.patterns import LazyPattern

if TYPE_CHECKING:  # the HTML parser is imported by the first markup to read, not by `fold`
    from selectolax.lexbor import LexborNode

_BLOCKS = (
    "p, div, li, br, h1, h2, h3, h4, h5, h6, blockquote, tr, td, th, section, article, header, "
    "footer, aside, dd, dt, pre, ul, ol, table, hr, main, figure, figcaption, nav, address"
)
_HAS_BLOCK = LazyPattern(
    r"<(?:p|div|li|br|h[1-6]|blockquote|tr|td|th|section|article|header|footer|aside|dd|dt|pre"
    r"|ul|ol|table|hr|main|figure|figcaption|nav|address)\b",
    re.IGNORECASE,
)
# Characters that fold to something NFKD does not produce on its own.
_EXTRA_FOLD = str.maketrans(
    {
        "ı": "i",
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
    }
)


def collapse(text: str) -> str:
    """Collapse runs of white space to one space and strip the ends."""
    # str.split() splits on exactly the characters the regex `\s` matches, and is ~5x faster.
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower-case and strip diacritics: 'Ouïghours' -> 'ouighours', 'Doğu' -> 'dogu'.

    Scripts without Latin decomposition (Chinese, Cyrillic) pass through lower-cased.
    """
    if text.isascii():
        return text.lower()  # nothing to strip: the common case, and 10x faster
    lowered = text.translate(_EXTRA_FOLD).casefold()
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, scripts/styles removed, entities decoded."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return collapse(markup)
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    root = tree.body or tree.root
    if root is None:
        return ""
    return node_text(root, blocks=bool(_HAS_BLOCK.search(markup)))


def node_text(node: LexborNode, *, blocks: bool = True) -> str:
    """Text of a parsed element: inline markup joins its text as written ("<b>Court</b>." is
    "Court.", not "Court ."); only blocks and line breaks separate words. Edits the tree."""
    if blocks:
        for inner in node.css(_BLOCKS):
            inner.insert_before(" ")
            inner.insert_after(" ")
    return collapse(node.text(separator=""))


def plural(n: int, one: str, many: str | None = None) -> str:
    """A count with its noun: '1 match', '2 matches', '1 story', '3 stories'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
