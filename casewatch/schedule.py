"""When to poll a source next: pure decisions on values, no I/O and no clock of their own.

After a success a source is polled again one interval later, give or take a little jitter so
sources configured together do not stay in lock-step. After failures the delay grows
exponentially with full jitter, capped, never below the interval and never below a server's
Retry-After (itself capped, so a hostile header cannot silence a source for a year).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

DEFAULT_BACKOFF_CAP_S = 6 * 3600.0
RETRY_AFTER_CAP_S = 24 * 3600.0
# 2**60 times any sane interval is far beyond every cap; stops float overflow on long outages.
_MAX_EXPONENT = 60


def next_poll(
    now: datetime,
    interval_s: float,
    *,
    jitter_fraction: float = 0.1,
    rng: random.Random,
) -> datetime:
    """The next poll after a success: `interval_s` later, +/- `jitter_fraction` of it."""
    _require_aware(now, "now")
    _require_positive(interval_s, "interval_s")
    if not 0.0 <= jitter_fraction < 1.0:
        raise ValueError(f"jitter_fraction must be in [0, 1), got {jitter_fraction}")
    factor = 1.0 + rng.uniform(-jitter_fraction, jitter_fraction)
    return now + timedelta(seconds=interval_s * factor)


def backoff_delay(
    failures: int,
    interval_s: float,
    *,
    retry_after: float | None = None,
    cap_s: float = DEFAULT_BACKOFF_CAP_S,
    rng: random.Random,
) -> float:
    """Seconds to wait after `failures` consecutive failures (1 = the first failure).

    Full jitter between the interval and min(cap, interval * 2**failures); never shorter than
    the interval, and never shorter than `retry_after` (which is itself capped at 24 hours).
    """
    if failures < 1:
        raise ValueError(f"failures counts consecutive failures and must be >= 1, got {failures}")
    _require_positive(interval_s, "interval_s")
    _require_positive(cap_s, "cap_s")
    ceiling = min(cap_s, interval_s * 2.0 ** min(failures, _MAX_EXPONENT))
    delay = rng.uniform(interval_s, max(interval_s, ceiling))
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_S))
    return delay


def is_due(next_poll_at: datetime | None, now: datetime) -> bool:
    """True when a source should be polled now; a source never polled is always due."""
    _require_aware(now, "now")
    if next_poll_at is None:
        return True
    _require_aware(next_poll_at, "next_poll_at")
    return next_poll_at <= now


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")


def _require_positive(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {value}")
