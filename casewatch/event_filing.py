"""File the event: which development a story that became relevant reports.

The cycle's event stage embeds the queued stories in one batch (off the bot's process), then
`EventFiler.assign` reads the candidate events near the story's day from `storage.events` (an
index by date), lets `events.choose` pick one, and files the story there or in a new event. It
returns an `EventFiled` for the alert decision and remembers why (for `why ITEM`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from casewatch import events
from casewatch.alerting import EventFiled
from storage import events as stored

if TYPE_CHECKING:  # numpy: imported by the first story filed (see casewatch.app on start-up)
    import numpy as np

    from storage.db import Database


class EventFiler:
    """Event matching for stories that became relevant."""

    CACHE = 4096  # candidate stories whose features are kept between stories

    def __init__(
        self, db: Database, *, stopwords: frozenset[str], settings: events.EventSettings
    ) -> None:
        self.db = db
        self.stopwords = stopwords
        self.settings = settings
        self._cache: dict[tuple[int, int, date], events.Report] = {}

    def text(self, pending: stored.Pending) -> str:
        """What is embedded for a story."""
        return events.event_text(pending.title, pending.summary, self.stopwords)

    def _report(self, title: str, summary: str, day: date, vector: np.ndarray) -> events.Report:
        return events.report_of(title, summary, day, vector, self.stopwords)

    def _member(self, member: stored.Member) -> events.Report:
        """A stored story as matching reads it; kept for the next stories of the cycle (its
        features do not change, and reading them again is most of the cost of a candidate)."""
        key = (member.story_id, member.event_id, member.day)
        found = self._cache.get(key)
        if found is None:
            from casewatch import embed  # numpy: see casewatch.pipeline.Monitor.file_events

            vector = embed.vectors(member.vector)[0]
            found = self._report(member.title, member.summary, member.day, vector)
            if len(self._cache) >= self.CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = found
        return found

    def _candidates(self, members: list[stored.Member], story_id: int) -> list[events.Candidate]:
        """Stored stories, by event, as matching reads them (the story itself left out)."""
        by_event: dict[int, list[events.Report]] = {}
        for m in members:
            if m.story_id != story_id:
                by_event.setdefault(m.event_id, []).append(self._member(m))
        return [events.Candidate(eid, reps) for eid, reps in by_event.items()]

    def assign(
        self, pending: stored.Pending, vector: np.ndarray | None, *, now: datetime
    ) -> EventFiled:
        """Put a story in the event it reports, or a new one; None vector: a new one."""
        if vector is None:
            event_id = stored.create(self.db, pending.story_id, pending.day, now=now)
            stored.file_story(
                self.db, event_id, pending.story_id, pending.day, vector=None, why=None
            )
            return EventFiled(event_id, new_event=True, alert_story_id=pending.story_id)
        report = self._report(pending.title, pending.summary, pending.day, vector)
        members = stored.candidates(
            self.db,
            [pending.day, *sorted(report.mentions)],
            window=self.settings.window_days,
        )
        candidates = self._candidates(members, pending.story_id)
        choice = events.choose(report, candidates, self.settings)
        if not candidates and self.settings.late_days > self.settings.window_days:
            # No event in its window at all: is it a late report of an older one? (Only such
            # stories pay for this wider look, bounded by date too.)
            older = stored.candidates(self.db, [pending.day], window=self.settings.late_days)
            late = events.choose_late(
                report, self._candidates(older, pending.story_id), self.settings
            )
            if late.event_id is not None:
                choice = late
        import numpy as np

        blob = np.asarray(vector, dtype=np.float32).tobytes()
        why = None if choice.best is None else _why(choice)
        if choice.event_id is None:
            event_id = stored.create(self.db, pending.story_id, pending.day, now=now)
            stored.file_story(
                self.db, event_id, pending.story_id, pending.day, vector=blob, why=why
            )
            return EventFiled(event_id, new_event=True, alert_story_id=pending.story_id)
        stored.file_story(
            self.db, choice.event_id, pending.story_id, pending.day, vector=blob, why=why
        )
        event = stored.get(self.db, choice.event_id) or {}
        return EventFiled(
            choice.event_id,
            new_event=False,
            alert_story_id=int(event.get("alert_story_id") or pending.story_id),
        )


def _why(choice: events.Choice) -> dict:
    """What `why ITEM` shows: the closest event, its score and its parts."""
    best = choice.best
    assert best is not None
    return {
        "joined": choice.event_id is not None,
        "closest_event": choice.best_event,
        "score": round(best.total, 3),
        "cosine": round(best.cosine, 3),
        "days": best.days,
        "same_act": best.same_act,
        "acts": list(best.acts) if best.acts else None,
        "shared_names": sorted(best.shared_names),
        "same_day": best.same_day.isoformat() if best.same_day else None,
        "names_differ": best.names_differ,
        "days_differ": best.days_differ,
        "late": best.late,
        "explain": best.explain(),
    }
