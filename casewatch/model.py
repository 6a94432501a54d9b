"""The values that flow through the pipeline. Plain dataclasses: no I/O, no Discord."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["news", "court"]
Verdict = Literal["relevant", "context", "dropped"]


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP fetch of a source produced. `error` set means the fetch failed."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a 304, or a 200 whose body hash equals the last one
    body_hash: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header on 429/503
    error: str | None = None  # human readable: what went wrong and where
    permanent: bool = False  # 404/410 and the like: back off hard, still never drop
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Entry:
    """One parsed entry of a feed or page, before relevance and dedup."""

    title: str
    link: str | None = None
    guid: str | None = None
    # Plain text, blocks (paragraphs) separated by newlines; markup, figures, captions, bylines,
    # share blocks and link lists already removed (casewatch.clean).
    summary: str = ""  # the description (or the content when the description is thin)
    content: str = ""  # the full content when the feed carries it
    published: datetime | None = None  # timezone-aware UTC when known
    updated: datetime | None = None
    author: str | None = None
    # The outlet that wrote it: a wire credited in the text, else a Google News <source> or a
    # Bing News <News:Source>; the pipeline falls back to the source's `publisher:`.
    publisher: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None  # an http(s) picture of the entry (media:content, enclosure, ...)


@dataclass
class ParseResult:
    """A parsed document: its entries, the entries skipped (with why) and document errors."""

    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)  # one message per bad entry
    error: str | None = None  # the document as a whole could not be used
    feed_title: str | None = None
    feed_language: str | None = None
    format: str | None = None  # rss20, atom10, json1, html-page, ...


@dataclass(frozen=True)
class Match:
    """The relevance decision for one text, with the evidence."""

    verdict: Verdict
    score: float
    rules: tuple[str, ...]  # names of the rules that fired
    terms: tuple[str, ...]  # "group:term" for every term found
    reason: str  # one line a person can read: why kept or dropped
    court: bool = False  # the text reads as a court development
