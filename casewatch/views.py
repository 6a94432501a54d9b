"""Read models: what alerts, digests, stories and items look like to the outside, from storage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from casewatch.render import AlertView
from casewatch.text import plural
from storage import events, items, stories
from storage.timeutil import parse_iso

if TYPE_CHECKING:
    from storage.db import Database


def alert_view(db: Database, story_id: int) -> AlertView | None:
    """The current state of a story as an alert (outlets that joined since are included)."""
    story = stories.get(db, story_id)
    if story is None:
        return None
    members = items.for_story(db, story_id)
    lead = next((m for m in members if m["id"] == story.get("lead_item_id")), None)
    first = next(
        (m for m in members if m["verdict"] == "relevant"), members[0] if members else None
    )
    matched: list[str] = []
    reason = ""
    if first:
        matched = json.loads(first["terms"]) if isinstance(first["terms"], str) else first["terms"]
        reason = first["reason"]
    source = (first.get("publisher") or first["source_name"]) if first else ""
    # The thumbnail: the picture of the item whose lead is shown, else the first one known.
    pictured = [m for m in members if m.get("image_url")]
    image = next((m["image_url"] for m in pictured if lead and m["id"] == lead["id"]), None)
    if image is None and pictured:
        image = pictured[0]["image_url"]
    summary = story.get("summary") or (lead or {}).get("summary") or ""
    outlets = stories.outlets(db, story_id)
    reports: list[tuple[str, str]] = []
    event_id = story.get("event_id")
    if event_id is not None:
        # The alert stands for the event: every outlet of it, and the other reports' headlines.
        outlets = events.outlets(db, int(event_id))
        others = [o for o in events.stories_of(db, int(event_id)) if o["id"] != story_id]
        for other in others:
            reports.append((stories.first_outlet(db, int(other["id"])), other["title"]))
        # Later outlets fill the gaps: a first report without a lead (a search feed, a court
        # page) or a picture shows those of the development's next report that has them.
        if not summary:
            summary = next((str(o["summary"]) for o in others if o.get("summary")), "")
        if image is None and others:
            image = items.first_image(db, [int(o["id"]) for o in others])
    return AlertView(
        story_id=story_id,
        title=story["title"],
        url=story["url"],
        source=source,
        outlets=outlets,
        published=parse_iso(story["published_at"]),
        first_seen=parse_iso(story["first_seen_at"]) or parse_iso(story["last_seen_at"]),  # type: ignore[arg-type]
        summary=summary,
        # The alert stands for the development: court when any of its stories is.
        kind=events.kind_of(db, story_id) or story["kind"],
        matched=matched,
        reason=reason,
        language=(first or {}).get("language"),
        image=image,
        reports=reports,
    )


def latest_developments(db: Database, *, count: int, kind: str | None = None) -> list[AlertView]:
    """The newest developments as their alerts show them (one each, however many outlets'
    wordings it has): what `latest` and `/case latest` list."""
    found = events.latest(db, count=count, kind=kind)
    return [v for v in (alert_view(db, d.alert_story_id) for d in found) if v is not None]


def other_outlets(view: AlertView) -> str:
    """ " +N other outlets" after a development's first outlet ("" when it has one)."""
    more = len([o for o in view.outlets if o != view.source])
    return f" +{plural(more, 'other outlet')}" if more else ""


def alert_json(view: AlertView) -> dict:
    """The `--json` line of an alert (the DESIGN contract: story_id, title, url, source, ...)."""
    return {
        "story_id": view.story_id,
        "title": view.title,
        "url": view.url,
        "source": view.source,
        "outlets": view.outlets,
        "published": view.published.isoformat() if view.published else None,
        "kind": view.kind,
        "matched": view.matched,
        "summary": view.summary,
        "image": view.image,
        "reports": [{"outlet": outlet, "title": title} for outlet, title in view.reports],
    }


def event_lines(db: Database, story_id: int) -> list[str]:
    """Which event a story is in and why (the lines `why ITEM` and `/case why` add)."""
    story = stories.get(db, story_id)
    if story is None:
        return []
    event_id = story.get("event_id")
    if event_id is None:
        if story.get("relevant"):
            return ["event: none yet (waiting for the event stage of the next cycle)"]
        return []
    members = events.stories_of(db, int(event_id))
    outlets = events.outlets(db, int(event_id))
    lines = [
        f"event: {event_id} ({len(members)} stories, {len(outlets)} outlets;"
        f" `story {events.alert_story_of(db, int(event_id))}` shows them)"
    ]
    why = json.loads(story["event_why"]) if story.get("event_why") else None
    first = members[0]["id"] if members else None
    if story.get("event_pinned"):
        lines.append("placed by an admin (split or merge): never moved automatically")
    if why is None:
        lines.append("started the event (no other report to compare with)")
    elif why.get("joined"):
        lines.append(f"joined it: {why.get('explain', '')}")
    elif why.get("closest_event") is not None:
        lines.append(
            "started the event"
            + ("" if first == story_id else " (later merged)")
            + f"; the closest other event was {why['closest_event']}: {why.get('explain', '')}"
            + " (below the threshold)"
        )
    else:
        lines.append(why.get("explain") or "started the event")
    return lines


def event_stories(db: Database, story_id: int) -> list[dict]:
    """The stories of a story's event (just the story when it has none), earliest first,
    each with its items: what `story ID` and `/case story` show, grouped."""
    story = stories.get(db, story_id)
    if story is None:
        return []
    event_id = story.get("event_id")
    found = [story] if event_id is None else events.stories_of(db, int(event_id))
    return [{**s, "items": items.for_story(db, int(s["id"]))} for s in found]


def report_headline(title: str, outlet: str, *, outlets: frozenset[str] = frozenset()) -> str:
    """A report's headline as listings show it, beside its outlet: without the " - Outlet"
    Google News (and many feeds) end titles with, so the outlet is not said twice. The rule is
    the one a story's own headline is cut by (`dedup.split_publisher`, the case's `outlets`),
    with the report's outlet known: "Uyghur tribunal - what happens next? - BBC News" keeps its
    first dash."""
    from casewatch.dedup import split_publisher  # only listings of reports need it

    return split_publisher(title, outlet or None, outlets=outlets)[0]


@dataclass(frozen=True)
class SearchHit:
    """One development a search found, shown by its best-matching report."""

    development: int | None  # the story number of the development (its alert's story)
    event_id: int | None
    item_id: int
    story_id: int | None  # the report's own story
    headline: str  # the report's headline, without an outlet suffix
    outlet: str
    url: str | None
    when: datetime | None  # published, else fetched
    matched: int  # how many of the development's reports matched
    row: dict  # the stored item (with source_name), for --json


def search_developments(
    db: Database,
    query: str,
    *,
    since: datetime | None = None,
    source: str | None = None,
    kind: str | None = None,
    limit: int = 10,
    offset: int = 0,
    outlets: frozenset[str] = frozenset(),
) -> tuple[list[SearchHit], int]:
    """`search` and `/case search`: one hit per development, ranked by its best report; returns
    (the page, how many developments matched)."""
    found, total = items.search(
        db, query, since=since, source=source, kind=kind, limit=limit, offset=offset
    )
    hits = []
    for r in found:
        outlet = r["publisher"] or r["source_name"]
        hits.append(
            SearchHit(
                development=None if r["development"] is None else int(r["development"]),
                event_id=None if r["event_id"] is None else int(r["event_id"]),
                item_id=int(r["id"]),
                story_id=None if r["story_id"] is None else int(r["story_id"]),
                headline=report_headline(r["title"], outlet, outlets=outlets),
                outlet=outlet,
                url=r["url"],
                when=parse_iso(r["published_at"]) or parse_iso(r["fetched_at"]),
                matched=int(r["copies"]),
                row=r,
            )
        )
    return hits, total
