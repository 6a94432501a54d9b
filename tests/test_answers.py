"""Answers that read well, on their pure parts: counts, captions, permission names, language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from discord import app_commands

from casewatch import summary
from casewatch.chart_data import activity_caption
from casewatch.render import AlertView, alert_embed
from casewatch.text import plural
from cogs.errors import explain

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("n", "one", "many", "text"),
    [
        (1, "match", "matches", "1 match"),
        (0, "match", "matches", "0 matches"),
        (2, "story", "stories", "2 stories"),
        (1, "court development", None, "1 court development"),
        (12, "court development", None, "12 court developments"),
    ],
)
def test_counts_agree_with_their_noun(n: int, one: str, many: str | None, text: str) -> None:
    assert plural(n, one, many) == text


def test_the_activity_caption_says_the_period_and_what_it_counts() -> None:
    totals = {"reports": 48, "developments": 30, "court": 1, "first": "2025-01-06T10:00:00+00:00"}
    caption = activity_caption(
        totals, title="ICC / Uyghurs", since=NOW - timedelta(weeks=26), now=NOW
    )
    assert caption == (
        "ICC / Uyghurs: coverage per week, 2025-09-01 to 2026-03-02 (26 weeks): "
        "30 developments (1 court, 29 news) from 48 relevant reports."
    )
    # without a window: from the first stored report; short periods in days
    caption = activity_caption(
        {**totals, "first": (NOW - timedelta(days=3)).isoformat()},
        title="T",
        since=None,
        now=NOW,
    )
    assert "(3 days)" in caption and caption.startswith("T: coverage per week, 2026-02-27")
    empty = {"reports": 0, "developments": 0, "court": 0, "first": None}
    assert activity_caption(empty, title="T", since=None, now=NOW) == (
        "T: nothing relevant stored yet."
    )


def test_permission_errors_use_discords_names() -> None:
    message = explain(app_commands.MissingPermissions(["manage_guild"]))
    assert message == "You need the Manage Server permission to do that."
    assert "Manage Guild" not in (
        explain(app_commands.BotMissingPermissions(["manage_guild"])) or ""
    )


def test_a_sample_alert_does_not_point_at_a_story_that_does_not_exist() -> None:
    sample = AlertView(
        story_id=0,
        title="Sample alert",
        url=None,
        source="casewatch",
        outlets=["casewatch"],
        published=NOW,
        first_seen=NOW,
        summary="A sample.",
        kind="news",
        matched=[],
    )
    footer = alert_embed(sample)["footer"]["text"]
    assert "story 0" not in footer and "/case story" in footer


GERMAN = (
    "Ein argentinisches Bundesgericht hat die Klage von Uiguren wegen Völkermordes zugelassen. "
    "Die Richter ordneten an, dass die Ermittlungen gegen chinesische Funktionäre beginnen."
)


def test_language_comes_from_the_text_not_the_feeds_declared_language() -> None:
    _, language = summary.item_summary(
        "Argentinisches Gericht lässt Klage zu", GERMAN, language="en"
    )
    assert language == "de"


def test_the_declared_language_is_the_fallback_for_text_too_short_to_tell() -> None:
    _, language = summary.item_summary("ICC", "", language="fr-FR")
    assert language == "fr"
