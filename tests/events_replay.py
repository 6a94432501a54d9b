"""Replay the labelled development set through the event stage, and score what it did.

Each report of tests/fixtures/developments.yaml becomes a relevant story in a real SQLite file,
arriving in the order of publication; `EventFiler.assign` files it as the bot would (candidates
from the index by date, the tuned settings of feeds.yaml or those given). The first report of
an event is its alert. Shared by tests/test_events_set.py and bench/events.py.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from casewatch import embed
from casewatch.event_filing import EventFiler
from casewatch.events import EventSettings
from casewatch.text import fold
from storage import events as stored
from storage.db import open_store
from storage.timeutil import iso

ROOT = Path(__file__).resolve().parent.parent
SET_PATH = ROOT / "tests" / "fixtures" / "developments.yaml"


@dataclass(frozen=True)
class LabelledReport:
    development: str
    title: str
    lead: str
    outlet: str
    language: str
    published: dt.date


@dataclass
class Replay:
    """What the event stage did with the set."""

    reports: list[LabelledReport]
    event_of: list[int]  # per report (in arrival order), the event it was filed in
    developments: set[str]
    near_misses: list[tuple[str, str, str]]
    embed_seconds: float = 0.0  # the model, one batch, one thread
    assign_seconds: float = 0.0  # the bot's process: candidates, scores, writes
    why: list[str] = field(default_factory=list)

    @property
    def alert_of_event(self) -> dict[int, int]:
        """Event -> the report that started it (its alert)."""
        first: dict[int, int] = {}
        for i, event in enumerate(self.event_of):
            first.setdefault(event, i)
        return first

    def owner(self, event: int) -> str:
        """The development an event's alert reports."""
        return self.reports[self.alert_of_event[event]].development

    @property
    def alerts_per_development(self) -> Counter[str]:
        return Counter(self.owner(e) for e in self.alert_of_event)

    @property
    def extra_alerts(self) -> int:
        return sum(n - 1 for n in self.alerts_per_development.values())

    @property
    def merged(self) -> set[str]:
        """Developments with a report filed in an event that another development started."""
        return {
            r.development
            for r, e in zip(self.reports, self.event_of, strict=True)
            if self.owner(e) != r.development
        }

    @property
    def never_alerted(self) -> set[str]:
        return self.developments - set(self.alerts_per_development)

    def together(self, first: str, second: str) -> bool:
        """Whether any event holds reports of both developments."""
        members: dict[int, set[str]] = defaultdict(set)
        for r, e in zip(self.reports, self.event_of, strict=True):
            members[e].add(r.development)
        return any({first, second} <= devs for devs in members.values())

    def joined_own(self, index: int) -> bool:
        """Whether a report went into an event started by its own development (not its own)."""
        event = self.event_of[index]
        start = self.alert_of_event[event]
        return start != index and self.reports[start].development == self.reports[index].development

    def cross_language(self) -> tuple[int, int]:
        """(joined, could join): reports whose development already had a report in another
        language when they arrived, and how many of them joined its event."""
        seen: dict[str, set[str]] = defaultdict(set)
        could = joined = 0
        for i, r in enumerate(self.reports):
            if seen[r.development] - {r.language}:
                could += 1
                joined += self.joined_own(i)
            seen[r.development].add(r.language)
        return joined, could


def load_set(path: Path = SET_PATH) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: expected a mapping"
    return data


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def labelled_reports(data: dict[str, Any], *, seed: int | None = None) -> list[LabelledReport]:
    """Every report, in the order the bot would meet them (publication, then file order; with
    a `seed`, the reports of one day in a random order of that seed: the set's dates are days,
    and which outlet's report of a day a feed brings first is chance)."""
    found = [
        LabelledReport(
            development=str(d["id"]),
            title=str(r["title"]),
            lead=str(r.get("lead") or ""),
            outlet=str(r.get("outlet") or ""),
            language=str(r.get("language") or ""),
            published=_day(r["published"]),
        )
        for d in data["developments"]
        for r in d["reports"]
    ]
    if seed is not None:
        random.Random(seed).shuffle(found)
    return sorted(found, key=lambda r: r.published)


# A text's vector, kept between replays of one process (the shuffled replays embed nothing).
_VECTORS: dict[str, Any] = {}


def replay(
    data: dict[str, Any],
    *,
    stopwords: frozenset[str],
    settings: EventSettings | None = None,
    vectors: Any = None,
    seed: int | None = None,
) -> Replay:
    """File every report of the set, in order, through the event stage on a real database
    (`seed`: the reports of one day in a random order, see `labelled_reports`)."""
    settings = settings or EventSettings()
    reports = labelled_reports(data, seed=seed)
    with tempfile.TemporaryDirectory(prefix="events-replay-") as tmp:
        db = open_store(Path(tmp) / "replay.db")
        filer = EventFiler(db, stopwords=stopwords, settings=settings)
        ids = []
        for r in reports:
            when = dt.datetime.combine(r.published, dt.time(12), tzinfo=dt.UTC)
            cur = db.execute(
                "INSERT INTO stories (title, url, kind, relevant, first_seen_at, last_seen_at,"
                " published_at, summary) VALUES (?, NULL, 'news', 1, ?, ?, ?, ?)",
                (r.title, iso(when), iso(when), iso(when), r.lead),
            )
            ids.append(int(cur.lastrowid or 0))
        pending = [
            stored.Pending(
                story_id=sid,
                title=r.title,
                summary=r.lead,
                day=r.published,
                first_poll=False,
                backfill=False,
                published=None,
                queued=dt.datetime.combine(r.published, dt.time(12), tzinfo=dt.UTC),
            )
            for sid, r in zip(ids, reports, strict=True)
        ]
        embed_seconds = 0.0
        if vectors is None:
            texts = [filer.text(p) for p in pending]
            missing = sorted({t for t in texts if t not in _VECTORS})
            if missing:
                started = time.perf_counter()
                _VECTORS.update(zip(missing, embed.vectors(embed.embed(missing)), strict=True))
                # per story as if each were embedded (identical copies are embedded once here)
                embed_seconds = (time.perf_counter() - started) * len(texts) / len(missing)
            vectors = [_VECTORS[t] for t in texts]
        event_of, why = [], []
        started = time.perf_counter()
        with db.atomic():
            for i, p in enumerate(pending):
                filed = filer.assign(p, vectors[i], now=p.queued)
                event_of.append(filed.event_id)
        assign_seconds = time.perf_counter() - started
        for sid in ids:
            row = db.execute("SELECT event_why FROM stories WHERE id = ?", (sid,)).fetchone()
            why.append(row[0] or "")
        db.conn.close()
    return Replay(
        reports=reports,
        event_of=event_of,
        developments={str(d["id"]) for d in data["developments"]},
        near_misses=[(str(a), str(b), str(why_)) for a, b, why_ in data.get("near_misses", [])],
        embed_seconds=embed_seconds,
        assign_seconds=assign_seconds,
        why=why,
    )


def case_stopwords() -> frozenset[str]:
    """The default case's vocabulary, as the bot folds it (feeds.yaml)."""
    from casewatch.config import load_config

    return frozenset(fold(w) for w in load_config(ROOT / "feeds.yaml").case.vocabulary)
