"""Whole `python bot.py ...` processes, start to exit, this checkout beside another one.

Issue 9 asks for `python bot.py poll --once` with no sources under 0.3 s from start to exit. On a
machine shared with other work one timing says little, so every command runs in both checkouts
in turn (A B B A A B ...), after one untimed run of each (the parsed-config cache, the disk
cache, a database that exists), and the medians and their ratio are printed.

  commands measured (existing database, a config with no sources unless --config is given):
    poll --once       the no-sources poll of the issue's target
    latest            a query command
  with --mix FEEDS.YAML (repeatable): one whole cycle on those feeds, a fresh database per run,
    as the issue-9 benchmark runs it: poll --once --backfill --json
  with --unchanged too: the cycle again on a database that has it (--all: every source is
    polled, and nothing changed)

Run: .venv/bin/python bench/startup.py --baseline DIR [--runs 10] [--mix /tmp/mix/4/feeds.yaml]
where DIR is another checkout (e.g. `git archive <commit> | tar -x -C DIR`; it may use this
checkout's .venv). Only ratios measured side by side mean anything; never a timed test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

NO_SOURCES = """\
case: {name: Start-up benchmark}
relevance:
  groups: {people: ['Uyghur*'], forum: [ICC]}
  rules: [{name: case, all: [people, forum], score: 2}]
sources: []
"""


def timed(argv: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"{' '.join(argv[1:5])}... in {cwd} exited {done.returncode}: {tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    p.add_argument("--runs", type=int, default=10, help="timed runs per command and checkout")
    p.add_argument("--mix", type=Path, action="append", default=[], help="a feeds.yaml to poll")
    p.add_argument("--only-mix", action="store_true", help="skip the no-sources commands")
    p.add_argument(
        "--unchanged", action="store_true", help="also a second cycle of each mix (--all)"
    )
    args = p.parse_args()
    checkouts = {"baseline": args.baseline.resolve(), "this": REPO}
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    # Bytecode is written (and then read) as on an installed or used checkout: compiling every
    # module from source again would add about 0.2 s to each run of both checkouts.
    drop = ("DISCORD_", "CASEWATCH_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in env.items() if not k.startswith(drop)}
    config = work / "feeds.yaml"
    config.write_text(NO_SOURCES, encoding="utf-8")

    cases: list[tuple[str, list[str], bool]] = []  # (label, arguments, fresh database per run)
    if not args.only_mix:
        cases += [
            ("poll --once, no sources", ["poll", "--once", "--config", str(config)], False),
            ("latest", ["latest", "--config", str(config)], False),
        ]
    for mix in args.mix:
        poll = ["poll", "--once", "--backfill", "--json", "--config", str(mix.resolve())]
        cases.append((f"cycle {mix}", poll, True))
        if args.unchanged:  # the same feeds again on the database of the untimed first run
            cases.append((f"unchanged cycle {mix}", [*poll, "--all"], False))

    print(f"this: {REPO}\nbaseline: {checkouts['baseline']}\nruns: {args.runs} each, alternated")
    rows = []
    try:
        for label, cmd, fresh in cases:
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
            for run in range(args.runs + 1):  # run 0 warms caches and is not counted
                order = list(checkouts) if run % 2 == 0 else list(reversed(checkouts))
                for name in order:
                    db = work / f"{name}.db"
                    if fresh:
                        for f in work.glob(f"{name}.db*"):
                            f.unlink()
                    argv = [sys.executable, "bot.py", *cmd, "--db", str(db)]
                    measured = timed(argv, cwd=checkouts[name], env=env)
                    if run:
                        results[name].append(measured)
            med = {
                name: (
                    statistics.median(w for w, _ in r),
                    statistics.median(c for _, c in r),
                )
                for name, r in results.items()
            }
            rows.append((label, med))
            b, t = med["baseline"], med["this"]
            print(
                f"{label}: baseline {b[0]:.3f} s wall {b[1]:.3f} s CPU | this {t[0]:.3f} s wall"
                f" {t[1]:.3f} s CPU | baseline/this: wall {b[0] / t[0]:.2f}x,"
                f" CPU {b[1] / t[1]:.2f}x",
                flush=True,
            )
            print("  this, wall: " + ", ".join(f"{w:.2f}" for w, _ in results["this"]))
            print("  baseline, wall: " + ", ".join(f"{w:.2f}" for w, _ in results["baseline"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
