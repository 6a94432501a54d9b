"""The labelled development set (tests/fixtures/developments.yaml) is well formed and big enough.

The set is what event grouping is tuned and judged on (issue 10): real reports of legal
developments, grouped by the development they report, with pairs of distinct developments that
must stay apart. These checks keep the table honest as it grows; they judge no code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from casewatch.summary import detect_language

SET_PATH = Path(__file__).resolve().parent / "fixtures" / "developments.yaml"

# What the set must hold (issue 10 point 5).
MIN_REPORTS = 200
MIN_DEVELOPMENTS = 40
MIN_NOT_ENGLISH = 30
MIN_NEAR_MISSES = 20
# The languages the issue names for matching across languages: each must be in the set.
NAMED_LANGUAGES = {"fr", "es", "de", "tr", "zh"}
# About half of the set is this project's own case, the rest other legal cases.
OWN_CASE = "uyghur-icc"
OWN_CASE_SHARE = (0.3, 0.7)

KINDS = {"court", "news"}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# ISO 639-1 two-letter codes.
_ISO_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv "
    "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr "
    "ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw "
    "ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv "
    "ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr "
    "ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu"
)
ISO_639_1 = set(_ISO_CODES.split(" "))
DEVELOPMENT_KEYS = {"id", "case", "date", "kind", "about", "reports"}
REPORT_KEYS = {"title", "lead", "outlet", "language", "published", "url"}
# A lead is the first one or two sentences, not the article.
MAX_LEAD_CHARS = 500
# A report appears at most a day before the development (time zones, previews excluded) and,
# for late rewrites, within a few months after it.
EARLIEST_REPORT = dt.timedelta(days=1)
LATEST_REPORT = dt.timedelta(days=120)


def _load() -> dict[str, Any]:
    data = YAML(typ="safe").load(SET_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{SET_PATH.name}: expected a mapping at the top"
    return data


DATA = _load()
DEVELOPMENTS: list[dict[str, Any]] = DATA["developments"]
NEAR_MISSES: list[list[Any]] = DATA.get("near_misses") or []
REPORTS: list[tuple[str, dict[str, Any]]] = [
    (dev["id"], report) for dev in DEVELOPMENTS for report in dev["reports"]
]
DEV_IDS = [dev["id"] for dev in DEVELOPMENTS]


def test_top_level_holds_developments_and_near_misses_only() -> None:
    assert set(DATA) == {"developments", "near_misses"}


def test_development_ids_are_unique_slugs() -> None:
    duplicates = [i for i, n in Counter(DEV_IDS).items() if n > 1]
    assert not duplicates
    assert [i for i in DEV_IDS if not SLUG.match(i)] == []


@pytest.mark.parametrize("dev", DEVELOPMENTS, ids=DEV_IDS)
def test_development_has_the_documented_fields(dev: dict[str, Any]) -> None:
    assert set(dev) == DEVELOPMENT_KEYS
    assert SLUG.match(dev["case"])
    assert dev["kind"] in KINDS
    assert isinstance(dev["date"], dt.date), f"{dev['id']}: date {dev['date']!r} is not a date"
    assert isinstance(dev["about"], str) and dev["about"].strip()
    assert dev["reports"], f"{dev['id']}: no reports"


@pytest.mark.parametrize(
    ("dev_id", "report"), REPORTS, ids=[f"{d}:{r['outlet']}" for d, r in REPORTS]
)
def test_report_has_the_documented_fields(dev_id: str, report: dict[str, Any]) -> None:
    assert REPORT_KEYS <= set(report) <= REPORT_KEYS | {"kind"}, sorted(report)
    for key in ("title", "outlet"):
        assert isinstance(report[key], str) and report[key].strip(), key
    assert isinstance(report["lead"], str)
    assert len(report["lead"]) <= MAX_LEAD_CHARS
    assert report["language"] in ISO_639_1, report["language"]
    assert isinstance(report["published"], dt.date), repr(report["published"])
    url = urlsplit(report["url"])
    assert url.scheme in {"http", "https"} and url.netloc, report["url"]
    assert report.get("kind", "news") in KINDS


@pytest.mark.parametrize("dev", DEVELOPMENTS, ids=DEV_IDS)
def test_reports_are_published_around_their_development(dev: dict[str, Any]) -> None:
    early = [r["url"] for r in dev["reports"] if r["published"] < dev["date"] - EARLIEST_REPORT]
    late = [r["url"] for r in dev["reports"] if r["published"] > dev["date"] + LATEST_REPORT]
    assert (early, late) == ([], [])


def test_language_labels_agree_with_a_language_identifier() -> None:
    # A report's `language` is the language of its own words; the project's identifier
    # (summary.detect_language) must agree on nearly all of them (it did on all 272).
    wrong = [
        (r["language"], r["title"])
        for _, r in REPORTS
        if detect_language(f"{r['title']}. {r['lead']}") != r["language"]
    ]
    assert len(wrong) <= len(REPORTS) * 0.02, wrong


def test_each_page_reports_one_development_once() -> None:
    urls = Counter(report["url"] for _, report in REPORTS)
    assert [u for u, n in urls.items() if n > 1] == []


def test_near_misses_pair_two_distinct_existing_developments_with_a_reason() -> None:
    known = set(DEV_IDS)
    seen: set[frozenset[str]] = set()
    for row in NEAR_MISSES:
        assert len(row) == 3, row
        first, second, why = row
        assert first in known and second in known, row
        assert first != second, row
        assert isinstance(why, str) and why.strip(), row
        pair = frozenset((first, second))
        assert pair not in seen, f"pair listed twice: {row}"
        seen.add(pair)


def test_near_misses_are_close_in_time() -> None:
    # Within half a year: a warrant application and the warrants themselves can be that far apart.
    dates = {dev["id"]: dev["date"] for dev in DEVELOPMENTS}
    far = [row for row in NEAR_MISSES if abs(dates[row[0]] - dates[row[1]]).days > 190]
    assert far == []


def test_set_is_as_large_as_the_issue_asks() -> None:
    not_english = [r for _, r in REPORTS if r["language"] != "en"]
    assert len(REPORTS) >= MIN_REPORTS
    assert len(DEVELOPMENTS) >= MIN_DEVELOPMENTS
    assert len(not_english) >= MIN_NOT_ENGLISH
    assert len(NEAR_MISSES) >= MIN_NEAR_MISSES
    assert {r["language"] for r in not_english} >= NAMED_LANGUAGES


def test_set_mixes_this_case_with_other_legal_cases() -> None:
    own = sum(1 for dev in DEVELOPMENTS if dev["case"] == OWN_CASE)
    low, high = OWN_CASE_SHARE
    assert low <= own / len(DEVELOPMENTS) <= high
    assert {dev["kind"] for dev in DEVELOPMENTS} == KINDS
    # Analysis and opinion about a court act are labelled news report by report.
    assert any(
        r.get("kind") == "news"
        for dev in DEVELOPMENTS
        if dev["kind"] == "court"
        for r in dev["reports"]
    )


def test_set_has_several_outlets_for_most_developments() -> None:
    # The point of the set: one development worded differently by different outlets.
    multi = [dev for dev in DEVELOPMENTS if len({r["url"] for r in dev["reports"]}) >= 2]
    assert len(multi) >= len(DEVELOPMENTS) * 0.6
