"""Producing a JSON-lines stream: one event per line, results per line.

`produce_lines` streams any iterable of lines (a file of millions of lines
runs in flat memory) through `IngestionProducer.produce_many`. Blank lines are
skipped and counted; a line that is not JSON goes to the DLQ as
``invalid_json``. When Kafka fails, reading stops, what is in flight is
settled, and the summary says which line was the last one attempted. Setting
the `stop` event (e.g. from a SIGTERM handler) ends it the same way.

Defence in depth: should anything unexpected be raised while a line is
produced, reading stops the same way and the summary names the error and the
lines in flight whose results were lost with it (`unsettled`); the caller
settles them by closing the producer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from streamlake.kafka.producer.producer import IngestionProducer, Outcome, ProduceResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class LinesSummary:
    produced: int
    dlq: int
    failed: int
    blank: int
    last_line: int
    """The last line read and attempted; lines after it were not tried."""
    complete: bool
    """True when the whole input was read (no Kafka failure, no stop request)."""
    stopped_by: str | None
    """Why reading stopped early: "kafka failure", "stop requested" or
    "unexpected error: ..."."""
    elapsed_s: float
    unsettled: tuple[int, ...] = ()
    """Lines in flight when an unexpected error stopped the run: sent, but
    their results are lost (closing the producer still flushes them)."""
    stopped_by_error: bool = False
    """True when an unexpected error stopped the run."""

    @property
    def rate(self) -> float:
        attempted = self.produced + self.dlq + self.failed
        return attempted / self.elapsed_s if self.elapsed_s > 0 else 0.0


def produce_lines(
    producer: IngestionProducer,
    dataset: str,
    lines: Iterable[bytes],
    *,
    version: int | None = None,
    json_encoding: str | None = None,
    on_result: Callable[[int, ProduceResult], None] | None = None,
    stop: threading.Event | None = None,
) -> LinesSummary:
    """Produce every non-blank line of `lines`; call `on_result(line_number,
    result)` for each, in input order."""
    started = time.monotonic()
    numbers: deque[int] = deque()  # line numbers of events in flight, in order
    counts = {outcome: 0 for outcome in Outcome}
    state = {"line": 0, "blank": 0, "exhausted": False}

    def events() -> Iterator[bytes]:
        for number, line in enumerate(lines, start=1):
            if stop is not None and stop.is_set():
                return
            state["line"] = number
            if not line.strip():
                state["blank"] += 1
                continue
            numbers.append(number)
            yield line.rstrip(b"\r\n")
        state["exhausted"] = True

    error: Exception | None = None
    try:
        for result in producer.produce_many(
            dataset,
            events(),
            version=version,
            json_encoding=json_encoding,
            stop_on_failure=True,
        ):
            number = numbers.popleft()
            counts[result.outcome] += 1
            if on_result is not None:
                on_result(number, result)
    except Exception as exc:  # a bug must not lose what was acknowledged before it
        # The caller reports it in one line; the traceback is for debugging.
        log.debug("stopped at line %d on an unexpected error", state["line"], exc_info=True)
        error = exc

    complete = bool(state["exhausted"]) and error is None
    stopped_by = None
    if error is not None:
        stopped_by = f"unexpected error: {type(error).__name__}: {error}"
    elif not complete:
        stopped_by = "kafka failure" if counts[Outcome.FAILED] else "stop requested"
    return LinesSummary(
        produced=counts[Outcome.PRODUCED],
        dlq=counts[Outcome.DLQ],
        failed=counts[Outcome.FAILED],
        blank=int(state["blank"]),
        last_line=int(state["line"]),
        complete=complete,
        stopped_by=stopped_by,
        elapsed_s=time.monotonic() - started,
        unsettled=tuple(numbers) if error is not None else (),
        stopped_by_error=error is not None,
    )
