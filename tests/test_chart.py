"""The coverage chart: a legible, opaque PNG of Discord size, from any thread, even with no data."""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from casewatch.chart import (
    COURT_COLOUR,
    EVENT_COLOUR,
    HEIGHT_PX,
    NEWS_COLOUR,
    WIDTH_PX,
    coverage_chart,
    place_labels,
)

START = date(2020, 6, 1)
WEEKS = [(START + timedelta(weeks=i), 3 + (i * 7) % 11, (i * 5) % 4) for i in range(60)]
EVENTS = [
    (date(2020, 7, 6), "Article 15 communication to the ICC Prosecutor"),
    (date(2020, 9, 3), "Uyghur Tribunal launched"),
    (date(2020, 12, 14), "Prosecutor: no basis to proceed"),
    (date(2021, 6, 10), "Second submission"),
    (date(2021, 6, 16), "New Prosecutor takes office"),
]


def _pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGBA"))


def _plot_area(pixels: np.ndarray) -> np.ndarray:
    # Below the legend and title, above the date axis: where bars and event lines are drawn.
    return pixels[150:690, 130:1580]


def _count_colour(pixels: np.ndarray, colour: str) -> int:
    rgb = np.array([round(channel * 255) for channel in to_rgb(colour)])
    return int(np.all(pixels[:, :, :3] == rgb, axis=2).sum())


@pytest.fixture(scope="module")
def full_chart() -> np.ndarray:
    return _pixels(coverage_chart(WEEKS, EVENTS, title="ICC and the Uyghurs"))


@pytest.fixture(scope="module")
def chart_without_events() -> np.ndarray:
    return _pixels(coverage_chart(WEEKS, [], title="ICC and the Uyghurs"))


def test_chart_is_a_png_of_discord_size_and_not_blank(full_chart: np.ndarray) -> None:
    pixels = full_chart

    assert pixels.shape == (HEIGHT_PX, WIDTH_PX, 4) == (800, 1600, 4)
    assert pixels[:, :, :3].std() > 30  # a blank or near-blank image has almost no variance
    assert _count_colour(pixels, NEWS_COLOUR) > 5_000


def test_background_is_opaque_white_for_dark_and_light_themes(full_chart: np.ndarray) -> None:
    pixels = full_chart

    assert (pixels[:, :, 3] == 255).all()
    for corner in (pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]):
        assert tuple(corner) == (255, 255, 255, 255)


def test_court_items_are_drawn_in_their_own_colour(chart_without_events: np.ndarray) -> None:
    with_court = chart_without_events
    news_only = [(week, total, 0) for week, total, _ in WEEKS]
    without_court = _pixels(coverage_chart(news_only, [], title="t"))

    assert _count_colour(_plot_area(with_court), COURT_COLOUR) > 2_000
    assert _count_colour(_plot_area(without_court), COURT_COLOUR) == 0


def test_timeline_events_are_drawn(
    full_chart: np.ndarray, chart_without_events: np.ndarray
) -> None:
    with_events, without_events = full_chart, chart_without_events

    # Anti-aliased text leaves a few pixels of any grey; lines and the legend swatch are many.
    assert _count_colour(without_events, EVENT_COLOUR) < 200
    assert _count_colour(_plot_area(with_events), EVENT_COLOUR) > 1_000


@pytest.mark.parametrize(
    "weeks",
    [[], [(START, 0, 0), (START + timedelta(weeks=1), 0, 0)]],
    ids=["no weeks", "only empty weeks"],
)
def test_no_coverage_is_a_chart_saying_so_not_an_exception(
    weeks: list[tuple[date, int, int]],
) -> None:
    pixels = _pixels(coverage_chart(weeks, EVENTS, title="ICC and the Uyghurs"))

    assert pixels.shape == (HEIGHT_PX, WIDTH_PX, 4)
    assert _count_colour(pixels, NEWS_COLOUR) == 0
    middle = pixels[350:450, 300:1300, :3]
    assert (middle < 128).any()  # the message is written across the middle


def test_since_leaves_out_earlier_weeks() -> None:
    early_court = [(START, 10, 10), (START + timedelta(weeks=1), 8, 8)]
    later_news = [(date(2021, 1, 4) + timedelta(weeks=i), 5, 0) for i in range(8)]

    pixels = _pixels(
        coverage_chart(early_court + later_news, EVENTS, title="t", since=date(2021, 1, 1))
    )

    assert _count_colour(_plot_area(pixels), NEWS_COLOUR) > 2_000
    assert _count_colour(_plot_area(pixels), COURT_COLOUR) == 0


def test_since_after_all_data_is_the_empty_chart() -> None:
    pixels = _pixels(coverage_chart(WEEKS, EVENTS, title="t", since=date(2030, 1, 1)))

    assert _count_colour(pixels, NEWS_COLOUR) == 0
    assert _count_colour(pixels, EVENT_COLOUR) < 200


def test_charts_drawn_in_parallel_threads_match_the_sequential_ones() -> None:
    variants = [WEEKS[: 10 + 10 * n] for n in range(3)]
    sequential = [coverage_chart(weeks, EVENTS, title=f"chart {len(weeks)}") for weeks in variants]

    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(
            pool.map(
                lambda weeks: coverage_chart(weeks, EVENTS, title=f"chart {len(weeks)}"), variants
            )
        )

    assert parallel == sequential


def test_court_items_above_all_items_are_refused_naming_the_week() -> None:
    with pytest.raises(ValueError, match=r"week 1 \(2020-06-08\): court items \(5\) exceed"):
        coverage_chart([(START, 3, 1), (START + timedelta(weeks=1), 4, 5)], [], title="t")


def test_a_week_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"2020-06-01.*listed twice"):
        coverage_chart([(START, 3, 1), (START, 4, 0)], [], title="t")


# ---------------------------------------------------------------------------------------------
# label placement


def _overlaps(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[0] <= second[1] and second[0] <= first[1]


def test_dense_labels_never_overlap_within_a_row_and_stay_inside_the_plot() -> None:
    rng = random.Random(7)
    anchors = sorted(rng.uniform(0, 100) for _ in range(40))
    widths = [rng.uniform(5, 25) for _ in anchors]

    placement = place_labels(anchors, widths, rows=4, low=0, high=100)

    spans_by_row: dict[int, list[tuple[float, float]]] = {}
    for x, width, (row, left) in zip(anchors, widths, placement, strict=True):
        if row < 0:
            continue
        span = (x - width, x) if left else (x, x + width)
        assert span[0] >= 0
        assert span[1] <= 100
        for other in spans_by_row.get(row, []):
            assert not _overlaps(span, other)
        spans_by_row.setdefault(row, []).append(span)
    assert sum(row >= 0 for row, _ in placement) >= 12  # four rows of room get used


def test_labels_go_right_of_their_line_and_stagger_when_close() -> None:
    placement = place_labels([10, 12, 40], [20, 20, 20], rows=3, low=0, high=100)

    assert placement == [(0, False), (1, False), (0, False)]


def test_label_near_the_right_edge_sits_left_of_its_line() -> None:
    assert place_labels([95], [20], rows=2, low=0, high=100) == [(0, True)]


def test_label_without_room_is_left_out() -> None:
    placement = place_labels([10, 11, 12], [50, 50, 50], rows=2, low=0, high=100)

    assert placement[2] == (-1, False)


def test_label_placement_needs_a_row() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        place_labels([1], [1], rows=0, low=0, high=10)
