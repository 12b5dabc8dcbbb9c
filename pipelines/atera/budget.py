"""Sharing the account's request budget with the MSP's other integrations.

Atera's limit (700 requests a minute) is per account: the PSA sync, billing and
automations all draw from it. `rate_limit_per_minute` is this project's share,
kept by the client's own limiter. What others send is only seen in Atera's
answers, and `RateGate` acts on it for every worker thread at once:

* a 429 closes the gate until `Retry-After` (or a backoff) has passed, so the
  other workers stop too instead of each collecting its own 429;
* `X-RateLimit-Remaining` at or below the number of workers closes the gate
  until `X-RateLimit-Reset` (seconds to wait, or an epoch time), when Atera
  sends them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

MAX_PAUSE_SECONDS = 120.0
"""Longest pause a header can ask for (a misread epoch must not stop a run for hours)."""

EPOCH_THRESHOLD = 1_000_000_000
"""A reset value above this is an epoch time, below it a number of seconds."""


def reset_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds until the window resets, from `X-RateLimit-Reset` (delta or epoch seconds)."""
    if not value:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number > EPOCH_THRESHOLD:
        number -= time.time() if now is None else now
    return min(MAX_PAUSE_SECONDS, max(0.0, number))


class RateGate:
    """A gate every request passes; closed for a while when Atera says the account is busy.

    Args:
        reserve: close the gate when `X-RateLimit-Remaining` falls to this (the
            number of requests that may be in flight at once).
    """

    def __init__(self, reserve: int) -> None:
        self.reserve = max(0, reserve)
        self.pauses = 0
        self._open_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the gate is open; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._open_at - time.monotonic()
            if delay <= 0:
                return waited
            time.sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Keep the gate closed for `seconds` from now (a longer pause already set wins)."""
        seconds = min(MAX_PAUSE_SECONDS, max(0.0, seconds))
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._open_at:
                self._open_at = until
                self.pauses += 1

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read `X-RateLimit-Remaining` / `X-RateLimit-Reset` of an answer, when sent."""
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            left = int(float(remaining))
        except ValueError:
            return
        if left <= self.reserve:
            wait = reset_seconds(headers.get("X-RateLimit-Reset"))
            self.pause(1.0 if wait is None else wait)
