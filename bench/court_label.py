"""How well the court label means "an act in a proceeding", on the labelled development set.

Every report of tests/fixtures/developments.yaml (title + lead, as a news feed would carry it)
is judged by the relevance rules of feeds.yaml, twice side by side: with the rules as they are
(`court_acts`, `court_unless`) and with the old loose rule (any forum word made it court). For
the reports kept as relevant it prints:

- court precision: of the reports labelled court, the share whose expected kind is court;
- news labelled news: of the reports whose expected kind is news, the share labelled news;
- court recall: of the reports whose expected kind is court, the share labelled court.

The expected kind is the report's own `kind`, else its development's. With --misses, every
report labelled wrongly is listed with the rule's reason.

Run: .venv/bin/python bench/court_label.py [--set FILE] [--misses]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ruamel.yaml import YAML  # noqa: E402

from casewatch.relevance import RelevanceSettings, RuleEngine  # noqa: E402
from casewatch.validation import validate  # noqa: E402

DEFAULT_SET = REPO / "tests" / "fixtures" / "developments.yaml"
OLD_COURT_GROUPS = ["icc", "icc_abbr", "legal"]  # the rule before issue 11


@dataclass
class Tally:
    kept: int = 0
    court_labelled: int = 0
    court_right: int = 0
    news_expected: int = 0
    news_right: int = 0
    court_expected: int = 0
    court_found: int = 0

    def add(self, expected: str, court: bool) -> None:
        self.kept += 1
        if court:
            self.court_labelled += 1
            self.court_right += expected == "court"
        if expected == "news":
            self.news_expected += 1
            self.news_right += not court
        else:
            self.court_expected += 1
            self.court_found += court

    def line(self, name: str) -> str:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} = {100 * a / b:5.1f}%" if b else f"{a}/0"

        return (
            f"{name:<7} court precision {pct(self.court_right, self.court_labelled):<18}"
            f" news labelled news {pct(self.news_right, self.news_expected):<18}"
            f" court recall {pct(self.court_found, self.court_expected)}"
        )


def reports(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(development id, expected kind, title, lead) of every report."""
    out = []
    for dev in data.get("developments") or []:
        for rep in dev.get("reports") or []:
            kind = rep.get("kind") or dev.get("kind") or "news"
            out.append((str(dev["id"]), str(kind), str(rep["title"]), str(rep.get("lead") or "")))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--set", type=Path, default=DEFAULT_SET, help="the labelled development set")
    ap.add_argument("--config", type=Path, default=REPO / "feeds.yaml")
    ap.add_argument("--misses", action="store_true", help="list the reports labelled wrongly")
    args = ap.parse_args()
    yaml = YAML(typ="safe")
    relevance = yaml.load(args.config.read_text(encoding="utf-8"))["relevance"]
    now = RuleEngine(validate(RelevanceSettings, relevance))
    before = {**relevance, "court_groups": OLD_COURT_GROUPS, "court_acts": [], "court_unless": []}
    old = RuleEngine(validate(RelevanceSettings, before))
    rows = reports(yaml.load(args.set.read_text(encoding="utf-8")))
    tallies = {"before": Tally(), "after": Tally()}
    misses = []
    for dev_id, expected, title, lead in rows:
        for name, engine in (("before", old), ("after", now)):
            match = engine.judge(title, lead)
            if match.verdict != "relevant":
                continue
            tallies[name].add(expected, match.court)
            if name == "after" and match.court != (expected == "court"):
                misses.append(f"  {expected:<5} {dev_id}: {title[:80]!r}\n        {match.reason}")
    print(f"{args.set.relative_to(REPO) if args.set.is_relative_to(REPO) else args.set}:")
    print(f"{len(rows)} reports, {tallies['after'].kept} kept as relevant by the rules")
    for name, tally in tallies.items():
        print(tally.line(name))
    if args.misses:
        print(f"labelled wrongly now ({len(misses)}):")
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
