"""Builders shared by the reliability tests and their conftest.py: a valid
event, a keyed event stream held at a gate, a fault run off the produce loop,
the read-back audit of a topic, a free port, the `streamlake` executable and a
clean environment for it.

Imported as ``tests.reliability.faulthelpers``, not from a ``conftest``: a
fixture module is no place for helpers other modules import.
"""

from __future__ import annotations

import io
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro

from tests.readback import Record
from tests.servehelpers import free_port, streamlake_exe  # shared with the serve tests

__all__ = [
    "DATASET",
    "GATE_WAIT_S",
    "ORDERS",
    "ROOT",
    "Audit",
    "Fault",
    "audit",
    "cli_env",
    "free_port",
    "keyed_events",
    "order",
    "streamlake_exe",
]

ROOT = Path(__file__).resolve().parents[2]
ORDERS = ROOT / "avro" / "orders"
DATASET = "orders"


def order(order_id: str, amount: float = 1.0, **fields: Any) -> dict[str, Any]:
    """A valid orders v2 event."""
    return {
        "order_id": order_id,
        "customer_id": "CUST-1",
        "amount": amount,
        "event_time": "2026-01-21T10:00:00Z",
        "currency": "EUR",
        **fields,
    }


GATE_WAIT_S = 240.0
"""What a fault may take: `scripts/stack` waits up to 60 s for a server to
stop and 120 s for one to be ready (a registry restart in CI once took over
120 s)."""


def keyed_events(count: int, hold: Callable[[], None], hold_at: int) -> Iterator[dict[str, Any]]:
    """`count` orders keyed K0..K49, each key's amount increasing with i (its
    send order); before event `hold_at`, call `hold` (a bounded wait)."""
    for i in range(count):
        if i == hold_at:
            hold()
        yield order(f"K{i % 50}", amount=float(i))


class Fault(threading.Thread):
    """Runs fault steps off the produce loop: a tuple is a `stack.control`
    command, a callable is called. `first` is set once the first step ran (or
    failed), `done` once all did; `error` holds what failed. `wait_first` and
    `wait_done` hold a stream until then, and say which step is late."""

    def __init__(self, stack: Any, *steps: tuple[str, ...] | Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.steps = steps
        self.step = "not started"
        self.first = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for step in self.steps:
                self.step = " ".join(step) if isinstance(step, tuple) else step.__name__
                if callable(step):
                    step()
                else:
                    self.stack.control(*step)
                self.first.set()
            self.step = "finished"
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.first.set()
            self.done.set()

    def wait_first(self) -> None:
        self._wait(self.first)

    def wait_done(self) -> None:
        self._wait(self.done)

    def _wait(self, gate: threading.Event) -> None:
        assert gate.wait(GATE_WAIT_S), (
            f"the fault was not injected within {GATE_WAIT_S:.0f}s: still at {self.step!r}"
        )


@dataclass(frozen=True)
class Audit:
    """A topic read back against what the producer reported."""

    stored: int
    duplicates: int
    """Records whose ingestion id is stored more than once."""
    acknowledged_missing: int
    """Acknowledged ids not stored at their acknowledged (partition, offset)..."""
    offsetless: int
    """Acknowledged without an offset (librdkafka's answer for a retry the broker
    found already written) and stored once in the acknowledged partition: not missing."""
    misplaced: tuple[tuple[str, tuple[int, int], tuple[int, int] | None], ...]
    """...each as (id, acknowledged at, stored at or None), for the failure message."""
    stored_unacknowledged: frozenset[str]
    """Stored ids never acknowledged (written, but the acknowledgement was lost)."""
    out_of_order: int
    """Records of a key whose amount (its send order) is not above the previous one's."""
    keys: int


def audit(records: list[Record], acked: Mapping[str, tuple[int, int]], schema: Any) -> Audit:
    """Compare `records` (ordered by partition, offset) with `acked`
    (ingestion id -> (partition, offset)); amounts are decoded with `schema`."""
    ids = Counter(r.headers["ingestion_id"] for r in records)
    where = {r.headers["ingestion_id"]: (r.partition, r.offset) for r in records}
    parsed = fastavro.parse_schema(dict(schema))
    last: dict[tuple[int, bytes], float] = {}
    reordered = 0
    for r in records:
        amount = fastavro.schemaless_reader(io.BytesIO(r.value[5:]), parsed)["amount"]
        key = (r.partition, r.key or b"")
        if key in last and amount <= last[key]:
            reordered += 1
        last[key] = amount
    offsetless = {i for i, (p, o) in acked.items() if o is None and where.get(i, (None,))[0] == p}
    misplaced = [
        (i, at, where.get(i))
        for i, at in acked.items()
        if where.get(i) != at and i not in offsetless
    ]
    return Audit(
        stored=len(records),
        duplicates=sum(n - 1 for n in ids.values()),
        acknowledged_missing=len(misplaced),
        offsetless=len(offsetless),
        misplaced=tuple(misplaced[:20]),
        stored_unacknowledged=frozenset(set(where) - set(acked)),
        out_of_order=reordered,
        keys=len(last),
    )


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a `streamlake` subprocess: no STREAMLAKE_* leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLAKE_")}
    env.update(extra)
    return env
