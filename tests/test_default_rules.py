"""The default case in feeds.yaml: its rules judge a table of headlines right, its sources and
timeline are well formed. The `relevance:` section is loaded directly (not through config.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from ruamel.yaml import YAML

from casewatch.relevance import RelevanceSettings, RuleEngine, SourceRelevance
from casewatch.validation import validate

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "feeds.yaml"
HEADLINES = Path(__file__).resolve().parent / "fixtures" / "headlines.yaml"


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


CONFIG: dict[str, Any] = _load(FEEDS)
ROWS: list[dict[str, Any]] = _load(HEADLINES)


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    return RuleEngine(validate(RelevanceSettings, CONFIG["relevance"]))


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_headline_is_judged_as_expected(engine: RuleEngine, row: dict[str, Any]) -> None:
    match = engine.judge(row["title"], row.get("text", ""))
    assert match.verdict == row["expect"], (
        f"{row['id']} ({row['family']}): expected {row['expect']}, got {match.verdict}: "
        f"{match.reason} | {row['title']!r}"
    )


KINDED = [row for row in ROWS if "kind" in row]


@pytest.mark.parametrize("row", KINDED, ids=[row["id"] for row in KINDED])
def test_headline_is_labelled_court_only_when_it_reports_an_act_in_a_proceeding(
    engine: RuleEngine, row: dict[str, Any]
) -> None:
    match = engine.judge(row["title"], row.get("text", ""))
    got = "court" if match.court else "news"
    assert got == row["kind"], (
        f"{row['id']} ({row['family']}): expected {row['kind']}, got {got}: "
        f"{match.reason} | {row['title']!r}"
    )


def test_headline_table_labels_both_court_and_news() -> None:
    kinds = Counter(row["kind"] for row in KINDED)
    assert kinds["court"] >= 30 and kinds["news"] >= 30, kinds
    assert all(row["expect"] == "relevant" for row in KINDED), "only kept items carry a label"


def test_headline_table_covers_both_sides_in_many_languages() -> None:
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), "row ids must be unique"
    assert len(ROWS) >= 80
    for row in ROWS:
        assert set(row) <= {"id", "lang", "family", "expect", "kind", "title", "text"}, row["id"]
        assert row["expect"] in {"relevant", "context", "dropped"}, row["id"]
    kept_languages = {row["lang"] for row in ROWS if row["expect"] == "relevant"}
    assert {"en", "es", "fr", "de", "tr", "zh", "ru", "ja"} <= kept_languages
    expected = Counter(row["expect"] for row in ROWS)
    assert min(expected.values()) >= 15, expected
    families = {row["family"] for row in ROWS}
    look_alikes = {
        "International Cricket Council",
        "International Chamber of Commerce",
        "CPI",
        "ICC elsewhere",
        "unrelated Tajikistan/Cambodia/Thailand",
        "US immigration deportations",
        "genocide elsewhere",
        "Cenk Uygur",
        "East Turkestan in terrorism coverage",
        "Xinjiang trade/tourism",
        "China Tribunal",
    }
    case_items = {
        "the communication",
        "submissions",
        "ETGE",
        "ETNAM",
        "deportations",
        "Uyghur Tribunal",
        "OHCHR assessment",
        "HRC vote",
        "Argentine case",
        "parliamentary determinations",
        "sanctions",
    }
    assert look_alikes | case_items <= families, (look_alikes | case_items) - families


# --- sources -----------------------------------------------------------------------------------

SOURCES: list[dict[str, Any]] = CONFIG["sources"]
_INTERVAL = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: Any) -> int:
    if isinstance(value, int):
        return value
    found = _INTERVAL.match(str(value))
    assert found, f"interval {value!r} is not seconds or 30s/15m/2h/1d"
    return int(found.group(1)) * _UNIT[found.group(2)]


@pytest.mark.parametrize("source", SOURCES, ids=[s["name"] for s in SOURCES])
def test_source_is_well_formed(engine: RuleEngine, source: dict[str, Any]) -> None:
    name = source["name"]
    allowed = {"name", "url", "kind", "format", "interval", "relevance", "rules", "page"}
    allowed |= {"publisher"}
    assert set(source) <= allowed | {"confidence", "note"}, f"{name}: unknown keys"
    url = source["url"]
    assert url.isascii() and " " not in url, f"{name}: URL must be percent-encoded: {url}"
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc, f"{name}: not an https URL: {url}"
    assert source["kind"] in {"news", "court"}, name
    assert source.get("format", "feed") in {"feed", "page", "search"}, name
    assert source.get("relevance", "rules") in {"rules", "all"}, name
    assert source.get("confidence") in {
        None,
        "high",
        "medium-high",
        "medium",
        "low",
        "unconfirmed",
    }, name
    assert 15 * 60 <= _seconds(source.get("interval", CONFIG["defaults"]["interval"])) <= 7200
    # Search feeds name each item's outlet themselves; every other feed needs `publisher:`, or
    # its reports would be credited to our own name for the feed.
    assert (source.get("format") == "search") != bool(source.get("publisher")), name
    if source.get("format") == "search":
        query = parse_qs(parts.query).get("q", [""])[0]
        assert query.strip(), f"{name}: a search needs a q= query"
    if source.get("format") == "page":
        assert set(source["page"]) == {"entries", "title", "link", "date"}, name
        assert source.get("confidence") == "unconfirmed", f"{name}: selectors were never seen"
    else:
        assert "page" not in source, f"{name}: page selectors only go with format: page"
    if "rules" in source:
        engine.check_source(validate(SourceRelevance, source["rules"]))


def test_sources_are_unique() -> None:
    names = [s["name"] for s in SOURCES]
    urls = [s["url"] for s in SOURCES]
    assert len(names) == len(set(names)), Counter(names).most_common(3)
    assert len(urls) == len(set(urls)), Counter(urls).most_common(3)


def test_every_source_of_the_fact_sheet_is_configured() -> None:
    hosts = Counter(urlsplit(s["url"]).netloc for s in SOURCES)
    for host, count in {
        "www.icc-cpi.int": 3,
        "news.un.org": 4,
        "www.ohchr.org": 1,
        "www.hrw.org": 1,
        "www.amnesty.org": 1,
        "uhrp.org": 1,
        "east-turkistan.net": 1,
        "www.uyghurcongress.org": 1,
        "www.justsecurity.org": 1,
        "opiniojuris.org": 1,
        "www.ejiltalk.org": 1,
        "www.jurist.org": 1,
        "www.theguardian.com": 2,
        "feeds.bbci.co.uk": 1,
        "www.rfa.org": 1,
        "www.bing.com": 1,
        "www.courtlistener.com": 1,
    }.items():
        assert hosts[host] >= count, f"{host}: {hosts[host]} source(s), expected {count}"
    google = [urlsplit(s["url"]) for s in SOURCES if "news.google.com" in s["url"]]
    languages = {parse_qs(u.query)["hl"][0].split("-")[0] for u in google}
    assert {"en", "es", "fr", "de", "tr", "zh"} <= languages


def test_search_queries_decode_to_the_intended_phrases() -> None:
    queries = {
        parse_qs(urlsplit(s["url"]).query)["q"][0] for s in SOURCES if s.get("format") == "search"
    }
    assert '"International Criminal Court" (Uyghur OR Uighur)' in queries
    assert 'uigures Argentina "jurisdicción universal"' in queries
    assert 'Ouïghours "Cour pénale internationale"' in queries
    assert 'Uygur "Uluslararası Ceza Mahkemesi"' in queries


# --- the rest of the file ------------------------------------------------------------------------


def test_timeline_is_dated_sourced_and_in_order() -> None:
    timeline = CONFIG["timeline"]
    dates = []
    for event in timeline:
        assert set(event) == {"date", "title", "url", "kind"}, event
        date = event["date"]
        if isinstance(date, str):
            date = dt.date.fromisoformat(date)
        assert isinstance(date, dt.date), event
        dates.append(date)
        assert "\n" not in event["title"] and event["title"].strip(), event
        assert urlsplit(event["url"]).scheme == "https", event
        assert event["kind"] in {"court", "news", "parliament", "un"}, event
    assert dates == sorted(dates)
    assert dates[0] == dt.date(2020, 7, 6) and dates[-1] == dt.date(2025, 6, 18)


def test_other_sections_are_present() -> None:
    assert {"name", "description", "short"} <= set(CONFIG["case"])
    assert CONFIG["digest"] == {
        "frequency": "daily",
        "time": "08:00",
        "timezone": "UTC",
        "empty": "skip",
        "max_stories": 25,
    }
    assert _seconds(CONFIG["defaults"]["interval"]) == 1800
