"""The coverage chart from the archive: weekly counts and timeline events, drawn by chart.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from casewatch.chart import coverage_chart
from casewatch.text import plural
from storage import items, timeline
from storage.timeutil import parse_iso

if TYPE_CHECKING:
    from storage.db import Database


def chart_png(db: Database, *, title: str, since: datetime | None = None) -> bytes:
    """PNG bytes of relevant items per week, court items marked, timeline events annotated."""
    weeks = [
        (date.fromisoformat(r["week"]), int(r["items"]), int(r["court"] or 0))
        for r in items.weekly_counts(db, since)
        if r["week"]
    ]
    start = since.date() if since else (weeks[0][0] if weeks else None)
    events = [
        (date.fromisoformat(e["date"]), e["title"])
        for e in timeline.listing(db)
        if e["origin"] == "config" and (start is None or e["date"] >= start.isoformat())
    ]
    return coverage_chart(weeks, events, title=f"{title}: coverage per week", since=start)


def activity_caption(totals: dict, *, title: str, since: datetime | None, now: datetime) -> str:
    """The line under the coverage chart: the period it covers and what it counts."""
    start = since or parse_iso(totals.get("first"))
    if start is None:
        return f"{title}: nothing relevant stored yet."
    days = max(1, (now - start) // timedelta(days=1))
    span = plural(days // 7, "week") if days >= 14 else plural(days, "day")
    developments, court = int(totals["developments"]), int(totals["court"])
    # Developments (events), not stories: five outlets' wordings of one development are one.
    return (
        f"{title}: coverage per week, {start:%Y-%m-%d} to {now:%Y-%m-%d} ({span}): "
        f"{plural(developments, 'development')} ({court} court, {developments - court} news)"
        f" from {plural(int(totals['reports']), 'relevant report')}."
    )


def activity(
    db: Database, *, title: str, since: datetime | None, now: datetime
) -> tuple[bytes, str]:
    """The coverage chart and its caption, for `/case activity` and `chart`."""
    caption = activity_caption(items.activity_totals(db, since), title=title, since=since, now=now)
    return chart_png(db, title=title, since=since), caption
