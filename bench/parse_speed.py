"""parse_feed per feed, side by side: feedparser alone against the fast path (feedparser-rs).

On the issue-9 mixes' synthetic feeds (100 feeds of 20 entries, 4 and 20 of 20 on the case,
the bytes bench/poll_cycle.py --mixes serves) and on every feed fixture of tests/fixtures/feeds,
each document is parsed by both paths in alternation, `--repeats` rounds; the table gives the
median ms per document of each path and their ratio. Every document's two results are compared
too: a document whose entries differ is counted (it must be 0: tests/test_parse_fast.py is the
specification). Also printed: how many documents took the fast path, and the bare parsers (the
feedparser and feedparser-rs calls alone) for scale.

Run: .venv/bin/python bench/parse_speed.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path

import benchlib  # before casewatch: puts the repository on sys.path
import feedparser
import feedparser_rs

from casewatch.parse import fast_path, parse_feed

MIX_FEEDS = 100
MIX_ENTRIES = 20
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "feeds"
URL = "https://feeds.example.test/feed.xml"


def per_doc(fn: Callable[[bytes], object], docs: list[bytes]) -> float:
    """Seconds per document of one pass of `fn` over `docs`."""
    started = time.perf_counter()
    for body in docs:
        fn(body)
    return (time.perf_counter() - started) / len(docs)


def slow(body: bytes) -> object:
    return parse_feed(body, content_type="application/rss+xml", url=URL, parser="feedparser")


def fast(body: bytes) -> object:
    return parse_feed(body, content_type="application/rss+xml", url=URL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    sets: dict[str, list[bytes]] = {}
    for on_case in (4, 20):
        news = benchlib.SyntheticNews(args.seed)
        sets[f"mix {on_case} of 20 (100 feeds)"] = [
            news.rss(i, MIX_ENTRIES, on_case=on_case) for i in range(MIX_FEEDS)
        ]
    sets["tests/fixtures/feeds (XML)"] = [
        p.read_bytes()
        for p in sorted(FIXTURES.rglob("*"))
        if p.is_file() and p.suffix in (".xml", ".rdf")
    ]

    benchlib.print_header("parse_feed per document: feedparser alone vs the fast path")
    rows = []
    for name, docs in sets.items():
        taken = sum(1 for d in docs if fast_path(d, "application/rss+xml", URL)[1] is None)
        differ = sum(1 for d in docs if slow(d) != fast(d))
        times: dict[str, list[float]] = {"slow": [], "fast": [], "fp": [], "rs": []}
        for _ in range(args.repeats):  # alternated, so a busy moment hits both
            times["slow"].append(per_doc(slow, docs))
            times["fast"].append(per_doc(fast, docs))
            times["fp"].append(per_doc(lambda d: feedparser.parse(io.BytesIO(d)), docs))
            times["rs"].append(per_doc(lambda d: feedparser_rs.parse(d, sanitize_html=False), docs))
        med = {k: benchlib.median(v) * 1000 for k, v in times.items()}
        rows.append(
            [
                name,
                f"{taken}/{len(docs)}",
                str(differ),
                f"{med['slow']:.2f}",
                f"{med['fast']:.2f}",
                f"{med['slow'] / med['fast']:.2f}x",
                f"{med['fp']:.2f}",
                f"{med['rs']:.3f}",
            ]
        )
    benchlib.print_table(
        [
            "documents",
            "fast path",
            "differ",
            "parse_feed feedparser ms",
            "parse_feed fast ms",
            "speed-up",
            "bare feedparser ms",
            "bare feedparser-rs ms",
        ],
        rows,
    )
    print(f"\nmedians of {args.repeats} alternated rounds; ms per document")


if __name__ == "__main__":
    main()
