"""Judging in the parse job: the same verdict, lead and language as judging inline, for the
entries the database has not seen."""

from __future__ import annotations

import functools
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casewatch.dedup import Keying, story_keys
from casewatch.judging import (
    EARLIEST_DATE,
    Finishing,
    Judging,
    complete,
    judge_entry,
    pickled_rules,
    prepare_document,
)
from casewatch.model import Entry
from casewatch.outlets import OutletNames
from casewatch.parse import parse_feed
from casewatch.relevance import RuleEngine
from storage import items, open_store, sources, stories
from storage.db import Database
from storage.sources import SourceSpec
from tests.casewatch_helpers import make_config
from tests.feedserver import rss

ENTRIES = [
    Entry(
        title="ICC urged to open Uyghur genocide case over deportations from Tajikistan",
        link="https://news.example.org/2026/03/icc-uyghur?utm_source=rss",
        guid="a",
        summary=(
            "<p>Lawyers filed a new communication with the Office of the Prosecutor. "
            "They say deportations from Tajikistan give the Court jurisdiction.</p>"
        ),
    ),
    Entry(title="Council approves budget for cycle paths", guid="b", summary="Roads."),
    Entry(
        title="Des groupes Uyghur saisissent à nouveau l'ICC",
        guid="c",
        summary=(
            "Des organisations en exil ont demandé mardi à la Cour pénale internationale "
            "d'ouvrir une enquête sur les expulsions depuis le Tadjikistan. Le Bureau du "
            "Procureur n'a pas encore répondu."
        ),
    ),
]


KEYING = Keying(stopwords=frozenset({"uyghur", "icc"}), outlets=frozenset({"EJIL: Talk!"}))


FEED = rss(
    [
        {
            "title": e.title,
            "link": e.link or f"https://news.example.org/{e.guid}",
            "guid": e.guid,
            "description": e.summary,
        }
        for e in ENTRIES
    ]
)
CFG = make_config([{"name": "A", "url": "https://a.example.org/feed"}])
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def finishing() -> Finishing:
    return Finishing(
        cfg=CFG.sources[0],
        names=OutletNames(),
        outlets=frozenset(),
        feed_title_names_outlet=False,
        now=NOW,
        earliest=EARLIEST_DATE,
    )


def judging(*, database: str | None = None, rules: bytes | None = None) -> Judging:
    return Judging(
        rules=pickled_rules(CFG.relevance) if rules is None else rules,
        source_kind="news",
        keying=KEYING,
        source_id=1,
        database=database,
    )


PARSE = functools.partial(parse_feed, FEED, content_type="application/rss+xml", url="https://a")


def test_the_parse_job_judges_as_the_main_process_would() -> None:
    """In a spawned worker, the job that parses the feed returns each entry's judgment (with
    its story keys and, with no database saying a story holds them, their MinHash signature),
    equal to judging the finished entry inline."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
        job = worker.submit(prepare_document, PARSE, finishing(), judging())
        prepared = job.result(timeout=60)

    engine = RuleEngine(CFG.relevance)
    entries = prepared.parsed.entries
    inline = [judge_entry(engine, e, CFG.sources[0], "news", KEYING) for e in entries]
    assert prepared.not_judged is None
    assert {i: replace(j, story=None) for i, j in prepared.judged.items()} == {
        i: replace(j, story=None) for i, j in enumerate(inline)
    }
    in_worker = [prepared.judged[i] for i in range(len(entries))]
    assert [j.match.verdict for j in in_worker] == ["relevant", "dropped", "relevant"]
    assert in_worker[0].canonical_url == "https://news.example.org/2026/03/icc-uyghur"
    assert in_worker[0].lead.startswith("Lawyers filed a new communication")
    assert [j.language for j in in_worker] == ["en", "en", "fr"]
    # What filing the story needs comes with the kept entries, as filing would make it.
    assert in_worker[1].story is None
    for judged, entry in zip(in_worker, entries, strict=True):
        if judged.kept:
            assert judged.story == story_keys(entry, KEYING, canonical_link=judged.canonical_url)
            assert judged.story.signature is not None


def test_without_judging_the_parse_job_only_finishes_the_document() -> None:
    prepared = prepare_document(PARSE, finishing())
    assert len(prepared.parsed.entries) == 3 and len(prepared.identities) == 3
    assert prepared.judged == {} and prepared.not_judged is None


def test_the_parse_job_judges_only_entries_the_database_has_not_seen(tmp_path: Path) -> None:
    """It reads the source's seen keys from the database file (read-only) and spends nothing on
    the entries stored before; other sources' keys do not count."""
    path = tmp_path / "casewatch.db"
    db = open_store(path)
    first = prepare_document(PARSE, finishing())
    ids = sources.sync_configured(
        db,
        [SourceSpec(name=n, url=f"https://{n}.example.org/feed") for n in ("a", "b")],
        NOW,
    )
    source, other = ids["https://a.example.org/feed"], ids["https://b.example.org/feed"]
    stored = insert_item(db, source)
    keys = first.identities
    assert keys[0] is not None and keys[1] is not None and keys[2] is not None
    items.add_seen_many(db, source, [(k, stored) for k in keys[0]])
    elsewhere = insert_item(db, other)
    items.add_seen_many(db, other, [(k, elsewhere) for k in keys[2]])

    job = Judging(
        rules=pickled_rules(CFG.relevance),
        source_kind="news",
        keying=KEYING,
        source_id=source,
        database=str(path),
    )
    prepared = prepare_document(PARSE, finishing(), job)
    db.close()

    assert sorted(prepared.judged) == [1, 2]
    assert prepared.not_judged is None


def test_the_parse_job_makes_a_signature_only_where_no_stored_story_holds_the_keys(
    tmp_path: Path,
) -> None:
    """Filing finds the story of an entry whose keys a stored story holds and never reads its
    MinHash signature: the job does not spend its core on one (it makes the others')."""
    path = tmp_path / "casewatch.db"
    db = open_store(path)
    ids = sources.sync_configured(db, [SourceSpec(name="a", url="https://a.example.org/f")], NOW)
    first = prepare_document(PARSE, finishing(), judging())
    known = first.judged[0].story
    assert known is not None
    story = stories.create(
        db,
        title=known.title,
        url=None,
        kind="news",
        relevant=True,
        now=NOW,
        published_at=None,
        summary="",
        signature=None,
    )
    stories.add_keys(db, story, list(known.match))
    job = Judging(
        rules=pickled_rules(CFG.relevance),
        source_kind="news",
        keying=KEYING,
        source_id=ids["https://a.example.org/f"],
        database=str(path),
        titles_since=NOW - timedelta(days=30),
    )
    prepared = prepare_document(PARSE, finishing(), job)
    db.close()

    signed = {i: j.story.signature is not None for i, j in prepared.judged.items() if j.story}
    assert signed == {0: False, 2: True}


@pytest.mark.parametrize(
    ("what", "job"),
    [
        ("rules that are not rules", judging(rules=pickle.dumps("not rules"))),
        ("a database it cannot read", judging(database="/nonexistent/folder/casewatch.db")),
    ],
)
def test_a_parse_job_whose_judging_fails_still_returns_the_document(
    what: str, job: Judging
) -> None:
    """The entries are then judged where they are filed: nothing is lost."""
    prepared = prepare_document(PARSE, finishing(), job)
    assert len(prepared.parsed.entries) == 3 and len(prepared.identities) == 3, what
    assert prepared.judged == {}
    assert prepared.not_judged, what


def insert_item(db: Database, source_id: int) -> int:
    return items.insert(
        db,
        items.NewItem(
            source_id=source_id,
            entry_key="k",
            title="t",
            url=None,
            canonical_url=None,
            publisher=None,
            summary="",
            language=None,
            published_at=None,
            fetched_at=NOW,
            kind="news",
            court=False,
            verdict="dropped",
            score=0.0,
            rules=(),
            terms=(),
            reason="",
        ),
    )


def test_filing_inputs_of_a_kept_entry_are_its_keys_thin_lead_and_timeline_link() -> None:
    cfg = make_config([{"name": "A", "url": "https://a.example.org/feed"}])
    engine = RuleEngine(cfg.relevance)
    court = Entry(
        title="ICC Prosecutor rejects Uyghur communication over deportations from Tajikistan",
        link="https://www.google.com/url?q=https://news.example.org/icc-ruling%3Futm_source%3Dx",
        guid="d",
    )
    judged = judge_entry(engine, court, cfg.sources[0], "news", KEYING)

    assert judged.court and judged.relevant
    assert judged.story is not None and judged.story.signature is None  # made when needed
    assert judged.thin  # a headline and no text: the article is worth reading
    assert judged.timeline_url == "https://news.example.org/icc-ruling"
    news = Entry(
        title="Uyghur activists hold vigil in Istanbul over deportations",
        link="https://news.example.org/vigil",
        summary=(
            "Hundreds of campaigners gathered in Istanbul on Sunday evening. "
            "They urged the ICC to act on the genocide claims and the deportations."
        ),
    )
    full = judge_entry(engine, news, cfg.sources[0], "news", KEYING)
    assert full.relevant and not full.court
    assert full.story is not None and full.story.signature is None
    assert not full.thin and full.timeline_url is None  # a news report, with a lead
    assert complete(judge_entry(engine, court, cfg.sources[0], "news"), court, KEYING) == judged
