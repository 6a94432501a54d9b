"""File the event: which development a story that became relevant reports.

The cycle's event stage has the queued stories embedded off the bot's process (each source's
as soon as they are queued, see `Monitor.file_events`), then `EventFiler.assign` reads the candidate events near the story's day from `storage.events` (an
index by date), lets `events.choose` pick one, and files the story there or in a new event. It
returns an `EventFiled` for the alert decision and remembers why (for `why ITEM`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from casewatch import embed, events
from casewatch.alerting import EventFiled
from storage import events as stored

if TYPE_CHECKING:
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
        self._cache: dict[tuple[int, int, date], tuple[str, str, events.Report]] = {}

    def text(self, pending: stored.Pending) -> str:
        """What is embedded for a story."""
        return events.event_text(pending.title, pending.summary, self.stopwords)

    def _report(
        self, title: str, summary: str, day: date, vector: Iterable[float]
    ) -> events.Report:
        return events.report_of(title, summary, day, vector, self.stopwords)

    def _member(self, member: stored.Member) -> events.Report:
        """A stored story as matching reads it; kept for the next stories of the cycle (its
        features do not change, and reading them again is most of the cost of a candidate)."""
        key = (member.story_id, member.event_id, member.day)
        found = self._cache.get(key)
        if found is not None and found[:2] == (member.title, member.summary):
            return found[2]
        vector = embed.rows(member.vector)[0]
        report = self._report(member.title, member.summary, member.day, vector)
        self._keep(key, member.title, member.summary, report)
        return report

    def _keep(
        self, key: tuple[int, int, date], title: str, summary: str, report: events.Report
    ) -> None:
        """Remember a story's features as a member of its event (valid while its headline and
        lead stay these): a story just filed is read from the same headline, lead, day and
        vector when it is a candidate of the next ones."""
        if len(self._cache) >= self.CACHE and key not in self._cache:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (title, summary, report)

    def _candidates(self, members: list[stored.Member], story_id: int) -> list[events.Candidate]:
        """Stored stories, by event, as matching reads them (the story itself left out)."""
        by_event: dict[int, list[events.Report]] = {}
        for m in members:
            if m.story_id != story_id:
                by_event.setdefault(m.event_id, []).append(self._member(m))
        return [events.Candidate(eid, reps) for eid, reps in by_event.items()]

    def assign(
        self,
        pending: stored.Pending,
        vector: Iterable[float] | events.Report | None,
        *,
        now: datetime,
    ) -> EventFiled:
        """Put a story in the event it reports, or a new one; None vector: a new one. `vector`
        may be the story's `events.Report` already (made by the worker, `embed.reports`)."""
        if vector is None:
            event_id = stored.create(self.db, pending.story_id, pending.day, now=now)
            stored.file_story(
                self.db, event_id, pending.story_id, pending.day, vector=None, why=None
            )
            return EventFiled(event_id, new_event=True, alert_story_id=pending.story_id)
        if isinstance(vector, events.Report):
            report = vector
        else:
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
        blob = embed.vector_bytes(report.vector)
        why = None if choice.best is None else _why(choice)
        filed_as = (pending.title, pending.summary)
        if choice.event_id is None:
            event_id = stored.create(self.db, pending.story_id, pending.day, now=now)
            stored.file_story(
                self.db, event_id, pending.story_id, pending.day, vector=blob, why=why
            )
            self._keep((pending.story_id, event_id, pending.day), *filed_as, report)
            return EventFiled(event_id, new_event=True, alert_story_id=pending.story_id)
        stored.file_story(
            self.db, choice.event_id, pending.story_id, pending.day, vector=blob, why=why
        )
        self._keep((pending.story_id, choice.event_id, pending.day), *filed_as, report)
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
