"""Rate limits of the live pages (hwb_toolkit/apps/live/limits.py)."""

from __future__ import annotations

import pytest

from hwb_toolkit.apps.live.limits import LIMITS, RateLimiter, wait_words


def test_a_burst_is_allowed_then_refused_with_the_wait_until_the_next_token():
    limiter = RateLimiter({"post_it": (3.0, 0.5)})  # 3 at once, then one every 2 s
    assert [limiter.take("post_it", "p_1", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("post_it", "p_1", 100.0) == pytest.approx(2.0)
    assert limiter.take("post_it", "p_1", 101.0) == pytest.approx(1.0)
    assert limiter.take("post_it", "p_1", 102.0) == 0.0  # refilled
    assert limiter.take("post_it", "p_2", 102.0) == 0.0  # another person has their own bucket


def test_a_bucket_never_holds_more_than_its_burst():
    limiter = RateLimiter({"vote": (2.0, 1.0)})
    limiter.take("vote", "p_1", 0.0)
    waits = [limiter.take("vote", "p_1", 1000.0) for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0


def test_the_default_limits_let_a_person_through_and_stop_a_script():
    limiter = RateLimiter()
    # A person: 2 post-its and 10 votes within a minute.
    assert all(limiter.take("post_it", "p_1", t) == 0.0 for t in (0.0, 40.0))
    assert all(limiter.take("vote", "p_1", t * 3.0) == 0.0 for t in range(10))
    # A script: 200 post-its in one second; only the burst gets through.
    accepted = sum(limiter.take("post_it", "bot", 5.0 + n / 200) == 0.0 for n in range(200))
    assert accepted == LIMITS["post_it"][0]


@pytest.mark.parametrize(("seconds", "words"), [
    (0.2, "about 1 second"), (4.1, "about 5 seconds"), (59.5, "about 1 minute"),
    (61, "about 2 minutes"), (120, "about 2 minutes"),
])
def test_wait_words(seconds, words):
    assert wait_words(seconds) == words
