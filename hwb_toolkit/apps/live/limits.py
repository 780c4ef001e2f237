"""Rate limits for the live participant pages: token buckets kept in the server's memory.

Role: floor 4 (UI serving), pure (the clock is passed in). A room of phones writes a few
times a minute each; a script can write hundreds of times a second. Each participant
(and, for joining, each network address) gets buckets that refill steadily: a person
never notices them, a flood is refused with a kind message and the seconds to wait.

The limits (:data:`LIMITS`) are generous for a person and small for a script:

========== ========= ============================ ==========================================
kind       burst     steady rate                  what it covers
========== ========= ============================ ==========================================
post_it    5         one per 6 s (10 a minute)    post-its of one participant
vote       30        two a second                 dots and agree/disagree of one participant
join       300       five a second                new participants from one address (a
                                                  venue's wifi may share one address)
code       10        one per 6 s                  wrong join codes typed from one address
stream     4         (not refilled)               live streams one participant holds open
========== ========= ============================ ==========================================
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

#: kind -> (burst, tokens per second)
LIMITS: dict[str, tuple[float, float]] = {
    "post_it": (5.0, 1 / 6),
    "vote": (30.0, 2.0),
    "join": (300.0, 5.0),
    "code": (10.0, 1 / 6),
}
#: Most live streams one participant may hold open at once (tabs of one browser).
MAX_STREAMS_PER_PARTICIPANT = 4
#: Buckets remembered at most: the oldest are forgotten first (a full bucket is the
#: default, so forgetting one only ever lets a quiet client act at once).
MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per (kind, key). :meth:`take` answers 0 (go ahead) or the seconds to
    wait before the next attempt can succeed."""

    def __init__(self, limits: dict[str, tuple[float, float]] | None = None) -> None:
        self.limits = dict(LIMITS if limits is None else limits)
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def take(self, kind: str, key: str, now: float) -> float:
        """Take one token from ``key``'s ``kind`` bucket at time ``now`` (seconds, any
        monotonic clock). Returns 0.0 when taken, else the seconds until one is free."""
        burst, rate = self.limits[kind]
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            bucket = _Bucket(burst, now)
            self._buckets[(kind, key)] = bucket
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end((kind, key))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


def wait_words(seconds: float) -> str:
    """``seconds`` to wait, in words a participant reads at a glance ("about 5 seconds")."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"about {whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"
