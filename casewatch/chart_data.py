"""The coverage chart from the archive: weekly counts and timeline events, drawn by chart.py."""

from __future__ import annotations

from datetime import date, datetime

from sqlite_utils import Database

from casewatch.chart import coverage_chart
from storage import items, timeline


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
