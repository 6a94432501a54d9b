"""What cleaning one entry costs (`clean.clean_report`), this checkout beside another one.

The parse worker cleans the description (and content) of every entry of every changed feed,
dropped ones included: boilerplate can carry the case's terms, so the judged text must be the
cleaned one. The entries measured, the same for both checkouts:

  bench      the 2,000 descriptions of the issue-9 mix, 4 of 20 on the case (SyntheticNews)
  fixtures   every description and content of tests/fixtures/feeds (Google News, Bing News,
             WordPress, the Guardian, press releases ...) with its entry's title, and the
             blocks of the court and press-release pages (tests/fixtures/pages)

Each checkout runs in a process of its own (its own casewatch), in turn A B B A ..., and reports
the CPU time of cleaning each group once, the best of its repeats; medians per entry are printed
with their ratio, and whether both checkouts cleaned every entry the same.

Run: .venv/bin/python bench/clean_speed.py --baseline DIR [--rounds 6]
where DIR is another checkout (`git archive <commit> | tar -x -C DIR`). Only ratios measured side
by side mean anything on a shared machine; never a timed test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib
import feedparser
from selectolax.lexbor import LexborHTMLParser

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"

# Run in each checkout: clean every entry of each group, best CPU time of `repeats`.
MEASURE = """
import hashlib, json, sys, time
sys.path.insert(0, ".")
from casewatch.clean import clean_report
groups = json.load(open(sys.argv[1], encoding="utf-8"))
result = {}
for name, entries in groups.items():
    digest = hashlib.sha256()
    for text, title in entries:
        report = clean_report(text, title=title)
        digest.update(repr((report.text, report.wire)).encode())
    best = float("inf")
    for _ in range(int(sys.argv[2])):
        started = time.process_time()
        for text, title in entries:
            clean_report(text, title=title)
        best = min(best, time.process_time() - started)
    result[name] = {"us": best / len(entries) * 1e6, "output": digest.hexdigest()}
print(json.dumps(result))
"""


def entries() -> dict[str, list[tuple[str, str | None]]]:
    news = benchlib.SyntheticNews(1)
    bench: list[tuple[str, str | None]] = [
        (i.html, i.title) for feed in range(100) for i in news.items(feed, 20, on_case=4)
    ]
    fixtures: list[tuple[str, str | None]] = []
    for path in sorted((FIXTURES / "feeds").rglob("*")):
        if path.suffix not in (".xml", ".rdf"):
            continue
        for entry in feedparser.parse(path.read_bytes()).entries:
            title = str(entry.get("title") or "") or None
            texts = [entry.get("summary"), *(p.get("value") for p in entry.get("content") or [])]
            fixtures.extend((str(text), title) for text in texts if text)
    for path in sorted((FIXTURES / "pages").glob("*.html")):
        tree = LexborHTMLParser(path.read_text(encoding="utf-8", errors="replace"))
        blocks = tree.css("p, div, li, td, article, section")
        fixtures.extend((node.html or "", None) for node in blocks if node.html)
    return {"bench": bench, "fixtures": fixtures}


def measure(checkout: Path, groups_file: Path, repeats: int) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(groups_file), str(repeats)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, dict[str, object]] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=6, help="runs per checkout, alternated")
    parser.add_argument("--repeats", type=int, default=5, help="timings per run (best kept)")
    args = parser.parse_args()
    groups = entries()
    runs: dict[str, list[dict[str, dict[str, object]]]] = {"baseline": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="bench-clean-") as tmp:
        groups_file = Path(tmp) / "entries.json"
        groups_file.write_text(json.dumps(groups), encoding="utf-8")
        for round_ in range(args.rounds):
            order = ["baseline", "this"] if round_ % 2 == 0 else ["this", "baseline"]
            for label in order:
                checkout = args.baseline if label == "baseline" else REPO
                runs[label].append(measure(checkout, groups_file, args.repeats))
    print(f"baseline: {args.baseline}\nthis: {REPO}\nrounds: {args.rounds}, alternated")
    rows = []
    for name, group in groups.items():
        base = statistics.median(float(str(r[name]["us"])) for r in runs["baseline"])
        this = statistics.median(float(str(r[name]["us"])) for r in runs["this"])
        same = runs["baseline"][0][name]["output"] == runs["this"][0][name]["output"]
        rows.append(
            [name, len(group), f"{base:.1f} us", f"{this:.1f} us", f"{base / this:.2f}x", same]
        )
    benchlib.print_table(
        ["entries", "count", "baseline per entry", "this per entry", "ratio", "same output"], rows
    )


if __name__ == "__main__":
    main()
