"""Judging one entry: the rules' verdict, its lead and language, its canonical URL, and what
filing its story needs; and finishing a parsed document (outlets, dates, identity keys).

Everything here is pure and per entry, so it runs where the cycle has CPU to spare: in the
parse worker process (`prepare_document` right after the parse, `judge_entries` handed the
rules once as pickled bytes), or inline when there is no worker. The main process then only
looks up, files, stores and decides.
"""

from __future__ import annotations

import dataclasses
import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from casewatch import dedup, summary
from casewatch.model import Entry, Match, ParseResult
from casewatch.outlets import OutletNames, credited_outlet
from casewatch.relevance import RelevanceSettings, RuleEngine

if TYPE_CHECKING:  # config imports the HTTP client; the worker needs none of it
    from casewatch.config import SourceConfig

EARLIEST_DATE = date(1990, 1, 1)  # before any feed this project reads; `case.start` narrows it


def plausible_date(
    when: datetime | None, *, now: datetime, earliest: date = EARLIEST_DATE
) -> datetime | None:
    """An entry's date if it can be true, else None (unknown): not before `earliest` (a feed's
    0001 or 1970 is a missing date in disguise) and not more than a day ahead of now (2099, or
    a wrong time zone beyond any real offset)."""
    if when is None:
        return None
    if when.date() < earliest or when > now + timedelta(days=1):
        return None
    return when


@dataclass(frozen=True)
class Finishing:
    """What finishing a parsed document of a source takes (`prepare_document`)."""

    cfg: SourceConfig
    names: OutletNames  # one spelling per outlet
    outlets: frozenset[str]  # the case's outlets (feeds.yaml)
    feed_title_names_outlet: bool  # a tried feed's own title names its outlet (no `publisher:`)
    now: datetime
    earliest: date


Identities = list[list[str] | None]


def prepare_document(
    parse: Callable[[], ParseResult], finishing: Finishing
) -> tuple[ParseResult, Identities]:
    """Parse a document and finish its entries for filing: the outlet that wrote each one, its
    dates where they can be true (`plausible_date`), and the document's identity keys
    (`dedup.document_identities`). The parse worker's job (a top-level function, so a process
    pool can call it, with `parse` a partial of a top-level parser)."""
    parsed = parse()
    cfg = finishing.cfg
    title = parsed.feed_title if finishing.feed_title_names_outlet else None
    now, earliest = finishing.now, finishing.earliest
    for entry in parsed.entries:
        entry.publisher = credited_outlet(
            entry, cfg, finishing.names, finishing.outlets, feed_title=title
        )
        entry.published = plausible_date(entry.published, now=now, earliest=earliest)
        entry.updated = plausible_date(entry.updated, now=now, earliest=earliest)
    identities = dedup.document_identities(
        parsed.entries, source_format=cfg.format, outlets=finishing.outlets
    )
    return parsed, identities


@dataclass(frozen=True)
class Judged:
    """The judging stage's result for one entry."""

    match: Match
    court: bool
    lead: str
    language: str | None
    canonical_url: str | None  # kept items only
    # Kept items judged with a `Keying` (the parse worker's job): what filing the story needs
    # from the entry alone, so the main process only looks up and writes.
    story: dedup.StoryKeys | None = None
    thin: bool = False  # a relevant item whose lead is too thin: its article is worth reading
    timeline_url: str | None = None  # a court development's link for the timeline

    @property
    def relevant(self) -> bool:
        return self.match.verdict == "relevant"

    @property
    def kept(self) -> bool:
        return self.match.verdict != "dropped"

    @property
    def kind(self) -> str:
        return "court" if self.court else "news"


def judge(engine: RuleEngine, entry: Entry, cfg: SourceConfig, kind: str) -> Match:
    """Relevance of one entry under the rules (and the source's overrides)."""
    text = " ".join(p for p in (entry.summary, entry.content[:2000]) if p)
    if cfg.relevance == "all":
        base = engine.judge(entry.title, text, source=cfg.rules, kind=kind)
        if base.verdict == "relevant":
            return base
        court, label = engine.court_label(entry.title, text, source=cfg.rules, kind=kind)
        return Match(
            verdict="relevant",
            score=max(base.score, 0.0),
            rules=(*base.rules, "source:all"),
            terms=base.terms,
            reason=f"kept: every entry of {cfg.name} is relevant (relevance: all); {label}",
            court=court,
        )
    return engine.judge(entry.title, text, source=cfg.rules, kind=kind)


def judge_entry(
    engine: RuleEngine,
    entry: Entry,
    cfg: SourceConfig,
    source_kind: str,
    keying: dedup.Keying | None = None,
    *,
    signature: bool = True,
) -> Judged:
    """The rules' verdict on an entry, its kind, lead, language and canonical URL; with a
    `keying`, also what filing its story needs (`Judged.story`, `thin`, `timeline_url`),
    its MinHash signature only with `signature` (filing makes it when it needs it)."""
    match = judge(engine, entry, cfg, source_kind)
    relevant = match.verdict == "relevant"
    court = match.court and relevant  # the rules decide; a court's own feed is a forum
    if match.verdict == "dropped":
        # Most entries of a general feed end here: keep a plain excerpt for `why` and
        # search, and spend sentence splitting and language detection on the rest.
        lead = summary.excerpt(entry.summary or entry.content)
        language = entry.language or cfg.language
    else:
        lead, language = summary.item_summary(
            entry.title,
            entry.summary or entry.content,
            language=entry.language or cfg.language,
        )
    kept = match.verdict != "dropped"
    canon = dedup.canonical_url(entry.link) if entry.link and kept else None
    judged = Judged(match, court, lead, language, canon)
    if keying is None or not kept:
        return judged
    return complete(judged, entry, keying, signature=signature)


def complete(
    judged: Judged, entry: Entry, keying: dedup.Keying, *, signature: bool = False
) -> Judged:
    """A kept entry's judgment with what filing its story needs from the entry alone: its
    story keys (`dedup.story_keys`), whether its lead is thin, its timeline link."""
    return dataclasses.replace(
        judged,
        story=dedup.story_keys(
            entry, keying, canonical_link=judged.canonical_url, signature=signature
        ),
        thin=judged.relevant
        and bool(entry.link)
        and summary.needs_article(judged.lead, title=entry.title),
        timeline_url=timeline_link(judged.canonical_url or entry.link) if judged.court else None,
    )


def timeline_link(url: str | None) -> str | None:
    """The link a timeline entry shows: the article's address without tracking, never a
    search engine's redirect (no link is better than one that leads elsewhere)."""
    if not url:
        return None
    clean = dedup.canonical_url(url)
    return None if dedup.is_opaque_link(clean) else clean


def judge_in_worker(worker_queue: int, own_queue: int) -> bool:
    """Whether the parse worker should judge a parsed source rather than the main process:
    when the worker has no more sources to judge queued than the main process has parsed
    sources waiting to be filed. The busier side leaves it to the other. Feeds waiting to be
    parsed do not count: a parse costs a fifth of judging a feed's entries since feedparser-rs,
    and counting them left the worker idle while this process judged every entry (20 of 20 on
    the case: 4.79 -> 4.38 s a cycle, 4 alternated runs each)."""
    return worker_queue <= own_queue


def pickled_rules(settings: RelevanceSettings) -> bytes:
    """The rules as `judge_entries` takes them: pickled once, compiled once per process."""
    return pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL)


def judge_entries(
    entries: list[Entry],
    *,
    rules: bytes,
    cfg: SourceConfig,
    source_kind: str,
    keying: dedup.Keying | None = None,
) -> list[Judged]:
    """`judge_entry` for each entry: the parse worker's job (a top-level function, so a process
    pool can call it). `rules` comes from `pickled_rules`, made by the process that owns them;
    `keying` makes the story keys of kept entries here too."""
    engine = _engine(rules)
    return [judge_entry(engine, entry, cfg, source_kind, keying) for entry in entries]


@functools.lru_cache(maxsize=2)
def _engine(rules: bytes) -> RuleEngine:
    # The bytes come from this program's own main process (never from outside), so
    # unpickling them is safe; the compiled engine is kept for the worker's next jobs.
    settings = pickle.loads(rules)
    if not isinstance(settings, RelevanceSettings):
        raise TypeError(f"judge_entries: rules are a {type(settings).__name__}, not settings")
    return RuleEngine(settings)
