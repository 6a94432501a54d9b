"""The console twins of /case answer as the slash commands do: word forms, one line per story,
counts that agree with their noun, a blank query refused with a hint, the chart's caption."""

from __future__ import annotations

from pathlib import Path

from tests.feedserver import FeedServer, rss
from tests.test_cli import CONFIG, bot, item

ARGENTINE = "Argentine court lets Uyghur deportation case proceed"


async def test_search_latest_and_chart_read_well(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.route("/f.xml", rss([item(1, ARGENTINE)]))
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    code, _, err = await bot(tmp_path, "poll", "--once")
    assert code == 0, err

    code, out, err = await bot(tmp_path, "search", "Argentina")
    assert code == 0, err
    assert out.startswith("1 story found for 'Argentina' (page 1 of 1):\n"), out
    assert "- story 1: " + ARGENTINE in out

    code, out, err = await bot(tmp_path, "search", "?!")
    assert code == 2 and out == ""
    assert err.startswith("search: '?!' has no words to search"), err

    code, out, err = await bot(tmp_path, "latest", "--count", "500")
    assert code == 0 and "showing the newest 100" in err and ARGENTINE in out

    code, out, err = await bot(tmp_path, "chart", "--out", str(tmp_path / "c.png"), "--since", "4w")
    assert code == 0, err
    assert out.startswith("test: coverage per week, ") and "1 development (" in out, out
