"""Admin notices about the bot's sources: what each notice destination hears after a cycle.

A poll cycle collects source events (a source started failing, went stale, recovered); `plan`
turns them into at most one message per destination: every failure of the cycle in one message
(35 sources offline for a minute is one message, not 35), a recovery only where that source's
failure was said, and a server hears only about the sources it may see (feeds.yaml's and its
own). Notices go to the destinations admins chose (`/watch notices`), never to alert channels:
the public channel hears about the case, not about the bot. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SHOWN = 15  # sources named per section; the rest are counted


@dataclass(frozen=True)
class SourceEvent:
    """Something admins should hear about one source."""

    source_id: int
    name: str
    guild_id: str | None  # the server that added it; None for feeds.yaml's sources
    event: str  # failing | recovered | stale
    detail: str = ""  # e.g. "3 polls in a row: HTTP 503"


@dataclass(frozen=True)
class Target:
    """A notice destination: a server's chosen channel, or the console."""

    destination_id: int
    guild_id: str  # "" for destinations outside any server (console, log)


@dataclass
class Notice:
    """One message for one destination."""

    destination_id: int
    failing: list[SourceEvent] = field(default_factory=list)
    stale: list[SourceEvent] = field(default_factory=list)
    recovered: list[SourceEvent] = field(default_factory=list)

    @property
    def text(self) -> str:
        return notice_text(self.failing, self.stale, self.recovered)

    def payload(self) -> dict[str, object]:
        """What the outbox row keeps: the text, and which sources it told about (so that a
        later recovery is said only where the failure was)."""
        return {
            "text": self.text,
            "failing": [e.source_id for e in self.failing],
            "stale": [e.source_id for e in self.stale],
            "recovered": [e.source_id for e in self.recovered],
        }


def _visible(event: SourceEvent, target: Target) -> bool:
    return not event.guild_id or not target.guild_id or event.guild_id == target.guild_id


def plan(
    events: Iterable[SourceEvent], targets: Iterable[Target], told: set[tuple[int, int]]
) -> list[Notice]:
    """One notice per target that has something to hear; `told` holds (destination id, source
    id) pairs where that source's failure was said, the only places its recovery is said."""
    events = list(events)
    out: list[Notice] = []
    for target in targets:
        notice = Notice(target.destination_id)
        for e in events:
            if not _visible(e, target):
                continue
            if e.event == "failing":
                notice.failing.append(e)
            elif e.event == "stale":
                notice.stale.append(e)
            elif e.event == "recovered" and (target.destination_id, e.source_id) in told:
                notice.recovered.append(e)
        if notice.failing or notice.stale or notice.recovered:
            out.append(notice)
    return out


def _names(events: list[SourceEvent], *, details: bool) -> str:
    shown = [f"{e.name} ({e.detail})" if details and e.detail else e.name for e in events[:SHOWN]]
    more = len(events) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def notice_text(
    failing: list[SourceEvent], stale: list[SourceEvent], recovered: list[SourceEvent]
) -> str:
    """The message: one line per kind of news, the sources named (the first few), the rest
    counted, and where to look."""
    lines = []
    if failing:
        n = len(failing)
        lines.append(
            f"{n} source{'s are' if n > 1 else ' is'} failing: {_names(failing, details=True)}."
        )
    if stale:
        n = len(stale)
        lines.append(
            f"{n} source{'s have' if n > 1 else ' has'} published nothing new for a while: "
            f"{_names(stale, details=True)}. Are the addresses still right?"
        )
    if recovered:
        n = len(recovered)
        lines.append(
            f"{n} source{'s' if n > 1 else ''} recovered: {_names(recovered, details=False)}."
        )
    lines.append("`/case sources` shows every source's health.")
    return "\n".join(lines)
