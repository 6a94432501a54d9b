"""Ingest cost per entry into a small and a large archive, side by side.

New entries (Entry objects built directly, no HTTP) go through relevance, dedup and storage on
the `Monitor._ingest` path, one transaction per source document as in a poll, into two archives:
one pre-filled to 10,000 items and one to 1,000,000 (bulk SQL inserts: items with their FTS
rows, seen keys, stories, story keys of the real shapes; see benchlib.prefill_archive). Batches
of a few thousand entries alternate between the two archives, so both see the same machine load;
the figure is the median cost per entry over the batches.

Run: .venv/bin/python bench/ingest.py [--quick]
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchlib  # before casewatch: puts the repository on sys.path

from casewatch.clock import FakeClock
from casewatch.config import Config, SourceConfig
from casewatch.fetch import Fetcher
from casewatch.model import Entry
from casewatch.pipeline import Monitor, SourceOutcome
from storage import destinations, open_store, sources
from storage.db import scalar

SOURCES = 200


@dataclass
class Archive:
    """One pre-filled archive and the monitor that ingests into it."""

    label: str
    prefill: benchlib.Prefill
    monitor: Monitor
    clock: FakeClock
    rows: dict[str, dict]  # source rows by URL
    per_entry_us: list[float] = field(default_factory=list)
    entries: int = 0
    new_items: int = 0
    relevant: int = 0
    alerts: int = 0

    def ingest(self, docs: list[tuple[str, list[Entry]]], configs: dict[str, SourceConfig]) -> None:
        """Ingest one batch of documents, one transaction each, and time it."""
        db = self.monitor.db
        count = sum(len(entries) for _, entries in docs)
        started = time.perf_counter()
        for url, entries in docs:
            src = self.rows[url]
            outcome = SourceOutcome(src["id"], src["name"], url, "new")
            with db.atomic():
                self.monitor._ingest(
                    src,
                    configs[url],
                    entries,
                    outcome,
                    first_poll=False,
                    backfill=False,
                )
            self.new_items += outcome.new_items
            self.relevant += outcome.relevant
            self.alerts += len(outcome.alerts)
        self.per_entry_us.append((time.perf_counter() - started) / count * 1e6)
        self.entries += count
        self.clock.advance(60)


def open_archive(label: str, path: Path, items: int, cfg: Config, seed: int) -> Archive:
    """Pre-fill an archive at `path` and open a Monitor on it."""
    names = [(s.name, s.url) for s in cfg.sources]
    prefill = benchlib.prefill_archive(path, items=items, sources=names, seed=seed)
    db = open_store(path)
    clock = FakeClock(benchlib.BENCH_NOW)
    monitor = Monitor(cfg, db, Fetcher(cfg.fetch), clock, rng=random.Random(5))
    ids = monitor.sync_config()
    destinations.upsert(db, type="console", purpose="alerts", now=clock.now())
    rows = {}
    for url, source_id in ids.items():
        row = sources.get(db, source_id)
        if row is None:
            raise RuntimeError(f"{label}: source {source_id} ({url}) vanished after sync_config")
        rows[url] = row
    return Archive(label, prefill, monitor, clock, rows)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="4,000 entries into 10k and 50k archives")
    p.add_argument("--entries", type=int, help="new entries per archive (default 100,000)")
    p.add_argument("--batch", type=int, help="entries per measured batch (default 2,000)")
    p.add_argument("--small", type=int, help="items in the small archive (default 10,000)")
    p.add_argument("--large", type=int, help="items in the large archive (default 1,000,000)")
    p.add_argument("--rules", choices=("feeds", "tests"), default="feeds")
    p.add_argument("--budget", type=float, help="wall seconds for the run (default 3600, quick 55)")
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args()
    args.entries = args.entries or (4_000 if args.quick else 100_000)
    args.batch = args.batch or (500 if args.quick else 2_000)
    args.small = args.small or 10_000
    args.large = args.large or (50_000 if args.quick else 1_000_000)
    args.budget = args.budget or (55.0 if args.quick else 3600.0)
    return args


def main() -> None:
    args = parse_args()
    budget = benchlib.Budget(args.budget)
    faulthandler.dump_traceback_later(args.budget + 600, exit=True)
    rules = benchlib.rules_available(args.rules)
    cfg = benchlib.bench_config(
        [{"name": f"Outlet {i}", "url": f"http://127.0.0.1:9/f/{i}.xml"} for i in range(SOURCES)],
        rules=rules,
    )
    configs = {s.url: s for s in cfg.sources}
    benchlib.print_header("ingest: cost per new entry, small archive vs large archive")
    news = benchlib.SyntheticNews(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        archives = []
        for label, size in (("small", args.small), ("large", args.large)):
            archive = open_archive(label, Path(tmp) / f"{label}.db", size, cfg, seed=3)
            p = archive.prefill
            print(
                f"{label} archive: {p.items:,} items, {p.stories:,} stories, {p.story_keys:,}"
                f" story keys, pre-filled by bulk SQL in {p.seconds:.0f} s",
                flush=True,
            )
            archives.append(archive)
        print(
            f"ingesting {args.entries:,} new entries into each, {args.batch:,} per batch,"
            f" batches alternating; rules: {rules}",
            flush=True,
        )
        feed = 0
        done = 0
        batch_no = 0
        while done < args.entries:
            docs: list[tuple[str, list[Entry]]] = []
            size = 0
            while size < min(args.batch, args.entries - done):
                entries = news.entries(feed)[: args.entries - done - size]
                docs.append((cfg.sources[feed % SOURCES].url, entries))
                size += len(entries)
                feed += 1
            started = time.monotonic()
            # Alternate which archive goes first, so neither always gets the warmer cache.
            for archive in archives if batch_no % 2 == 0 else archives[::-1]:
                archive.ingest(docs, configs)
            done += size
            batch_no += 1
            if batch_no % 10 == 0:
                print(f"  {done:,} entries in {budget.used():.0f} s", flush=True)
            if done < args.entries and not budget.allows((time.monotonic() - started) * 1.2):
                print(f"stopping at {done:,} entries: the {args.budget:g} s budget is spent")
                break
        print()
        rows = []
        for archive in archives:
            values = archive.per_entry_us
            deciles = statistics.quantiles(values, n=10) if len(values) > 1 else values * 9
            final = scalar(archive.monitor.db, "SELECT count(*) FROM items")
            rows.append(
                [
                    f"{archive.label}: {archive.prefill.items:,} items before",
                    f"{benchlib.median(values):.0f} µs",
                    f"{deciles[0]:.0f} / {deciles[-1]:.0f} µs",
                    len(values),
                    f"{archive.entries:,}",
                    f"{archive.new_items:,} / {archive.relevant:,} / {archive.alerts:,}",
                    f"{final:,}",
                ]
            )
            archive.monitor.db.close()
        benchlib.print_table(
            [
                "archive",
                "per entry (median)",
                "p10 / p90",
                "batches",
                "entries",
                "stored / relevant / alerts",
                "items after",
            ],
            rows,
        )
        small, large = archives
        ratio = benchlib.median(large.per_entry_us) / benchlib.median(small.per_entry_us)
        benchlib.print_table(
            ["ratio", "value", "target", "met"],
            [["large / small per-entry cost", f"{ratio:.2f}", "<= 1.5", _verdict(ratio <= 1.5)]],
        )


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
