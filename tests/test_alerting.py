"""The alert decision: one pure function of what the story and event units did, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casewatch.alerting import (
    Action,
    EventFiled,
    KindChange,
    Moment,
    StoryFiled,
    Target,
    decide,
    development_kind,
    held_back_by_age,
    newly_reached,
    tells_new_kind,
)

NEW = StoryFiled(story_id=1, new_story=True, became_relevant=True, joined=False, kind="news")
PROMOTED = StoryFiled(story_id=1, new_story=False, became_relevant=True, joined=False, kind="news")
JOINED = StoryFiled(story_id=1, new_story=False, became_relevant=False, joined=True, kind="news")
SAME_OUTLET = StoryFiled(
    story_id=1, new_story=False, became_relevant=False, joined=False, kind="news"
)
CONTEXT = StoryFiled(story_id=1, new_story=True, became_relevant=False, joined=False, kind="news")
LEAD_FILLED = StoryFiled(
    story_id=1, new_story=False, became_relevant=False, joined=False, kind="news", lead_filled=True
)
NEW_EVENT = EventFiled(event_id=7, new_event=True, alert_story_id=1)
KNOWN_EVENT = EventFiled(event_id=7, new_event=False, alert_story_id=3)

LATER = Moment()
FIRST_POLL = Moment(first_poll=True)
BACKFILL_FIRST = Moment(first_poll=True, backfill=True)
OLD = Moment(age=timedelta(days=30), max_age=timedelta(days=14))
OLD_BACKFILL = Moment(age=timedelta(days=30), max_age=timedelta(days=14), backfill=True)
EDGE = Moment(age=timedelta(days=14), max_age=timedelta(days=14))
FUTURE = Moment(age=timedelta(hours=-2))  # a feed dated slightly ahead of our clock
# A court's own source: a filing published weeks after its date is still news.
OLD_COURT = Moment(age=timedelta(days=30), max_age=timedelta(days=14), court_source=True)
FIRST_POLL_COURT = Moment(first_poll=True, court_source=True)


@pytest.mark.parametrize(
    ("story", "event", "moment", "expected"),
    [
        # a new relevant story alerts, unless the feed is new or the entry old (backfill lifts)
        (NEW, None, LATER, Action.ALERT),
        (NEW, None, FIRST_POLL, Action.NONE),
        (NEW, None, BACKFILL_FIRST, Action.ALERT),
        (NEW, None, OLD, Action.NONE),
        (NEW, None, OLD_BACKFILL, Action.ALERT),
        (NEW, None, EDGE, Action.ALERT),
        (NEW, None, FUTURE, Action.ALERT),
        (NEW, None, OLD_COURT, Action.ALERT),
        (NEW, None, FIRST_POLL_COURT, Action.NONE),
        # a context story that a relevant item joins alerts like a new one
        (PROMOTED, None, LATER, Action.ALERT),
        (PROMOTED, None, FIRST_POLL, Action.NONE),
        # another outlet on a relevant story edits the alert, whenever it comes
        (JOINED, None, LATER, Action.UPDATE),
        (JOINED, None, FIRST_POLL, Action.UPDATE),
        (JOINED, None, OLD, Action.UPDATE),
        # the same outlet again, or a story that is only context: nothing
        (SAME_OUTLET, None, LATER, Action.NONE),
        (CONTEXT, None, LATER, Action.NONE),
        # a story posted without a lead that a later report gives one: its alert is edited
        (LEAD_FILLED, None, LATER, Action.UPDATE),
        (LEAD_FILLED, None, OLD, Action.UPDATE),
        # events: only a new event alerts; a story joining a known event edits its alert
        (NEW, NEW_EVENT, LATER, Action.ALERT),
        (NEW, NEW_EVENT, FIRST_POLL, Action.NONE),
        (NEW, NEW_EVENT, OLD, Action.NONE),
        (NEW, KNOWN_EVENT, LATER, Action.UPDATE),
        (NEW, KNOWN_EVENT, FIRST_POLL, Action.UPDATE),
        (NEW, KNOWN_EVENT, OLD, Action.UPDATE),
        (PROMOTED, KNOWN_EVENT, LATER, Action.UPDATE),
        (PROMOTED, NEW_EVENT, LATER, Action.ALERT),
    ],
)
def test_only_a_new_development_alerts_and_joining_reports_edit_its_alert(
    story: StoryFiled, event: EventFiled | None, moment: Moment, expected: Action
) -> None:
    assert decide(story, event, moment) is expected


@pytest.mark.parametrize(
    ("story", "event", "moment", "held"),
    [
        (NEW, None, OLD, True),  # the one case `poll` counts: it would have alerted
        (NEW, NEW_EVENT, OLD, True),
        (NEW, None, LATER, False),  # it alerted
        (NEW, None, OLD_COURT, False),  # it alerted: court sources are not held to the age
        (NEW, None, FIRST_POLL, False),  # held back by the first poll, not by its age
        (NEW, KNOWN_EVENT, OLD, False),  # an update, whatever the age
        (CONTEXT, None, OLD, False),  # nothing to alert anyway
    ],
)
def test_an_item_is_counted_as_held_back_by_age_only_when_age_alone_stopped_its_alert(
    story: StoryFiled, event: EventFiled | None, moment: Moment, held: bool
) -> None:
    assert held_back_by_age(story, event, moment) is held


# A court report joining a development that started as news.
COURT_JOINS_EVENT = StoryFiled(
    story_id=1, new_story=True, became_relevant=True, joined=False, kind="court"
)
COURT_JOINS_STORY = StoryFiled(
    story_id=1, new_story=False, became_relevant=False, joined=True, kind="court", kind_was="news"
)
# The same outlet's court item on its own news story: no new outlet, but the kind changed.
COURT_SAME_OUTLET = StoryFiled(
    story_id=1, new_story=False, became_relevant=False, joined=False, kind="court", kind_was="news"
)
BECOMES_COURT = KindChange(before="news", after="court")
STAYS_COURT = KindChange(before="court", after="court")
STAYS_NEWS = KindChange(before="news", after="news")


@pytest.mark.parametrize(
    ("story", "event", "moment", "change", "tells"),
    [
        # a court report joins a news development: channels of the new kind hear of it now
        (COURT_JOINS_EVENT, KNOWN_EVENT, LATER, BECOMES_COURT, True),
        (COURT_JOINS_STORY, None, LATER, BECOMES_COURT, True),
        (COURT_SAME_OUTLET, None, LATER, BECOMES_COURT, True),
        (COURT_JOINS_EVENT, KNOWN_EVENT, OLD_COURT, BECOMES_COURT, True),  # a court's own page
        (COURT_JOINS_EVENT, KNOWN_EVENT, BACKFILL_FIRST, BECOMES_COURT, True),
        # ... held to the rules of a new development's first report
        (COURT_JOINS_EVENT, KNOWN_EVENT, FIRST_POLL, BECOMES_COURT, False),
        (COURT_JOINS_EVENT, KNOWN_EVENT, OLD, BECOMES_COURT, False),
        (COURT_JOINS_STORY, None, FIRST_POLL_COURT, BECOMES_COURT, False),
        # the kind did not change: nothing new for anyone
        (COURT_JOINS_EVENT, KNOWN_EVENT, LATER, STAYS_COURT, False),
        (PROMOTED, KNOWN_EVENT, LATER, STAYS_NEWS, False),
        (JOINED, None, LATER, STAYS_NEWS, False),
        # a new development alerts every channel of its kind already (`decide`)
        (COURT_JOINS_EVENT, NEW_EVENT, LATER, BECOMES_COURT, False),
        (COURT_JOINS_EVENT, None, LATER, BECOMES_COURT, False),
    ],
)
def test_a_development_that_becomes_court_is_told_then_to_channels_that_missed_it_by_kind(
    story: StoryFiled, event: EventFiled | None, moment: Moment, change: KindChange, tells: bool
) -> None:
    assert tells_new_kind(story, event, moment, change) is tells


ALL = ("news", "court")
COURT = ("court",)
NEWS = ("news",)


@pytest.mark.parametrize(
    ("targets", "change", "reached"),
    [
        # a court-only channel that had nothing of it: reached
        ([Target(1, COURT, had=False)], BECOMES_COURT, [1]),
        # ... once: it has its alert already (queued or posted, of any story of the event)
        ([Target(1, COURT, had=True)], BECOMES_COURT, []),
        # a channel of every kind had its alert by the news rule (or it was held back for it)
        ([Target(1, ALL, had=False), Target(2, ALL, had=True)], BECOMES_COURT, []),
        # a news-only channel does not take court developments
        ([Target(1, NEWS, had=True)], BECOMES_COURT, []),
        (
            [Target(1, ALL, had=True), Target(2, COURT, had=False), Target(3, COURT, had=False)],
            BECOMES_COURT,
            [2, 3],
        ),
        # no change of kind reaches nobody new
        ([Target(1, COURT, had=False)], STAYS_COURT, []),
        # a development that became news (none does by a report, but the rule is the same way)
        ([Target(1, NEWS, had=False), Target(2, ALL, had=False)], KindChange("court", "news"), [1]),
    ],
)
def test_only_channels_the_old_kind_kept_out_and_without_its_alert_are_reached(
    targets: list[Target], change: KindChange, reached: list[int]
) -> None:
    assert newly_reached(targets, change) == reached


@pytest.mark.parametrize(
    ("kinds", "kind"),
    [
        (["news"], "news"),
        (["news", "court"], "court"),
        (["court", None], "court"),
        (["news", None], "news"),
        ([], "news"),
    ],
)
def test_a_development_is_court_when_any_of_its_stories_is(kinds: list, kind: str) -> None:
    assert development_kind(kinds) == kind
