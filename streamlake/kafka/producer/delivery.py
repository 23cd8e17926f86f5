"""The delivery engine: one poll thread per producer completes every record.

librdkafka reports each record's fate (acknowledged, or why not) through a
delivery callback that runs in whichever thread calls ``poll()`` or
``flush()``. Here one thread does that for all the producer's librdkafka
clients (the raw and the dead-letter one), for every caller: it builds each
event's `ProduceResult`, counts it, logs it, and tells the event's `Waiter`
(a blocked thread, or an asyncio loop). Callers never flush to wait for
their own record while others are served: ``flush()`` waits for the whole
queue, so concurrent callers used to wait for each other's records.

Latency. librdkafka holds a record back for ``linger.ms`` (5 ms) to batch it
with others, and has no per-record "send now"; only a running ``flush()``
makes the broker threads ignore the linger. So while any caller is waiting
for a record, the poll thread serves the queue with short ``flush()`` calls
(`NUDGE_S`) instead of ``poll()``: a lone awaited record goes out at once,
while bulk producing, which waits on nobody's single record, keeps its
batches. Measured on the shared stack (500 sequential produce-and-wait,
README "Threads, and the latency of a single event"): poll thread with ``poll()`` 6.9 ms median
(the linger), ``flush(0)`` nudges 6.6 ms (the broker thread wakes after the
flush flag is gone), ``linger.ms=0`` 0.59 ms but bulk rate lower, flush while
waiting 0.52 ms, today's caller-side flush 0.55 ms.

A caller of ``produce()`` that finds nobody serving the queue serves it
itself (short ``flush()`` calls, under the same lock) until its own record
is complete: a lone caller's record then takes no hand-off to the poll
thread and back (measured as fast as the caller-side flush it replaces,
within the noise of a loaded machine).

Thread safety: results and `counts` are written only by whoever holds the
serving lock (the poll thread, a caller serving for its own record, or the
closing thread), so counts are exact without a lock per event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from streamlake._logging import quiet_repeats
from streamlake.errors import (
    InvalidEventError,
    KafkaDeliveryError,
    ProducerFatalError,
    StreamLakeError,
)

log = quiet_repeats(logging.getLogger(__name__))

NUDGE_S = 0.01
"""While someone waits: flush() for this long, which sends lingering records now."""
LEAD_S = 0.001
"""A caller serving the queue for its own record: flush() for this long at a
time. flush() returns only once the whole queue is empty, so with other
threads producing, a caller in a 10 ms flush() waited 10 ms after its own
record was done (16 threads, two runs each: p99 11.1-11.7 ms; 1 ms steps 7.8-8.6 ms)."""
BUSY_S = 0.05
"""While records are queued and nobody waits: poll() timeout."""
IDLE_S = 0.1
"""With nothing queued: sleep until woken, still serving client errors this often."""

Headers = list[tuple[str, str | bytes | None]]

_TRANSIENT = frozenset(
    {
        KafkaError._MSG_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._PURGE_QUEUE,
        KafkaError._PURGE_INFLIGHT,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        KafkaError.REQUEST_TIMED_OUT,
    }
)
"""Failures where the same record may be acknowledged if sent again later."""


class Outcome(StrEnum):
    PRODUCED = "produced"
    """Acknowledged by the broker in the raw topic."""
    DLQ = "dlq"
    """Invalid; acknowledged by the broker in the dead-letter topic."""
    FAILED = "failed"
    """Kafka did not acknowledge it (raw or DLQ write): ingestion failed."""


@dataclass(slots=True, kw_only=True)
class ProduceResult:
    """Where one event ended. `topic`/`partition`/`offset` are the raw topic's
    for ``produced``, the DLQ's for ``dlq``; `error` says why for the others.

    Not frozen: one is built per event, and a frozen dataclass sets each of
    its nine fields through object.__setattr__ (0.75 us more per event)."""

    outcome: Outcome
    dataset: str
    topic: str
    partition: int | None
    offset: int | None
    ingestion_id: str
    schema_id: int | None
    schema_version: str | None
    error: StreamLakeError | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where the events of one (dataset, version) go, and the ids their
    results report; shared by all of them."""

    dataset: str
    raw_topic: str
    dlq_topic: str
    schema_id: int | None
    schema_version: str | None


class Waiter(Protocol):
    """Told on the poll thread when an event's `result` is ready."""

    def completed(self, pending: Pending) -> None: ...


class Pending:
    """One event in flight; its delivery report completes it on the poll thread."""

    __slots__ = ("dead_lettered", "done", "engine", "ingestion_id", "result", "target", "waiter")

    def __init__(
        self, engine: DeliveryEngine, target: Target, ingestion_id: str, waiter: Waiter | None
    ) -> None:
        self.engine = engine
        self.target = target
        self.ingestion_id = ingestion_id
        self.waiter = waiter
        self.dead_lettered: InvalidEventError | None = None
        """Why it went to the DLQ, once it was sent there."""
        self.result: ProduceResult | None = None
        self.done = False

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        self.engine.reported += 1
        if err is None:
            self.engine.complete(self, msg.partition(), msg.offset(), None)
        else:
            self.engine.complete(self, None, None, delivery_error(err, msg.topic() or "", self))


class SyncWaiter:
    """Blocks one calling thread until the event it waits for is complete;
    remembers whether any of its events failed (for ``stop_on_failure``).
    With `lead`, its caller waits for each record it sends (`produce()`) and
    serves the queue itself when nobody else does, so sending need not wake
    the poll thread."""

    __slots__ = ("_event", "_head", "failed", "lead")

    def __init__(self, *, lead: bool = False) -> None:
        self._event = threading.Event()
        self._head: Pending | None = None
        self.failed = False
        self.lead = lead

    def completed(self, pending: Pending) -> None:
        assert pending.result is not None
        if pending.result.outcome is Outcome.FAILED:
            self.failed = True
        if pending is self._head:
            self._event.set()

    def wait(self, pending: Pending) -> None:
        # The poll thread sets `done` before it reads `_head`, and this thread
        # sets `_head` before it reads `done`: one of them sees the other.
        while not pending.done:
            self._event.clear()
            self._head = pending
            if not pending.done:
                self._event.wait(1.0)
        self._head = None


class DeliveryEngine:
    """The poll thread of one producer and the librdkafka clients it serves."""

    def __init__(self, name: str) -> None:
        self.counts = {outcome: 0 for outcome in Outcome}
        self._clients: list[Producer] = []
        self._fatal: dict[int, KafkaError] = {}
        """Fatal errors by id() of the client that had them."""
        self._failed: deque[tuple[Pending, StreamLakeError]] = deque()
        self._lock = threading.Lock()
        self._waiters = 0
        self._space = threading.Condition()
        self._space_waiters = 0
        self._serving = threading.Lock()
        """Held by whoever serves delivery reports: the poll thread, or a
        caller waiting for its own record; so results have one writer at a time."""
        self._handed = 0
        """Records librdkafka took (counted under `_lock`: callers' threads)..."""
        self.reported = 0
        """...and their delivery reports served (by the serving-lock holder)."""
        self._wake = threading.Event()
        self._idle = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"{name}-delivery", daemon=True)

    def client(self, conf: dict[str, Any]) -> Producer:
        """A librdkafka producer served by this engine; its fatal errors fail
        its own later records, not those of the engine's other clients."""
        created: list[Producer] = []

        def on_error(err: KafkaError) -> None:
            if err.fatal():
                self._fatal[id(created[0])] = err
                log.error(
                    "Kafka producer %s fatal error: %s (%s); recreate the producer",
                    conf.get("client.id", ""),
                    err.str(),
                    err.name(),
                )
            else:
                log.warning("Kafka: %s (%s)", err.str(), err.name())

        producer = Producer({**conf, "error_cb": on_error})
        created.append(producer)
        self._clients.append(producer)
        return producer

    def start(self) -> None:
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._stopping

    # --- callers' side ------------------------------------------------------
    def send(
        self,
        producer: Producer,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Headers,
        pending: Pending,
    ) -> bool:
        """Queue one record for `pending`, waiting while librdkafka's queue is
        full. False when librdkafka refuses it as larger than its
        message.max.bytes (nothing was sent); any other refusal fails `pending`."""
        fatal = self._fatal.get(id(producer)) if self._fatal else None
        if fatal is not None:
            self.fail(pending, fatal_error(fatal, topic, pending))
            return True
        while True:
            try:
                producer.produce(topic, value, key, headers=headers, on_delivery=pending)
                with self._lock:
                    self._handed += 1
                break
            except BufferError:
                self._wait_for_space()
            except KafkaException as exc:
                err = exc.args[0]
                if err.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                    return False
                self.fail(pending, delivery_error(err, topic, pending))
                return True
        if self._idle and not getattr(pending.waiter, "lead", False):
            self._wake.set()
        return True

    def fail(self, pending: Pending, error: StreamLakeError) -> None:
        """Complete `pending` as failed although librdkafka never took it (on
        the poll thread, like every other completion)."""
        self._failed.append((pending, error))
        self._wake.set()

    def queued(self) -> int:
        """Records librdkafka holds whose delivery report was not served yet.
        Not librdkafka's own count (``len(producer)``), which also counts
        error events waiting to be served and so swings while Kafka is down."""
        return self._handed - self.reported

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a caller's wait for a record: lingering records go out now."""
        with self._lock:
            self._waiters += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiters -= 1

    def wait(self, pending: Pending, waiter: SyncWaiter) -> None:
        """Block until `pending` is complete. When nobody is serving the
        queue, this thread does, until its record is complete: a lone
        caller's record then takes no hand-off to the poll thread and back."""
        if pending.done:
            return
        with self.waiting():
            if self._serving.acquire(blocking=False):
                try:
                    while not pending.done and not self._stopping:
                        self._serve_step(LEAD_S, waiting=True)
                finally:
                    self._serving.release()
            waiter.wait(pending)

    def _wait_for_space(self) -> None:
        with self._space:
            self._space_waiters += 1
            try:
                self._space.wait(0.1)
            finally:
                self._space_waiters -= 1

    # --- the poll thread ------------------------------------------------------
    def complete(
        self,
        pending: Pending,
        partition: int | None,
        offset: int | None,
        error: StreamLakeError | None,
    ) -> None:
        target = pending.target
        if error is not None:
            outcome, topic = Outcome.FAILED, target.raw_topic
            partition = offset = None
            log.warning("ingestion %s failed: %s", pending.ingestion_id, error)
        elif pending.dead_lettered is not None:
            outcome, topic, error = Outcome.DLQ, target.dlq_topic, pending.dead_lettered
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "ingestion %s -> DLQ %s [%s] @%s: %s",
                    pending.ingestion_id,
                    topic,
                    partition,
                    offset,
                    error,
                )
        else:
            outcome, topic = Outcome.PRODUCED, target.raw_topic
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "ingestion %s -> %s [%s] @%s", pending.ingestion_id, topic, partition, offset
                )
        self.counts[outcome] += 1
        pending.result = ProduceResult(
            outcome=outcome,
            dataset=target.dataset,
            topic=topic,
            partition=partition,
            offset=offset,
            ingestion_id=pending.ingestion_id,
            schema_id=target.schema_id,
            schema_version=target.schema_version,
            error=error,
        )
        pending.done = True
        if pending.waiter is not None:
            pending.waiter.completed(pending)

    def _run(self) -> None:
        while not self._stopping:
            try:
                # `_idle` is set before the queues are read and senders read it
                # after queueing: this thread sees the record or is woken.
                self._idle = True
                if not self._failed and not any(len(producer) for producer in self._clients):
                    self._wake.wait(IDLE_S)
                    self._wake.clear()
                self._idle = False
                with self._serving:
                    self._serve_step(BUSY_S, waiting=self._waiters > 0)
                if self._space_waiters:
                    with self._space:
                        self._space.notify_all()
            except Exception:  # a bug in a callback must not stop every delivery
                log.exception("delivery engine: unexpected error while serving delivery reports")

    def _serve_step(self, timeout: float, *, waiting: bool) -> None:
        """Serve delivery reports once, holding `_serving`. While someone
        waits, flush() the clients holding records: that sends them now."""
        queued = [producer for producer in self._clients if len(producer)]
        if waiting and queued:
            for producer in queued:
                producer.flush(min(timeout, NUDGE_S))
        elif queued:
            queued[0].poll(timeout)
        elif waiting:  # its record is being reported: do not spin meanwhile
            self._clients[0].poll(timeout)
        for producer in self._clients:
            if producer not in queued:
                producer.poll(0)  # error callbacks and log lines
        self._settle_failures()

    def _settle_failures(self) -> None:
        while self._failed:
            pending, error = self._failed.popleft()
            self.complete(pending, None, None, error)

    # --- shutdown -------------------------------------------------------------
    def close(self, timeout: float) -> int:
        """Stop the poll thread, flush every client for at most `timeout`
        seconds in all, purge what is left (each purged record completes as
        failed) and return how many records were not delivered."""
        if self._stopping:
            return 0
        self._stopping = True
        self._wake.set()
        self._thread.join()
        with self._serving:  # a caller serving for its own record stops
            return self._flush_and_purge(timeout)

    def _flush_and_purge(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        left = 0
        for producer in self._clients:
            left += producer.flush(max(0.0, deadline - time.monotonic()))
        if left:
            log.error(
                "shutdown: %d record(s) not acknowledged within %.0fs; purging them", left, timeout
            )
            for producer in self._clients:
                producer.purge()
                producer.poll(0)
        self._settle_failures()
        return int(left)


def delivery_error(err: KafkaError, topic: str, pending: Pending) -> KafkaDeliveryError:
    """librdkafka's error for one record as StreamLake's, with its context."""
    if err.fatal():
        return fatal_error(err, topic, pending)
    which = "dead-letter" if pending.dead_lettered is not None else "raw"
    # Delivery reports rarely set the retriable flag: decide by code as well.
    retriable = err.retriable() or err.code() in _TRANSIENT
    return KafkaDeliveryError(
        f"Kafka did not acknowledge the {which} record of ingestion {pending.ingestion_id} "
        f"for {topic}: {err.str()} ({err.name()})"
        + (". Retrying later may succeed" if retriable else ""),
        code=err.name(),
        retriable=retriable,
        dataset=pending.target.dataset,
        topic=topic,
        ingestion_id=pending.ingestion_id,
    )


def fatal_error(err: KafkaError, topic: str, pending: Pending) -> ProducerFatalError:
    return ProducerFatalError(
        f"the Kafka producer hit a fatal error ({err.str()}, {err.name()}) and cannot "
        f"produce ingestion {pending.ingestion_id} for {topic}; close this producer and "
        "create a new one",
        code=err.name(),
        retriable=False,
        dataset=pending.target.dataset,
        topic=topic,
        ingestion_id=pending.ingestion_id,
    )
