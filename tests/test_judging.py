"""Judging in the parse worker: the same verdict, lead and language as judging inline."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from casewatch.judging import judge_entries, judge_entry, judge_in_worker, pickled_rules
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


def test_the_worker_judges_as_the_main_process_would() -> None:
    cfg = make_config([{"name": "A", "url": "https://a.example.org/feed"}])
    source = cfg.sources[0]
    inline = [judge_entry(RuleEngine(cfg.relevance), e, source, "news") for e in ENTRIES]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
        job = worker.submit(
            judge_entries,
            ENTRIES,
            rules=pickled_rules(cfg.relevance),
            cfg=source,
            source_kind="news",
        )
        in_worker = job.result(timeout=60)

    assert in_worker == inline
    assert [j.match.verdict for j in in_worker] == ["relevant", "dropped", "relevant"]
    assert in_worker[0].canonical_url == "https://news.example.org/2026/03/icc-uyghur"
    assert in_worker[0].lead.startswith("Lawyers filed a new communication")
    assert [j.language for j in in_worker] == ["en", None, "fr"]


@pytest.mark.parametrize(
    ("worker_queue", "own_queue", "in_worker"),
    [
        (0, 0, True),  # a quiet cycle: the idle worker judges
        (0, 5, True),  # the worker is done parsing, this process has sources to file
        (3, 3, True),
        (40, 2, False),  # the worker still has feeds to parse: this process judges
        (1, 0, False),
    ],
)
def test_the_busier_side_leaves_the_judging_to_the_other(
    worker_queue: int, own_queue: int, in_worker: bool
) -> None:
    assert judge_in_worker(worker_queue, own_queue) is in_worker
