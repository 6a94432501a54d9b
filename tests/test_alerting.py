"""The alert decision: one pure function of what the story and event units did, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casewatch.alerting import Action, EventFiled, Moment, StoryFiled, decide, held_back_by_age

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
