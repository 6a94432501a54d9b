"""Sources of the case beyond plain feeds: HTML pages, search-engine news feeds, court items,
and article pages read when a feed says too little."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from casewatch.app import App
from casewatch.clock import FakeClock
from casewatch.delivery import ConsoleDelivery
from storage import items, sources, stories, timeline
from storage.db import rows, scalar
from tests.casewatch_helpers import BASELINE, START, app_for, item
from tests.feedserver import FeedServer, rss

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = {"entries": "li.pr-item", "title": ".pr-title", "date": ".pr-date", "summary": ".pr-teaser"}


async def drained(app: App) -> list[dict]:
    out = io.StringIO()
    await app.dispatcher.drain(ConsoleDelivery(out, as_json=True))
    return [json.loads(x) for x in out.getvalue().splitlines() if x]


async def test_a_page_source_yields_items_and_a_changed_layout_is_a_visible_error(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    page = (FIXTURES / "pages" / "press_releases.html").read_bytes()
    url = feed_server.route("/press", page, content_type="text/html; charset=utf-8")
    source = {
        "name": "Prosecutor statements",
        "url": url,
        "kind": "court",
        "format": "page",
        "relevance": "all",
        "page": PAGE,
    }
    async with app_for(tmp_path, [source], clock=clock) as app:
        report = await app.monitor.poll_once()
        assert report.outcomes[0].new_items == 4  # the entry without a title is skipped
        titles = {r["title"] for r in rows(app.db, "SELECT title FROM items")}
        assert "New Prosecutor takes office" in titles
        assert all(r["kind"] == "court" for r in rows(app.db, "SELECT kind FROM items"))

        redesigned = (FIXTURES / "pages" / "press_releases_redesigned.html").read_bytes()
        feed_server.route("/press", redesigned, content_type="text/html")
        for _ in range(2):
            clock.advance(86400)
            await app.monitor.poll_once()
        health = sources.find(app.db, "Prosecutor statements")
        assert health is not None and health["failures"] == 2
        assert (
            "page layout changed" in health["last_error"] and "li.pr-item" in health["last_error"]
        )
        notices = [m for m in await drained(app) if m["type"] == "notice"]
        assert len(notices) == 1 and "page layout changed" in notices[0]["text"]


def gnews(items_: list[tuple[str, str, str]]) -> bytes:
    """A Google-News-like RSS: opaque links, ids that change on every fetch, publisher suffixes."""
    out = []
    for token, title, publisher in items_:
        out.append(
            {
                "title": f"{title} - {publisher}",
                "link": f"https://news.google.com/rss/articles/CBMi{token}?oc=5",
                "guid": f"CBMi{token}",
                "description": f'<a href="https://news.google.com/rss/articles/CBMi{token}">{title}</a>&nbsp;<font color="#6f6f6f">{publisher}</font>',
                "pubDate": START - timedelta(hours=2),
                "source": publisher,
                "source_url": f"https://{publisher.lower().replace(' ', '')}.example",
            }
        )
    return rss(out, title="Google News search")


HEADLINE = "Uyghur groups ask ICC prosecutor to reopen Tajikistan deportation file"


async def test_search_engine_items_reissued_under_new_ids_do_not_alert_twice(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    # A first poll that receives something (a dropped entry), so the next one may alert.
    url = feed_server.route("/gn", gnews([("BASE0", BASELINE["title"], "Met Office")]))
    source = {"name": "Google News: ICC Uyghur", "url": url, "format": "search"}
    async with app_for(tmp_path, [source], clock=clock) as app:
        await app.monitor.poll_once()
        feed_server.route("/gn", gnews([("AAA1", HEADLINE, "Reuters")]))
        clock.advance(3600)
        await app.monitor.poll_once()
        first = await drained(app)
        assert [a["title"] for a in first if a["type"] == "alert"] == [HEADLINE]
        assert first[0]["source"] == "Reuters"

        # Next fetch: the same article under a new token, and a second outlet's copy.
        feed_server.route(
            "/gn", gnews([("ZZZ9", HEADLINE, "Reuters"), ("QQQ7", HEADLINE, "The Guardian")])
        )
        clock.advance(3600)
        await app.monitor.poll_once()
        later = await drained(app)
        assert [m["type"] for m in later] == ["update"]
        assert later[0]["outlets"] == ["Reuters", "The Guardian"]
        assert scalar(app.db, "SELECT count(*) FROM items WHERE verdict != 'dropped'") == 2
        assert scalar(app.db, "SELECT count(*) FROM stories") == 1


async def test_court_items_are_marked_and_added_to_the_timeline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    url = feed_server.route("/icc.xml", rss([BASELINE]))
    source = {"name": "ICC press releases", "url": url, "kind": "court"}
    async with app_for(tmp_path, [source], clock=clock) as app:
        await app.monitor.poll_once()
        ruling = "Prosecutor responds to Uyghur communication on deportations to the ICC"
        feed_server.route("/icc.xml", rss([item(1, ruling, when=START - timedelta(days=1))]))
        clock.advance(3600)
        await app.monitor.poll_once()
        alert = next(m for m in await drained(app) if m["type"] == "alert")
        assert alert["kind"] == "court"
        events = timeline.listing(app.db)
        assert [(e["date"], e["title"], e["origin"]) for e in events] == [
            ((START - timedelta(days=1)).date().isoformat(), ruling, "item")
        ]


async def test_a_thin_description_is_replaced_by_the_article_lead(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    article = feed_server.route(
        "/article",
        (FIXTURES / "articles" / "news_article.html").read_bytes(),
        content_type="text/html",
    )
    url = feed_server.route("/f.xml", rss([BASELINE]))
    async with app_for(tmp_path, [{"name": "Thin feed", "url": url}], clock=clock) as app:
        await app.monitor.poll_once()
        thin = {
            "title": "Exiled Uyghur groups file fresh evidence with ICC prosecutor",
            "link": article,
            "guid": "thin-1",
            "description": "Read more",
            "pubDate": START,
        }
        feed_server.route("/f.xml", rss([thin]))
        clock.advance(3600)
        await app.monitor.poll_once()
        stored = items.get(app.db, 2)  # the thin one (1 is the first poll's entry)
        assert stored is not None and "Tajikistan" in stored["summary"]
        assert len(stored["summary"]) <= 281
        story = stories.get(app.db, stored["story_id"])
        assert story is not None and story["summary"] == stored["summary"]
        assert feed_server.hits["/article"] == 1
