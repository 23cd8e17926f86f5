"""Producing a JSON-lines stream: one event per line, results per line.

`produce_lines` streams any iterable of lines (a file of millions of lines
runs in flat memory) through `IngestionProducer.produce_many`. Blank lines are
skipped and counted; a line that is not JSON goes to the DLQ as
``invalid_json``. When Kafka fails, reading stops, what is in flight is
settled, and the summary says which line was the last one attempted. Setting
the `stop` event (e.g. from a SIGTERM handler) ends it the same way.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from streamlake.kafka.producer.producer import IngestionProducer, Outcome, ProduceResult


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
    """Why reading stopped early: "kafka failure" or "stop requested"."""
    elapsed_s: float

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

    for result in producer.produce_many(dataset, events(), version=version, stop_on_failure=True):
        number = numbers.popleft()
        counts[result.outcome] += 1
        if on_result is not None:
            on_result(number, result)

    complete = bool(state["exhausted"])
    stopped_by = None
    if not complete:
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
    )
