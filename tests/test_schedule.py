"""Scheduling decisions: next poll after success, backoff after failures, due-ness."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from casewatch.schedule import (
    RETRY_AFTER_CAP_S,
    backoff_delay,
    is_due,
    next_poll,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SEEDS = range(200)


@pytest.mark.parametrize(
    ("interval_s", "jitter"),
    [(1800, 0.1), (60, 0.0), (86400, 0.25), (0.5, 0.5)],
)
def test_next_poll_stays_within_the_jitter_band(interval_s: float, jitter: float) -> None:
    low = NOW + timedelta(seconds=interval_s * (1 - jitter))
    high = NOW + timedelta(seconds=interval_s * (1 + jitter))
    for seed in SEEDS:
        when = next_poll(NOW, interval_s, jitter_fraction=jitter, rng=random.Random(seed))
        assert low <= when <= high


def test_next_poll_without_jitter_is_exactly_one_interval_later() -> None:
    assert next_poll(NOW, 900, jitter_fraction=0.0, rng=random.Random(1)) == NOW + timedelta(
        seconds=900
    )


def test_next_poll_jitter_spreads_sources_polled_together() -> None:
    rng = random.Random(7)
    times = {next_poll(NOW, 1800, rng=rng) for _ in range(50)}
    assert len(times) == 50
    spread = (max(times) - min(times)).total_seconds()
    assert spread > 1800 * 0.1  # most of the +/-10% band is used


def test_next_poll_is_reproducible_with_a_seeded_rng() -> None:
    first = next_poll(NOW, 600, rng=random.Random(42))
    assert first == next_poll(NOW, 600, rng=random.Random(42))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"now": datetime(2026, 1, 1), "interval_s": 60}, "timezone-aware"),
        ({"now": NOW, "interval_s": 0}, "interval_s must be a positive"),
        ({"now": NOW, "interval_s": float("nan")}, "interval_s must be a positive"),
        ({"now": NOW, "interval_s": 60, "jitter_fraction": 1.0}, "jitter_fraction"),
        ({"now": NOW, "interval_s": 60, "jitter_fraction": -0.1}, "jitter_fraction"),
    ],
)
def test_next_poll_rejects_bad_input_with_a_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next_poll(rng=random.Random(0), **kwargs)


# failures, interval, retry_after, cap -> the range every delay must fall in
BACKOFF_TABLE = [
    pytest.param(1, 60, None, 6 * 3600, 60, 120, id="first failure: up to twice the interval"),
    pytest.param(2, 60, None, 6 * 3600, 60, 240, id="second failure doubles the ceiling"),
    pytest.param(5, 60, None, 6 * 3600, 60, 60 * 32, id="fifth failure"),
    pytest.param(20, 60, None, 6 * 3600, 60, 6 * 3600, id="long outage hits the cap"),
    pytest.param(10_000, 60, None, 3600, 60, 3600, id="huge failure count does not overflow"),
    pytest.param(3, 86400, None, 6 * 3600, 86400, 86400, id="never shorter than the interval"),
    pytest.param(1, 60, 900, 6 * 3600, 900, 900, id="retry-after longer than backoff wins"),
    pytest.param(4, 60, 30, 6 * 3600, 60, 960, id="short retry-after does not shorten"),
    pytest.param(1, 60, 10 * 3600, 6 * 3600, 10 * 3600, 10 * 3600, id="retry-after beats cap"),
    pytest.param(
        1, 60, 365 * 86400, 6 * 3600, RETRY_AFTER_CAP_S, RETRY_AFTER_CAP_S, id="absurd retry-after"
    ),
    pytest.param(1, 60, -5, 6 * 3600, 60, 120, id="negative retry-after ignored"),
    pytest.param(1, 60, float("inf"), 6 * 3600, 60, 120, id="infinite retry-after ignored"),
]


@pytest.mark.parametrize(
    ("failures", "interval", "retry_after", "cap", "low", "high"), BACKOFF_TABLE
)
def test_backoff_delay_stays_in_its_band(
    failures: int,
    interval: float,
    retry_after: float | None,
    cap: float,
    low: float,
    high: float,
) -> None:
    for seed in SEEDS:
        delay = backoff_delay(
            failures, interval, retry_after=retry_after, cap_s=cap, rng=random.Random(seed)
        )
        assert low <= delay <= high


def test_backoff_delay_is_jittered_across_the_band() -> None:
    delays = [backoff_delay(6, 60, rng=random.Random(seed)) for seed in SEEDS]
    ceiling = 60 * 2**6
    assert min(delays) < 60 + 0.1 * (ceiling - 60)
    assert max(delays) > ceiling - 0.1 * (ceiling - 60)


def test_backoff_delay_grows_on_average_with_each_failure() -> None:
    def mean(failures: int) -> float:
        return sum(backoff_delay(failures, 60, rng=random.Random(s)) for s in SEEDS) / len(SEEDS)

    means = [mean(n) for n in range(1, 8)]
    assert means == sorted(means)
    assert means[-1] > 10 * means[0]


def test_backoff_delay_is_reproducible_with_a_seeded_rng() -> None:
    assert backoff_delay(3, 300, rng=random.Random(9)) == backoff_delay(
        3, 300, rng=random.Random(9)
    )


@pytest.mark.parametrize(
    ("failures", "interval", "cap", "message"),
    [
        (0, 60, 3600, "failures .* must be >= 1, got 0"),
        (1, 0, 3600, "interval_s must be a positive"),
        (1, 60, 0, "cap_s must be a positive"),
    ],
)
def test_backoff_delay_rejects_bad_input(
    failures: int, interval: float, cap: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        backoff_delay(failures, interval, cap_s=cap, rng=random.Random(0))


@pytest.mark.parametrize(
    ("next_poll_at", "expected"),
    [
        (None, True),
        (NOW - timedelta(seconds=1), True),
        (NOW, True),
        (NOW + timedelta(seconds=1), False),
        (datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=1))), False),
    ],
)
def test_is_due(next_poll_at: datetime | None, expected: bool) -> None:
    assert is_due(next_poll_at, NOW) is expected


def test_is_due_compares_instants_across_time_zones() -> None:
    from zoneinfo import ZoneInfo

    paris_noon = datetime(2026, 3, 1, 12, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 11:30 UTC
    assert is_due(paris_noon, NOW) is True


def test_is_due_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="next_poll_at must be timezone-aware"):
        is_due(datetime(2026, 3, 1, 11, 0), NOW)
