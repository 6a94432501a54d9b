"""Judging one entry: the rules' verdict, its lead and language, its canonical URL, and what
filing its story needs; and finishing a parsed document (outlets, dates, identity keys).

Everything here is pure and per entry, so it runs where the cycle has CPU to spare: in the
parse worker process, in the job that parses the document (`prepare_document` with a
`Judging`: the entries cross the process boundary once, their verdicts with them), or in the
main process, which parses the documents it takes when it is free first (`casewatch.sharing`)
and judges their new entries as it files them, and everything when there is no worker.
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


@dataclass(frozen=True)
class Judging:
    """What judging a document's new entries in its parse job takes (`prepare_document`)."""

    rules: bytes  # `pickled_rules`: unpickled and compiled once per process (`_engine`)
    source_kind: str
    keying: dedup.Keying  # the story keys of kept entries are made in the job too
    source_id: int
    # The database file whose `seen` keys say which entries are new, and whose stories say
    # which kept entries need no signature (read-only, a hint: the process that stores them
    # looks again); None: every entry with an identity is judged, with its signature.
    database: str | None
    titles_since: datetime | None = None  # title keys match stories seen since (the window)


@dataclass
class Prepared:
    """A parsed document finished for filing, with the verdicts of its new entries."""

    parsed: ParseResult
    identities: Identities  # `dedup.document_identities`
    judged: dict[int, Judged] = dataclasses.field(default_factory=dict)  # by entry index
    not_judged: str | None = None  # why a job asked to judge did not (its entries are judged
    # where they are filed)


def prepare_document(
    parse: Callable[[], ParseResult], finishing: Finishing, judging: Judging | None = None
) -> Prepared:
    """Parse a document and finish its entries for filing: the outlet that wrote each one, its
    dates where they can be true (`plausible_date`), and the document's identity keys
    (`dedup.document_identities`); with `judging`, also judge the entries the database has not
    seen (`judge_new`). The parse worker's job (a top-level function, so a process pool can
    call it, with `parse` a partial of a top-level parser).

    Judging that fails (the database cannot be read, a rule raises) loses nothing: the job
    says why in `not_judged`, and the entries are judged where they are filed."""
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
    prepared = Prepared(parsed, identities)
    if judging is not None and not parsed.error:
        try:
            prepared.judged = judge_new(parsed.entries, identities, cfg, judging)
        except Exception as exc:  # judged where they are filed instead: nothing is lost
            prepared.not_judged = f"{type(exc).__name__}: {exc}"
    return prepared


def judge_new(
    entries: list[Entry], identities: Identities, cfg: SourceConfig, judging: Judging
) -> dict[int, Judged]:
    """`judge_entry` (with story keys) for each entry that has an identity and whose keys
    `judging.database` has not stored for the source, by index; a kept entry's MinHash
    signature too, unless a story of the database already holds its story keys (filing finds
    that story by them and needs no signature)."""
    new = [index for index, keys in enumerate(identities) if keys is not None]
    database = judging.database
    if database is not None and new:
        from storage.reader import read_seen

        seen = read_seen(
            database,
            judging.source_id,
            [key for index in new for key in identities[index] or ()],
        )
        new = [index for index in new if not any(key in seen for key in identities[index] or ())]
    if not new:
        return {}
    engine = _engine(judging.rules)
    judged = {}
    for index in new:
        entry = entries[index]
        one = judge_entry(engine, entry, cfg, judging.source_kind, judging.keying)
        if one.story is not None and not _story_known(one.story, judging):
            one = dataclasses.replace(one, story=one.story.with_signature(entry, judging.keying))
        judged[index] = one
    return judged


def _story_known(keys: dedup.StoryKeys, judging: Judging) -> bool:
    """Whether a stored story holds these keys, so that filing needs no signature (a story
    filed after the look needs none either, but the job cannot know it: the signature is made,
    and filing uses it only if it finds no story by the keys)."""
    if judging.database is None:
        return False
    from storage.reader import story_known

    return story_known(judging.database, list(keys.match), titles_since=judging.titles_since)


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
) -> Judged:
    """The rules' verdict on an entry, its kind, lead, language and canonical URL; with a
    `keying`, also what filing its story needs (`Judged.story`, `thin`, `timeline_url`).

    Not the MinHash signature: filing makes it when no story has the entry's keys (in the
    4-of-20 mix, 31 of 400 kept entries; making it for all 400 cost the parse worker 0.13-0.3
    s of a cycle), and the parse job when no stored story has them (`judge_new`)."""
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
    return complete(judged, entry, keying)


def complete(judged: Judged, entry: Entry, keying: dedup.Keying) -> Judged:
    """A kept entry's judgment with what filing its story needs from the entry alone: its
    story keys (`dedup.story_keys`), whether its lead is thin, its timeline link."""
    return dataclasses.replace(
        judged,
        story=dedup.story_keys(entry, keying, canonical_link=judged.canonical_url, signature=False),
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


def pickled_rules(settings: RelevanceSettings) -> bytes:
    """The rules as a `Judging` carries them: pickled once by the process that owns them,
    unpickled and compiled once per process that judges (`_engine`)."""
    return pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL)


@functools.lru_cache(maxsize=2)
def _engine(rules: bytes) -> RuleEngine:
    # The bytes come from this program's own main process (never from outside), so
    # unpickling them is safe; the compiled engine is kept for the worker's next jobs.
    settings = pickle.loads(rules)
    if not isinstance(settings, RelevanceSettings):
        raise TypeError(f"judging: the rules are a {type(settings).__name__}, not settings")
    return RuleEngine(settings)
