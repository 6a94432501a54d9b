"""Coverage over time as a PNG: items per week, court items marked, timeline events as lines.

Built with matplotlib's object API on an Agg canvas (no pyplot, no global state), so charts can
be drawn from any thread of a running bot. Sized 1600x800 px for Discord, which shows it at
about 800x400: fonts are large enough for that and the background is opaque white, readable in
both the dark and the light theme.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

WIDTH_PX = 1600
HEIGHT_PX = 800
DPI = 200
NEWS_COLOUR = "#4a78b5"  # blue and orange stay apart for colour-blind readers
COURT_COLOUR = "#e0862f"
EVENT_COLOUR = "#555555"
TEXT_COLOUR = "#222222"
BACKGROUND = "#ffffff"
EMPTY_MESSAGE = "no coverage in this period"

_LABEL_ROWS = 4
_LABEL_CHARS = 24
_LABEL_FONT_PT = 9.5
_BAR_DAYS = 6.0
_MARGINS = {"left": 0.075, "right": 0.985, "top": 0.83, "bottom": 0.11}
_TITLE_CHARS = 60
# Bars stop below this fraction of the plot height when events are drawn, leaving the top for
# their labels.
_BARS_TOP_WITH_EVENTS = 0.58


def coverage_chart(
    weeks: list[tuple[date, int, int]],
    events: list[tuple[date, str]],
    *,
    title: str,
    since: date | None = None,
) -> bytes:
    """PNG bytes of items per week (week start, items, of which court) with timeline events."""
    rows = _checked_weeks(weeks)
    timeline = sorted((_as_date(day), label) for day, label in events)
    if since is not None:
        since = _as_date(since)
        rows = [row for row in rows if row[0] + timedelta(days=6) >= since]
        timeline = [event for event in timeline if event[0] >= since]

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(**_MARGINS)
    axes = figure.add_subplot()
    if sum(total for _, total, _ in rows) == 0:
        _draw_empty(axes, title, since)
    else:
        _draw_coverage(axes, rows, timeline, title, since)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, transparent=False)
    return buffer.getvalue()


def place_labels(
    anchors: Sequence[float], widths: Sequence[float], *, rows: int, low: float, high: float
) -> list[tuple[int, bool]]:
    """Row (0 = top, -1 = no room) and side (True = left of its line) of each label, no overlaps.

    Labels are placed in the order of their lines; each takes the highest row where it fits to
    the right of its line inside [low, high], else the highest where it fits to the left.
    """
    if rows < 1:
        raise ValueError(f"label rows must be at least 1, got {rows}")
    if len(anchors) != len(widths):
        raise ValueError(f"{len(anchors)} label anchors but {len(widths)} widths")
    ends = [float("-inf")] * rows  # where the last label of each row ends
    placed = [(-1, False)] * len(anchors)
    for index in sorted(range(len(anchors)), key=lambda i: anchors[i]):
        x, width = anchors[index], widths[index]
        sides = [(x, x + width, False), (x - width, x, True)]
        if x + width > high:
            sides.reverse()  # near the right edge the left side is the natural one
        placed[index] = _first_free_row(ends, sides, low, high)
    return placed


def _first_free_row(
    ends: list[float], sides: list[tuple[float, float, bool]], low: float, high: float
) -> tuple[int, bool]:
    for start, end, left in sides:
        if start < low or end > high:
            continue
        for row, row_end in enumerate(ends):
            if row_end < start:
                ends[row] = end
                return row, left
    return -1, False


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _checked_weeks(weeks: list[tuple[date, int, int]]) -> list[tuple[date, int, int]]:
    rows: dict[date, tuple[date, int, int]] = {}
    for position, (start, total, court) in enumerate(weeks):
        day = _as_date(start)
        where = f"week {position} ({day.isoformat()})"
        if total < 0 or court < 0:
            raise ValueError(f"{where}: counts cannot be negative (items={total}, court={court})")
        if court > total:
            raise ValueError(f"{where}: court items ({court}) exceed all items ({total})")
        if day in rows:
            raise ValueError(f"{where}: the same week is listed twice")
        rows[day] = (day, total, court)
    return sorted(rows.values())


def _shorten(label: str, limit: int) -> str:
    """At most `limit` characters, ending in '…' at a word boundary when one is near."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–(") + "…"


def _style_axes(axes: Axes, title: str) -> None:
    axes.set_facecolor(BACKGROUND)
    axes.set_title(
        _shorten(title, _TITLE_CHARS),
        loc="left",
        fontsize=13,
        fontweight="bold",
        color=TEXT_COLOUR,
        pad=26,  # the legend sits in between
    )


def _draw_empty(axes: Axes, title: str, since: date | None) -> None:
    _style_axes(axes, title)
    axes.set_axis_off()
    message = EMPTY_MESSAGE if since is None else f"{EMPTY_MESSAGE} (since {since.isoformat()})"
    axes.text(
        0.5,
        0.5,
        message,
        transform=axes.transAxes,
        ha="center",
        va="center",
        fontsize=14,
        color=TEXT_COLOUR,
    )


def _draw_coverage(
    axes: Axes,
    rows: list[tuple[date, int, int]],
    timeline: list[tuple[date, str]],
    title: str,
    since: date | None,
) -> None:
    _style_axes(axes, title)
    starts = [mdates.date2num(day) for day, _, _ in rows]
    news = [total - court for _, total, court in rows]
    court = [court for _, _, court in rows]
    axes.bar(starts, news, width=_BAR_DAYS, align="edge", color=NEWS_COLOUR, linewidth=0)
    axes.bar(
        starts, court, width=_BAR_DAYS, bottom=news, align="edge", color=COURT_COLOUR, linewidth=0
    )

    first = min(rows[0][0], since) if since is not None else rows[0][0]
    low = mdates.date2num(first) - 3
    high = mdates.date2num(rows[-1][0]) + 7 + 3
    axes.set_xlim(low, high)
    peak = max(total for _, total, _ in rows)
    shown = [(day, label) for day, label in timeline if low <= mdates.date2num(day) <= high]
    axes.set_ylim(0, peak / _BARS_TOP_WITH_EVENTS if shown else peak * 1.12)

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.tick_params(labelsize=11, colors=TEXT_COLOUR)
    axes.set_ylabel("items per week", fontsize=11, color=TEXT_COLOUR)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)

    _draw_events(axes, shown, low, high)
    handles = [
        Patch(color=NEWS_COLOUR, label=f"news ({sum(news)})"),
        Patch(color=COURT_COLOUR, label=f"court ({sum(court)})"),
    ]
    if shown:
        handles.append(Patch(color=EVENT_COLOUR, label="event"))
    axes.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(handles),
        frameon=False,
        fontsize=10,
        handlelength=1.0,
        borderaxespad=0.2,
        borderpad=0.0,
    )


def _draw_events(axes: Axes, events: list[tuple[date, str]], low: float, high: float) -> None:
    if not events:
        return
    plot_inches = (WIDTH_PX / DPI) * (_MARGINS["right"] - _MARGINS["left"])
    days_per_inch = (high - low) / plot_inches
    # Average glyph width of DejaVu Sans is a little over half the font size.
    char_days = _LABEL_FONT_PT * 0.58 / 72 * days_per_inch

    anchors = [float(mdates.date2num(day)) for day, _ in events]
    labels = [_shorten(label, _LABEL_CHARS) for _, label in events]
    widths = [(len(text) + 1) * char_days for text in labels]
    placement = place_labels(anchors, widths, rows=_LABEL_ROWS, low=low, high=high)

    label_axes = axes.get_xaxis_transform()  # x in dates, y as a fraction of the plot height
    for x, text, (row, flip) in zip(anchors, labels, placement, strict=True):
        axes.axvline(x, color=EVENT_COLOUR, linewidth=0.9, linestyle=(0, (4, 2)), zorder=1)
        if row < 0 or not text:
            continue  # no free row: the dashed line alone marks the event
        y = 0.99 - row * 0.1
        axes.text(
            x + (-0.6 if flip else 0.6) * char_days,
            y,
            text,
            transform=label_axes,
            ha="right" if flip else "left",
            va="top",
            fontsize=_LABEL_FONT_PT,
            color=TEXT_COLOUR,
            bbox={"facecolor": BACKGROUND, "edgecolor": "none", "alpha": 1.0, "pad": 0.6},
        )
