"""Judging in the parse worker: the same verdict, lead and language as judging inline."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from casewatch.dedup import Keying, story_keys
from casewatch.judging import (
    complete,
    judge_entries,
    judge_entry,
    judge_in_worker,
    pickled_rules,
)
from casewatch.model import Entry
from casewatch.relevance import RuleEngine
from tests.casewatch_helpers import make_config

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


def test_the_worker_judges_as_the_main_process_would() -> None:
    cfg = make_config([{"name": "A", "url": "https://a.example.org/feed"}])
    source = cfg.sources[0]
    engine = RuleEngine(cfg.relevance)
    inline = [judge_entry(engine, e, source, "news", KEYING) for e in ENTRIES]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
        job = worker.submit(
            judge_entries,
            ENTRIES,
            rules=pickled_rules(cfg.relevance),
            cfg=source,
            source_kind="news",
            keying=KEYING,
        )
        in_worker = job.result(timeout=60)

    assert in_worker == inline
    assert [j.match.verdict for j in in_worker] == ["relevant", "dropped", "relevant"]
    assert in_worker[0].canonical_url == "https://news.example.org/2026/03/icc-uyghur"
    assert in_worker[0].lead.startswith("Lawyers filed a new communication")
    assert [j.language for j in in_worker] == ["en", None, "fr"]
    # What filing the story needs comes with the kept entries, as filing would make it.
    assert in_worker[1].story is None
    for judged, entry in zip(in_worker, ENTRIES, strict=True):
        if judged.kept:
            assert judged.story == story_keys(entry, KEYING, canonical_link=judged.canonical_url)


def test_filing_inputs_of_a_kept_entry_are_its_keys_thin_lead_and_timeline_link() -> None:
    cfg = make_config([{"name": "A", "url": "https://a.example.org/feed"}])
    engine = RuleEngine(cfg.relevance)
    court = Entry(
        title="ICC Prosecutor rejects Uyghur communication over deportations from Tajikistan",
        link="https://www.google.com/url?q=https://news.example.org/icc-ruling%3Futm_source%3Dx",
        guid="d",
    )
    judged = judge_entry(engine, court, cfg.sources[0], "news", KEYING, signature=False)

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
    assert full.story is not None and full.story.signature is not None
    assert not full.thin and full.timeline_url is None  # a news report, with a lead
    assert complete(judge_entry(engine, court, cfg.sources[0], "news"), court, KEYING) == judged


@pytest.mark.parametrize(
    ("worker_queue", "own_queue", "in_worker"),
    [
        (0, 0, True),  # a quiet cycle: the idle worker judges
        (0, 5, True),  # the worker judges nothing, this process has sources to file
        (3, 3, True),
        (40, 2, False),  # the worker has sources to judge queued: this process judges
        (1, 0, False),
    ],
)
def test_the_busier_side_leaves_the_judging_to_the_other(
    worker_queue: int, own_queue: int, in_worker: bool
) -> None:
    assert judge_in_worker(worker_queue, own_queue) is in_worker
