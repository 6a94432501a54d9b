"""The one clamping helper: every Discord limit, markdown escaped, mentions neutralised."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from casewatch import render
from casewatch.render import AlertView, clamp, clamp_embed, clamp_message, escape_markdown


def size(e: dict) -> int:
    return render._embed_size(e)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("one two three four five", 14, "one two three…"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"),
        ("ends with escape \\*", 18, "ends with escape…"),
        ("", 5, ""),
    ],
)
def test_clamp_cuts_at_word_boundaries_with_an_ellipsis(
    text: str, limit: int, expected: str
) -> None:
    out = clamp(text, limit)
    assert out == expected and len(out) <= limit


def test_embed_fields_are_clamped_to_each_limit() -> None:
    huge = "word " * 3000
    embed = {
        "title": huge,
        "description": huge,
        "footer": {"text": huge},
        "author": {"name": huge},
        "fields": [{"name": huge, "value": huge} for _ in range(40)],
    }
    out = clamp_embed(embed)
    assert len(out["title"]) <= render.EMBED_TITLE
    assert len(out["author"]["name"]) <= render.AUTHOR
    assert len(out["fields"]) <= render.EMBED_FIELDS
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in out["fields"])
    assert size(out) <= render.EMBEDS_TOTAL


def test_a_long_description_is_cut_just_under_discords_4096_characters() -> None:
    # Alone in its embed, so the 6,000 total is not what cuts it: the description limit is.
    out = clamp_embed({"title": "Ruling", "description": "word " * 3000})
    assert 4096 - 10 <= len(out["description"]) <= 4096
    assert out["description"].endswith("…")


def test_a_message_stays_under_the_total_across_all_embeds() -> None:
    embed = {"title": "t" * 200, "description": "d " * 2000}
    content, embeds = clamp_message("c" * 5000, [embed] * 15)
    assert len(content) <= render.CONTENT
    assert len(embeds) <= render.EMBEDS_PER_MESSAGE
    assert sum(size(e) for e in embeds) <= render.EMBEDS_TOTAL


@pytest.mark.parametrize("seed", range(200))
def test_ten_full_alert_embeds_never_exceed_the_message_total(seed: int) -> None:
    # Real alerts: long summaries, a long "also reported by" field, an author line each.
    rnd = random.Random(seed)

    def words(n: int) -> str:
        return " ".join("w" * rnd.randint(2, 12) for _ in range(n))

    embeds = [
        {
            "title": words(rnd.randint(5, 60)),
            "description": words(rnd.randint(20, 400)),
            "author": {"name": words(rnd.randint(1, 10))},
            "footer": {"text": words(rnd.randint(1, 20))},
            "fields": [
                {"name": "Also reported by", "value": words(rnd.randint(10, 200))},
                {"name": "Why it matched", "value": words(rnd.randint(2, 30))},
            ],
        }
        for _ in range(10)
    ]
    _, out = clamp_message(None, embeds)
    assert out and sum(size(e) for e in out) <= render.EMBEDS_TOTAL


def test_empty_field_values_become_a_visible_placeholder() -> None:
    out = clamp_embed({"title": "", "fields": [{"name": "", "value": ""}]})
    assert out["title"] and out["fields"][0]["name"] and out["fields"][0]["value"]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("**bold** and _it_", "\\*\\*bold\\*\\* and \\_it\\_"),
        ("[click](http://evil)", "\\[click\\](http://evil)"),
        ("# heading", "\\# heading"),
        ("> quote", "\\> quote"),
        ("1. first", "1\\. first"),  # the backslash goes before the dot, not the digit
        ("2.5 million people", "2.5 million people"),
        ("a-b c", "a-b c"),
        ("`code` ~~x~~ |sp|", "\\`code\\` \\~\\~x\\~\\~ \\|sp\\|"),
    ],
)
def test_markdown_in_feed_text_is_escaped(raw: str, escaped: str) -> None:
    assert escape_markdown(raw) == escaped


@pytest.mark.parametrize("raw", ["@everyone look", "@here now", "<@123456789> hi", "<@&42> role"])
def test_mentions_in_feed_text_are_neutralised(raw: str) -> None:
    out = escape_markdown(raw)
    assert "@everyone" not in out and "@here" not in out and "<@" not in out


def test_court_alert_is_styled_apart_and_lists_other_outlets() -> None:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    view = AlertView(
        story_id=7,
        title="Court *ruling*",
        url="https://example.org/a",
        source="Outlet A",
        outlets=["Outlet A", "Outlet B"],
        published=when,
        first_seen=when,
        summary="A summary.",
        kind="court",
        matched=["people:Uyghur", "forum:ICC"],
    )
    court = render.alert_embed(view)
    news = render.alert_embed(AlertView(**{**view.__dict__, "kind": "news"}))
    assert court["color"] != news["color"] and "Court" in court["author"]["name"]
    fields = {f["name"]: f["value"] for f in court["fields"]}
    assert fields["Also reported by"] == "Outlet B"
    assert court["title"] == "Court \\*ruling\\*"


ALERT = AlertView(
    story_id=9,
    title="Uyghur groups ask ICC to reconsider Tajikistan deportations",
    url="https://thediplomat.com/2026/03/uyghur-groups-ask-icc/",
    source="The Diplomat",
    outlets=["The Diplomat", "Radio Free Asia"],
    published=datetime(2026, 3, 2, 7, 10, tzinfo=UTC),
    first_seen=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    summary="Lawyers asked the Prosecutor to reconsider the decision on Monday.",
    kind="news",
    matched=["people:Uyghur", "icc:ICC", "removal:deportations"],
    image="https://thediplomat.com/wp-content/uploads/2026/03/icc.jpg",
)


def test_alert_reads_like_news_no_rule_terms_and_the_time_once() -> None:
    embed = render.alert_embed(ALERT)

    names = [f["name"] for f in embed["fields"]]
    assert names == ["Source", "Also reported by"]
    assert "removal" not in str(embed) and "deportations" not in str(embed["fields"])
    assert embed["timestamp"] == "2026-03-02T07:10:00+00:00"
    assert "<t:" not in str(embed)
    assert "why" not in render.alert_text(ALERT).lower()


def test_alert_shows_the_story_picture_as_a_thumbnail() -> None:
    embed = render.alert_embed(ALERT)

    assert embed["thumbnail"] == {
        "url": "https://thediplomat.com/wp-content/uploads/2026/03/icc.jpg"
    }


@pytest.mark.parametrize(
    "image",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "https://example.org/" + "a" * 2100,
        "https://example.org/with space.jpg",
    ],
)
def test_a_picture_discord_would_refuse_is_left_out(image: str) -> None:
    embed = render.alert_embed(AlertView(**{**ALERT.__dict__, "image": image}))

    assert "thumbnail" not in embed
    assert "thumbnail" not in render.clamp_embed({"title": "t", "thumbnail": {"url": image}})
