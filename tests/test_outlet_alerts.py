"""Feeds in the shapes real outlets publish, served over loopback through the real pipeline:
what the channel reads is the report's lead, the outlet that wrote it, and its picture."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta
from pathlib import Path

from casewatch.app import App
from casewatch.clock import FakeClock
from casewatch.delivery import ConsoleDelivery
from tests.casewatch_helpers import START, app_for
from tests.feedserver import FeedServer, rss

OUTLETS = Path(__file__).parent / "fixtures" / "feeds" / "outlets"
PAGES = Path(__file__).parent / "fixtures" / "pages"
DIPLOMAT = (
    "https://thediplomat.com/2026/03/uyghur-groups-ask-icc-to-reconsider-tajikistan-deportations/"
)
RFA = "https://www.rfa.org/english/news/uyghur/icc-deportations-03022026.html"
UNRELATED = [
    {
        "title": "Cricket board confirms schedule",
        "link": "https://sport.example/1",
        "guid": "s1",
        "description": "The board met on Monday.",
        "pubDate": START,
    }
]


def google_news_id(url: str) -> str:
    """A Google News article id carrying `url`, as ids made before mid-2024 do."""
    data = url.encode()
    length = (
        bytes([len(data)]) if len(data) < 128 else bytes([len(data) & 0x7F | 0x80, len(data) >> 7])
    )
    raw = b"\x08\x13\x22" + length + data + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def fixture(name: str, moves: dict[str, str]) -> str:
    """A fixture whose article addresses point at the loopback server (ids re-encoded)."""
    text = (OUTLETS / name).read_text(encoding="utf-8")
    for real, local in moves.items():
        text = text.replace(google_news_id(real), google_news_id(local))
        text = text.replace(real, local)
    return text


async def drain(app: App) -> list[dict]:
    out = io.StringIO()
    await app.dispatcher.drain(ConsoleDelivery(out, as_json=True))
    return [json.loads(line) for line in out.getvalue().splitlines() if line]


def search(url: str, name: str) -> dict:
    return {"name": name, "url": url, "format": "search"}


async def test_a_search_story_without_a_lead_takes_the_lead_of_a_later_report_and_is_edited(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    diplomat = feed_server.url("/diplomat/uyghur-groups")
    feed_server.route("/diplomat/uyghur-groups", "gone", status=404)  # the page is not read
    google = feed_server.route("/google.xml", rss(UNRELATED))
    bing = feed_server.route("/bing.xml", rss(UNRELATED))
    sources = [search(google, "Google News, ICC (en)"), search(bing, "Bing News, ICC")]
    async with app_for(tmp_path, sources, clock=clock) as app:
        await app.monitor.poll_once()  # first polls: stored, nothing alerted
        feed_server.route(
            "/google.xml", fixture("google-news-search.xml", {DIPLOMAT: diplomat, RFA: diplomat})
        )
        clock.advance(3600)
        await app.monitor.poll_once()
        (alert,) = [a for a in await drain(app) if "Tajikistan" in a["title"]]
        assert alert["summary"] == ""  # a link list is no lead: nothing rather than noise
        assert alert["source"] == "The Diplomat"  # not "Google News, ICC (en)"
        assert alert["url"] == diplomat  # the article, not news.google.com

        # The same outlet, reached through Bing, has the lead: the alert is edited to show it.
        feed_server.route("/bing.xml", fixture("bing-news.xml", {DIPLOMAT: diplomat}))
        clock.advance(3600)
        await app.monitor.poll_once()
        sent = await drain(app)

    updates = [m for m in sent if m["type"] == "update" and m["story_id"] == alert["story_id"]]
    assert [u["summary"] for u in updates] == [
        "Lawyers for two exiled Uyghur organisations have asked the Prosecutor of the "
        "International Criminal Court to reopen their 2020 communication. They argue that "
        "deportations from Tajikistan, a state party, bring the crimes within the court's reach …"
    ]
    assert updates[0]["outlets"] == ["The Diplomat"]  # one outlet through two feeds counts once
    assert not [m for m in sent if m["type"] == "alert" and "Tajikistan deportations" in m["title"]]


async def test_outlets_leads_and_pictures_of_real_feed_shapes(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    sources = [
        search(feed_server.route("/bing.xml", fixture("bing-news.xml", {})), "Bing News, ICC"),
        {
            "name": "The Guardian, Xinjiang",
            "url": feed_server.route("/guardian.xml", fixture("guardian.xml", {})),
            "publisher": "The Guardian",
        },
        {
            "name": "Example Daily, world",
            "url": feed_server.route("/daily.xml", fixture("wire-copies.xml", {})),
            "publisher": "Example Daily News",
        },
    ]
    # Each feed's item is checked as an alert of its own: no grouping into developments (two
    # of them report the same Tajikistan submission).
    async with app_for(tmp_path, sources, events={"enabled": False}) as app:
        await app.monitor.poll_once(backfill=True)
        alerts = {a["title"]: a for a in await drain(app) if a["type"] == "alert"}

    reuters = alerts["UN rights office urges China to answer Uyghur deportation claims"]
    assert reuters["source"] == "Reuters"  # Yahoo carried it; the dateline credits Reuters
    assert (
        reuters["url"] == "https://www.yahoo.com/news/un-rights-office-urges-china-074512345.html"
    )
    assert reuters["summary"].startswith("The U.N. human rights office on Monday urged China")
    assert reuters["image"].startswith("http://www.bing.com/th?id=")
    guardian = alerts[
        "Exiled Uyghurs return to the ICC with evidence of deportations from Tajikistan"
    ]
    assert guardian["source"] == "The Guardian"  # feeds.yaml `publisher:`, not our feed's name
    assert not guardian["summary"].endswith("Continue reading...")
    assert "width=460" in guardian["image"]
    ap_copy = alerts["China rejects call for ICC inquiry into Uyghur deportations"]
    assert ap_copy["source"] == "AP" and ap_copy["summary"].startswith("China on Monday")
    afp_copy = alerts["Thai court hears appeal over Uyghur deportations"]
    assert afp_copy["source"] == "AFP" and not afp_copy["summary"].endswith("AFP")


async def test_a_thin_search_item_reads_its_article_for_the_lead_and_the_preview_picture(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    article = feed_server.route(
        "/rfa/icc-deportations.html",
        "<html><head><title>Lawyers say</title>"
        '<meta property="og:image" content="/img/deportations-hearing.jpg"></head><body>'
        "<nav>Home | News | Uyghur</nav><article><h1>Lawyers say Uyghur deportations give the "
        "ICC jurisdiction</h1><p>Lawyers for Uyghurs deported from Tajikistan told the Office "
        "of the Prosecutor on Monday that the removals took place on the territory of a state "
        "party. They asked the Office to open a preliminary examination without delay.</p>"
        "<p>The Office has not said when it will answer the request from the two groups.</p>"
        "</article><footer>Copyright Example Radio</footer></body></html>",
        content_type="text/html; charset=utf-8",
    )
    google = feed_server.route("/google.xml", rss(UNRELATED))
    async with app_for(tmp_path, [search(google, "Google News, ICC (en)")], clock=clock) as app:
        await app.monitor.poll_once()
        feed_server.route(
            "/google.xml",
            fixture("google-news-search.xml", {RFA: article, DIPLOMAT: feed_server.url("/gone")}),
        )
        clock.advance(3600)
        await app.monitor.poll_once()
        sent = await drain(app)

    (rfa,) = [a for a in sent if a["type"] == "alert" and a["source"] == "Radio Free Asia"]
    assert rfa["summary"] == (
        "Lawyers for Uyghurs deported from Tajikistan told the Office of the Prosecutor on Monday "
        "that the removals took place on the territory of a state party. They asked the Office "
        "to open a preliminary examination without delay."
    )
    assert rfa["image"] == feed_server.url("/img/deportations-hearing.jpg")


async def test_a_court_page_is_credited_to_its_court_and_its_records_give_the_lead(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    listing = (PAGES / "court_decisions.html").read_text(encoding="utf-8")
    start, end = (
        listing.index('<div class="views-row">'),
        listing.index("<div", listing.index("</div>\n</div>")),
    )
    older_only = listing[:start] + listing[end:]  # before the decision was published
    page = feed_server.route("/court-records", older_only, content_type="text/html")
    feed_server.route(
        "/court-record/otp-2026-0302",
        "<html><head><title>Decision</title>"
        '<meta property="og:image" content="/themes/logo-share.png"></head><body><main>'
        "<h1>Decision on the request to reconsider the Uyghur communication</h1>"
        "<p>The Office of the Prosecutor has decided to reconsider its 2020 assessment of the "
        "communication concerning Uyghurs deported from Tajikistan. It will examine the new "
        "evidence submitted by the communicants before deciding on a preliminary examination."
        "</p><p>Document ICC-OTP-2026-0302, 2 March 2026, 4 pages.</p></main></body></html>",
        content_type="text/html",
    )
    court = {
        "name": "Example Court, court records (page)",
        "url": page,
        "kind": "court",
        "format": "page",
        "publisher": "Example Court",
        "relevance": "all",  # the court's own listing of this case
        "page": {"entries": "div.views-row", "title": ".record-title", "link": "a", "date": "time"},
    }
    async with app_for(tmp_path, [court], clock=clock) as app:
        await app.monitor.poll_once()  # first poll: the older record, stored silently
        feed_server.route("/court-records", listing, content_type="text/html")
        clock.advance(3600)
        await app.monitor.poll_once()
        alerts = [m for m in await drain(app) if m["type"] == "alert"]

    decision = next(a for a in alerts if a["title"].startswith("Decision on the request"))
    assert decision["source"] == "Example Court"  # not "Example Court, court records (page)"
    assert decision["summary"].startswith("The Office of the Prosecutor has decided to reconsider")
    assert decision["image"] is None  # the site's share logo is no picture of the decision
    assert [a["title"] for a in alerts] == [decision["title"]]  # the older record: stored only


async def test_a_development_found_without_a_lead_shows_the_lead_of_its_next_report(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    search_item = {
        "title": "ICC prosecutor rejects Uyghur genocide complaint against China - Reuters",
        "link": "https://news.google.com/rss/articles/CBMiWmh0dHBz?oc=5",  # opaque: not read
        "guid": "g-1",
        "description": "ICC prosecutor rejects Uyghur genocide complaint against China Reuters",
        "pubDate": START,
        "source": "Reuters",
    }
    other_report = {
        "title": "ICC declines call to probe Uyghur genocide complaint against China",
        "link": "https://rights.example.org/icc-declines",
        "guid": "r-1",
        "description": "<p>International Criminal Court prosecutors have rejected calls to "
        "investigate China's treatment of its Uyghur population, the prosecutor's office said "
        "on Monday.</p>",
        "pubDate": START + timedelta(hours=1),
    }
    google = feed_server.route("/google.xml", rss(UNRELATED))
    blog = feed_server.route("/blog.xml", rss(UNRELATED))
    sources = [
        search(google, "Google News, ICC (en)"),
        {"name": "Rights blog", "url": blog, "publisher": "Example Rights Monitor"},
    ]
    async with app_for(tmp_path, sources, clock=clock) as app:
        await app.monitor.poll_once()
        feed_server.route("/google.xml", rss([*UNRELATED, search_item]))
        clock.advance(3600)
        await app.monitor.poll_once()
        (alert,) = [m for m in await drain(app) if m["type"] == "alert"]
        assert alert["summary"] == "" and alert["source"] == "Reuters"
        feed_server.route("/blog.xml", rss([*UNRELATED, other_report]))
        clock.advance(3600)
        await app.monitor.poll_once()
        sent = await drain(app)

    assert not [m for m in sent if m["type"] == "alert"]  # one development, one alert
    (update,) = [m for m in sent if m["type"] == "update"]
    assert update["story_id"] == alert["story_id"]
    assert update["summary"].startswith("International Criminal Court prosecutors have rejected")
    assert update["outlets"] == ["Reuters", "Example Rights Monitor"]
