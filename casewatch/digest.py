"""Digests: when one is due for a destination, what it holds, and how it reads.

Scheduling is a pure function of (settings, now); the key of the latest due slot is stored per
destination, so a digest missed while the bot was down is sent once on start-up, never twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from casewatch.render import escape_markdown
from casewatch.text import plural
from casewatch.views import alert_view
from storage import destinations, events, outbox
from storage.db import scalar
from storage.timeutil import iso, parse_iso

if TYPE_CHECKING:
    from storage.db import Database

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MESSAGE_LIMIT = 2000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Slot:
    """One digest occasion: its key and the period it covers, [start, end)."""

    key: str
    start: datetime
    end: datetime


def latest_slot(
    now: datetime, *, frequency: str, at_time: str, timezone: str, weekday: str = "monday"
) -> Slot:
    """The most recent scheduled digest instant at or before `now`, and its period."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    hh, mm = (int(x) for x in at_time.split(":"))
    candidate = datetime.combine(local.date(), time(hh, mm), tzinfo=tz)
    if frequency == "weekly":
        back = (local.weekday() - WEEKDAYS.index(weekday)) % 7
        candidate -= timedelta(days=back)
        if candidate > local:
            candidate -= timedelta(days=7)
        span = timedelta(days=7)
    else:
        if candidate > local:
            candidate -= timedelta(days=1)
        span = timedelta(days=1)
    # Re-resolve the wall-clock time after date arithmetic (DST changes the offset).
    candidate = datetime.combine(candidate.date(), time(hh, mm), tzinfo=tz)
    start = datetime.combine((candidate - span).date(), time(hh, mm), tzinfo=tz)
    return Slot(
        key=f"{frequency}:{candidate.date().isoformat()}T{at_time}@{timezone}",
        start=start.astimezone(ZoneInfo("UTC")),
        end=candidate.astimezone(ZoneInfo("UTC")),
    )


@dataclass
class DigestStory:
    story_id: int
    title: str
    url: str | None
    kind: str
    outlets: list[str]
    summary: str


@dataclass
class DigestView:
    title: str
    start: datetime
    end: datetime
    court: list[DigestStory] = field(default_factory=list)
    news: list[DigestStory] = field(default_factory=list)
    court_items: int = 0
    news_items: int = 0
    empty_mode: str = "skip"
    search_hint: str = "/case search"
    search_url: str | None = None  # a web search for more coverage (case.search_url)
    frequency: str = "daily"
    max_stories: int = 25  # listed in full; the rest are counted, with where to find them

    @property
    def empty(self) -> bool:
        return not self.court and not self.news

    def as_json(self) -> dict[str, Any]:
        def one(s: DigestStory) -> dict[str, Any]:
            return {"story_id": s.story_id, "title": s.title, "url": s.url, "outlets": s.outlets}

        return {
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "court": [one(s) for s in self.court],
            "news": [one(s) for s in self.news],
            "court_items": self.court_items,
            "news_items": self.news_items,
        }


def build_digest(
    db: Database, *, start: datetime, end: datetime, title: str, empty_mode: str = "skip"
) -> DigestView:
    """Developments first seen in the period, one line each as its alert reads (headline, every
    outlet, story number), court developments first, most covered first.

    A later report of a development first seen before the period is not a line again: it edited
    that development's alert, and was in the digest of its own period.
    """
    view = DigestView(title=title, start=start, end=end, empty_mode=empty_mode)
    listed = [
        v
        for v in (
            alert_view(db, d.alert_story_id) for d in events.first_seen_between(db, start, end)
        )
        if v is not None
    ]
    listed.sort(key=lambda v: (v.kind != "court", -len(v.outlets), v.first_seen))
    for v in listed:
        ds = DigestStory(
            story_id=v.story_id,
            title=v.title,
            url=v.url,
            kind=v.kind,
            outlets=v.outlets,
            summary=v.summary,
        )
        (view.court if v.kind == "court" else view.news).append(ds)
    counts = db.execute(
        "SELECT sum(court), sum(1 - court) FROM items WHERE verdict = 'relevant'"
        " AND fetched_at >= ? AND fetched_at < ?",
        (iso(start), iso(end)),
    ).fetchone()
    view.court_items, view.news_items = int(counts[0] or 0), int(counts[1] or 0)
    return view


def load_digest(db: Database, payload: dict[str, Any]) -> DigestView:
    """Rebuild the digest an outbox row stands for (its period is in the payload)."""
    start = parse_iso(payload.get("start")) or datetime.fromtimestamp(0).astimezone()
    end = parse_iso(payload.get("end")) or start
    view = build_digest(
        db,
        start=start,
        end=end,
        title=payload.get("title", "Digest"),
        empty_mode=payload.get("empty_mode", "skip"),
    )
    view.frequency = payload.get("frequency", "daily")
    view.search_url = payload.get("search_url")
    view.max_stories = int(payload.get("max_stories") or view.max_stories)
    return view


def schedule_digests(
    db: Database,
    now: datetime,
    *,
    case_name: str,
    weekday: str = "monday",
    search_url: str | None = None,
    max_stories: int = 25,
) -> list[int]:
    """Enqueue each destination's latest due digest once; returns the outbox ids created.

    A destination's first check only records the current slot, so adding a digest channel does
    not post yesterday's digest at once.
    """
    created: list[int] = []
    for dest in destinations.listing(db):
        if dest["purpose"] != "digest" or dest.get("broken_reason"):
            continue
        try:
            slot = latest_slot(
                now,
                frequency=dest["frequency"] or "daily",
                at_time=dest["at_time"] or "08:00",
                timezone=dest["timezone"] or "UTC",
                weekday=weekday,
            )
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            # One destination's stored setting (a zone this machine lacks) must not stop the
            # digests of every other destination.
            log.error(
                "digest for destination %s (guild %s, channel %s) skipped: %s %r",
                dest["id"],
                dest.get("guild_id") or "-",
                dest.get("channel_id") or "-",
                type(exc).__name__,
                exc,
            )
            continue
        if dest["last_digest_key"] == slot.key:
            continue
        with db.atomic():
            if dest["last_digest_key"] is None and not _created_before(dest, slot):
                destinations.set_digest_key(db, dest["id"], slot.key)
                continue
            view = build_digest(db, start=slot.start, end=slot.end, title="", empty_mode="skip")
            if view.empty and (dest["empty_mode"] or "skip") == "skip":
                destinations.set_digest_key(db, dest["id"], slot.key)
                continue
            label = "Weekly" if dest["frequency"] == "weekly" else "Daily"
            payload = {
                "title": f"{label} digest: {case_name}",
                "start": iso(slot.start),
                "end": iso(slot.end),
                "empty_mode": dest["empty_mode"] or "skip",
                "frequency": dest["frequency"] or "daily",
                "search_url": search_url,
                "max_stories": max_stories,
            }
            row = outbox.enqueue(
                db,
                destination_id=dest["id"],
                kind="digest",
                ref=f"digest:{slot.key}",
                now=now,
                payload=payload,
            )
            destinations.set_digest_key(db, dest["id"], slot.key)
            if row:
                created.append(row)
    return created


def _created_before(dest: dict, slot: Slot) -> bool:
    created = parse_iso(dest.get("created_at"))
    return created is not None and created < slot.start


def _story_line(s: DigestStory, markdown: bool = True) -> str:
    esc = escape_markdown if markdown else (lambda t: t)
    line = f"• **{esc(s.title)}**" if markdown else f"• {s.title}"
    if s.url:
        line += f" <{s.url}>"
    if s.outlets:
        shown = ", ".join(s.outlets[:4]) + (f" +{len(s.outlets) - 4}" if len(s.outlets) > 4 else "")
        line += f" — {esc(shown)}"
    line += f" · #{s.story_id}"  # for /case story
    if s.summary:
        line += f"\n  {esc(_one_line(s.summary))}"
    return line


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return cut[: cut.rfind(" ")] + "…" if " " in cut else cut + "…"


def _period(view: DigestView, markdown: bool) -> str:
    if markdown:  # Discord shows each reader the period in their own time zone
        return f"<t:{int(view.start.timestamp())}:f> – <t:{int(view.end.timestamp())}:f>"
    start, end = view.start.astimezone(UTC), view.end.astimezone(UTC)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def digest_lines(view: DigestView, *, markdown: bool = True) -> list[str]:
    """The digest as lines (each well under a message), markdown for Discord.

    At most `max_stories` stories are listed, court developments first, each group most covered
    first; the rest are counted (every one of them was an alert already)."""
    lines = [f"## {view.title}", _period(view, markdown)]
    if view.empty:
        lines.append("Nothing new in this period.")
        return lines
    # One unit in the header: developments (each an alert already), split by kind.
    lines.append(
        f"{plural(len(view.court) + len(view.news), 'development')}: "
        f"{len(view.court)} court, {len(view.news)} news"
    )
    court = view.court[: view.max_stories]
    news = view.news[: max(0, view.max_stories - len(court))]
    if court:
        lines.append("### ⚖️ Court developments")
        lines += [_story_line(s, markdown) for s in court]
    if news:
        lines.append("### 📰 News")
        lines += [_story_line(s, markdown) for s in news]
    hidden_court, hidden_news = len(view.court) - len(court), len(view.news) - len(news)
    if hidden_court or hidden_news:
        parts = [f"{n} {what}" for n, what in ((hidden_court, "court"), (hidden_news, "news")) if n]
        lines.append(
            f"…and {hidden_court + hidden_news} more developments ({', '.join(parts)}),"
            " less covered:"
            " `/case latest` lists them"
        )
    more = f"More: `{view.search_hint} <words>` or `/case story <id>`"
    if view.search_url:
        more += f" · [search the web]({view.search_url})"
    lines.append(more)
    return lines


def digest_messages(view: DigestView, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a digest over messages of at most `limit` characters, only between lines
    (a single over-long line is cut at a word boundary)."""
    messages: list[str] = []
    current = ""
    for line in digest_lines(view):
        while len(line) > limit:
            cut = line[: limit - 1]
            at = cut.rfind(" ")
            head = cut[:at] if at > limit // 2 else cut
            if current:
                messages.append(current)
                current = ""
            messages.append(head + "…")
            line = line[len(head) :].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def digest_text(view: DigestView) -> str:
    """The console form of a digest."""
    return "\n".join(digest_lines(view, markdown=False))


def total_relevant(db: Database) -> int:
    value = scalar(db, "SELECT count(*) FROM items WHERE verdict = 'relevant'")
    return int(value) if isinstance(value, int) else 0
