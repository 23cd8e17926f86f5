"""How the library logs: silently unless the application configures logging,
and a warning that repeats (a broker refusing every reconnect) once per
interval with a count, not once per retry.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

REPEAT_INTERVAL_S = 10.0
_DIGITS = re.compile(r"\d+")
_MAX_KEYS = 1_000


class RepeatFilter(logging.Filter):
    """Lets the first of a run of alike warnings through, drops the rest for
    `interval_s`, then lets the next one through saying how many it dropped.

    Messages are alike when they differ only in numbers (librdkafka's
    ``after 12ms``, ports, counts). Records below WARNING pass untouched.
    """

    def __init__(
        self,
        interval_s: float = REPEAT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, int, str], list[float]] = {}
        """key -> [when last let through, how many dropped since]"""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        message = record.getMessage()
        key = (record.name, record.levelno, _DIGITS.sub("#", message))
        now = self._clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < self.interval_s:
                seen[1] += 1
                return False
            if len(self._seen) >= _MAX_KEYS:
                self._seen.clear()
            self._seen[key] = [now, 0]
        dropped = int(seen[1]) if seen is not None else 0
        if dropped:
            record.msg = f"{message} ({dropped} more like it in the last {self.interval_s:g} s)"
            record.args = ()
        return True


def quiet_repeats(logger: logging.Logger) -> logging.Logger:
    """`logger`, with its repeated warnings logged once per interval."""
    logger.addFilter(RepeatFilter())
    return logger
