"""The alert decision: one pure function of what filing an item did, and when it arrived.

The story unit (`casewatch.filing`) and the event unit say what happened (a new story, a story
joined by another outlet, a new event, an event joined by another story); `decide` turns that
into what the channel should hear: a new alert, an update of an alert already posted, or
nothing. No I/O: every rule has a row in tests/test_alerting.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum


class Action(Enum):
    NONE = "none"
    ALERT = "alert"  # post a new alert
    UPDATE = "update"  # edit the alert already posted (another outlet or report joined)


@dataclass(frozen=True)
class StoryFiled:
    """What the story unit did with one kept item."""

    story_id: int
    new_story: bool  # the item started the story
    became_relevant: bool  # the story's first relevant item (new story, or a context one promoted)
    joined: bool  # another outlet joined a relevant story that already had items
    kind: str  # the alert kind after filing: news | court
    # A relevant story that had no lead (a search feed, a court page) got one from this item.
    lead_filled: bool = False
    # The story's kind before this item (None: it was not relevant before, so no development
    # of it was told yet). A court item joining a news story makes it court.
    kind_was: str | None = None


@dataclass(frozen=True)
class EventFiled:
    """What the event unit did with a story that became relevant."""

    event_id: int
    new_event: bool  # the story started the event
    alert_story_id: int  # the story whose alert stands for the event (its first story)


@dataclass(frozen=True)
class Moment:
    """When the item arrived: a source's first poll, a backfill run, the item's age."""

    first_poll: bool = False  # no poll of the source has stored an entry yet
    backfill: bool = False
    age: timedelta | None = None  # now - published; None when the entry has no date
    max_age: timedelta = timedelta(days=14)
    # A court publishes a filing or decision weeks after its date: its own sources are not
    # held to the age rule.
    court_source: bool = False

    @property
    def fresh(self) -> bool:
        """Young enough to alert (`defaults.alert_max_age`), or from a court source, or undated."""
        return self.court_source or self.age is None or self.age <= self.max_age

    @property
    def may_alert(self) -> bool:
        """A first poll alerts nothing (adding a feed must not flood the channel) and an old
        entry re-surfacing is not news; `--backfill` lifts both."""
        if self.backfill:
            return True
        return not self.first_poll and self.fresh


def decide(story: StoryFiled, event: EventFiled | None, moment: Moment) -> Action:
    """What the channel hears about one filed item.

    `event` is None when the story did not become relevant (or no event stage ran): the story
    is then the unit. Only a new development alerts; a report joining a known one edits the
    alert already posted (whenever it arrives: an update is never a new message).
    """
    if story.became_relevant:
        if event is not None and not event.new_event:
            return Action.UPDATE
        return Action.ALERT if moment.may_alert else Action.NONE
    if story.joined or story.lead_filled:
        return Action.UPDATE
    return Action.NONE


def held_back_by_age(story: StoryFiled, event: EventFiled | None, moment: Moment) -> bool:
    """True when the item would have alerted but for the age rule (`poll` counts those)."""
    if decide(story, event, moment) is not Action.NONE:
        return False
    return decide(story, event, replace(moment, age=None)) is Action.ALERT


def development_kind(kinds: Iterable[str | None]) -> str:
    """The kind of a development from its stories' kinds: court when any is, else news."""
    return "court" if "court" in kinds else "news"


@dataclass(frozen=True)
class KindChange:
    """A known development's kind before and after one report was filed in it."""

    before: str
    after: str


def tells_new_kind(
    story: StoryFiled, event: EventFiled | None, moment: Moment, change: KindChange
) -> bool:
    """Whether channels that take the development's new kind but not its old one hear of it now.

    Alerts go to a channel by the development's kind when the alert is queued, so a court-only
    channel never heard of a development that started as news. When a court report joins it,
    that channel hears of it once, then: as if the development were new (the report that made
    it court is held to the first-poll and age rules, as a new development's first report is).
    A new development is not concerned: `decide` alerts it to every channel of its kind.
    """
    if change.before == change.after:
        return False
    if story.became_relevant and (event is None or event.new_event):
        return False
    return moment.may_alert


@dataclass(frozen=True)
class Target:
    """An alert destination as the kind rule reads it."""

    id: int
    kinds: tuple[str, ...]
    had: bool  # it has an alert of this development (of any of its stories) already


def newly_reached(targets: Iterable[Target], change: KindChange) -> list[int]:
    """The destinations a development whose kind changed now reaches: they take the new kind,
    did not take the old one (those had their alert, or it was held back for them), and have
    no alert of the development yet (one message per development and channel)."""
    return [
        t.id
        for t in targets
        if change.after in t.kinds and change.before not in t.kinds and not t.had
    ]
