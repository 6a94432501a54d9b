"""Search answers the way people type: word forms, one line per development (its matching
reports counted), headlines without the outlet they end with, nothing to search said."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from casewatch.views import report_headline, search_developments
from storage import events, items, open_store, stories
from storage.db import Database

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


def test_stories_of_one_development_are_one_result_named_by_its_alert(db: Database) -> None:
    # Stories 1 and 2 are two wordings of one development (event); story 3 is another.
    event = events.create(db, 1, NOW.date(), now=NOW)
    for story in (1, 2):
        events.file_story(db, event, story, NOW.date(), vector=None, why=None)
    found, total = items.search(db, "uyghur")
    assert total == 2 and len(found) == 2
    by_development = {r["development"]: r for r in found}
    assert set(by_development) == {1, 3}  # the alert's story stands for the development
    assert by_development[1]["copies"] == 4 and by_development[1]["event_id"] == event
    assert by_development[3]["copies"] == 1 and by_development[3]["event_id"] is None
    hits, total = search_developments(db, "deported")  # found by story 2's report
    assert total == 1 and hits[0].development == 1 and hits[0].story_id == 2
    assert hits[0].headline == "Tajikistan deported Uyghurs to China, lawyers say"
    assert items.search(db, "uyghur", limit=1, offset=1)[1] == 2  # pages count developments


@pytest.mark.parametrize(
    ("title", "outlet", "shown"),
    [
        # Google News search items: "<headline> - <outlet>", the outlet also in <source>
        (
            "ICC prosecutor rejects bid to investigate China over Uyghurs - The Guardian",
            "The Guardian",
            "ICC prosecutor rejects bid to investigate China over Uyghurs",
        ),
        (
            "Hong Kong activists back Uyghur appeal to the International Criminal Court"
            " - Hong Kong Free Press HKFP",
            "Hong Kong Free Press HKFP",
            "Hong Kong activists back Uyghur appeal to the International Criminal Court",
        ),
        (
            "China: ICC won't act on Uyghur genocide complaint - Reuters",
            "Reuters",
            "China: ICC won't act on Uyghur genocide complaint",
        ),
        # a headline's own dash stays; only the last segment naming an outlet goes
        (
            "Uyghur tribunal - what happens next? - BBC News",
            "BBC News",
            "Uyghur tribunal - what happens next?",
        ),
        (
            "Uyghur tribunal - what happens next?",
            "BBC News",
            "Uyghur tribunal - what happens next?",
        ),
        (
            "Uyghurs ask ICC to investigate China - analysis",
            "The Guardian",
            "Uyghurs ask ICC to investigate China - analysis",
        ),
        (
            "Xinjiang: lawyers file new ICC complaint - the court must now decide",
            "Reuters",
            "Xinjiang: lawyers file new ICC complaint - the court must now decide",
        ),
        # the same outlet under another spelling, and an outlet named by its address
        (
            "Argentine court to investigate China over Uyghurs - AP News",
            "Associated Press",
            "Argentine court to investigate China over Uyghurs",
        ),
        (
            "Uyghur groups file ICC complaint – Al Jazeera English",
            "Al Jazeera",
            "Uyghur groups file ICC complaint",
        ),
        (
            "Tribunal hears Uyghur witnesses - uyghurtimes.com",
            "Uyghur Times",
            "Tribunal hears Uyghur witnesses",
        ),
        (
            "No outlet at the end of this Uyghur headline",
            "Reuters",
            "No outlet at the end of this Uyghur headline",
        ),
    ],
)
def test_a_report_headline_does_not_name_its_outlet_twice(
    title: str, outlet: str, shown: str
) -> None:
    assert report_headline(title, outlet) == shown


def test_an_outlet_read_as_one_or_listed_in_feeds_yaml_is_taken_off() -> None:
    title = "Statement on the ICC decision - World Uyghur Congress"
    # an outlet's name read as one (short, Title Case, no headline words), as a story's own
    # headline is cut, even when the report is credited to another outlet (the wire it carried)
    assert report_headline(title, "AFP") == title.removesuffix(" - World Uyghur Congress")
    cased = frozenset({"EJIL: Talk!"})
    assert report_headline("Uyghurs and the ICC - EJIL: Talk!", "x", outlets=cased) == (
        "Uyghurs and the ICC"
    )


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
