"""Identity and "same story" decisions: identity keys, canonical URLs, title keys, MinHash LSH.

Pure: no I/O and no SQL. Storage keeps the keys made here in indexed tables:
- `document_identities` (`entry_identity` per entry) -> the per-source `seen` keys (never pruned);
- `story_match_keys` -> cross-source keys ("u:" canonical URL, "t:" normalised title);
- `MinHasher.band_keys` -> LSH band keys, so near-duplicate candidates come from an index lookup
  and only those candidates get the Jaccard check (`is_near_duplicate`).
Every key is a short, stable string: the same input gives the same key in every process.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from casewatch.links import is_opaque_link, query_pairs, unwrap_redirect
from casewatch.model import Entry
from casewatch.patterns import LazyPattern
from casewatch.text import collapse, fold

if TYPE_CHECKING:  # numpy: imported by the first signature (the parse worker never makes one)
    import numpy as np

SOURCE_FORMATS = frozenset({"feed", "page", "search"})

# ---------------------------------------------------------------------------------------------
# Hashing helpers


def _digest(text: str) -> str:
    """80-bit BLAKE2b hex digest: stable across processes, unlike hash()."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


_COUNTER_SUFFIX = LazyPattern(r"#\d+$")
_MAX_VERBATIM = 64


def _keep_or_hash(prefix: str, value: str) -> str:
    """Short printable values stay readable in the key; long ones are hashed."""
    if (
        len(value) <= _MAX_VERBATIM
        and value.isprintable()
        # "x#2" verbatim could collide with a repeat key of older versions, "x~..." with the
        # content-qualified key of a repeated "x" (see `document_identities`).
        and not _COUNTER_SUFFIX.search(value)
        and "~" not in value
    ):
        return prefix + value
    return prefix + _digest(value)


# ---------------------------------------------------------------------------------------------
# Text units: words, or single characters for scripts written without spaces

_NO_SPACE_CHARS = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ffff"  # CJK extensions B-F
)
_NO_SPACE_RE = LazyPattern(f"[{_NO_SPACE_CHARS}]")
# A unit is one character of a no-space script, or a run of anything else but white space.
_UNIT = LazyPattern(f"[{_NO_SPACE_CHARS}]|[^\\s{_NO_SPACE_CHARS}]+")


def _weight(unit: str) -> float:
    """How many 'words' a unit is worth: a Chinese or Thai character is about half a word."""
    return 0.5 if _NO_SPACE_RE.fullmatch(unit) else 1.0


# ---------------------------------------------------------------------------------------------
# Canonical URLs


def _words(text: str, sep: str | None = None) -> frozenset[str]:
    """A word list written compactly as one string, split on white space or on `sep`."""
    return frozenset(text.split(sep))


_TRACKING_PARAMS = _words(
    "fbclid gclid gclsrc dclid msclkid yclid twclid igshid mc_cid mc_eid mkt_tok ocid cmpid cmp "
    "ref ref_src ref_url referrer _ga _gl spm smid smtyp emc partner ito xtor ncid s_cid wt.mc_id "
    "ftag sr_share share_id soc_src soc_trk taid fsrc mbid rb_clickid _branch_match_id "
    "hsctatracking guccounter"
)
_TRACKING_PREFIXES = (
    "utm_",
    "at_",  # BBC: at_medium, at_campaign, at_custom1 ...
    "pk_",  # Matomo / Piwik
    "mtm_",
    "piwik_",
    "ns_",  # comScore: ns_mchannel, ns_source ...
    "hsa_",
    "itm_",
    "_hs",  # HubSpot: _hsenc, _hsmi
    "oly_",
    "vero_",
    "guce_",
    "__twitter",
)
_AMP_FLAG_VALUES = frozenset({"", "1", "true"})
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = LazyPattern(r"%([0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=~%"
_QUERY_SAFE = "/?:@!$'()*+,;=~%"


def _normalise_escapes(text: str, safe: str) -> str:
    """Percent-encode what must be, decode escaped unreserved characters, upper-case the rest."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(fix, quote(text, safe=safe))


def _canonical_host(hostname: str) -> str:
    host = hostname.rstrip(".")
    with contextlib.suppress(UnicodeError):  # not valid IDNA: keep it as written
        host = host.encode("idna").decode("ascii")
    while host.startswith(("www.", "amp.")) and host.count(".") >= 2:
        host = host[4:]
    return host


def _is_tracking(key: str, value: str) -> bool:
    name = key.lower()
    if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
        return True
    if name == "outputtype" and value.lower() == "amp":
        return True
    return name == "amp" and value.lower() in _AMP_FLAG_VALUES


def _canonical_path(path: str) -> str:
    path = _normalise_escapes(path or "/", _PATH_SAFE)
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    head, _, last = path.rpartition("/")
    # AMP variants of an article: /story/amp, /story.amp (BBC), /story.amp.html.
    if last == "amp" and head:
        path = head
    elif last.endswith(".amp.html") and len(last) > len(".amp.html"):
        path = f"{head}/{last[: -len('.amp.html')]}.html"
    elif last.endswith(".amp") and len(last) > len(".amp"):
        path = f"{head}/{last[: -len('.amp')]}"
    return path


def canonical_url(url: str) -> str:
    """The form of an article URL that two outlets or two fetches share (tracking, AMP folded).

    Lower-case scheme and host, https for http, no default port, no "www."/"amp." host prefix,
    no fragment (a "#!" route is kept), tracking parameters removed, the rest sorted, no trailing
    slash, AMP variants folded, Bing/Google redirects and decodable Google News ids unwrapped.
    Opaque Google News links and anything that is not an absolute http(s) URL come back
    unchanged (stripped).
    """
    raw = url.strip()
    if is_opaque_link(raw):
        return raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return raw
    host = _canonical_host(parts.hostname)
    target = unwrap_redirect(host, parts.path, parts.query)
    if target is not None:
        return canonical_url(target)
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    kept = sorted(
        _normalise_escapes(raw_part, _QUERY_SAFE)
        for key, value, raw_part in query_pairs(parts.query)
        if not _is_tracking(key, value)
    )
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit(("https", netloc, _canonical_path(parts.path), "&".join(kept), fragment))


# ---------------------------------------------------------------------------------------------
# Publisher suffixes

_SUFFIX_SEP = LazyPattern(r"\s+[-–—|·•]\s+")
_TLDS = r"(com|org|net|info|news|co\.uk|co|uk|de|fr|es|it|ar|au|in)"
_DOMAIN = LazyPattern(rf"[\w-]+(\.[\w-]+)*\.{_TLDS}")
_TLD_TAIL = LazyPattern(rf"\.{_TLDS}$")
_NON_ALNUM = LazyPattern(r"[\W_]+")
# Outlets known the world over. Outlets of one case (its NGOs, courts, regional papers) are
# listed in that case's feeds.yaml (`case.outlets`) and passed in as `outlets`.
_KNOWN_PUBLISHER_NAMES = _words(
    "Reuters|AP|AP News|Associated Press|AFP|BBC|BBC News|The Guardian|Al Jazeera|"
    "Al Jazeera English|CNN|NPR|DW|Deutsche Welle|France 24|RFI|Le Monde|El País|"
    "Voice of America|VOA|Bloomberg|Financial Times|"
    "The New York Times|The Washington Post|The Wall Street Journal|The Economist|"
    "The Independent|The Telegraph|The Times|Politico|Axios|Euronews",
    sep="|",
)
# A trailing segment containing one of these reads as part of the headline, not an outlet.
_NOT_PUBLISHER_WORDS = _words(
    "what why how who whom whose when where which whether is are was were will would can could "
    "should shall may might must does do did has have had not says said say tells told calls "
    "urges asks i we you he she they it this that these those our their my your his her us them "
    "analysis opinion explainer explained editorial interview podcast video photos pictures live "
    "update updates updated breaking exclusive factbox timeline release"
)
# Small words allowed in lower case inside a publisher's name ("Voice of America").
_CONNECTORS = _words(
    "of the and for on in at de la le el del des du di da do dos das y et und van von der al an &"
)


def _publisher_key(name: str) -> str:
    """Compare outlets loosely: 'The Guardian' == 'guardian', 'Reuters.com' == 'Reuters'."""
    key = collapse(fold(name))
    key = key.removeprefix("the ")
    key = _TLD_TAIL.sub("", key)
    return _NON_ALNUM.sub("", key)


_KNOWN_PUBLISHERS = frozenset(_publisher_key(name) for name in _KNOWN_PUBLISHER_NAMES)
publisher_key = _publisher_key  # public name: casewatch.outlets compares outlets the same way


@lru_cache(maxsize=16)
def _outlet_keys(outlets: frozenset[str]) -> frozenset[str]:
    return _KNOWN_PUBLISHERS | frozenset(_publisher_key(name) for name in outlets)


def _first_alnum(word: str) -> str:
    return next((c for c in word if c.isalnum()), "")


def _looks_like_publisher(
    segment: str, known_publisher: str | None, outlets: frozenset[str]
) -> bool:
    key = _publisher_key(segment)
    if not key:
        return False
    if known_publisher and key == _publisher_key(known_publisher):
        return True
    if key in (_outlet_keys(outlets) if outlets else _KNOWN_PUBLISHERS):
        return True
    if len(segment) > 40 or segment[-1] in "?!.…:;,？！。":
        return False
    if _DOMAIN.fullmatch(segment.lower()):
        return True
    words = segment.split()
    if len(words) > 5 or not any(c.isalpha() for c in segment):
        return False
    if any(_NON_ALNUM.sub("", fold(w)) in _NOT_PUBLISHER_WORDS for w in words):
        return False
    if not any(c.isupper() or c.islower() for c in segment):
        # A script without case (Chinese, Arabic ...): only shortness and punctuation tell.
        return len(segment) <= 20 and not any(c in "，、," for c in segment)
    first = _first_alnum(words[0])
    if not (first.isupper() or first.isdigit()):
        return False
    for word in words[1:]:
        initial = _first_alnum(word)
        if initial and initial.islower() and fold(word) not in _CONNECTORS:
            return False
    return True


def split_publisher(
    title: str, known_publisher: str | None = None, *, outlets: frozenset[str] = frozenset()
) -> tuple[str, str | None]:
    """Split a trailing " - Reuters" / " | The Guardian" off a headline: (headline, publisher).

    Only the last segment is considered, and only when it reads as an outlet: the known
    publisher, a well-known outlet or one of the case's `outlets` (names from feeds.yaml), a
    domain, or a short Title Case name without headline words ("Uyghur tribunal - what happens
    next?" is left whole). Otherwise (title, None).
    """
    text = collapse(title)
    separators = list(_SUFFIX_SEP.finditer(text))
    if not separators:
        return text, None
    last = separators[-1]
    head, tail = text[: last.start()].strip(), text[last.end() :].strip()
    if head and tail and _looks_like_publisher(tail, known_publisher, outlets):
        return head, tail
    return text, None


# ---------------------------------------------------------------------------------------------
# Normalised titles

_POSSESSIVE = LazyPattern(r"(?<=\w)'[sS]\b")
_NON_WORD = LazyPattern(r"[\W_]+")
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})
# Words that carry no identity; dropped from title keys and from the "significant" count.
_FUNCTION_WORDS = _words(
    "a an the of to in on for and or at by with from as is are was were be been it its this that "
    "these those after over into about against amid than but not no says said say el la los las "
    "de del y en un una por para con que se su al lo le les des du et une pour par sur au aux "
    "dans qui est der die das und ein eine von zu mit fur im den dem ist"
)


def _normalise(text: str, stopwords: frozenset[str]) -> str:
    """Fold, drop possessives, quotes and punctuation, remove the stopwords, collapse spaces."""
    if "'" in text or "’" in text or "`" in text:
        text = _POSSESSIVE.sub("", text.replace("’", "'")).replace("'", "").replace("`", "")
    # For ASCII, lower() and translate() give what fold() and the regex give, several times faster.
    if text.isascii():
        words = text.lower().translate(_ASCII_NON_WORD)
    else:
        words = _NON_WORD.sub(" ", fold(text))
    if not stopwords:
        return " ".join(words.split())
    singles, phrases, literals = _compiled_stopwords(stopwords)
    # The regex tries every phrase at every position (~40 us a summary): only when one is there.
    if phrases is not None and any(literal in words for literal in literals):
        words = phrases.sub(" ", words)
    return " ".join(
        w for w in words.split() if w not in singles and not (w.endswith("s") and w[:-1] in singles)
    )


def _units(normal: str) -> list[str]:
    """Words, with each character of a no-space script (Chinese, Thai ...) a unit of its own."""
    return normal.split() if normal.isascii() else _UNIT.findall(normal)


@lru_cache(maxsize=64)
def _compiled_stopwords(
    stopwords: frozenset[str],
) -> tuple[frozenset[str], re.Pattern[str] | None, tuple[str, ...]]:
    """Single words to drop as tokens, one regex for phrases and no-space-script words, and
    those phrases as written (the regex matches none where none of them is)."""
    singles: set[str] = set()
    phrases: list[str] = []
    for word in stopwords:
        normal = _normalise(word, frozenset())
        if not normal:
            continue
        if " " in normal or _NO_SPACE_RE.search(normal):
            phrases.append(normal)
        else:
            singles.add(normal)
    if not phrases:
        return frozenset(singles), None, ()
    # Latin phrases only match whole words; Chinese ones match anywhere (there are no spaces).
    alternatives = [
        re.escape(p) if _NO_SPACE_RE.search(p) else rf"(?<!\w){re.escape(p)}(?!\w)"
        for p in sorted(phrases, key=len, reverse=True)
    ]
    return frozenset(singles), re.compile("|".join(alternatives)), tuple(phrases)


def normalise_title(
    title: str,
    *,
    stopwords: frozenset[str] = frozenset(),
    publisher: str | None = None,
    outlets: frozenset[str] = frozenset(),
) -> str:
    """A headline reduced to what identifies the story: folded, no outlet suffix, no case words.

    `stopwords` is the case's own vocabulary (uyghur, icc, china ...), which every headline of
    the case shares; a plural "s" is also dropped ("uyghurs"), entries with spaces are phrases.
    """
    head, _ = split_publisher(title, publisher, outlets=outlets)
    return _normalise(head, stopwords)


def title_key(
    title: str,
    *,
    stopwords: frozenset[str] = frozenset(),
    publisher: str | None = None,
    outlets: frozenset[str] = frozenset(),
    min_words: int = 4,
) -> str | None:
    """Hash of the normalised headline's significant words; None if too few to name a story.

    Function words (the, of, de ...) are left out of both the count and the key; a character of
    a script without spaces (Chinese, Thai) counts as half a word.
    """
    normal = normalise_title(title, stopwords=stopwords, publisher=publisher, outlets=outlets)
    return _title_key_of(normal, min_words)


def _title_key_of(normal: str, min_words: int = 4) -> str | None:
    """`title_key` of a headline already normalised (`normalise_title`)."""
    significant = [u for u in _units(normal) if u not in _FUNCTION_WORDS]
    if sum(_weight(u) for u in significant) < min_words:
        return None
    return _digest(" ".join(significant))


# ---------------------------------------------------------------------------------------------
# Identity (per source) and story keys (across sources)


def _day(entry: Entry) -> str:
    when = entry.published or entry.updated
    if when is None:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.date().isoformat()


def _search_identity(entry: Entry, outlets: frozenset[str]) -> str:
    publisher = (entry.publisher or "").strip() or None
    headline, suffix = split_publisher(entry.title, publisher, outlets=outlets)
    text = _normalise(headline, frozenset())
    if not text:
        text = "text:" + _normalise(entry.summary or entry.content, frozenset())
        if text == "text:":
            raise NoIdentity("entry_identity: search item has no title and no text to identify it")
    outlet = _publisher_key(publisher or suffix or "")
    return "s:" + _digest("\x1f".join((text, outlet, _day(entry))))


class NoIdentity(ValueError):
    """An entry with nothing to recognise it by (no guid, link, title or text)."""


def _feed_identity(entry: Entry) -> str:
    guid = (entry.guid or "").strip()
    if guid:
        return _keep_or_hash("g:", guid)
    # The raw link, not canonical_url: a page source may tell entries apart by fragment or ref.
    link = (entry.link or "").strip()
    if link:
        return _keep_or_hash("l:", link)
    title = _normalise(entry.title, frozenset())
    text = _normalise(entry.summary or entry.content, frozenset())
    if not title and not text:
        raise NoIdentity("entry_identity: entry has no guid, no link, no title and no text")
    return "h:" + _digest(f"{title}\n{text}")


def entry_identity(
    entry: Entry, *, source_format: str = "feed", outlets: frozenset[str] = frozenset()
) -> str:
    """The key that says "this source already gave us this entry" (the `seen` table).

    feed/page: "g:" guid, else "l:" link, else "h:" hash of normalised title and summary.
    search (Google/Bing News): "s:" hash of headline without outlet suffix + outlet + day, since
    their ids and redirect links change on every fetch. Raises NoIdentity (a ValueError) for an
    entry with nothing to identify it. A whole fetched document: `document_identities`.
    """
    if source_format not in SOURCE_FORMATS:
        raise ValueError(
            f"entry_identity: unknown source_format {source_format!r}; "
            f"expected one of {', '.join(sorted(SOURCE_FORMATS))}"
        )
    if source_format == "search":
        return _search_identity(entry, outlets)
    return _feed_identity(entry)


def _content_identity(entry: Entry) -> str:
    """What tells apart entries that share a guid or link: their headline and link (their text
    when they have no headline). Stable across fetches, unlike their place in the document."""
    title = _normalise(entry.title, frozenset())
    text = "" if title else _normalise(entry.summary or entry.content, frozenset())[:500]
    return _digest(f"{title}\n{(entry.link or '').strip()}\n{text}")[:12]


def document_identities(
    entries: Sequence[Entry], *, source_format: str = "feed", outlets: frozenset[str] = frozenset()
) -> list[list[str] | None]:
    """The `seen` keys of each entry of one fetched document: look up all, store all; None for
    an entry with nothing to identify it (skip that entry, not the document).

    A guid (or link) given to several entries of the document does not identify them: each of
    those gets the key qualified by its content ("g:x~" + hash of headline and link), never a
    position, since a new entry at the top would otherwise take the key of an old one. An entry
    with a guid of its own is stored under both keys, so it is still recognised when its guid
    shows up on other entries later. Content-keyed entries ("h:", "s:") repeated in a document
    are one entry.
    """
    bases: list[str | None] = []
    for entry in entries:
        try:
            bases.append(entry_identity(entry, source_format=source_format, outlets=outlets))
        except NoIdentity:
            bases.append(None)
    counts: dict[str, int] = {}
    for base in bases:
        if base is not None:
            counts[base] = counts.get(base, 0) + 1
    out: list[list[str] | None] = []
    for entry, base in zip(entries, bases, strict=True):
        if base is None:
            out.append(None)
        elif not base.startswith(("g:", "l:")):
            out.append([base])
        elif counts[base] > 1:
            out.append([f"{base}~{_content_identity(entry)}"])
        else:
            out.append([base, f"{base}~{_content_identity(entry)}"])
    return out


def _matchable_url(url: str, source_url: str | None, canonical: str | None = None) -> str | None:
    """The canonical URL when it can name one article, else None. `canonical`: the
    `canonical_url` of `url` when the caller has it already."""
    if is_opaque_link(url):
        return None
    if canonical is None:
        canonical = canonical_url(url)
    if not canonical.startswith("https://"):
        return None  # relative or not a web address: equal strings would not mean one article
    if urlsplit(canonical).path in ("", "/"):
        return None  # a home page is not an article
    if source_url and canonical == _canonical_source_url(source_url):
        return None  # a page source whose entries all link back to the listing
    return canonical


@lru_cache(maxsize=256)
def _canonical_source_url(source_url: str) -> str:
    # A page source's address, compared with each of its entries' links.
    return canonical_url(source_url)


def story_match_keys(
    entry: Entry,
    *,
    stopwords: frozenset[str] = frozenset(),
    source_url: str | None = None,
    outlets: frozenset[str] = frozenset(),
) -> list[str]:
    """Cross-source keys to look up, in order: "u:" canonical URL hash, "t:" title key.

    The URL key is left out for opaque search-engine links, home pages, non-web links and links
    equal to `source_url` (the listing page itself); the title key when the headline is too
    short to identify a story. A guid that is a web URL stands in for a missing link.
    """
    normal = normalise_title(
        entry.title, stopwords=stopwords, publisher=entry.publisher, outlets=outlets
    )
    return _match_keys(entry, normal, source_url, None)


def _match_keys(
    entry: Entry, normal_title: str, source_url: str | None, canonical_link: str | None
) -> list[str]:
    """`story_match_keys` from the normalised headline (and the link's canonical URL, if known)."""
    keys: list[str] = []
    url = (entry.link or "").strip()
    canonical = canonical_link if url else None
    if not url and (entry.guid or "").strip().lower().startswith(("http://", "https://")):
        url = (entry.guid or "").strip()
    matchable = _matchable_url(url, source_url, canonical) if url else None
    if matchable is not None:
        keys.append("u:" + _digest(matchable))
    key = _title_key_of(normal_title)
    if key is not None:
        keys.append("t:" + key)
    return keys


def near_duplicate_text(
    entry: Entry,
    *,
    stopwords: frozenset[str] = frozenset(),
    summary_words: int = 60,
    outlets: frozenset[str] = frozenset(),
) -> str:
    """The text to MinHash: normalised headline + the first `summary_words` words of the text."""
    title = normalise_title(
        entry.title, stopwords=stopwords, publisher=entry.publisher, outlets=outlets
    )
    return _near_text(title, entry, stopwords, summary_words)


def _near_text(title: str, entry: Entry, stopwords: frozenset[str], summary_words: int) -> str:
    """`near_duplicate_text` from the normalised headline."""
    body = _normalise(entry.summary or entry.content, stopwords)
    if body.isascii():
        return f"{title} {' '.join(body.split()[:summary_words])}".strip()
    end, weight = 0, 0.0
    for unit in _UNIT.finditer(body):
        if weight >= summary_words:
            break
        weight += _weight(unit.group())
        end = unit.end()
    return f"{title} {body[:end]}".strip()


@dataclass(frozen=True)
class Keying:
    """What an entry's story keys depend on besides the entry: the case's own vocabulary and
    outlets (feeds.yaml), and the listing address of a page source (its links back to itself
    name no article)."""

    stopwords: frozenset[str] = frozenset()
    outlets: frozenset[str] = frozenset()
    source_url: str | None = None


@dataclass(frozen=True)
class StoryKeys:
    """What filing a kept entry's story needs from the entry alone: pure, so it is made where
    the cycle has CPU to spare (the parse worker), once per entry."""

    match: tuple[str, ...]  # `story_match_keys`
    title: str  # the headline without its outlet suffix: the title of a story it starts
    signature: tuple[int, ...] | None = None  # MinHash of `near_duplicate_text`; None: not made
    bands: tuple[str, ...] = ()  # its LSH band keys

    def with_signature(self, entry: Entry, keying: Keying) -> StoryKeys:
        """These keys with the signature and band keys made, if they were not."""
        if self.signature is not None:
            return self
        sig, bands = _signature(entry, keying)
        return StoryKeys(self.match, self.title, sig, tuple(bands))


def story_keys(
    entry: Entry, keying: Keying, *, canonical_link: str | None = None, signature: bool = True
) -> StoryKeys:
    """An entry's `StoryKeys`: `story_match_keys`, the headline without outlet suffix, and
    (with `signature`) the MinHash signature of `near_duplicate_text` and its band keys, as
    `default_hasher` makes them. `canonical_link`: `canonical_url(entry.link)` if known."""
    head, _ = split_publisher(entry.title, entry.publisher, outlets=keying.outlets)
    normal = _normalise(head, keying.stopwords)
    match = tuple(_match_keys(entry, normal, keying.source_url, canonical_link))
    if not signature:
        return StoryKeys(match, head)
    sig, bands = _signature(entry, keying, normal)
    return StoryKeys(match, head, sig, tuple(bands))


def _signature(
    entry: Entry, keying: Keying, normal_title: str | None = None
) -> tuple[tuple[int, ...], list[str]]:
    if normal_title is None:
        normal_title = normalise_title(
            entry.title,
            stopwords=keying.stopwords,
            publisher=entry.publisher,
            outlets=keying.outlets,
        )
    hasher = default_hasher()
    sig = hasher.signature(_near_text(normal_title, entry, keying.stopwords, 60))
    return sig, hasher.band_keys(sig)


# ---------------------------------------------------------------------------------------------
# MinHash and LSH bands

_EMPTY = (1 << 32) - 1  # the signature of a text without words; real values stay below it


def jaccard_estimate(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two shingle sets: the share of equal MinHash values."""
    if len(sig_a) != len(sig_b) or not sig_a:
        raise ValueError(
            f"jaccard_estimate: signatures differ in length ({len(sig_a)} and {len(sig_b)})"
            " or are empty; were they made by the same MinHasher?"
        )
    if sig_a[0] == _EMPTY or sig_b[0] == _EMPTY:
        return 0.0  # a text without words is like nothing, not like every other empty text
    return sum(1 for x, y in zip(sig_a, sig_b, strict=True) if x == y) / len(sig_a)


def is_near_duplicate(sig_a: Sequence[int], sig_b: Sequence[int], threshold: float = 0.6) -> bool:
    """Whether two texts are the same story told twice (estimated Jaccard >= threshold)."""
    return jaccard_estimate(sig_a, sig_b) >= threshold


class MinHasher:
    """MinHash signatures of word shingles, with LSH band keys for an indexed candidate lookup.

    Shingles are `shingle` consecutive words; in scripts written without spaces (Chinese,
    Japanese, Thai) each character is a unit, so those texts get character n-grams, as does a
    text that is one long token. With b bands of r rows, two texts of Jaccard s share at least
    one band key with probability 1 - (1 - s**r)**b. Default 64 = 16 bands x 4 rows:
    s=0.2: 2.5%, 0.3: 12.2%, 0.4: 34.0%, 0.5: 64.4%, 0.6: 89.1%, 0.7: 98.8%, 0.8: 99.96%.
    So a Jaccard of 0.6 is found ~9 times in 10 and 0.3 becomes a candidate ~1 time in 8, to be
    rejected by the Jaccard check (at 0.3 the estimate reaches 0.6 only ~5 standard deviations
    out). Band keys and signatures depend on every parameter: keep them fixed for an archive.
    """

    def __init__(self, num_perm: int = 64, bands: int = 16, shingle: int = 3, seed: int = 1):
        if num_perm < 1 or bands < 1 or num_perm % bands:
            raise ValueError(
                f"MinHasher: num_perm ({num_perm}) must be a positive multiple of bands ({bands})"
            )
        if shingle < 1:
            raise ValueError(f"MinHasher: shingle must be at least 1, got {shingle}")
        self.num_perm = num_perm
        self.bands = bands
        self.rows = num_perm // bands
        self.shingle = shingle
        self.seed = seed
        # Permutation i maps a 32-bit shingle hash x to ((a*x + b) mod 2**64) >> 32, with a odd:
        # Dietzfelbinger's multiply-add-shift family, universal, and no modulo to compute.
        a, b = [], []
        for i in range(num_perm):
            raw = hashlib.blake2b(f"casewatch-minhash:{seed}:{i}".encode(), digest_size=16)
            first, second = struct.unpack("<QQ", raw.digest())
            a.append(first | 1)
            b.append(second)
        self._ab = (a, b)
        self._arrays: tuple[np.ndarray, np.ndarray, np.uint64] | None = None

    def _permutations(self) -> tuple[np.ndarray, np.ndarray, np.uint64]:
        """The multipliers, addends (as columns) and shift, built by the first signature."""
        if self._arrays is None:
            import numpy as np

            a, b = self._ab
            self._arrays = (
                np.array(a, dtype=np.uint64)[:, None],
                np.array(b, dtype=np.uint64)[:, None],
                np.uint64(32),
            )
        return self._arrays

    def shingles(self, text: str) -> set[str]:
        """The set of shingles whose Jaccard similarity the signature estimates."""
        units = _units(_normalise(text, frozenset()))
        if len(units) == 1 and len(units[0]) > self.shingle:
            units = list(units[0])  # one long token (no spaces at all): character n-grams
        if len(units) <= self.shingle:
            return {" ".join(units)} if units else set()
        k = self.shingle
        return {" ".join(units[i : i + k]) for i in range(len(units) - k + 1)}

    def signature(self, text: str) -> tuple[int, ...]:
        """`num_perm` minimum hash values of the text's shingles (all _EMPTY for no words)."""
        shingles = self.shingles(text)
        if not shingles:
            return (_EMPTY,) * self.num_perm
        import numpy as np

        a, b, shift = self._permutations()
        hashes = np.fromiter(
            (zlib.crc32(s.encode("utf-8")) for s in shingles), dtype=np.uint64, count=len(shingles)
        )
        # One row per permutation, one column per shingle; uint64 arithmetic wraps (mod 2**64).
        # The shift is monotone, so it can follow the minimum.
        minima = (a * hashes[None, :] + b).min(axis=1) >> shift
        return tuple(min(value, _EMPTY - 1) for value in minima.tolist())

    def band_keys(self, signature: Sequence[int]) -> list[str]:
        """One key per band ("b07:<hash of the band's rows>"); none for an empty text."""
        if len(signature) != self.num_perm:
            raise ValueError(
                f"MinHasher.band_keys: signature has {len(signature)} values, "
                f"this hasher makes {self.num_perm}"
            )
        if signature[0] == _EMPTY:
            return []
        rows = self.rows
        keys = []
        for band in range(self.bands):
            packed = struct.pack(f"<{rows}I", *signature[band * rows : (band + 1) * rows])
            keys.append(f"b{band:02d}:{hashlib.blake2b(packed, digest_size=8).hexdigest()}")
        return keys

    @staticmethod
    def estimate(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
        """Estimated Jaccard similarity of the two texts behind the signatures."""
        return jaccard_estimate(sig_a, sig_b)

    def candidate_probability(self, jaccard: float) -> float:
        """Chance that two texts of this Jaccard similarity share at least one band key."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands


@lru_cache(maxsize=1)
def default_hasher() -> MinHasher:
    """The hasher of the archive's signatures and band keys (made once per process)."""
    return MinHasher()
