"""What alerts, digests and notices look like, as Discord JSON, clamped to every Discord limit.

Pure functions over plain dicts: the webhook delivery posts them as they are, the Discord cogs
turn them into `discord.Embed.from_dict`. This module is the one place that knows the limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casewatch.patterns import LazyPattern

# Discord's documented limits (characters).
CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBEDS_TOTAL = 6000
EMBEDS_PER_MESSAGE = 10
URL_MAX = 2048
MIN_EMBED_BUDGET = 100  # below this, clamp_message stops adding embeds to a message

NEWS_COLOUR = 0x3B82F6
COURT_COLOUR = 0xB45309
NOTICE_COLOUR = 0x6B7280

_MD_SPECIAL = LazyPattern(r"([\\*_~`|\[\]])")
_MD_LINE_START = LazyPattern(r"^(\s*)([>#-])", re.M)
# "1. item" is an ordered list; Discord only honours a backslash before punctuation, so the
# escape goes before the dot ("1\. item"), never before the digit ("\1. item" shows the "\").
_MD_ORDERED = LazyPattern(r"^(\s*\d+)\.(?=\s)", re.M)
_MENTION = LazyPattern(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>")


def escape_markdown(text: str) -> str:
    """Escape Discord markdown and neutralise mass mentions in untrusted feed text."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = _MD_ORDERED.sub(lambda m: m.group(1) + "\\.", text)
    # A zero-width space after @ keeps "@everyone" from ever being a mention, even if a
    # client ignored allowed_mentions.
    return _MENTION.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("<", "<\u200b"), text)


def clamp(text: str | None, limit: int) -> str:
    """Cut text to `limit` characters at a word boundary, with an ellipsis when cut."""
    if not text:
        return ""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    # A trailing lone backslash would escape the ellipsis.
    cut = cut.rstrip()
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + "…"


def _embed_size(embed: dict[str, Any]) -> int:
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", "")) + len(
        embed.get("author", {}).get("name", "")
    )
    for f in embed.get("fields", []):
        total += len(f.get("name", "")) + len(f.get("value", ""))
    return total


def clamp_embed(embed: dict[str, Any], budget: int = EMBEDS_TOTAL) -> dict[str, Any]:
    """A copy of an embed dict that respects every per-field limit and a total budget."""
    out = dict(embed)
    if "title" in out:
        out["title"] = clamp(out["title"], EMBED_TITLE) or "(untitled)"
    if "description" in out:
        out["description"] = clamp(out["description"], EMBED_DESCRIPTION)
    if "url" in out and (not out["url"] or len(out["url"]) > URL_MAX):
        out.pop("url")
    for picture in ("thumbnail", "image"):
        if picture in out and not _is_web_url(str((out[picture] or {}).get("url") or "")):
            out.pop(picture)
    if "footer" in out:
        out["footer"] = {**out["footer"], "text": clamp(out["footer"].get("text", ""), FOOTER)}
    if "author" in out:
        out["author"] = {**out["author"], "name": clamp(out["author"].get("name", ""), AUTHOR)}
    fields = []
    for f in out.get("fields", [])[:EMBED_FIELDS]:
        name = clamp(f.get("name", ""), FIELD_NAME) or "\u200b"
        value = clamp(f.get("value", ""), FIELD_VALUE) or "\u200b"
        fields.append({**f, "name": name, "value": value})
    if "fields" in out:
        out["fields"] = fields
    # Over the total budget: shorten the description first, then drop fields from the end.
    excess = _embed_size(out) - budget
    if excess > 0 and out.get("description"):
        keep = max(0, len(out["description"]) - excess)
        out["description"] = clamp(out["description"], keep) if keep else ""
    while _embed_size(out) > budget and out.get("fields"):
        out["fields"] = out["fields"][:-1]
    if _embed_size(out) > budget and out.get("footer"):
        out.pop("footer")
    if _embed_size(out) > budget and out.get("author"):
        out.pop("author")
    if _embed_size(out) > budget:
        out["title"] = clamp(
            out.get("title", ""), max(1, budget - _embed_size(out) + len(out.get("title", "")))
        )
    return out


def clamp_message(
    content: str | None, embeds: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """Content and embeds of one message within Discord's limits (10 embeds, 6000 in total)."""
    embeds = embeds[:EMBEDS_PER_MESSAGE]
    out: list[dict[str, Any]] = []
    remaining = EMBEDS_TOTAL
    for e in embeds:
        if remaining < MIN_EMBED_BUDGET:
            break  # a sliver of budget cannot hold a useful embed (and may not hold any)
        c = clamp_embed(e, budget=remaining)
        size = _embed_size(c)
        if size > remaining:
            break  # clamp_embed could not get under the budget: never send > 6000
        remaining -= size
        out.append(c)
    return clamp(content or "", CONTENT), out


@dataclass
class AlertView:
    """Everything an alert shows, read from storage at delivery time."""

    story_id: int
    title: str
    url: str | None
    source: str
    outlets: list[str]
    published: datetime | None
    first_seen: datetime
    summary: str
    kind: str  # news | court
    matched: list[str] = field(default_factory=list)
    reason: str = ""
    language: str | None = None
    image: str | None = None  # an http(s) picture of the story: the embed's thumbnail
    # Other reports of the same development (event): (outlet, headline), earliest first.
    reports: list[tuple[str, str]] = field(default_factory=list)


MAX_REPORTS_SHOWN = 6


def _report_lines(view: AlertView) -> list[str]:
    shown = [f"{outlet}: {title}" for outlet, title in view.reports[:MAX_REPORTS_SHOWN]]
    more = len(view.reports) - MAX_REPORTS_SHOWN
    return shown + ([f"and {more} more"] if more > 0 else [])


def alert_embed(view: AlertView) -> dict[str, Any]:
    """The embed of one story alert; court developments styled apart from news."""
    court = view.kind == "court"
    label = "⚖️ Court development" if court else "📰 News"
    # Read like news, not like a debugger: the outlet, who else reported it, the time once (the
    # embed's timestamp, shown in each reader's time zone). Why it matched is `/case why`.
    fields = [{"name": "Source", "value": escape_markdown(view.source), "inline": True}]
    others = [o for o in view.outlets if o != view.source]
    if others:
        fields.append(
            {
                "name": "Also reported by",
                "value": escape_markdown(", ".join(others)),
                "inline": False,
            }
        )
    if view.reports:
        fields.append(
            {
                "name": "More reports of this development",
                "value": "\n".join(escape_markdown(line) for line in _report_lines(view)),
                "inline": False,
            }
        )
    embed: dict[str, Any] = {
        "title": escape_markdown(view.title),
        "description": escape_markdown(view.summary) if view.summary else "",
        "color": COURT_COLOUR if court else NEWS_COLOUR,
        "author": {
            "name": label
            + (f" · {view.language}" if view.language and view.language != "en" else "")
        },
        "fields": fields,
        "footer": {
            "text": f"story {view.story_id} · /case story {view.story_id}"
            if view.story_id > 0
            else "a sample: a real alert ends with its story number, for /case story"
        },
        "timestamp": (view.published or view.first_seen).isoformat(),
    }
    if view.url:
        embed["url"] = view.url
    if view.image and _is_web_url(view.image):
        embed["thumbnail"] = {"url": view.image}
    if not embed["description"]:
        embed.pop("description")
    return clamp_embed(embed)


def alert_text(view: AlertView) -> str:
    """The console form of an alert."""
    when = view.published.strftime("%Y-%m-%d %H:%M") if view.published else "undated"
    lines = [f"[{view.kind}] {view.title}", f"  {view.source} · {when} · story {view.story_id}"]
    if view.url:
        lines.append(f"  {view.url}")
    if view.summary:
        lines.append(f"  {view.summary}")
    others = [o for o in view.outlets if o != view.source]
    if others:
        lines.append(f"  also reported by: {', '.join(others)}")
    lines.extend(f"  + {line}" for line in _report_lines(view))
    return "\n".join(lines)


def _is_web_url(url: str) -> bool:
    """Discord shows pictures from http(s) addresses only, at most 2048 characters long."""
    return (
        url.lower().startswith(("https://", "http://"))
        and len(url) <= URL_MAX
        and not any(char.isspace() for char in url)
    )


def notice_embed(text: str) -> dict[str, Any]:
    return clamp_embed(
        {"title": "casewatch", "description": escape_markdown(text), "color": NOTICE_COLOUR}
    )
