"""/case: what everyone can ask the archive. Thin: storage and core do the work."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from casewatch import __version__, render
from casewatch.chart_data import activity
from casewatch.cli import source_health, why_lines
from casewatch.config import parse_duration
from casewatch.text import plural
from casewatch.views import (
    SearchHit,
    alert_view,
    event_lines,
    event_stories,
    latest_developments,
    other_outlets,
    report_headline,
    search_developments,
)
from cogs.errors import UserError
from cogs.paging import Pager
from storage import events, items, outbox, sources, timeline
from storage.db import Database
from storage.timeutil import parse_iso

if TYPE_CHECKING:
    from bot import CasewatchBot

PER_PAGE = 5
LATEST_MAX = 50  # /case latest count: more than EMBEDS_PER_MESSAGE is listed in pages
EMBEDS_PER_MESSAGE = 10  # Discord's limit
FIELD_LIMIT = 1024  # Discord's limit on an embed field's value


def duration_arg(text: str | None, option: str) -> timedelta | None:
    """A `since` option like 7d or 12h, or a clear error."""
    if not text:
        return None
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        raise UserError(f"`{option}`: {exc}. Examples: 24h, 7d, 4w.") from exc


def _when(text: str | None) -> str:
    when = parse_iso(text)
    return f"<t:{int(when.timestamp())}:d>" if when else "undated"


class CaseCog(
    commands.GroupCog, group_name="case", group_description="Follow the case: news, court, search"
):
    def __init__(self, bot: CasewatchBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def db(self) -> Database:
        return self.bot.app.db

    @app_commands.command(name="latest", description="The newest developments in the case")
    @app_commands.describe(
        count="How many developments (1-50; more than 10 are listed in pages)",
        kind="Only news or only court developments",
    )
    async def latest(
        self,
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, LATEST_MAX] = 5,
        kind: Literal["news", "court"] | None = None,
    ) -> None:
        # One entry per development (event), however many outlets' wordings it has.
        views = latest_developments(self.db, count=count, kind=kind)
        if not views:
            await interaction.response.send_message(
                "Nothing stored yet. The first poll may still be running.", ephemeral=True
            )
            return
        what = f"{kind} " if kind else ""
        fewer = (
            f"Only {plural(len(views), f'{what}development')} stored so far."
            if len(views) < count
            else None
        )
        if count <= EMBEDS_PER_MESSAGE:
            _, embeds = render.clamp_message("", [render.alert_embed(v) for v in views])
            await interaction.response.send_message(
                content=fewer, embeds=[discord.Embed.from_dict(e) for e in embeds]
            )
            return
        # Discord shows at most 10 embeds in a message: more developments are listed, in pages.
        lines = [
            f"{'⚖️' if v.kind == 'court' else '📰'} "
            + (
                f"[{render.escape_markdown(v.title)}]({v.url})"
                if v.url
                else f"**{render.escape_markdown(v.title)}**"
            )
            + f"\n{render.escape_markdown(v.source + other_outlets(v))}"
            + f" · {_when(v.published.isoformat() if v.published else None)} · story {v.story_id}"
            for v in views
        ]
        pages_text = _chunks(lines, 3800)  # whole entries per page, never a cut link

        def page(n: int) -> tuple[discord.Embed, int]:
            embed = {
                "title": f"Latest {plural(len(views), f'{what}development')}",
                "description": pages_text[n],
                "footer": {
                    "text": f"page {n + 1}/{len(pages_text)}"
                    " · /case story <number> for every report of one"
                    + (f" · {fewer}" if fewer else "")
                },
            }
            return discord.Embed.from_dict(render.clamp_embed(embed)), len(pages_text)

        await Pager(page, owner_id=interaction.user.id).start(interaction)

    @app_commands.command(
        name="search", description="Search every stored report (ranked), one line per development"
    )
    @app_commands.describe(
        query='Words or a "quoted phrase"; word forms match (Argentina finds Argentine)',
        since="Only this recent window, e.g. 7d or 12h",
        source="Only this source or outlet",
        kind="Only news or only court developments",
    )
    @app_commands.checks.cooldown(3, 30.0, key=lambda i: (i.guild_id, i.user.id))
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        since: str | None = None,
        source: str | None = None,
        kind: Literal["news", "court"] | None = None,
    ) -> None:
        if items.fts_query(query) is None:
            raise UserError(
                "`query`: give at least one word to search for, e.g. `Argentina`, "
                '`deportation Tajikistan` or `"Uyghur Tribunal"`.'
            )
        window = duration_arg(since, "since")
        await interaction.response.defer(thinking=True)
        after = self.bot.app.clock.now() - window if window else None

        def page(n: int) -> tuple[discord.Embed, int]:
            # One entry per development (event), by its best-matching report.
            found, total = search_developments(
                self.db,
                query,
                since=after,
                source=source,
                kind=kind,
                limit=PER_PAGE,
                offset=n * PER_PAGE,
                outlets=frozenset(self.bot.app.config.case.outlets),
            )
            lines = [_search_line(h) for h in found]
            pages = max(1, -(-total // PER_PAGE))
            embed = discord.Embed.from_dict(
                render.clamp_embed(
                    {
                        "title": f"Search: {query}",
                        "description": "\n\n".join(lines)
                        or f"No match for {render.escape_markdown(query)}.",
                        "footer": {
                            "text": f"{plural(total, 'development')} matched · page {n + 1}/{pages}"
                        },
                    }
                )
            )
            return embed, pages

        await Pager(page, owner_id=interaction.user.id).start(interaction)

    @search.autocomplete("source")
    async def _sources(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower()
        names = sorted({s["name"] for s in sources.active(self.db)})
        return [
            app_commands.Choice(name=n[:100], value=n[:100]) for n in names if needle in n.lower()
        ][:25]

    @app_commands.command(
        name="story", description="Every report of one development (event), by outlet"
    )
    @app_commands.describe(id="The story number shown in alerts")
    async def story(self, interaction: discord.Interaction, id: app_commands.Range[int, 1]) -> None:
        view = alert_view(self.db, id)
        if view is None:
            raise UserError(f"There is no story {id}. `/case latest` lists recent ones.")
        # Every report of the development (event), grouped by story.
        groups = event_stories(self.db, id)
        members = [m for g in groups for m in g["items"]]
        base = render.alert_embed(view)
        outlets = frozenset(self.bot.app.config.case.outlets)
        lines: list[str] = []
        for g in groups:
            if len(groups) > 1:
                title = render.escape_markdown(render.clamp(g["title"], 150))
                lines.append(f"**story {g['id']}**: {title}")
            for m in g["items"]:
                outlet = m["publisher"] or m["source_name"]
                # The outlet is named first: a headline's " - Outlet" would say it twice.
                headline = render.escape_markdown(
                    render.clamp(report_headline(m["title"], outlet, outlets=outlets), 150)
                )
                lines.append(
                    f"• {render.escape_markdown(outlet)}: "
                    + (f"[{headline}]({m['url']})" if m["url"] else headline)
                    + f" ({_when(m['published_at'] or m['fetched_at'])}, item {m['id']})"
                )
        # A field holds 1024 characters: whole lines only, the rest on the next pages.
        chunks = _chunks(lines, FIELD_LIMIT)

        def page(n: int) -> tuple[discord.Embed, int]:
            name = f"Coverage ({plural(len(members), 'report')})"
            if len(chunks) > 1:
                name += f" · page {n + 1}/{len(chunks)}"
            embed = {
                **base,
                "fields": [*base.get("fields", []), {"name": name, "value": chunks[n]}],
            }
            return discord.Embed.from_dict(render.clamp_embed(embed)), len(chunks)

        await Pager(page, owner_id=interaction.user.id).start(interaction)

    @app_commands.command(name="timeline", description="The case's key dated events, by year")
    @app_commands.describe(order="Oldest or newest first", year="Only one year")
    async def timeline_cmd(
        self,
        interaction: discord.Interaction,
        order: Literal["oldest", "newest"] = "oldest",
        year: app_commands.Range[int, 2000, 2100] | None = None,
    ) -> None:
        events = timeline.listing(self.db, newest_first=order == "newest", year=year)
        if not events:
            raise UserError("The timeline is empty" + (f" for {year}." if year else "."))
        blocks: list[str] = []
        current_year = None
        for e in events:
            if e["date"][:4] != current_year:
                current_year = e["date"][:4]
                blocks.append(f"**{current_year}**")
            mark = "⚖️" if e["kind"] == "court" else "•"
            title = render.escape_markdown(e["title"])
            blocks.append(
                f"{mark} `{e['date']}` " + (f"[{title}]({e['url']})" if e["url"] else title)
            )
        pages_text = _chunks(blocks, 3500)

        def page(n: int) -> tuple[discord.Embed, int]:
            embed = {
                "title": "Case timeline",
                "description": pages_text[n],
                "footer": {"text": f"page {n + 1}/{len(pages_text)}"},
            }
            return discord.Embed.from_dict(render.clamp_embed(embed)), len(pages_text)

        await Pager(page, owner_id=interaction.user.id).start(interaction)

    @app_commands.command(name="sources", description="Health of each watched source")
    async def sources_cmd(self, interaction: discord.Interaction) -> None:
        now = self.bot.app.clock.now()
        stale = self.bot.app.config.defaults.stale_after
        rows = [
            s
            for s in sources.active(self.db)
            if not s["guild_id"] or s["guild_id"] == str(interaction.guild_id)
        ]
        icons = {"ok": "🟢", "failing": "🔴", "stale": "🟡", "paused": "⏸️", "new": "⚪"}
        lines = []
        for s in rows:
            state = source_health(s, now, stale)
            line = f"{icons.get(state, '•')} **{render.escape_markdown(s['name'])}** ({s['kind']}) · last ok {_when(s['last_ok_at'])}"
            if s["failures"]:
                line += f"\n  {s['failures']} failures: {render.escape_markdown(str(s['last_error'])[:150])}"
            lines.append(line)
        pages_text = _chunks(lines or ["No sources configured."], 3500)
        counts = outbox.counts(self.db)

        def page(n: int) -> tuple[discord.Embed, int]:
            embed = {
                "title": f"Sources ({len(rows)})",
                "description": pages_text[n],
                "footer": {
                    "text": f"page {n + 1}/{len(pages_text)} · {counts['pending']} messages waiting"
                },
            }
            return discord.Embed.from_dict(render.clamp_embed(embed)), len(pages_text)

        await Pager(page, owner_id=interaction.user.id, ephemeral=True).start(interaction)

    @app_commands.command(
        name="why", description="Which rule terms made an item relevant, or why it was dropped"
    )
    @app_commands.describe(item="The item number (shown by /case search and /case story)")
    async def why(self, interaction: discord.Interaction, item: app_commands.Range[int, 1]) -> None:
        found = items.get(self.db, item)
        if found is None:
            raise UserError(
                f"There is no item {item}. `/case search` and `/case story` show item numbers."
            )
        lines = why_lines(found)
        if found.get("story_id"):
            lines += event_lines(self.db, int(found["story_id"]))
        text = "\n".join(render.escape_markdown(line) for line in lines)
        await interaction.response.send_message(
            embed=discord.Embed.from_dict(
                render.clamp_embed({"title": f"Why item {item}", "description": text})
            ),
            ephemeral=True,
        )

    @app_commands.command(name="activity", description="Chart of the case's coverage over time")
    @app_commands.describe(since="Only this recent window, e.g. 26w or 365d")
    # Per server; in DMs per user (guild_id is None there, which would be one shared bucket).
    @app_commands.checks.cooldown(1, 30.0, key=lambda i: i.guild_id or i.user.id)
    async def activity(self, interaction: discord.Interaction, since: str | None = None) -> None:
        window = duration_arg(since, "since")
        await interaction.response.defer(thinking=True)
        after = self.bot.app.clock.now() - window if window else None
        case = self.bot.app.config.case
        png, caption = await asyncio.to_thread(
            activity,
            self.db,
            title=case.short or case.name,
            since=after,
            now=self.bot.app.clock.now(),
        )
        await interaction.followup.send(
            content=render.escape_markdown(caption),
            file=discord.File(io.BytesIO(png), filename="activity.png"),
        )

    @app_commands.command(name="about", description="What this bot follows and how")
    async def about(self, interaction: discord.Interaction) -> None:
        case = self.bot.app.config.case
        n_sources = len(sources.active(self.db))
        n_developments = events.count_developments(self.db)
        text = (
            f"{render.escape_markdown(case.description or case.name)}\n\n"
            f"Watching {plural(n_sources, 'source')};"
            f" {plural(n_developments, 'development')} stored. One alert per development;"
            " later reports of it are added to the original message."
            " `/case why` explains any item."
        )
        embed = {
            "title": case.name,
            "description": text,
            "footer": {"text": f"casewatch {__version__}"},
        }
        await interaction.response.send_message(
            embed=discord.Embed.from_dict(render.clamp_embed(embed)), ephemeral=True
        )


def _search_line(h: SearchHit) -> str:
    """One search result: a development, by its best-matching report."""
    more = h.matched - 1
    return (
        f"**{render.escape_markdown(h.headline)}**\n{render.escape_markdown(h.outlet)}"
        + (f" (+{plural(more, 'other report')})" if more else "")
        + f" · {_when(h.when.isoformat() if h.when else None)} · story {h.development or '-'}"
        + f" · item {h.item_id}"
        + (f" · [link]({h.url})" if h.url else "")
    )


def _chunks(lines: list[str], size: int) -> list[str]:
    """Join lines into pages of at most `size` characters, never splitting a line."""
    pages, current = [], ""
    for line in lines:
        line = render.clamp(line, size)
        if current and len(current) + 1 + len(line) > size:
            pages.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*pages, current] if current else pages or [""]


async def setup(bot: CasewatchBot) -> None:
    await bot.add_cog(CaseCog(bot))
