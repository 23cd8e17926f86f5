"""The ingestion producer: external events in, acknowledged Kafka records out.

The design's eight steps, per event: accept a payload for a dataset, extract
the key (the dataset's key field as a UTF-8 string), generate an
`ingestion_id`, attach the metadata headers, serialize the value as Avro in
the Confluent wire format against the chosen schema version, produce to the
raw topic, wait for the broker's acknowledgement, and return the result.

Invalid events go to the dataset's DLQ through `DLQProducer` and come back
with outcome ``dlq``; Kafka failures come back as outcome ``failed`` (bulk) or
are raised as `KafkaDeliveryError` (single event), never DLQ'd, never
swallowed. A result is ``produced`` only once the broker acknowledged it.

Schemas are registered when the producer starts; their ids are cached, so
producing never calls the registry.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from streamlake._logging import quiet_repeats
from streamlake.catalog import Catalog, Dataset, SchemaVersion, load_catalog
from streamlake.config import ProducerConfig
from streamlake.errors import (
    ConfigurationError,
    ErrorType,
    InvalidEventError,
    KafkaDeliveryError,
    ProducerFatalError,
    StreamLakeError,
)
from streamlake.kafka.producer._encoding import (
    Clock,
    ValueEncoder,
    new_ingestion_id,
    parse_json,
    to_record,
)
from streamlake.kafka.producer.dlq_producer import DLQProducer, Headers, dlq_value
from streamlake.registry import Registration
from streamlake.startup import register_catalog

log = quiet_repeats(logging.getLogger(__name__))

_JSON_TEXT = (str, bytes, bytearray)
_POLL_EVERY = 1000
"""Serve delivery callbacks every N produces: poll(0) per event halves the rate."""
_MAX_IN_FLIGHT = 20_000
"""Bulk backpressure: results not yet returned, whatever librdkafka's queue holds."""


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


class _Pending:
    """One event in flight; librdkafka's delivery callback completes it."""

    __slots__ = ("done", "error", "ingestion_id", "invalid", "offset", "partition", "route")

    def __init__(self, route: _Route, ingestion_id: str) -> None:
        self.route = route
        self.ingestion_id = ingestion_id
        self.invalid: InvalidEventError | None = None
        self.error: StreamLakeError | None = None
        self.partition: int | None = None
        self.offset: int | None = None
        self.done = False

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.partition = msg.partition()
            self.offset = msg.offset()
        else:
            self.error = _delivery_error(err, msg.topic() or "", self)
        self.done = True

    def fail(self, error: StreamLakeError) -> None:
        self.error = error
        self.done = True


@dataclass(frozen=True, slots=True)
class _Route:
    """Everything per (dataset, version) that does not change per event."""

    dataset: Dataset
    version: SchemaVersion | None
    encoder: ValueEncoder | None
    unusable: InvalidEventError | None
    """Why events for this version go to the DLQ (rejected or unknown version)."""
    headers: tuple[tuple[str, bytes], ...]
    schema_id: int | None = field(init=False)
    schema_version: str | None = field(init=False)
    raw_topic: str = field(init=False)
    """Computed once, not per event."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw_topic", self.dataset.raw_topic)
        object.__setattr__(self, "schema_id", self.encoder.schema_id if self.encoder else None)
        object.__setattr__(self, "schema_version", self.version.label if self.version else None)


class IngestionProducer:
    """Produces events of the catalog's datasets to Kafka, one or many at a time.

    Creating it loads the catalog, creates missing topics and registers every
    schema version. Use it as a context manager, or call `close()`: records
    still queued at shutdown are flushed within a bounded time, and any left
    are purged and reported, never left silently behind.
    """

    def __init__(
        self,
        config: ProducerConfig,
        *,
        catalog: Catalog | None = None,
        registrations: list[Registration] | None = None,
    ) -> None:
        self.config = config
        self.catalog = catalog or load_catalog(config.schemas_dir)
        # The Kafka clients first: they connect and obtain their idempotent
        # producer ids while the registry calls run. Created just before the
        # first produce, that first produce waits ~0.5 s for librdkafka's
        # producer-id retry timer.
        self._fatal: KafkaError | None = None
        self._producer = Producer(config.kafka_conf(error_cb=self._on_error))
        self._dlq = DLQProducer(config)
        self.registrations = (
            registrations if registrations is not None else register_catalog(config, self.catalog)
        )
        self.counts = {outcome: 0 for outcome in Outcome}
        self._clock = Clock()
        self._routes: dict[tuple[str, int | None], _Route] = {}
        self._service = config.producer_service.encode()
        registered = {(r.dataset, r.version.version): r for r in self.registrations}
        for dataset in self.catalog.values():
            for version in dataset.versions:
                self._routes[dataset.name, version.version] = self._route(
                    dataset, version, registered.get((dataset.name, version.version))
                )
            self._routes[dataset.name, None] = self._routes[dataset.name, dataset.latest.version]

    @classmethod
    def from_env(cls, **overrides: Any) -> IngestionProducer:
        """A producer configured from STREAMLAKE_* variables (see config.py)."""
        return cls(ProducerConfig.from_env(**overrides))

    def _route(
        self, dataset: Dataset, version: SchemaVersion, registration: Registration | None
    ) -> _Route:
        base = (
            ("dataset", dataset.name.encode()),
            ("schema_version", version.label.encode()),
        )
        if registration is None or registration.schema_id is None:
            reason = (
                registration.error.reason
                if registration and registration.error
                else "it was not registered at startup"
            )
            unusable = InvalidEventError(
                ErrorType.INCOMPATIBLE_SCHEMA,
                f"{dataset.name} {version.label} is unusable: the registry rejected it: {reason}",
                dataset=dataset.name,
            )
            return _Route(dataset, version, None, unusable, base)
        schema_id = registration.schema_id
        return _Route(
            dataset,
            version,
            ValueEncoder(version, schema_id),
            None,
            (*base, ("schema_id", str(schema_id).encode())),
        )

    def _route_for(self, dataset: str, version: int | None) -> _Route:
        route = self._routes.get((dataset, version))
        if route is not None:
            return route
        if dataset not in self.catalog:
            raise ConfigurationError(
                f"unknown dataset {dataset!r}; the catalog in {self.catalog.root} has "
                f"{', '.join(self.catalog)}",
                dataset=dataset,
            )
        known = self.catalog[dataset]
        unusable = InvalidEventError(
            ErrorType.UNKNOWN_SCHEMA_VERSION,
            f"{dataset} has no schema version v{version}; the catalog has "
            f"{', '.join(v.label for v in known.versions)}",
            dataset=dataset,
        )
        route = _Route(known, None, None, unusable, (("dataset", dataset.encode()),))
        self._routes[dataset, version] = route
        return route

    # --- producing -----------------------------------------------------------
    def produce(self, dataset: str, event: object, *, version: int | None = None) -> ProduceResult:
        """Produce one event and wait for Kafka's acknowledgement.

        Returns the result (``produced`` or ``dlq``); raises `KafkaDeliveryError`
        (or `ProducerFatalError`) when Kafka did not acknowledge it.
        """
        # Not through produce_many: its generator and window cost a few us
        # of the caller's wait for every single event.
        pending = self._submit(self._route_for(dataset, version), event)
        while not pending.done:
            self._drain(0.1)
        result = self._settle(pending, log.isEnabledFor(logging.DEBUG))
        if result.outcome is Outcome.FAILED:
            assert result.error is not None
            raise result.error
        return result

    def produce_many(
        self,
        dataset: str,
        events: Iterable[object],
        *,
        version: int | None = None,
        stop_on_failure: bool = False,
    ) -> Iterator[ProduceResult]:
        """Produce events pipelined; yield one result per event, in input order.

        Memory stays bounded: at most `_MAX_IN_FLIGHT` events are awaiting
        their acknowledgement, and a full librdkafka queue makes this wait.
        With `stop_on_failure`, the first Kafka failure stops reading `events`:
        what is in flight is still settled and yielded, the rest is not tried.
        """
        route = self._route_for(dataset, version)
        window: deque[_Pending] = deque()
        since_poll = 0
        failed_before = self.counts[Outcome.FAILED]
        # Asked once per batch of polls: a log.debug() call per event costs
        # 0.3 us even when it logs nothing.
        debug = log.isEnabledFor(logging.DEBUG)
        for event in events:
            window.append(self._submit(route, event))
            since_poll += 1
            if since_poll >= _POLL_EVERY or len(window) >= _MAX_IN_FLIGHT:
                since_poll = 0
                self._poll(0)
                while len(window) >= _MAX_IN_FLIGHT and not window[0].done:
                    self._poll(0.1)
                while window and window[0].done:
                    yield self._settle(window.popleft(), debug)
                if stop_on_failure and self.counts[Outcome.FAILED] > failed_before:
                    break
                debug = log.isEnabledFor(logging.DEBUG)
            elif stop_on_failure and window[-1].error is not None:
                break
        while window:
            if window[0].done:
                yield self._settle(window.popleft(), debug)
            else:
                self._drain(0.1)

    def _submit(self, route: _Route, event: object) -> _Pending:
        now = time.time_ns()
        pending = _Pending(route, new_ingestion_id())
        headers: Headers = [
            *route.headers,
            ("ingestion_id", pending.ingestion_id.encode()),
            ("producer_service", self._service),
            ("ingested_at", self._clock.now(now)),
        ]
        key: bytes | None = None
        original = event  # what the DLQ keeps: the JSON value once it parsed
        try:
            if isinstance(event, _JSON_TEXT):
                original = parse_json(event)
            if route.unusable is None:
                record = to_record(original)
                key = self._key(route, record)
                assert route.encoder is not None
                value = route.encoder.encode(record)
                self._send(self._producer, route.raw_topic, key, value, headers, pending)
                return pending
            invalid = route.unusable
            with contextlib.suppress(InvalidEventError):  # the DLQ keeps the key if any
                key = self._key(route, to_record(original))
        except InvalidEventError as exc:
            invalid = exc
        # Still the text as received when it did not parse as JSON.
        raw = original is event and isinstance(event, _JSON_TEXT)
        self._dead_letter(route, pending, original, raw, invalid, key, headers)
        return pending

    @staticmethod
    def _key(route: _Route, record: dict[str, Any]) -> bytes:
        field = route.dataset.key_field
        value = record.get(field)
        if value is None or value == "" or isinstance(value, bool):
            raise InvalidEventError(
                ErrorType.MISSING_FIELD,
                f"{field}: the key field is {'missing' if field not in record else 'empty'}; "
                f"every {route.dataset.name} event needs its business id",
            )
        try:
            return str(value).encode()
        except UnicodeEncodeError as exc:
            raise InvalidEventError(
                ErrorType.SCHEMA_VALIDATION, f"{field}: the key is not valid Unicode text: {exc}"
            ) from exc

    def _send(
        self,
        producer: Producer | DLQProducer,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Headers,
        pending: _Pending,
    ) -> None:
        if self._fatal is not None:
            pending.fail(_fatal_error(self._fatal, topic, pending))
            return
        while True:
            try:
                if isinstance(producer, DLQProducer):
                    producer.send(
                        topic=topic, key=key, value=value, headers=headers, on_delivery=pending
                    )
                else:
                    producer.produce(topic, value, key, headers=headers, on_delivery=pending)
                return
            except BufferError:
                self._poll(0.1)  # librdkafka's queue is full: let deliveries drain it
            except KafkaException as exc:
                err = exc.args[0]
                if err.code() == KafkaError.MSG_SIZE_TOO_LARGE and producer is self._producer:
                    raise InvalidEventError(
                        ErrorType.RECORD_TOO_LARGE,
                        f"the encoded record is {len(value)} bytes, more than the producer's "
                        f"message.max.bytes allows",
                    ) from exc
                pending.fail(_delivery_error(err, topic, pending))
                return

    def _dead_letter(
        self,
        route: _Route,
        pending: _Pending,
        original: object,
        raw: bool,
        invalid: InvalidEventError,
        key: bytes | None,
        headers: Headers,
    ) -> None:
        dataset = route.dataset
        cause = invalid.__cause__
        invalid = InvalidEventError(
            invalid.error_type,
            invalid.message,
            dataset=dataset.name,
            topic=dataset.raw_topic,
            ingestion_id=pending.ingestion_id,
        )
        invalid.__cause__ = cause
        pending.invalid = invalid
        metadata = {name: value.decode() for name, value in headers if isinstance(value, bytes)}
        value = dlq_value(
            original=original,
            raw=raw,
            error=invalid,
            metadata=metadata,
            dataset=dataset.name,
            topic=dataset.raw_topic,
            failed_at=self._clock.now(time.time_ns()).decode(),
        )
        dlq_headers = [*headers, ("error_type", str(invalid.error_type).encode())]
        self._send(self._dlq, dataset.dlq_topic, key, value, dlq_headers, pending)

    def _poll(self, timeout: float) -> None:
        self._producer.poll(timeout)
        self._dlq.poll(0)

    def _drain(self, timeout: float) -> None:
        """Wait for what is in flight once the input has ended. flush() sends
        at once what librdkafka holds back for batching (linger.ms), which
        poll() would wait out: that is most of a single event's latency."""
        if len(self._producer):
            self._producer.flush(timeout)
            self._dlq.poll(0)
        elif len(self._dlq):
            self._dlq.flush(timeout)
        else:
            self._poll(timeout)

    def _settle(self, pending: _Pending, debug: bool) -> ProduceResult:
        route = pending.route
        dataset = route.dataset
        if pending.error is not None:
            outcome, topic = Outcome.FAILED, dataset.raw_topic
            error: StreamLakeError | None = pending.error
            log.warning("ingestion %s failed: %s", pending.ingestion_id, error)
        elif pending.invalid is not None:
            outcome, topic, error = Outcome.DLQ, dataset.dlq_topic, pending.invalid
            if debug:
                log.debug(
                    "ingestion %s -> DLQ %s [%s] @%s: %s",
                    pending.ingestion_id,
                    topic,
                    pending.partition,
                    pending.offset,
                    error,
                )
        else:
            outcome, topic, error = Outcome.PRODUCED, dataset.raw_topic, None
            if debug:
                log.debug(
                    "ingestion %s -> %s [%s] @%s",
                    pending.ingestion_id,
                    topic,
                    pending.partition,
                    pending.offset,
                )
        self.counts[outcome] += 1
        return ProduceResult(
            outcome=outcome,
            dataset=dataset.name,
            topic=topic,
            partition=pending.partition,
            offset=pending.offset,
            ingestion_id=pending.ingestion_id,
            schema_id=route.schema_id,
            schema_version=route.schema_version,
            error=error,
        )

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = err
            log.error(
                "Kafka producer fatal error: %s (%s); recreate the producer", err.str(), err.name()
            )
        else:
            log.warning("Kafka: %s (%s)", err.str(), err.name())

    # --- shutdown --------------------------------------------------------------
    def close(self, timeout: float = 30.0) -> int:
        """Flush both producers for at most `timeout` seconds; purge what is
        left and return how many records were not delivered (0 when all were).
        Results of an unfinished `produce_many` are lost with it: iterate it to
        the end before closing to account for every event."""
        deadline = time.monotonic() + timeout
        left = self._producer.flush(timeout)
        left += self._dlq.flush(max(0.0, deadline - time.monotonic()))
        if left:
            log.error(
                "shutdown: %d record(s) not acknowledged within %.0fs; purging them", left, timeout
            )
            self._producer.purge()
            self._producer.poll(0)
            self._dlq.purge()
        return int(left)

    def __enter__(self) -> IngestionProducer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _delivery_error(err: KafkaError, topic: str, pending: _Pending) -> KafkaDeliveryError:
    if err.fatal():
        return _fatal_error(err, topic, pending)
    which = "dead-letter" if pending.invalid is not None else "raw"
    # Delivery reports rarely set the retriable flag: decide by code as well.
    retriable = err.retriable() or err.code() in _TRANSIENT
    return KafkaDeliveryError(
        f"Kafka did not acknowledge the {which} record of ingestion {pending.ingestion_id} "
        f"for {topic}: {err.str()} ({err.name()})"
        + (". Retrying later may succeed" if retriable else ""),
        code=err.name(),
        retriable=retriable,
        dataset=pending.route.dataset.name,
        topic=topic,
        ingestion_id=pending.ingestion_id,
    )


def _fatal_error(err: KafkaError, topic: str, pending: _Pending) -> ProducerFatalError:
    return ProducerFatalError(
        f"the Kafka producer hit a fatal error ({err.str()}, {err.name()}) and cannot "
        f"produce ingestion {pending.ingestion_id} for {topic}; close this producer and "
        "create a new one",
        code=err.name(),
        retriable=False,
        dataset=pending.route.dataset.name,
        topic=topic,
        ingestion_id=pending.ingestion_id,
    )
