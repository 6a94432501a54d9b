"""Search answers the way people type: word forms, one line per story, nothing to search said."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import items, open_store, stories

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def add(db: Database, n: int, title: str, story: int | None, publisher: str = "Reuters") -> None:
    items.insert(
        db,
        items.NewItem(
            source_id=1,
            entry_key=f"k{n}",
            title=title,
            url=f"https://news.example.org/{n}",
            canonical_url=None,
            publisher=publisher,
            summary="",
            language="en",
            published_at=NOW,
            fetched_at=NOW,
            kind="news",
            court=False,
            verdict="relevant",
            score=2,
            rules=(),
            terms=(),
            reason="",
            story_id=story,
        ),
    )


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    db = open_store(tmp_path / "s.db")
    db.execute(
        "INSERT INTO sources (name, url, created_at) VALUES ('S', 'https://s.example', ?)",
        (NOW.isoformat(),),
    )
    for n in (1, 2, 3):
        stories.create(
            db,
            title=f"story {n}",
            url=None,
            kind="news",
            relevant=True,
            now=NOW,
            published_at=NOW,
            summary="",
            signature=None,
        )
    add(db, 1, "Argentine court lets Uyghur genocide case proceed", 1, "Reuters")
    add(db, 2, "Argentine court lets Uyghur genocide case go ahead", 1, "AP")
    add(db, 3, "Argentine judges hear Uyghur case", 1, "AFP")
    add(db, 4, "Tajikistan deported Uyghurs to China, lawyers say", 2)
    add(db, 5, "Uyghur Tribunal judgment read in London", 3)
    return db


@pytest.mark.parametrize(
    ("typed", "finds"),
    [
        ("Argentina", {1}),  # the country finds the adjective
        ("argentinian", {1}),
        ("argentinos", {1}),
        ("Uyghurs", {1, 2, 3}),  # the plural finds the singular
        ("deportation", {2}),  # the noun finds the verb
        ("deported", {2}),
        ("tribunals", {3}),
        ('"genocide case"', {1}),  # a quoted phrase as typed
        ('"genocide cases"', set()),
    ],
)
def test_a_word_finds_its_other_forms(db: Database, typed: str, finds: set[int]) -> None:
    found, total = items.search(db, typed)
    assert {r["story_id"] for r in found} == finds
    assert total == len(finds)


def test_results_are_one_row_per_story_with_its_matching_copies(db: Database) -> None:
    found, total = items.search(db, "Argentine court")
    assert total == 1 and len(found) == 1
    assert found[0]["story_id"] == 1 and found[0]["copies"] == 2
    page_two, total = items.search(db, "uyghur", limit=2, offset=2)
    assert total == 3 and len(page_two) == 1  # paging counts stories, not copies


@pytest.mark.parametrize("typed", ["", "   ", "?!", '""', "- * -"])
def test_a_query_with_no_words_has_nothing_to_search(db: Database, typed: str) -> None:
    assert items.fts_query(typed) is None
    assert items.search(db, typed) == ([], 0)


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("Argentina", "argentin"),
        ("Argentine", "argentin"),
        ("Uyghurs", "uyghur"),
        ("deportations", "deport"),
        ("hearing", "hear"),
        ("ICC", "icc"),  # short words are searched whole
        ("Khan", "khan"),
        ("2020", "2020"),
        ("uigures", "uigur"),
    ],
)
def test_search_stem_takes_a_common_ending_off(word: str, stem: str) -> None:
    assert items.search_stem(word) == stem


def test_operators_typed_are_words_not_syntax(db: Database) -> None:
    assert items.search(db, "tajikistan OR (")[1] == 0  # "or" must match too: nothing
    assert items.search(db, "tajikistan")[1] == 1
