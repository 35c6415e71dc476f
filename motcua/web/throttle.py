"""Sign-in throttling: slow a password guesser down without locking the real user out.

Failed sign-ins are counted in a moving window (15 minutes) under three keys:
- the user name from one address: from the third failure on, that address must wait before it may
  try that name again, twice as long after each further failure (1 s, 2 s, 4 s ... 5 minutes);
- the user name from anywhere: from the fifth failure on, every attempt at that name is answered
  late (0.25 s, doubling, at most 2 s) — slower for a guesser, never a refusal for the real user,
  who signs in from their own address with the right password;
- the address: at most 30 failures per window, whatever the names (a guesser spraying names).
A successful sign-in clears the name's counts (from that address and from anywhere).

In memory: one `motcua serve` process is one office's server; several processes would each count
on their own. The counts are bounded (`max_keys`) so a flood of names cannot grow them forever.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class ThrottleVerdict:
    """What to do with one sign-in attempt."""

    retry_after: float  # > 0: refuse the attempt; this address may try again after so long
    delay: float  # seconds to hold the answer back (slows guessing one name from many addresses)
    by_address: bool = False  # refused for the address's failures, not the name's

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


class SignInThrottle:
    """Failed sign-ins per (name, address), per name and per address; see the module docstring."""

    def __init__(
        self,
        *,
        window: float = WINDOW_SECONDS,
        pair_free: int = 3,
        pair_max_wait: float = 300.0,
        name_free: int = 5,
        name_base_delay: float = 0.25,
        name_max_delay: float = 2.0,
        per_address: int = 30,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.pair_free = pair_free
        self.pair_max_wait = pair_max_wait
        self.name_free = name_free
        self.name_base_delay = name_base_delay
        self.name_max_delay = name_max_delay
        self.per_address = per_address
        self.max_keys = max_keys
        self._clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str, address: str) -> ThrottleVerdict:
        """The verdict on an attempt at `username` from `address`, before checking the password."""
        name, now = _name(username), self._clock()
        with self._lock:
            by_address = self._recent(("address", address), now)
            if len(by_address) >= self.per_address:
                return ThrottleVerdict(by_address[0] + self.window - now, 0.0, by_address=True)
            pair = self._recent(("pair", name, address), now)
            if len(pair) >= self.pair_free:
                wait = min(2.0 ** (len(pair) - self.pair_free), self.pair_max_wait)
                retry_after = pair[-1] + wait - now
                if retry_after > 0:
                    return ThrottleVerdict(retry_after, 0.0)
            return ThrottleVerdict(0.0, self._delay(len(self._recent(("name", name), now))))

    def delay_for(self, username: str) -> float:
        """Seconds every attempt at `username` is held back, from whatever address."""
        with self._lock:
            return self._delay(len(self._recent(("name", _name(username)), self._clock())))

    def failed(self, username: str, address: str) -> None:
        name, now = _name(username), self._clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._forget_expired(now)
            for key in (("pair", name, address), ("name", name), ("address", address)):
                if key not in self._failures and len(self._failures) >= self.max_keys:
                    continue  # full of live counts: keep the ones we have
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, address: str) -> None:
        name = _name(username)
        with self._lock:
            self._failures.pop(("pair", name, address), None)
            self._failures.pop(("name", name), None)

    def _delay(self, failures: int) -> float:
        if failures < self.name_free:
            return 0.0
        return float(min(self.name_base_delay * 2 ** (failures - self.name_free),
                         self.name_max_delay))  # fmt: skip

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _forget_expired(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)


def _name(username: str) -> str:
    return username.strip().lower()


class RateLimit:
    """At most `limit` events per key in a moving window of `window` seconds (in memory, bounded
    like `SignInThrottle`). `hit(key)` counts one and answers how long to wait (0: go on)."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count an event for `key`; > 0: refused, retry after so many seconds (not counted)."""
        now = self._clock()
        with self._lock:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                return max(times[0] + self.window - now, 0.001)
            if key not in self._events and len(self._events) >= self.max_keys:
                for other in list(self._events):
                    self._recent(other, now)
                if len(self._events) >= self.max_keys:
                    return self.window  # full of live keys: refuse newcomers rather than grow
            self._events.setdefault(key, times).append(now)
            return 0.0

    def blocked(self, key: str) -> float:
        """Seconds `key` must still wait, without counting an event."""
        now = self._clock()
        with self._lock:
            times = self._recent(key, now)
            return max(times[0] + self.window - now, 0.001) if len(times) >= self.limit else 0.0

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._events.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._events[key]
        return times
