"""/case answers that read well, through the real bot and the Discord twin: a story's coverage in
pages (never a cut link), search by word forms with one line per development, a blank query
answered privately, /case latest beyond 10, a captioned /case activity, /watch test's sample."""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from casewatch.app import App, open_app
from casewatch.clock import FakeClock
from tests.casewatch_helpers import START, item, make_config
from tests.discord_twin import DiscordTwin
from tests.discord_twin.world import MANAGE_GUILD
from tests.feedserver import FeedServer, rss
from tests.test_bot_e2e import TwinBot, _components, bot_on

pytestmark = pytest.mark.timeout(60)

OUTLETS = 12
SHARED = "https://news.example.org/argentina/uyghur-case-proceeds"
LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")


def shared_report(n: int) -> dict[str, Any]:
    """Outlet n's copy of one development: the same article address, its own long headline."""
    return item(
        100 + n,
        f"Argentine court lets Uyghur genocide case proceed, outlet {n} reports at length on "
        f"what the federal judges decided and what the ICC has not done ({n})",
        link=f"{SHARED}?utm_source=feed{n}",
        source=f"Outlet number {n}",
    )


def other_stories(n: int) -> list[dict[str, Any]]:
    """Two developments of their own: ten days from each other and from every other one (more
    than the event window), so the event stage never makes them one."""
    return [
        item(
            200 + 2 * n + k,
            f"Uyghur tribunal story {n}-{k}: lawyers file evidence {n * 10 + k}",
            when=START - timedelta(days=10 * (2 * n + k)),
        )
        for k in (0, 1)
    ]


@contextlib.asynccontextmanager
async def archive_bot(
    twin: DiscordTwin, feed_server: FeedServer, tmp_path: Path
) -> AsyncIterator[tuple[TwinBot, App]]:
    """A bot whose archive holds one story reported by 12 outlets and 24 other developments."""
    urls = [
        feed_server.route(f"/f{n}.xml", rss([shared_report(n), *other_stories(n)]))
        for n in range(1, OUTLETS + 1)
    ]
    cfg = make_config([{"name": f"Feed {n}", "url": u} for n, u in enumerate(urls, 1)])
    async with (
        open_app(cfg, tmp_path / "c.db", clock=FakeClock(START), rng=random.Random(3)) as app,
        bot_on(twin, app) as bot,
    ):
        await bot.poll_tick()
        yield bot, app


@pytest.fixture
def place(discord_at_twin: DiscordTwin) -> dict[str, Any]:
    twin = discord_at_twin
    guild = twin.add_guild("Uyghur rights researchers")
    return {
        "twin": twin,
        "g": guild,
        "ch": twin.add_channel(guild, "general"),
        "reader": twin.add_member(guild, "reader"),
        "admin": twin.add_member(guild, "admin", permissions=MANAGE_GUILD),
    }


async def ask(place: dict[str, Any], command: str, options: dict[str, Any], **kw: Any) -> Any:
    twin: DiscordTwin = place["twin"]
    res = await twin.invoke(
        command,
        options,
        guild=place["g"],
        channel=place["ch"],
        member=kw.get("member") or place["reader"],
    )
    return await res.wait_response(timeout=kw.get("timeout", 5.0))


async def test_story_coverage_is_paged_and_never_cut_mid_link(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = place["twin"]
    async with archive_bot(twin, feed_server, tmp_path) as (bot, app):
        story_id = app.db.execute("SELECT story_id FROM items WHERE url LIKE ?", (SHARED + "%",))
        sid = int(story_id.fetchone()[0])
        res = await ask(place, "case story", {"id": sid})
        seen: set[str] = set()
        page = res
        for n in range(1, 10):
            field = next(f for f in page.embeds[0]["fields"] if f["name"].startswith("Coverage"))
            assert field["name"].startswith(f"Coverage ({OUTLETS} reports) · page {n}/")
            value = field["value"]
            assert len(value) <= 1024
            for line in value.splitlines():  # every line whole: a complete link, its item number
                assert LINK.search(line) and re.search(r"item \d+\)$", line), line
                assert "…" not in line
            seen |= set(re.findall(r"Outlet number \d+", value))
            nxt = next(c for c in _components(page.message) if c.get("label") == "Next")
            if nxt.get("disabled"):
                break
            page = await (
                await twin.click(res, nxt["custom_id"], member=place["reader"])
            ).wait_response()
        assert n > 1, "twelve long lines do not fit one field: the list is paged"
        assert len(seen) == OUTLETS  # every outlet is visible on some page


async def test_search_finds_word_forms_and_lists_each_development_once(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    async with archive_bot(place["twin"], feed_server, tmp_path):
        res = await ask(place, "case search", {"query": "Argentina"})  # the items say "Argentine"
        embed = res.embeds[0]
        assert embed["footer"]["text"].startswith("1 development matched ·"), embed["footer"]
        assert embed["description"].count("\n\n") == 0  # one story, one entry
        assert f"(+{OUTLETS - 1} other reports)" in embed["description"]

        res = await ask(place, "case search", {"query": "tribunals evidence"})
        assert res.embeds[0]["footer"]["text"].startswith(f"{2 * OUTLETS} developments matched")


@pytest.mark.parametrize("query", ["?", '""', "—"])
async def test_a_query_without_words_is_answered_privately_with_a_hint(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path, query: str
) -> None:
    twin: DiscordTwin = place["twin"]
    async with archive_bot(twin, feed_server, tmp_path):
        res = await ask(place, "case search", {"query": query})
        assert res.ephemeral and "`query`" in res.content and "Argentina" in res.content
        assert twin.messages(place["ch"]) == []  # nothing public


async def test_latest_beyond_ten_is_listed_and_says_how_many_developments_exist(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = place["twin"]
    async with archive_bot(twin, feed_server, tmp_path):
        res = await ask(place, "case latest", {"count": 50})
        stored = 1 + 2 * OUTLETS  # developments: the twelve outlets' one counts once
        embed = res.embeds[0]
        assert embed["title"] == f"Latest {stored} developments"
        assert f"Only {stored} developments stored so far" in embed["footer"]["text"]
        text = embed["description"]
        nxt = [c for c in _components(res.message) if c.get("label") == "Next"]
        if nxt:  # pages of whole entries, as many as fit an embed
            click = await twin.click(res, nxt[0]["custom_id"], member=place["reader"])
            await click.wait_response()
            text += "\n" + click.embeds[0]["description"]
        shown = re.findall(r"· story (\d+)", text)
        assert len(shown) == len(set(shown)) == stored  # past Discord's 10 embeds a message
        # The twelve outlets' development is one entry, its outlets counted.
        assert text.count("Argentine court lets Uyghur genocide case proceed") == 1
        assert f"+{OUTLETS - 1} other outlets" in text

        res = await ask(place, "case latest", {"count": 3})
        assert len(res.embeds) == 3 and not res.content  # as alerts, nothing to say


async def test_activity_has_a_caption_with_the_period_and_totals(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    async with archive_bot(place["twin"], feed_server, tmp_path):
        res = await ask(place, "case activity", {"since": "52w"}, timeout=20)
        assert res.message is not None and res.message["attachments"]
        assert re.fullmatch(
            r".+: coverage per week, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(52 weeks\): "
            rf"{1 + 2 * OUTLETS} developments \(\d+ court, \d+ news\) from \d+ relevant reports\.",
            res.content,
        ), res.content


async def test_watch_test_sample_names_no_story_zero(
    place: dict[str, Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    twin: DiscordTwin = place["twin"]
    async with archive_bot(twin, feed_server, tmp_path):
        res = await ask(place, "watch test", {"channel": place["ch"]}, member=place["admin"])
        assert res.ephemeral, res.describe()
        [sample] = await twin.wait_for_messages(place["ch"], 1)
        text = str(sample["embeds"][0])
        assert "story 0" not in text and "why it matched" not in text.lower()
