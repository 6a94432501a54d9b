"""Sources added from Discord are refused internal addresses on every fetch they cause.

No public server is reachable from a test, so where a test needs a "public" host the loopback
feed server plays it (a classifier that calls 127.0.0.1 public), and internal addresses are ones
the guard refuses before connecting.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from casewatch.fetch import Fetcher, address_problem, make_session
from storage import sources
from storage.sources import SourceSpec
from tests.casewatch_helpers import START, app_for
from tests.feedserver import FeedServer, rss

CASE = "Uyghur lawyers file a new ICC deportation complaint"


def loopback_is_public(address: str) -> str | None:
    return None if address == "127.0.0.1" else address_problem(address)


def entry(link: str) -> dict:
    # No description: the lead is thin, so the article page is read for it.
    return {"title": CASE, "link": link, "guid": "g1", "description": "", "pubDate": START}


async def test_a_discord_source_on_an_internal_address_is_refused_at_every_poll(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    operator_url = feed_server.route("/operator.xml", rss([]))
    discord_url = feed_server.route("/discord.xml", rss([]))
    async with app_for(tmp_path, [{"name": "Operator feed", "url": operator_url}]) as app:
        # Checked when it was added (say the host was public then); loopback by now.
        sources.add(
            app.db,
            SourceSpec(name="Added", url=discord_url, origin="discord", guild_id="1"),
            START,
        )
        report = await app.monitor.poll_once(force=True)
    outcome = {o.url: o for o in report.outcomes}
    assert outcome[operator_url].status == "new"  # feeds.yaml sources are the operator's call
    assert outcome[discord_url].status == "failed"
    assert outcome[discord_url].error == f"{discord_url}: refused: 127.0.0.1 is a loopback address"
    assert feed_server.hits["/discord.xml"] == 0


async def test_a_discord_sources_redirects_and_article_pages_are_guarded_too(
    feed_server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    article = "http://10.0.0.7/article"  # internal: refused before any connection is tried
    feed_url = feed_server.route("/feed.xml", rss([entry(article)]))
    hop = feed_server.redirect("/moved.xml", "http://10.0.0.7/feed.xml")
    async with app_for(tmp_path, [], fetch={"connect_timeout": 0.5, "total_timeout": 1}) as app:
        session = make_session(app.config.fetch)
        app.monitor.fetcher = Fetcher(
            app.config.fetch, session=session, clock=app.clock, classify=loopback_is_public
        )
        for name, url in (("Feed", feed_url), ("Moved", hop)):
            spec = SourceSpec(name=name, url=url, origin="discord", guild_id="1")
            sources.add(app.db, spec, START)
        with caplog.at_level(logging.INFO, logger="casewatch.pipeline"):
            report = await app.monitor.poll_once(force=True)
        await session.close()
    outcome = {o.url: o for o in report.outcomes}
    assert outcome[feed_url].relevant == 1
    assert f"{article}: refused: 10.0.0.7 is a private address" in caplog.text
    assert (
        outcome[hop].error
        == f"{hop} (redirected to http://10.0.0.7/feed.xml): refused: 10.0.0.7 is a private address"
    )
