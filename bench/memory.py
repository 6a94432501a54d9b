"""Peak memory of casewatch with a big configuration and a big archive.

A process with 10,000 configured sources and 1,000,000 stored items runs one cycle (`App.cycle`:
poll what is due, then schedule digests) in which 200 sources are due and served from a loopback
feed server process (the rest are not due), then a full-text search and a digest. The archive is
pre-filled by bulk SQL in a separate process first, so only the workload's own memory is measured:
the figure is the measured process's peak resident set size (VmHWM, the same as ru_maxrss).
The sentence model is loaded once by another process first, so the parse worker reads its
prepared copy from the cache folder, as it does on any machine after the first load.

Run: .venv/bin/python bench/memory.py [--quick] [--heap]
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import multiprocessing
import multiprocessing.connection
import resource
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import benchlib  # before casewatch: puts the repository on sys.path


def prefill(db_path: str, items: int, names: list[tuple[str, str]], due: int) -> benchlib.Prefill:
    """Child process: build the archive (its memory never counts against the workload)."""
    return benchlib.prefill_archive(Path(db_path), items=items, sources=names, due=due)


def prepare_model() -> str:
    """Child process: load the sentence model once, so its prepared copy is in the cache folder
    (as on any machine after its first load) and the workload's worker reads it."""
    from casewatch import embed

    return embed.load()[1]


def workload(
    conn: multiprocessing.connection.Connection,
    db_path: str,
    names: list[tuple[str, str]],
    rules: str,
    heap: bool,
) -> None:
    """Child process: the measured workload; sends back memory per stage and what it did."""
    try:
        conn.send(asyncio.run(_workload(db_path, names, rules, heap)))
    except BaseException as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        conn.close()


async def _workload(
    db_path: str, names: list[tuple[str, str]], rules: str, heap: bool
) -> dict[str, Any]:
    from casewatch import embed
    from casewatch.app import open_app
    from casewatch.clock import FakeClock
    from casewatch.digest import build_digest, digest_messages
    from storage import items

    if heap:
        tracemalloc.start()
    stages: list[tuple[str, float, float, float]] = []

    def mark(stage: str, started: float) -> None:
        stages.append(
            (stage, benchlib.rss_mb(), benchlib.peak_rss_mb(), time.perf_counter() - started)
        )

    started = time.perf_counter()
    mark("imports done", started)
    started = time.perf_counter()
    cfg = benchlib.bench_config([{"name": n, "url": u} for n, u in names], rules=rules)
    mark(f"config with {len(cfg.sources):,} sources", started)
    clock = FakeClock(benchlib.BENCH_NOW)
    started = time.perf_counter()
    async with open_app(cfg, db_path, clock=clock) as app:
        app.ensure_console_destinations()
        mark("open_app (sync of the sources)", started)
        started = time.perf_counter()
        report = await app.cycle()
        mark("one cycle", started)
        executor = app.monitor.executor
        model = None if executor is None else executor.submit(embed.loaded_from).result()
        started = time.perf_counter()
        found, total = items.search(app.db, "uyghur icc")
        found2, total2 = items.search(app.db, '"forced labour" xinjiang', limit=25)
        mark("two searches", started)
        started = time.perf_counter()
        now = clock.now()
        view = build_digest(app.db, start=now - timedelta(days=7), end=now, title="Weekly digest")
        messages = digest_messages(view)
        mark("weekly digest", started)
    peak_heap = tracemalloc.get_traced_memory()[1] / 2**20 if heap else None
    return {
        "stages": stages,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # The feed-parsing worker processes, joined when the app closed: the largest one's peak.
        "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "parse_workers": cfg.defaults.parse_workers,
        "model": model,  # where the worker's sentence model came from (None: never loaded)
        "summary": report.summary_line(),
        "failed": len(report.failed),
        "polled": len(report.outcomes),
        "search": (total, total2, len(found) + len(found2)),
        "digest": (len(view.news) + len(view.court), len(messages)),
        "heap_peak_mb": peak_heap,
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="50,000 items and 50 served feeds")
    p.add_argument("--sources", type=int, default=10_000, help="configured sources")
    p.add_argument("--items", type=int, help="stored items (default 1,000,000)")
    p.add_argument("--served", type=int, help="sources due and served (default 200)")
    p.add_argument("--rules", choices=("feeds", "tests"), default="feeds")
    p.add_argument("--heap", action="store_true", help="also trace the Python heap (slower)")
    p.add_argument("--budget", type=float, help="wall seconds for the run (default 1800, quick 55)")
    p.add_argument("--seed", type=int, default=21)
    args = p.parse_args()
    args.items = args.items or (50_000 if args.quick else 1_000_000)
    args.served = args.served or (50 if args.quick else 200)
    args.budget = args.budget or (55.0 if args.quick else 1800.0)
    return args


def main() -> None:
    args = parse_args()
    faulthandler.dump_traceback_later(args.budget + 300, exit=True)
    rules = benchlib.rules_available(args.rules)
    benchlib.print_header("memory: peak RSS with many sources and a big archive")
    news = benchlib.SyntheticNews(args.seed)
    bodies = [news.rss(i) for i in range(args.served)]
    ctx = multiprocessing.get_context("spawn")
    with (
        benchlib.feed_server(bodies, hosts=max(1, args.served // 10), latency=(0.1, 0.3)) as served,
        tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp,
    ):
        port = served.ports[0]
        # The sources that are not due point at the same server, at feeds it does not have.
        urls = served.urls + [
            f"http://127.0.0.1:{port}{benchlib.feed_path(i)}"
            for i in range(args.served, args.sources)
        ]
        names = [(f"Outlet {i}", url) for i, url in enumerate(urls)]
        db_path = str(Path(tmp) / "casewatch.db")
        with ctx.Pool(1) as pool:
            filled: benchlib.Prefill = pool.apply(
                prefill, (db_path, args.items, names, args.served)
            )
        with ctx.Pool(1) as pool:
            prepared = pool.apply(prepare_model)
        where = "its prepared copy" if prepared == "prepared" else "the package, copy written"
        print(f"sentence model: loaded by another process first ({where})", flush=True)
        print(
            f"archive: {filled.items:,} items, {filled.stories:,} stories, {filled.story_keys:,}"
            f" story keys, pre-filled by bulk SQL in {filled.seconds:.0f} s (another process);"
            f" {Path(db_path).stat().st_size / 2**20:.0f} MiB on disk",
            flush=True,
        )
        parent, child = ctx.Pipe()
        process = ctx.Process(target=workload, args=(child, db_path, names, rules, args.heap))
        process.start()
        child.close()
        if not parent.poll(args.budget):
            process.terminate()
            raise SystemExit(f"memory: the workload did not finish within {args.budget:g} s")
        result: dict[str, Any] = parent.recv()
        process.join(30)
    if "error" in result:
        raise SystemExit(f"memory: the workload failed: {result['error']}")
    print(
        f"cycle: {result['summary']}\n"
        f"sentence model in the worker: {result['model'] or 'not loaded'}\n"
        f"searches: {result['search'][0]:,} and {result['search'][1]:,} matches;"
        f" digest: {result['digest'][0]} stories in {result['digest'][1]} messages"
    )
    print()
    benchlib.print_table(
        ["stage", "RSS after", "peak RSS so far", "time"],
        [
            [stage, f"{rss:.0f} MiB", f"{peak:.0f} MiB", f"{took:.1f} s"]
            for stage, rss, peak, took in result["stages"]
        ],
    )
    peak = result["ru_maxrss_mb"]
    workers = int(result["parse_workers"])
    children = result["children_maxrss_mb"] if workers else 0.0
    total = peak + workers * children
    rows = [
        ["peak RSS of the workload process (ru_maxrss)", f"{peak:.0f} MiB", "", ""],
        [f"peak RSS of a feed-parsing worker (x{workers})", f"{children:.0f} MiB", "", ""],
        ["both together (upper bound)", f"{total:.0f} MiB", "< 300 MiB", _verdict(total < 300)],
    ]
    if result["heap_peak_mb"] is not None:
        rows.append(["peak Python heap (tracemalloc)", f"{result['heap_peak_mb']:.0f} MiB", "", ""])
    benchlib.print_table(["figure", "value", "target", "met"], rows)
    if result["failed"]:
        print(f"warning: {result['failed']} of {result['polled']} polled sources failed")


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
