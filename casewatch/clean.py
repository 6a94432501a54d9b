"""The words of a report without what is not the report. Pure: no I/O.

Feeds wrap a report in things a reader of an alert does not want as its lead: figures and their
captions and credits, bylines, share and subscribe blocks, "related" link lists, Google News's
list of headlines, "Continue reading...", press-release headers, footers. Cleaning happens in two
steps, and the first needs the markup, so it runs where the feed is parsed, before anything is
flattened:
1. the HTML structure: elements that never carry the report are removed as elements (figure,
   figcaption, img, aside, nav, elements classed as bylines, captions, credits, share blocks;
   lists whose items are links; an image's italic caption), then the text is read block by
   block, inline markup joined without spaces ("<b>Court</b>." gives "Court.");
2. the text, block by block: credit and caption lines, bylines, press-release headers and
   contact lines, date-only lines, calls to action, copyright lines, WordPress's "The post ...
   appeared first on ...", a trailing "Continue reading...".
A wire credit ("BEIJING (Reuters) -", "By Jane Doe, Associated Press", "- AFP") names the outlet
that wrote a syndicated copy; it is taken off the text and reported as `Report.wire`.
"""

from __future__ import annotations

import html
import html.entities
import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from casewatch import links
from casewatch.patterns import LazyPattern
from casewatch.text import collapse, fold

# A private-use character marks block boundaries while the tree is flattened.
_BLOCK = "\ue000"
_BLOCK_TAGS = (
    "p, div, li, br, h1, h2, h3, h4, h5, h6, blockquote, tr, td, th, section, article, header, "
    "footer, aside, dd, dt, pre, ul, ol, table, hr, main, figure, details, summary"
)
_NEVER_TEXT = "script, style, noscript, template, head, title"
# Elements that never carry the report in a feed description or article body.
_NOISE = (
    "figure, figcaption, img, picture, video, audio, iframe, object, embed, form, button, svg, "
    "canvas, aside, nav, address, "
    ".wp-caption, .wp-caption-text, .sharedaddy, .jp-relatedposts, .feedflare, .addtoany_share, "
    "[class*='share'], [class*='social'], [class*='subscribe'], [class*='newsletter'], "
    "[class*='byline'], [class*='credit'], [class*='caption'], [class*='related'], "
    "[class*='author'], [rel='author'], [class*='advert'], [class*='promo']"
)
# Link texts that are calls to action, not content ("Share on Facebook", "Read more »").
# "Continue reading" in the case's other languages (link texts and endings of excerpts).
_MORE = (
    "seguir leyendo|leer más|leer mas|lire la suite|lire plus|en savoir plus|weiterlesen|"
    "mehr lesen|devamını oku|devamini oku|阅读全文|閱讀全文|继续阅读|繼續閱讀|читать далее|"
    "続きを読む|ver la cobertura completa|voir la couverture complète|"
    "vollständige berichterstattung"
)
_PROMPT_LINK = LazyPattern(
    r"(?:share\b.*|tweet|e-?mail|print|facebook|twitter|x|linkedin|whatsapp|telegram|reddit"
    r"|subscribe\b.*|sign up\b.*|read more\b.*|continue reading\b.*|read the full\b.*"
    r"|keep reading\b.*|click here\b.*|view full coverage\b.*|see more\b.*|more\W*"
    rf"|(?:{_MORE})\b.*)\W*",
    re.IGNORECASE,
)
# A list whose items are mostly links is a link list ("Related", Google News's headlines).
_LINK_LIST_SHARE = 0.6
# A description whose text is mostly link text is an echo of headlines, not a report.
_LINK_ECHO_SHARE = 0.75
_CAPTION_MAX = 300

# Boilerplate, block by block. A block (paragraph, line) is dropped whole when it is short,
# one sentence, and starts with one of these.
_BOILERPLATE_BLOCK = LazyPattern(
    r"(?:(?:photo|image|picture|photograph|illustration|video|credit|graphic)s?"
    r"(?:\s+credits?)?\s*(?:by\s|[:：])"
    r"|share(?: this| on| via| the (?:article|story)| with)\b|share\s*[:：]|follow us\b"
    r"|subscribe\b|sign up\b|click here\b|get our\b.*newsletter"
    r"|read more\b|continue reading\b|read the full (?:story|article|report)\b|keep reading\b"
    r"|view full coverage\b|listen to (?:this|the) (?:article|story)\b|advertisement\b"
    r"|for immediate release\b|immediate release\b|embargoed\b|not for publication\b"
    r"|communiqué de presse\b|comunicado de prensa\b|pressemitteilung\b"
    r"|contact (?:presse|média)|contacto de prensa|pressekontakt|basın iletişim"
    r"|(?:media|press|news) (?:contacts?|inquiries|enquiries|release)\b|contacts?\s*[:：]"
    r"|for (?:more|further) information\b|©|\(c\)\s*\d{4}|copyright\b|all rights reserved"
    r"|related\s*[:：]|see also\s*[:：]|tags?\s*[:：]|filed under\b|topics?\s*[:：]"
    r"|(?:additional )?(?:reporting|editing|writing) by\b|donate (?:now|today)\b|support our\b"
    r"|download (?:the|our)\b|(?:watch|listen)\s*[:：])",
    re.IGNORECASE,
)
_BOILERPLATE_BLOCK_MAX = 200
# Blocks that are nothing but a marker: "###", "-30-", "ENDS", "Advertisement".
_MARKER_BLOCK = LazyPattern(
    r"(?:#{3,}|-\s*30\s*-|ends|end|advertisement|\*{3,}|related(?: posts| articles| stories"
    r"| coverage| news| content| reading)?|more on this(?: story)?|read also|see also|also read"
    r"|you may also like|recommended|share this(?: article| story)?|tags|comments?|leave a reply)",
    re.IGNORECASE,
)
_MARKER_MAX = 24  # longer than any marker but the unbounded ones, whatever the case
_SENTENCE_BREAK = LazyPattern(r"[.!?…]\s+[A-ZÀ-Þ]")
_NAME = r"[A-ZÀ-Þ][\w'’.-]*"
# Capitalised names: "Jane Doe", "Jane Doe and Ali Kaya", "Jane Doe, Example News".
_NAMES = (
    rf"{_NAME}(?:\s+{_NAME}){{0,3}}(?:\s+(?:and|&|y|et|und)\s+{_NAME}(?:\s+{_NAME}){{0,3}})?"
    rf"(?:\s*[,|]\s*{_NAME}(?:\s+{_NAME}){{0,3}})?"
)
_BY = r"(?i:(?:written |words |story |text |report )?by|por|par|von)"
# A byline on a block of its own at the start ("By Jane Doe"), or run into the text when a
# separator ends it ("By Jane Doe | ...", "By Jane Doe, Example News — ...").
_BYLINE_BLOCK = LazyPattern(rf"{_BY}\s+{_NAMES}\.?")
_BYLINE_INLINE = LazyPattern(rf"By\s+{_NAMES}\s*[|—–:]\s*")
# "Posted on 15 December 2020 by admin", "Published: Dec. 15, 2020", "Updated 3 hours ago".
_DATED_BLOCK = LazyPattern(
    r"(?:posted|published|updated|last updated|date|publicado|publié|veröffentlicht)\b"
    r"(?:\s+(?:on|at|el|le|am))?\s*[:：]?\s*[\d(]",
    re.IGNORECASE,
)
_DATE_WORD_LIST = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday mon tue tues wed thu thurs fri sat sun am pm gmt utc cet cest est edt bst "
    "hkt st nd rd th at of de del le la am um uhr h enero febrero marzo abril mayo junio julio "
    "agosto septiembre octubre noviembre diciembre janvier fevrier mars avril mai juin juillet "
    "aout septembre octobre novembre decembre"
)
_DATE_WORDS = frozenset(_DATE_WORD_LIST.split())
# A credit run into the start of a block, ended by a separator or a full stop:
# "Photo: AFP | ...", "Photo: Jane Roe/Example Agency. Lawyers said ...".
_CREDIT_INLINE = LazyPattern(
    r"(?:photo|image|picture|photograph|credit)s?(?:\s+credits?)?\s*:\s*[^|—–.]{1,80}?"
    r"\s*(?:[|—–]|\.(?=\s))\s*",
    re.IGNORECASE,
)
# Credits in parentheses anywhere: "(Photo: Reuters)", "(Image credit: UN Photo)".
_CREDIT_PARENTHESES = LazyPattern(
    r"\s*\((?:photo|image|picture|photograph|credit|file photo)s?(?:\s+credits?)?\s*:[^)]{0,100}\)",
    re.IGNORECASE,
)
# A press release's header run into its first paragraph (feeds that flatten it):
# "For immediate release Media contact: Jane Doe, press@example.org, +1 202 555 0100 The ...".
_RELEASE_HEADER = LazyPattern(
    r"(?:for immediate release|immediate release|press release|communiqué de presse"
    r"|comunicado de prensa|pressemitteilung|basın açıklaması)\b\s*[:.\-–—]?\s*",
    re.IGNORECASE,
)
_CONTACT_HEAD = LazyPattern(
    r"(?:(?:media|press) (?:contacts?|inquiries|enquiries)|contacts?)\s*[:：]", re.IGNORECASE
)
_CONTACT_DETAIL = LazyPattern(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ().-]{6,}\d|https?://\S+", re.IGNORECASE
)
# Excerpt markers: "[…]", "[...]" (also what "[&hellip;]" decodes to).
_EXCERPT_MARK = LazyPattern(r"\s*\[\s*(?:…|\.\.\.)\s*\]")
# Prompts that end an excerpt; cut when they start a sentence and little follows them.
_TAIL_PROMPTS = (
    "continue reading",
    "read more",
    "read the full story",
    "read the full article",
    "keep reading",
    "share this",
    "follow us on",
    "click here",
    "subscribe to",
    "sign up for",
    "view full coverage",
)
# ... or wherever they stand when a link's ellipsis or arrow ends them ("... camps Continue
# reading...", the Guardian's standfirst when its link was flattened).
_LINK_TAIL = LazyPattern(
    r"\s*(?:continue reading|read more|keep reading|read the full (?:story|article)"
    rf"|{_MORE})\s*(?:\.{{3}}|…|→|»|›|>>)\s*$",
    re.IGNORECASE,
)
_TAIL_MAX = 60
_TAIL_PROMPT_MAX = max(map(len, _TAIL_PROMPTS))
_SENTENCE_STARTS = ".!?…|»”\"')]"

# Wire services, by the spellings of their credits; the value is the name shown.
_WIRE_NAMES = {
    "reuters": "Reuters",
    "ap": "AP",
    "the associated press": "AP",
    "associated press": "AP",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "bloomberg": "Bloomberg",
    "xinhua": "Xinhua",
    "dpa": "dpa",
    "efe": "EFE",
    "ansa": "ANSA",
    "kyodo": "Kyodo",
    "kyodo news": "Kyodo",
    "yonhap": "Yonhap",
    "anadolu": "Anadolu Agency",
    "anadolu agency": "Anadolu Agency",
    "aa": "Anadolu Agency",
    "upi": "UPI",
    "aap": "AAP",
    "pti": "PTI",
    "ians": "IANS",
    "ani": "ANI",
    "europa press": "Europa Press",
    "télam": "Télam",
    "telam": "Télam",
    "rfa": "Radio Free Asia",
    "tass": "TASS",
    "itar-tass": "TASS",
    "interfax": "Interfax",
}
_WIRE = "|".join(sorted((re.escape(k) for k in _WIRE_NAMES), key=len, reverse=True))
# "GENEVA, Dec 15 (Reuters) - ", "BEIJING (AP) — ", "(AFP) - ", "Bangkok, 14 feb (EFE).- ",
# "TEL AVIV, April 3. /tass/. ": a dateline that credits a wire.
_WIRE_DATELINE = LazyPattern(
    rf"(?P<place>[A-ZÀ-Þ][^()/\n]{{0,60}}?)?\s*[(/](?P<wire>{_WIRE})[)/]"
    r"\s*(?:\.\s*[-–—]*|[-–—:]+)\s*",
    re.IGNORECASE,
)
# "... the ministry said. — AFP", "... (AFP)", "... /AFP": a credit closing the text.
_WIRE_TAIL = LazyPattern(
    rf"(?<=[.!?”\"’)])\s*(?:[-–—/]\s*|\()(?P<wire>{_WIRE})\)?\s*$", re.IGNORECASE
)
# A block that is only a credit: "AFP", "— AP", "© Agence France-Presse", "Reuters".
_WIRE_BLOCK = LazyPattern(rf"[-–—©(\s]*(?:source\s*:\s*)?(?P<wire>{_WIRE})\)?\.?", re.IGNORECASE)


@dataclass(frozen=True)
class Report:
    """Cleaned text of a report: blocks separated by newlines, and the wire it credits, if any."""

    text: str
    wire: str | None = None


def clean_description(html_or_text: str, *, title: str | None = None) -> str:
    """Plain text of a feed description without markup, boilerplate or the repeated title."""
    return collapse(clean_report(html_or_text, title=title).text)


def clean_report(html_or_text: str, *, title: str | None = None) -> Report:
    """The report's own words, block by block (newline-separated), and its wire credit."""
    if not html_or_text:
        return Report("")
    wire: str | None = None
    kept: list[str] = []
    for index, raw in enumerate(_blocks(html_or_text)):
        block = raw
        at_start = not kept and index < 4
        if at_start:
            block, credited = _without_leading_credits(block)
            wire = wire or credited
        if _CREDIT_INLINE.match(block):
            block = _CREDIT_INLINE.sub("", block, count=1)
        if not block:
            continue
        block_wire = _wire_block(block)
        if block_wire:
            wire = wire or block_wire
            continue
        if not _is_boilerplate_block(block, at_start=at_start):
            kept.append(block)
    if kept and title:
        first = _without_title(kept[0], title)
        kept[0:1] = [first] if first else []
    kept = [_CREDIT_PARENTHESES.sub("", block).strip() if "(" in block else block for block in kept]
    kept = [block for block in kept if block]
    # The end: footers, prompts and a closing wire credit, until nothing more comes off.
    while kept:
        last = kept[-1]
        previous = None
        while previous != last:
            previous = last
            last = _without_wordpress_footer(last)
            last = _without_tail_prompt(last)
            if "[" in last:
                last = _EXCERPT_MARK.sub(_excerpt_mark_replacement, last)
            last = last.strip()
            cut, tail_wire = (
                _without_tail_match(last, _WIRE_TAIL) if _may_end_with_wire(last) else (last, None)
            )
            if tail_wire is not None:
                wire = wire or _WIRE_NAMES[tail_wire.group("wire").lower()]
                last = cut
        if last:
            kept[-1] = last
            break
        kept.pop()
    if kept:
        # A dateline credit, once the header is off: "BEIJING (Reuters) - The ..."
        kept[0], dateline = _without_wire_dateline(kept[0])
        wire = dateline or wire
        if not kept[0]:
            kept.pop(0)
    return Report("\n".join(kept), wire)


def _may_end_with_wire(text: str) -> bool:
    """Whether `_WIRE_TAIL` could match: a wire's name (a word), maybe in parentheses, ends the
    text, and a dash, slash or parenthesis comes before it (searching costs 20 us a text)."""
    end = text.rstrip()
    end = end[:-1] if end.endswith(")") else end
    return end[-1:].isalpha() and any(mark in text[-30:] for mark in "-–—/(")


def caption_texts(markup: str) -> list[str]:
    """Texts a page shows around the report (captions, alt texts, bylines), to recognise them
    elsewhere.

    WordPress builds a post's excerpt from its text with the markup stripped, so a caption in
    the content becomes the excerpt's first words; the content still says it is a caption.
    """
    if not markup or "<" not in markup:
        return []
    tree = LexborHTMLParser(markup)
    found: list[str] = []
    for node in tree.css("figcaption, .wp-caption-text, [class*='caption']"):
        text = collapse(node.text(separator=" "))
        if text:
            found.append(text)
    root = tree.body or tree.root
    if root is not None and "<img" in markup.lower():
        for node in _image_captions(root):
            text = collapse(node.text(separator=""))
            if text:
                found.append(text)
    for node in tree.css("p, div, span, strong"):
        text = collapse(node.text(separator=""))
        if text.startswith("By ") and _BYLINE_BLOCK.fullmatch(text) and len(text) <= 100:
            found.append(text)  # a byline the excerpt runs into its first sentence
    for image in tree.css("img[alt]"):
        alt = collapse(image.attributes.get("alt") or "")
        if len(alt) > 15:
            found.append(alt)
    return found


def without_content_captions(text: str, markup: str) -> str:
    """`without_captions(text, caption_texts(markup))`, without reading the markup when none of
    its captions can start the text: with no image, no "caption" (a figcaption, a caption class)
    and no reference in a class (which could spell one), its captions are bylines, which start
    with "By". Reading a post's content for them cost ~0.1-1 ms an entry, every WordPress entry.
    """
    if not text or not markup:
        return text
    lowered = markup.lower()
    # "<im": a parser reads <image> as <img>.
    if "<im" not in lowered and "caption" not in lowered and not _REFERENCE_IN_CLASS.search(markup):
        first = _WORD.search(text)
        if first is None or fold(first.group()) != "by":
            return text
    return without_captions(text, caption_texts(markup))


_REFERENCE_IN_CLASS = LazyPattern(r"class\s*=\s*(?:\"[^\"]*&|'[^']*&|[^\s>]*&)", re.IGNORECASE)


def without_captions(text: str, captions: list[str]) -> str:
    """The text without captions it starts with (an excerpt made from a post with a figure)."""
    if not captions or not text:
        return text
    lines = text.split("\n")
    changed = True
    while changed and lines:
        changed = False
        head = lines[0]
        for caption in captions:
            rest = _without_prefix(head, caption)
            if rest is not None:
                head = rest
                changed = True
        if changed:
            lines[0] = head
            if not head:
                lines.pop(0)
    return "\n".join(lines)


def first_image(html: str, *, base: str = "") -> str | None:
    """The first real image of a description or article body (not an emoji, icon or pixel)."""
    if not html or "<img" not in html.lower():
        return None
    tree = LexborHTMLParser(html)
    for image in tree.css("img"):
        attrs = image.attributes
        src = attrs.get("src") or attrs.get("data-src") or ""
        if not src or _is_decoration(src, attrs):
            continue
        url = web_url(src, base=base)
        if url:
            return url
    return None


def page_image(html: bytes | str, *, url: str = "") -> str | None:
    """The image a page names for link previews: og:image, else twitter:image."""
    if not html:
        return None
    text = html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html
    # The head is enough, and a page can be megabytes long.
    end = text.lower().find("</head>")
    tree = LexborHTMLParser(text[: end + 7] if end >= 0 else text[:200_000])
    for wanted in ("og:image:secure_url", "og:image", "og:image:url", "twitter:image"):
        for meta in tree.css("meta"):
            attrs = meta.attributes
            name = (attrs.get("property") or attrs.get("name") or "").strip().lower()
            if name == wanted:
                found = web_url(attrs.get("content") or "", base=url)
                if found and not _is_decoration(found, {}):
                    return found
    return None


def web_url(value: str, *, base: str = "") -> str | None:
    """A picture's address Discord shows: http(s), a host, at most 2048 characters."""
    return links.web_url(value, base=base, max_length=links.URL_MAX)


# ---------------------------------------------------------------------------------------------
# the structure


def _blocks(html_or_text: str) -> list[str]:
    if "<" not in html_or_text:
        # Plain text: lines are the blocks (entities decoded, white space collapsed).
        return [
            block
            for line in html_or_text.splitlines()
            if _has_words(block := collapse(_decode_entities(line)))
        ]
    simple = _simple_blocks(html_or_text)
    return simple if simple is not None else _tree_blocks(html_or_text)


def _tree_blocks(html_or_text: str) -> list[str]:
    tree = LexborHTMLParser(html_or_text)
    root = tree.body or tree.root
    if root is None:
        return []
    for node in root.css(_NEVER_TEXT):
        node.decompose()
    lowered = html_or_text.lower()
    if "<img" in lowered:
        _drop_image_captions(root)
    for node in root.css(_NOISE):
        node.decompose()
    if "<li" in lowered:
        _drop_link_lists(root)
    if "<a" in lowered:
        for anchor in root.css("a"):
            if _PROMPT_LINK.fullmatch(collapse(anchor.text(separator=""))):
                anchor.decompose()
        if _link_share(root) >= _LINK_ECHO_SHARE:
            return []  # headlines linking elsewhere (Google News), not a report
    for node in root.css(_BLOCK_TAGS):
        node.insert_before(_BLOCK)
        node.insert_after(_BLOCK)
    return _split_blocks(root.text(separator=""))


# Markup most descriptions are made of (paragraphs, links, bold, a list of headlines), read
# without an HTML tree: building one and running the CSS queries above over it cost about 100 us
# a description, two thirds of cleaning one. The fast reading takes only markup whose tree no
# HTML parsing rule reshapes: known tags, strictly nested and closed, no element a parser would
# close or move on its own (a block in a paragraph, a link in a link, a list item outside a
# list), no attribute a noise selector looks at, character references that decode one way. Any
# other markup returns None and goes to the tree (tests/test_clean.py compares the two).
_SIMPLE_BLOCK = frozenset((
    "p", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "section",
    "article", "header", "footer", "main",
))  # fmt: skip
_SIMPLE_INLINE = frozenset((
    "a", "b", "strong", "i", "em", "u", "small", "span", "font", "cite", "q", "abbr", "time",
    "sub", "sup", "code",
))  # fmt: skip
_SIMPLE_VOID = frozenset(("br", "hr"))
# What a class names when _NOISE would remove its element (any case: a document without a
# doctype matches classes regardless of case).
_NOISE_CLASS_PARTS = (
    "share", "social", "subscribe", "newsletter", "byline", "credit", "caption", "related",
    "author", "advert", "promo", "feedflare",
)  # fmt: skip
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# A text and the tag after it (or the text's end): findall reads the markup as a list of these.
_SIMPLE_TOKEN = LazyPattern(
    r"([^<]*)(?:<(/?)([A-Za-z][A-Za-z0-9]*)"
    r"((?:\s+[A-Za-z][\w:-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*(/?)>|\Z)"
)
_SIMPLE_ATTRIBUTE = LazyPattern(
    r"([A-Za-z][\w:-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?"
)
# A character reference decoded the same by html.unescape and an HTML parser, or an "&" that
# starts none (a letter, digit or "#" after it could start one: those texts take the tree).
_SIMPLE_REFERENCE = LazyPattern(
    r"&(?:#(?:([0-9]{1,7})|[xX]([0-9A-Fa-f]{1,6}));|([A-Za-z][A-Za-z0-9]{0,31};)|(?![A-Za-z0-9#]))"
)

_SIMPLE_KIND = {
    **dict.fromkeys(_SIMPLE_INLINE, 0),
    **dict.fromkeys(_SIMPLE_BLOCK, 1),
    **dict.fromkeys(_SIMPLE_VOID, 2),
}


def _simple_blocks(markup: str) -> list[str] | None:
    """`_tree_blocks` of simple markup without a tree, or None when the markup is not simple."""
    if _BLOCK in markup or "\x00" in markup:
        return None
    parts: list[str] = []  # the texts, and _BLOCK where a block starts or ends
    stack: list[tuple[str, int]] = []  # open elements: tag, where their parts start
    spans: list[tuple[str, int, int]] = []  # links, lists and items: tag, parts[start:end]
    paragraphs = anchors = headings = tags = 0
    for text, closing, name, attributes, self_closing in _SIMPLE_TOKEN.findall(markup):
        if text:
            if "&" in text:
                decoded = _simple_decoded(text)
                if decoded is None:
                    return None
                text = decoded
            parts.append(text)
        if not name:
            continue  # the text after the last tag
        tags += 1
        name = name.lower()
        kind = _SIMPLE_KIND.get(name)
        if kind is None:
            return None
        if closing:
            if attributes or self_closing or not stack or stack[-1][0] != name:
                return None
            start = stack.pop()[1]
            if kind:
                parts.append(_BLOCK)
                if name == "p":
                    paragraphs = 0
                elif name in _HEADINGS:
                    headings = 0
                elif name in ("ul", "ol", "li"):
                    spans.append((name, start, len(parts)))
            elif name == "a":
                anchors = 0
                spans.append((name, start, len(parts)))
            continue
        if attributes and not _simple_attributes(attributes):
            return None
        if kind == 2:
            if name == "hr" and paragraphs:
                return None  # a rule closes the paragraph it stands in
            parts.append(_BLOCK)
            continue
        if self_closing:
            return None  # "<p/>" opens a paragraph
        if kind:
            if paragraphs:
                return None  # a block closes the paragraph it starts in
            if name == "p":
                paragraphs = 1
            elif name in _HEADINGS:
                if headings:
                    return None
                headings = 1
            elif name == "li" and (not stack or stack[-1][0] not in ("ul", "ol")):
                return None  # an item closes an item open around it
            stack.append((name, len(parts)))
            parts.append(_BLOCK)
        else:
            if name == "a":
                if anchors:
                    return None  # a link closes a link open around it
                anchors = 1
            stack.append((name, len(parts)))
    if stack or tags != markup.count("<"):
        return None  # unclosed elements, or a "<" that starts no tag (a comment, a stray "<")
    if spans and not _simple_links_dropped(parts, spans):
        return []  # headlines linking elsewhere (Google News), not a report
    return _split_blocks("".join(parts))


def _split_blocks(text: str) -> list[str]:
    """The blocks of a flattened text (split at _BLOCK), white space collapsed, none empty."""
    return [collapse(part) for part in text.split(_BLOCK) if _WORD_CHARACTER.search(part)]


def _simple_links_dropped(parts: list[str], spans: list[tuple[str, int, int]]) -> bool:
    """Blank link lists and prompt links in `parts` (as `_tree_blocks` decomposes them);
    False when what is left is mostly link text."""

    def letters(start: int, end: int) -> int:
        return sum(_letters(part) for part in parts[start:end])

    def link_share(start: int, end: int) -> float:
        total = letters(start, end)
        if not total:
            return 0.0
        linked = sum(letters(s, e) for tag, s, e in spans if tag == "a" and start <= s < end)
        return linked / total

    doomed = []
    for tag, start, end in spans:
        if tag not in ("ul", "ol"):
            continue
        entries = [(s, e) for t, s, e in spans if t == "li" and start <= s < end and letters(s, e)]
        linked = sum(1 for s, e in entries if link_share(s, e) >= _LINK_LIST_SHARE)
        if entries and linked * 3 >= len(entries) * 2:
            doomed.append((start, end))
    for start, end in doomed:
        parts[start:end] = [""] * (end - start)
    anchors = [(s, e) for tag, s, e in spans if tag == "a"]
    if not anchors:
        return True
    for start, end in anchors:
        text = "".join(parts[start:end]).replace(_BLOCK, "")
        if _PROMPT_LINK.fullmatch(collapse(text)):
            parts[start:end] = [""] * (end - start)
    return link_share(0, len(parts)) < _LINK_ECHO_SHARE


def _simple_attributes(attributes: str) -> bool:
    """Whether no noise selector can read these attributes: only class and rel are read."""
    for found in _SIMPLE_ATTRIBUTE.finditer(attributes):
        name = found.group(1).lower()
        if name not in ("class", "rel"):
            continue
        value = (found.group(2) or found.group(3) or found.group(4) or "").lower()
        if "&" in value:
            return False  # a reference could spell what a selector looks for
        parts = _NOISE_CLASS_PARTS if name == "class" else ("author",)
        if any(part in value for part in parts):
            return False
    return True


def _simple_decoded(text: str) -> str | None:
    references = 0
    for found in _SIMPLE_REFERENCE.finditer(text):
        references += 1
        decimal, hexadecimal, name = found.groups()
        if decimal or hexadecimal:
            code = int(decimal) if decimal else int(hexadecimal, 16)
            if not _plain_code_point(code):
                return None
        elif name and name not in html.entities.html5:
            return None
    if text.count("&") != references:
        return None  # "&" and a letter, digit or "#" that make no reference parsers agree on
    return html.unescape(text)


def _plain_code_point(code: int) -> bool:
    """A code point both decoders give as itself: no control, surrogate or noncharacter."""
    if code in (9, 10) or 0x20 <= code < 0x7F or 0xA0 <= code < 0xD800:
        return True
    if 0xE000 <= code <= 0x10FFFF:
        return not (0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE)
    return False


def _decode_entities(line: str) -> str:
    return html.unescape(line) if "&" in line else line


def _letters(text: str) -> int:
    return sum(map(str.isalnum, text))


def _link_share(node: LexborNode) -> float:
    total = _letters(node.text(separator=""))
    if not total:
        return 0.0
    linked = sum(_letters(anchor.text(separator="")) for anchor in node.css("a"))
    return linked / total


def _drop_link_lists(root: LexborNode) -> None:
    doomed = []
    for listing in root.css("ul, ol"):
        entries = [li for li in listing.css("li") if _letters(li.text(separator=""))]
        if not entries:
            continue
        linked = sum(1 for li in entries if _link_share(li) >= _LINK_LIST_SHARE)
        if linked * 3 >= len(entries) * 2:
            doomed.append(listing)
    for listing in _outermost(doomed):
        listing.decompose()


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    ids = {node.mem_id for node in nodes}
    result = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in ids:
            parent = parent.parent
        if parent is None:
            result.append(node)
    return result


_CAPTION_TAGS = frozenset({"em", "i", "small", "cite", "figcaption"})
_IMAGE_HOLDERS = frozenset({"p", "div", "a", "span", "center"})


def _drop_image_captions(root: LexborNode) -> None:
    for node in _image_captions(root):
        node.decompose()


def _image_captions(root: LexborNode) -> list[LexborNode]:
    """An image's caption is italic or small text right after it (same block or the next)."""
    doomed = []
    for image in root.css("img"):
        holder: LexborNode | None = image
        while (
            holder is not None
            and holder.parent is not None
            and holder.parent.tag in _IMAGE_HOLDERS
            and holder.parent.mem_id != root.mem_id
        ):
            holder = holder.parent
        if holder is None:
            continue
        if holder is not image and _letters(holder.text(separator="")):
            # Image and text in one block: the text is a caption when all of it is italic/small.
            doomed.extend(_caption_parts(holder))
            continue
        following = _next_element(holder)
        if following is not None and _is_caption_block(following):
            doomed.append(following)
    return _outermost(doomed)


def _caption_parts(block: LexborNode) -> list[LexborNode]:
    total = _letters(block.text(separator=""))
    styled = [node for node in block.css(", ".join(_CAPTION_TAGS))]
    covered = sum(_letters(node.text(separator="")) for node in _outermost(styled))
    if styled and covered == total and total <= _CAPTION_MAX:
        return _outermost(styled)
    return []


def _is_caption_block(node: LexborNode) -> bool:
    if node.tag in _CAPTION_TAGS:
        return _letters(node.text(separator="")) <= _CAPTION_MAX
    if node.tag not in ("p", "div", "span"):
        return False
    return bool(_caption_parts(node))


def _next_element(node: LexborNode) -> LexborNode | None:
    following = node.next
    while following is not None:
        if following.tag == "-text":
            if (following.text_content or "").strip():
                return None
        elif following.tag != "_comment" and following.tag != "-comment":
            return following
        following = following.next
    return None


def _is_decoration(src: str, attrs: dict[str, str | None]) -> bool:
    lowered = src.lower()
    if lowered.startswith("data:") or any(
        mark in lowered
        for mark in (
            "emoji",
            "gravatar.com",
            "feedburner",
            "pixel",
            "favicon",
            "/icons/",
            "-icon",
            "_icon",
            "logo",
            "spacer",
            "blank.gif",
            "stats.wordpress.com",
            "share",
        )
    ):
        return True
    for dimension in ("width", "height"):
        value = (attrs.get(dimension) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < 60:
            return True
    return False


_WORD_CHARACTER = LazyPattern(r"[^\W_]")  # what str.isalnum() says of one character


def _has_words(text: str) -> bool:
    return _WORD_CHARACTER.search(text) is not None


# ---------------------------------------------------------------------------------------------
# the text


def _is_boilerplate_block(block: str, *, at_start: bool) -> bool:
    marker = block.strip(" .:")
    # A marker is at most 18 characters but for rows of "#", "*" or a "- 30 -".
    if (len(marker) <= _MARKER_MAX or marker[:1] in "#*-") and _MARKER_BLOCK.fullmatch(marker):
        return True
    # Short and one sentence: the starts first, the sentence break (a search) only then.
    if (
        len(block) <= _BOILERPLATE_BLOCK_MAX
        and (
            _BOILERPLATE_BLOCK.match(block)
            or (len(block) <= 100 and (_DATED_BLOCK.match(block) or _is_date_only(block)))
        )
        and not _SENTENCE_BREAK.search(block)
    ):
        return True
    return at_start and len(block) <= 100 and bool(_BYLINE_BLOCK.fullmatch(block))


def _is_date_only(block: str) -> bool:
    # The length first: a digit search over every short block was a tenth of clean_report.
    if len(block) > 60 or not any(map(str.isdigit, block)):
        return False
    words = re.findall(r"[^\W\d_]+", fold(block))
    return all(word in _DATE_WORDS for word in words)


def _without_leading_credits(block: str) -> tuple[str, str | None]:
    """A first block without a byline, credit or press-release header run into it."""
    wire = None
    byline = _BYLINE_INLINE.match(block) if block.startswith("By ") else None
    if byline:
        wire = _wire_in(byline.group())
        block = block[byline.end() :]
    elif block.startswith("By "):
        whole = _BYLINE_BLOCK.fullmatch(block.rstrip("."))
        if whole:
            return "", _wire_in(block)
    release = _RELEASE_HEADER.match(block)
    if release:
        block = block[release.end() :]
        block = _without_leading_date(block)
    contact = _CONTACT_HEAD.match(block)
    if contact:
        details = [
            found for found in _CONTACT_DETAIL.finditer(block, contact.end()) if found.start() < 250
        ]
        if details:
            block = block[details[-1].end() :].lstrip(" ,;.|–—-")
    return block.strip(), wire


_LEADING_DATE = LazyPattern(
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    r"(?:\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2})\s*[:.\-–—]?\s*",
    re.IGNORECASE,
)


def _without_leading_date(block: str) -> str:
    found = _LEADING_DATE.match(block)
    return block[found.end() :] if found else block


def _wire_in(text: str) -> str | None:
    for found in re.finditer(rf"\b(?:{_WIRE})\b", text, re.IGNORECASE):
        name = found.group().lower()
        acronym = name in ("ap", "afp", "efe", "aa", "upi", "aap", "pti", "ians", "ani", "rfa")
        if acronym and found.group() != found.group().upper():
            continue  # "ap" or "Ani" in a name is not a credit
        return _WIRE_NAMES[name]
    return None


def _wire_block(block: str) -> str | None:
    if len(block) > 40:
        return None
    found = _WIRE_BLOCK.fullmatch(block.strip())
    if not found:
        return None
    return _wire_in(found.group("wire")) or _WIRE_NAMES.get(found.group("wire").lower())


def _without_wire_dateline(block: str) -> tuple[str, str | None]:
    found = _WIRE_DATELINE.match(block) if "(" in block or "/" in block else None
    if not found:
        return block, None
    place = found.group("place") or ""
    if _SENTENCE_BREAK.search(place) or (place and place[0].islower()):
        return block, None
    return block[found.end() :].strip(), _WIRE_NAMES[found.group("wire").lower()]


_WORD = LazyPattern(r"\w+")
_OUTLET_SUFFIX = LazyPattern(r"\s+[-–—|]\s+[^-–—|]{1,60}$")


def _without_title(text: str, title: str) -> str:
    """Drop the title when the text starts by repeating it (case and accents aside), also
    without the outlet a search feed appends to it ("... - Radio Free Asia")."""
    rest = _without_exact_title(text, title)
    if rest == text and _OUTLET_SUFFIX.search(title):
        rest = _without_exact_title(text, _OUTLET_SUFFIX.sub("", title))
    return rest


def _without_exact_title(text: str, title: str) -> str:
    first, first_in_text = _WORD.search(title), _WORD.search(text)
    if first is None or first_in_text is None:
        return text
    if fold(first_in_text.group()) != fold(first.group()):
        return text  # most texts: one comparison
    title_words = _WORD.findall(title)
    compared = 0
    end = 0
    for title_word, found in zip(title_words, _WORD.finditer(text), strict=False):
        if fold(found.group()) != fold(title_word):
            return text
        compared += 1
        end = found.end()
    if compared < len(title_words):
        return text  # the text is shorter than the title
    rest = text[end:]
    return rest.lstrip(" .:;|-–—\"'”’»").strip()


def _without_prefix(text: str, prefix: str) -> str | None:
    """The text after `prefix` (words compared folded), or None when it does not start so."""
    prefix_words = [fold(word) for word in re.findall(r"\w+", prefix)]
    if len(prefix_words) < 3:
        return None
    words = list(re.finditer(r"\w+", text))
    if len(words) < len(prefix_words):
        return None
    if [fold(match.group()) for match in words[: len(prefix_words)]] != prefix_words:
        return None
    rest = text[words[len(prefix_words) - 1].end() :]
    return rest.lstrip(" .:;|-–—\"'”’»)").strip()


def _without_wordpress_footer(text: str) -> str:
    """Drop WordPress's 'The post X appeared first on Y.' from the end."""
    marker = text.rfind(" appeared first on ")
    if marker < 0 or len(text) - marker > 120:
        return text
    start = text.rfind("The post ", 0, marker)
    if start < 0:
        return text
    return text[:start].rstrip()


def _without_tail_prompt(text: str) -> str:
    """Drop a 'Continue reading...' style prompt that ends the text."""
    if text.endswith(("...", "…", "→", "»", "›", ">>")):  # what ends a _LINK_TAIL match
        cut, linked = _without_tail_match(text, _LINK_TAIL)
        if linked is not None:
            return cut
    # Only a prompt starting in the last _TAIL_MAX characters and its own length counts, and
    # folding ASCII keeps every character where it was: folding the end is enough.
    window = max(0, len(text) - _TAIL_MAX - _TAIL_PROMPT_MAX) if text.isascii() else 0
    folded = text[window:].casefold()
    for prompt in _TAIL_PROMPTS:
        start = folded.rfind(prompt)
        start = start + window if start >= 0 else start
        if start < 0 or len(text) - start - len(prompt) > _TAIL_MAX:
            continue
        before = text[:start].rstrip()
        if before and before[-1] not in _SENTENCE_STARTS:
            continue  # "states that did not subscribe to the Statute" is not a prompt
        return before
    return text


_TAIL_WINDOW = 120  # what an ending pattern may span: searching only there keeps long texts cheap


def _without_tail_match(
    text: str, pattern: re.Pattern[str] | LazyPattern
) -> tuple[str, re.Match[str] | None]:
    """The text without an ending `pattern` matches (searched in its last characters only)."""
    offset = max(0, len(text) - _TAIL_WINDOW)
    found = pattern.search(text, offset)
    if found is None:
        return text, None
    return text[: found.start()].rstrip(), found


def _excerpt_mark_replacement(found: re.Match[str]) -> str:
    # A marker that cuts a sentence short becomes an ellipsis; after a full stop it just goes.
    before = found.string[: found.start()].rstrip()
    ends_sentence = not before or before[-1] in ".!?…。！？"
    return "" if ends_sentence else "…"
