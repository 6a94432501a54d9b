"""The console twins of /case answer as the slash commands do: word forms, one line per
development, counts that agree with their noun, a blank query refused with a hint, the chart's
caption."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from casewatch import cli
from tests.casewatch_helpers import app_for
from tests.feedserver import FeedServer, rss
from tests.test_cli import CONFIG, bot, item
from tests.test_outlet_alerts import DIPLOMAT, RFA, fixture

ARGENTINE = "Argentine court lets Uyghur deportation case proceed"


async def test_search_latest_and_chart_read_well(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.route("/f.xml", rss([item(1, ARGENTINE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err

    code, out, err = await bot(tmp_path, "search", "Argentina")
    assert code == 0, err
    assert out.startswith("1 development found for 'Argentina' (page 1 of 1):\n"), out
    assert "- story 1: " + ARGENTINE in out

    code, out, err = await bot(tmp_path, "search", "?!")
    assert code == 2 and out == ""
    assert err.startswith("search: '?!' has no words to search"), err

    code, out, err = await bot(tmp_path, "latest", "--count", "500")
    assert code == 0 and "showing the newest 100" in err and ARGENTINE in out

    code, out, err = await bot(tmp_path, "chart", "--out", str(tmp_path / "c.png"), "--since", "4w")
    assert code == 0, err
    assert out.startswith("test: coverage per week, ") and "1 development (" in out, out


GN_CONFIG = """\
case: {name: Test case, short: test, vocabulary: [uyghur, icc]}
relevance:
  threshold: 2
  groups:
    people: ["Uyghur*"]
    forum: [ICC, International Criminal Court]
  rules:
    - {name: case, all: [people, forum], score: 2}
sources:
"""


async def test_search_and_story_show_a_google_news_headline_without_its_outlet_suffix(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # Google News titles end with " - <outlet>"; the outlet is shown beside the headline.
    moves = {real: feed_server.url(f"/articles/{n}") for n, real in enumerate((DIPLOMAT, RFA))}
    for n in range(2):
        feed_server.route(f"/articles/{n}", "gone", status=404)  # article pages are not there
    body = fixture("google-news-search.xml", moves)
    source = {"name": "Google News, ICC", "url": feed_server.route("/gn.xml", body)}
    source["format"] = "search"
    listed = f'  - {{name: "{source["name"]}", url: "{source["url"]}", format: search}}\n'
    (tmp_path / "feeds.yaml").write_text(GN_CONFIG + listed, encoding="utf-8")
    # Each story its own development: this is about headlines and outlets, not about which
    # reports event matching groups (Google News itself clusters the first two as one).
    async with app_for(tmp_path, [source], events={"enabled": False}) as app:
        await app.monitor.poll_once()
        raw = app.db.execute("SELECT title FROM items ORDER BY id").fetchall()
        assert all(" - " in r[0] for r in raw)  # stored as published, suffix and all

    async def run(*argv: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        args = [*argv, "--db", str(tmp_path / "casewatch.db")]
        args += ["--config", str(tmp_path / "feeds.yaml")]
        code = await asyncio.to_thread(cli.main, args, out=out, err=err)
        assert code == 0, err.getvalue()
        return out.getvalue()

    out = await run("search", "Uyghur")
    assert out.startswith("3 developments found for 'Uyghur'"), out
    for headline, outlet in [
        ("Uyghur groups ask ICC to reconsider Tajikistan deportations", "The Diplomat"),
        ("Lawyers say Uyghur deportations give the ICC jurisdiction", "Radio Free Asia"),
        (
            "Hong Kong activists back Uyghur appeal to the International Criminal Court",
            "Hong Kong Free Press HKFP",
        ),
    ]:
        assert f": {headline} — {outlet}, " in out
        assert f"{headline} - {outlet}" not in out
    story = re.search(r"- story (\d+): Uyghur groups ask", out)
    assert story, out
    out = await run("story", story.group(1))
    assert "The Diplomat: Uyghur groups ask ICC to reconsider Tajikistan deportations (" in out
    assert "deportations - The Diplomat" not in out
