"""An admin's corrections of event grouping: split an item out of its event, merge two events.

Both are remembered by what they change in storage (the item's story, the stories' event,
marked `event_pinned`), and both fix what the channel saw: the alerts of the events involved
get an `update` that edits them, and a split-out item that is a development of its own gets its
own alert. Used by `bot.py split|merge` and `/watch split|merge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from storage import events, items, outbox, stories
from storage.timeutil import parse_iso

if TYPE_CHECKING:
    from storage.db import Database


class CorrectionError(ValueError):
    """A correction that cannot be made; the message says why, in one line."""


@dataclass(frozen=True)
class Split:
    item_id: int
    from_event: int
    event_id: int  # the new event the item is in now
    story_id: int  # the story the item is in now


@dataclass(frozen=True)
class Merge:
    event_id: int  # the event kept (the earlier one)
    merged: int  # the event that joined it
    stories: int  # stories moved


def split_item(db: Database, item_id: int, *, now: datetime) -> Split:
    """Take an item out of its event: it becomes a story and an event of its own."""
    item = items.get(db, item_id)
    if item is None:
        raise CorrectionError(f"item {item_id}: no such item")
    if not item.get("story_id"):
        raise CorrectionError(f"item {item_id} is in no story (it was dropped: see why {item_id})")
    story = stories.get(db, int(item["story_id"])) or {}
    if not story.get("event_id"):
        raise CorrectionError(f"item {item_id} is in no event yet (its story is not relevant)")
    old_event = int(story["event_id"])
    with db.atomic():
        members = items.for_story(db, int(story["id"]))
        if len(members) > 1:
            # The item leaves its story too: a story of its own, with the item's words.
            new_story = stories.create(
                db,
                title=item["title"],
                url=item["url"],
                kind=item["kind"],
                relevant=True,
                now=now,
                published_at=parse_iso(item["published_at"]),
                summary=item["summary"] or "",
                signature=None,
            )
            events.move_item(db, item_id, new_story)
            stories.attach_item(db, new_story, now=now)
            stories.attach_item(db, int(story["id"]), now=now)
        else:
            new_story = int(story["id"])
        day = events.story_day(item["published_at"], item["fetched_at"])
        if len(events.stories_of(db, old_event)) == 1 and new_story == int(story["id"]):
            raise CorrectionError(f"item {item_id} is the only report of event {old_event}")
        new_event = events.create(db, new_story, day, now=now)
        events.file_story(
            db,
            new_event,
            new_story,
            day,
            vector=None,
            why={"explain": f"split out of event {old_event} by an admin"},
            pinned=True,
        )
        events.refresh(db, old_event)
        if events.alert_story_of(db, old_event) == new_story:
            # The event's alert was this story's: its message now shows the story alone, and
            # the rest of the event, another development, gets an alert of its own.
            rest = events.stories_of(db, old_event)
            events.set_alert_story(db, old_event, int(rest[0]["id"]))
            events.set_alert_story(db, new_event, new_story)
            alerted = int(rest[0]["id"])
        else:
            alerted = new_story
        # Every message of either (a story merged in before had its own) shows what it is now;
        # the development left without an alert gets one (a row it had already is kept).
        _rearm(db, old_event, now)
        _rearm(db, new_event, now)
        _alert(db, alerted, now)
    return Split(item_id, old_event, new_event, new_story)


def merge_events(db: Database, first: int, second: int, *, now: datetime) -> Merge:
    """Make two events one: the earlier keeps its alert, which now lists both's reports."""
    if first == second:
        raise CorrectionError(f"event {first} is the same event twice")
    found: list[dict] = []
    for event_id in (first, second):
        row = events.get(db, event_id)
        if row is None:
            raise CorrectionError(f"event {event_id}: no such event")
        found.append(row)
    keep, other = sorted(found, key=lambda e: (e["first_day"], e["id"]))
    with db.atomic():
        moved = events.move_stories(db, int(other["id"]), int(keep["id"]))
        # Every message of both (the merged event's own alert too, wherever it was posted) now
        # shows the whole event, and so does each later edit. A court-only channel that had
        # neither does not hear of it now: a merge is no new report.
        _rearm(db, int(keep["id"]), now)
    return Merge(int(keep["id"]), int(other["id"]), moved)


def _rearm(db: Database, event_id: int, now: datetime) -> None:
    alert_story = events.alert_story_of(db, event_id)
    if alert_story is not None:
        outbox.rearm_development_updates(db, alert_story, now=now)


def _alert(db: Database, story_id: int, now: datetime) -> None:
    """The alert of a development the correction made, to the channels of its kind: court
    when any of its stories is (a news story's alert may stand for a court development)."""
    outbox.alert_story(db, story_id, kind=events.kind_of(db, story_id) or "news", now=now)
