"""Who wrote a report: the outlet an item is credited to, and one spelling per outlet. Pure.

An alert names the outlet that wrote the report, never the name of our own feed ("Bing News,
ICC + Uyghur", "The Guardian, Xinjiang"). The same outlet reached through two feeds is one
outlet: its spellings ("Associated Press", "AP News", "Hong Kong Free Press HKFP") are folded
to one, the name `feeds.yaml` gives it when it gives one.
"""

from __future__ import annotations

from collections.abc import Iterable

from casewatch.config import SourceConfig
from casewatch.dedup import publisher_key, split_publisher
from casewatch.model import Entry
from casewatch.patterns import LazyPattern

# Spellings of the wires and big outlets that aggregators use, by their comparison key.
_ALIASES = {
    "ap": "AP",
    "apnews": "AP",
    "associatedpress": "AP",
    "afp": "AFP",
    "agencefrancepresse": "AFP",
    "afpnews": "AFP",
    "reuters": "Reuters",
    "thomsonreuters": "Reuters",
    "bbc": "BBC News",
    "bbcnews": "BBC News",
    "bbccouk": "BBC News",
    "guardian": "The Guardian",
    "theguardian": "The Guardian",
    "rfa": "Radio Free Asia",
    "radiofreeasia": "Radio Free Asia",
    "voa": "Voice of America",
    "voanews": "Voice of America",
    "voiceofamerica": "Voice of America",
    "dw": "DW",
    "deutschewelle": "DW",
}
# What an aggregator appends to an outlet's name ("The Diplomat on MSN", "... HKFP").
_TAILS = frozenset({"news", "online", "onmsn", "onmsncom", "viayahoo", "viamsn", "com"})


class OutletNames:
    """One spelling per outlet: the configured publishers' names win, then known aliases."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._by_key: dict[str, str] = {}
        for name in names:
            key = publisher_key(name)
            if key and key not in self._by_key:
                self._by_key[key] = name
        # Longest first: "hongkongfreepress" before "hongkong".
        self._keys = sorted(self._by_key, key=len, reverse=True)

    def known(self, name: str) -> bool:
        """Whether a name is one of the configured publishers or a known spelling."""
        key = publisher_key(name)
        return key in self._by_key or key in _ALIASES

    def canonical(self, name: str) -> str:
        """The spelling this outlet goes by here."""
        name = " ".join(name.split())
        key = publisher_key(name)
        if not key:
            return name
        if key in self._by_key:
            return self._by_key[key]
        for known in self._keys:
            if len(known) >= 6 and key.startswith(known):
                rest = key[len(known) :]
                if rest in _TAILS or rest == _initials(self._by_key[known]):
                    return self._by_key[known]
        return _ALIASES.get(key, name)


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.lower().split() if word[0].isalnum())


_FEED_TITLE_MAX = 80


def credited_outlet(
    entry: Entry,
    cfg: SourceConfig,
    names: OutletNames | None = None,
    outlets: frozenset[str] = frozenset(),
    *,
    feed_title: str | None = None,
) -> str | None:
    """The outlet that wrote an entry, never the name of our own feed: what the entry says (a
    wire credit, Google's <source>, Bing's <News:Source>), else the source's `publisher:`, else
    for a search feed the outlet its headline ends with ("... - Reuters"), else for a feed the
    outlet its own title names ("Xinjiang | The Guardian", "Opinio Juris"). None: not known."""
    names = names or OutletNames()
    found = entry.publisher or cfg.publisher
    if not found and cfg.format == "search":
        found = split_publisher(entry.title, None, outlets=outlets)[1]
    if not found and cfg.format == "feed" and feed_title:
        found = _outlet_of_feed_title(feed_title, names, outlets)
    if not found:
        return None
    return names.canonical(found)


# What a feed's title names beside its outlet: the section ("World news | The Guardian").
_SECTION_LIST = (
    "news|world|world news|latest|latest news|top stories|press releases|press release|"
    "statements|blog|feed|rss|home|articles|stories|updates|all|opinion|analysis|asia|china|"
    "international|human rights|comments|posts|all posts|all news"
)
_SECTIONS = frozenset(_SECTION_LIST.split("|"))
_TITLE_SEPARATOR = LazyPattern(r"\s+[-–—|:·•»]\s+")


def _outlet_of_feed_title(title: str, names: OutletNames, outlets: frozenset[str]) -> str | None:
    title = " ".join(title.split())
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) == 2:
        head, tail = parts
        if names.known(tail) or head.casefold() in _SECTIONS:
            return tail  # "Xinjiang | The Guardian", "Press Releases – Example Group"
        if names.known(head) or tail.casefold() in _SECTIONS:
            return head  # "Example Daily News - World"
    _, suffix = split_publisher(title, None, outlets=outlets)
    if suffix and names.known(suffix):
        return suffix
    return title if len(title) <= _FEED_TITLE_MAX else None
