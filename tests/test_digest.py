"""Digest slots (time zones, DST, weekly), grouping, splitting, and send-once scheduling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casewatch.digest import DigestStory, DigestView, digest_messages, latest_slot, schedule_digests
from storage import destinations, open_store
from storage.db import rows


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "freq", "at", "tz", "end"),
    [
        (utc(2026, 3, 2, 9, 0), "daily", "08:00", "UTC", utc(2026, 3, 2, 8, 0)),
        (utc(2026, 3, 2, 7, 59), "daily", "08:00", "UTC", utc(2026, 3, 1, 8, 0)),
        # 08:00 in Paris is 07:00 UTC in winter...
        (utc(2026, 3, 2, 7, 30), "daily", "08:00", "Europe/Paris", utc(2026, 3, 2, 7, 0)),
        # ...and 06:00 UTC after the spring change (29 March 2026).
        (utc(2026, 3, 30, 6, 30), "daily", "08:00", "Europe/Paris", utc(2026, 3, 30, 6, 0)),
        # Weekly on Mondays: on Sunday the last slot is the previous Monday.
        (utc(2026, 3, 8, 12, 0), "weekly", "08:00", "UTC", utc(2026, 3, 2, 8, 0)),
        (utc(2026, 3, 9, 8, 0), "weekly", "08:00", "UTC", utc(2026, 3, 9, 8, 0)),
    ],
)
def test_latest_slot(now: datetime, freq: str, at: str, tz: str, end: datetime) -> None:
    slot = latest_slot(now, frequency=freq, at_time=at, timezone=tz)
    assert slot.end == end
    span = timedelta(days=7 if freq == "weekly" else 1)
    assert abs((slot.end - slot.start) - span) <= timedelta(hours=1)  # DST days are 23/25 h


def story(n: int, title: str, kind: str = "news", outlets: int = 1) -> DigestStory:
    return DigestStory(
        n,
        title,
        f"https://e.org/{n}",
        kind,
        [f"Outlet {i}" for i in range(outlets)],
        "Lead sentence. " * 3,
    )


def test_digest_messages_put_court_first_and_never_exceed_the_limit_or_cut_words() -> None:
    view = DigestView(
        title="Daily digest",
        start=utc(2026, 3, 1, 8),
        end=utc(2026, 3, 2, 8),
        court=[story(1, "Court decision on the communication", "court")],
        news=[story(i, f"News story number {i} " + "long " * 40, outlets=6) for i in range(2, 40)],
        court_items=1,
        news_items=60,
    )
    parts = digest_messages(view, limit=2000)
    assert len(parts) > 1
    assert all(len(p) <= 2000 for p in parts)
    text = "\n".join(parts)
    assert text.index("Court decision") < text.index("News story number 2")
    # the header counts one thing: developments, by kind (not items beside them)
    assert "39 developments: 1 court, 38 news" in text
    assert "items" not in text
    for p in parts:  # split between lines only
        assert not p.endswith(" lo") and not p.startswith("ng ")


def test_empty_digest_says_nothing_new() -> None:
    view = DigestView(title="Daily digest", start=utc(2026, 3, 1), end=utc(2026, 3, 2))
    assert "Nothing new" in digest_messages(view)[0]


def test_a_missed_digest_is_enqueued_once_and_a_new_destination_waits_for_its_next_slot(
    tmp_path: Path,
) -> None:
    db = open_store(tmp_path / "d.db")
    created = utc(2026, 3, 1, 12)
    destinations.upsert(
        db,
        type="console",
        purpose="digest",
        now=created,
        frequency="daily",
        at_time="08:00",
        timezone="UTC",
        empty_mode="say",
    )
    # Same day, after the slot it was created after: nothing yet.
    assert schedule_digests(db, utc(2026, 3, 1, 13), case_name="t") == []
    # The bot was down from the 1st to the 4th at noon: one digest, for the latest slot.
    first = schedule_digests(db, utc(2026, 3, 4, 12), case_name="t")
    again = schedule_digests(db, utc(2026, 3, 4, 12, 30), case_name="t")
    assert len(first) == 1 and again == []
    payload = rows(db, "SELECT payload FROM outbox")[0]["payload"]
    assert "2026-03-04T08:00:00+00:00" in payload


def test_skip_mode_sends_nothing_for_an_empty_period(tmp_path: Path) -> None:
    db = open_store(tmp_path / "d.db")
    destinations.upsert(
        db,
        type="console",
        purpose="digest",
        now=utc(2026, 2, 1),
        frequency="daily",
        at_time="08:00",
        timezone="UTC",
        empty_mode="skip",
    )
    assert schedule_digests(db, utc(2026, 3, 4, 12), case_name="t") == []
    assert rows(db, "SELECT * FROM outbox") == []


def test_digest_links_to_a_web_search_when_the_case_has_one() -> None:
    view = DigestView(
        title="Weekly digest",
        start=utc(2026, 3, 1),
        end=utc(2026, 3, 8),
        news=[story(1, "A story")],
        search_url="https://search.example/?q=case",
    )
    assert "[search the web](https://search.example/?q=case)" in digest_messages(view)[-1]


def test_feed_text_in_a_digest_is_escaped_for_discord_but_plain_in_the_console() -> None:
    from casewatch.digest import digest_text

    view = DigestView(
        title="Daily digest",
        start=utc(2026, 3, 1),
        end=utc(2026, 3, 2),
        news=[DigestStory(1, "**Fake** [link](http://x) @everyone", None, "news", ["Out_let"], "")],
    )
    discord_text = digest_messages(view)[0]
    assert "\\*\\*Fake\\*\\*" in discord_text and "\\[link\\]" in discord_text
    assert "@everyone" not in discord_text and "Out\\_let" in discord_text
    assert "• **Fake** [link](http://x) @everyone" in digest_text(view)


def test_a_busy_period_lists_the_most_covered_stories_court_first_and_counts_the_rest() -> None:
    view = DigestView(
        title="Weekly digest",
        start=utc(2026, 3, 1),
        end=utc(2026, 3, 8),
        court=[story(i, f"Court filing {i}", "court") for i in range(1, 4)],
        news=[story(i, f"News story {i}") for i in range(10, 60)],
        max_stories=10,
    )
    text = "\n".join(digest_messages(view))
    assert all(f"Court filing {i}" in text for i in range(1, 4))
    assert "News story 16" in text and "News story 17" not in text  # 3 court + 7 news
    assert "…and 43 more developments (43 news)" in text
    assert "53 developments" in text  # the count is of the whole period


def test_digest_lines_carry_story_ids_and_discord_timestamps() -> None:
    from casewatch.digest import digest_text

    view = DigestView(
        title="Daily digest",
        start=utc(2026, 3, 1, 8),
        end=utc(2026, 3, 2, 8),
        news=[story(42, "A story")],
    )
    first = digest_messages(view)[0]
    assert f"<t:{int(utc(2026, 3, 1, 8).timestamp())}:f>" in first  # each reader's own zone
    assert "#42" in first
    assert "2026-03-01 08:00 – 2026-03-02 08:00 UTC" in digest_text(view)


def test_a_destination_with_an_unknown_zone_does_not_stop_the_other_digests(
    tmp_path: Path,
) -> None:
    db = open_store(tmp_path / "d.db")
    for zone, channel in (("Mars/Olympus_Mons", "1"), ("UTC", "2")):
        destinations.upsert(
            db,
            type="discord",
            purpose="digest",
            guild_id="9",
            channel_id=channel,
            now=utc(2026, 2, 1),
            frequency="daily",
            at_time="08:00",
            timezone=zone,
            empty_mode="say",
        )
    created = schedule_digests(db, utc(2026, 3, 4, 12), case_name="t")
    assert len(created) == 1
    dest = rows(db, "SELECT destination_id FROM outbox")[0]["destination_id"]
    assert (
        rows(db, "SELECT channel_id FROM destinations WHERE id = ?", [dest])[0]["channel_id"] == "2"
    )
