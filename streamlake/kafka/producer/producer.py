"""The ingestion producer: external events in, acknowledged Kafka records out.

The design's eight steps, per event: accept a payload for a dataset, extract
the key (the dataset's key field as a UTF-8 string), generate an
`ingestion_id`, attach the metadata headers, serialize the value as Avro in
the Confluent wire format against the chosen schema version, produce to the
raw topic, wait for the broker's acknowledgement, and return the result.

It reads straight through: encode, then either send to the raw topic or hand
the event to `DLQProducer` (invalid events, outcome ``dlq``); the delivery
engine (delivery.py) completes both. Kafka failures come back as outcome
``failed`` (bulk) or are raised as `KafkaDeliveryError` (single event), never
DLQ'd, never swallowed. A result is ``produced`` only once the broker
acknowledged it.

Thread-safe: `produce()` and `produce_many()` may be called from any number
of threads at once; each waits for its own records only, and `counts` stays
exact. Schemas are registered when the producer starts; their ids are
cached, so producing never calls the registry.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streamlake.catalog import JSON_ENCODINGS, Catalog, Dataset, SchemaVersion, load_catalog
from streamlake.codec import Codec
from streamlake.config import ProducerConfig
from streamlake.errors import ConfigurationError, ErrorType, InvalidEventError, StreamLakeError
from streamlake.kafka.producer._encoding import Clock, new_ingestion_id
from streamlake.kafka.producer.delivery import (
    DeliveryEngine,
    Headers,
    Outcome,
    Pending,
    ProduceResult,
    SyncWaiter,
    Target,
    Waiter,
)
from streamlake.kafka.producer.dlq_producer import DLQProducer
from streamlake.registry import Registration
from streamlake.startup import register_catalog

__all__ = ["IngestionProducer", "Outcome", "ProduceResult"]

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 20_000
"""Bulk backpressure: results not yet returned, whatever librdkafka's queue holds."""


class _Encoder(Protocol):
    def encode(self, event: object) -> tuple[bytes, bytes]: ...


@dataclass(frozen=True, slots=True)
class _Unusable:
    """The encoder of a version events cannot be produced with: each event
    is dead-lettered with this reason."""

    error_type: ErrorType
    message: str

    def encode(self, event: object) -> tuple[bytes, bytes]:
        raise InvalidEventError(self.error_type, self.message)


@dataclass(frozen=True, slots=True)
class _Route:
    """Everything per (dataset, version) that does not change per event."""

    dataset: Dataset
    target: Target
    encoder: _Encoder
    headers: tuple[tuple[str, bytes], ...]


class IngestionProducer:
    """Produces events of the catalog's datasets to Kafka, one or many at a time,
    from any number of threads.

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
        self._engine = DeliveryEngine(config.producer_service)
        self._producer = self._engine.client(config.kafka_conf())
        self._clock = Clock()
        self._dlq = DLQProducer(config, self._engine, self._clock)
        self._engine.start()
        try:
            self.registrations = (
                registrations
                if registrations is not None
                else register_catalog(config, self.catalog)
            )
        except BaseException:
            self._engine.close(0)
            raise
        self.counts = self._engine.counts
        """Results so far by outcome; exact, whatever threads produced them."""
        self._service = config.producer_service.encode()
        self._registered = {(r.dataset, r.version.version): r for r in self.registrations}
        self._routes: dict[tuple[str, int | None, str], _Route] = {}
        for dataset in self.catalog.values():  # each in its own dialect, compiled now
            for version in dataset.versions:
                self._route_for(dataset.name, version.version, None)
            self._route_for(dataset.name, None, None)

    @classmethod
    def from_env(cls, **overrides: Any) -> IngestionProducer:
        """A producer configured from STREAMLAKE_* variables (see config.py)."""
        return cls(ProducerConfig.from_env(**overrides))

    def _route(self, dataset: Dataset, version: SchemaVersion, json_encoding: str) -> _Route:
        registration = self._registered.get((dataset.name, version.version))
        headers = (
            ("dataset", dataset.name.encode()),
            ("schema_version", version.label.encode()),
        )
        schema_id = registration.schema_id if registration else None
        target = Target(
            dataset.name, dataset.raw_topic, dataset.dlq_topic, schema_id, version.label
        )
        if schema_id is None:
            why = (
                f"the registry rejected it: {registration.error.reason}"
                if registration and registration.error
                else "it was not registered when this producer started"
            )
            unusable = _Unusable(
                ErrorType.INCOMPATIBLE_SCHEMA, f"{dataset.name} {version.label} is unusable: {why}"
            )
            return _Route(dataset, target, unusable, headers)
        encoder = Codec(
            version, schema_id, key_field=dataset.key_field, json_encoding=json_encoding
        )
        return _Route(dataset, target, encoder, (*headers, ("schema_id", str(schema_id).encode())))

    def _route_for(self, dataset: str, version: int | None, json_encoding: str | None) -> _Route:
        if self._engine.closed:
            raise StreamLakeError("this producer is closed; create a new one")
        known = self.catalog.datasets.get(dataset)
        if known is None:
            raise ConfigurationError(
                f"unknown dataset {dataset!r}; the catalog in {self.catalog.root} has "
                f"{', '.join(self.catalog)}",
                dataset=dataset,
            )
        encoding = json_encoding or _encoding(known)
        route = self._routes.get((dataset, version, encoding))
        if route is not None:
            return route
        if encoding not in JSON_ENCODINGS:
            raise ConfigurationError(
                f"unknown json_encoding {encoding!r}; use one of {', '.join(JSON_ENCODINGS)}",
                dataset=dataset,
            )
        if version is None:
            route = self._route_for(dataset, known.latest.version, encoding)
        else:  # a version the catalog lacks is a ConfigurationError, not a DLQ record
            route = self._route(known, known.pinned(version), encoding)
        self._routes[dataset, version, encoding] = route
        return route

    # --- producing -----------------------------------------------------------
    def produce(
        self,
        dataset: str,
        event: object,
        *,
        version: int | None = None,
        json_encoding: str | None = None,
    ) -> ProduceResult:
        """Produce one event and wait for Kafka's acknowledgement.

        Returns the result (``produced`` or ``dlq``); raises `KafkaDeliveryError`
        (or `ProducerFatalError`) when Kafka did not acknowledge it.
        `json_encoding` ("natural" or "avro") is the JSON dialect of a JSON
        text event; None means the dataset's configured one.
        """
        route = self._route_for(dataset, version, json_encoding)
        waiter = SyncWaiter(lead=True)
        # Waiting announced before sending: whoever serves the queue then
        # sends the record at once instead of after linger.ms.
        with self._engine.waiting():
            pending = self._submit(route, event, waiter)
            self._engine.wait(pending, waiter)
        result = pending.result
        assert result is not None
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
        json_encoding: str | None = None,
        stop_on_failure: bool = False,
    ) -> Iterator[ProduceResult]:
        """Produce events pipelined; yield one result per event, in input order.

        Memory stays bounded: at most `MAX_IN_FLIGHT` events are awaiting
        their acknowledgement, and a full librdkafka queue makes this wait.
        With `stop_on_failure`, the first Kafka failure stops reading `events`:
        what is in flight is still settled and yielded, the rest is not tried.
        """
        route = self._route_for(dataset, version, json_encoding)
        waiter = SyncWaiter()
        window: deque[Pending] = deque()
        for event in events:
            window.append(self._submit(route, event, waiter))
            if len(window) >= MAX_IN_FLIGHT:
                self._engine.wait(window[0], waiter)
            while window and window[0].done:
                yield window.popleft().result  # type: ignore[misc]
            if stop_on_failure and waiter.failed:
                break
        while window:
            self._engine.wait(window[0], waiter)
            yield window.popleft().result  # type: ignore[misc]

    def _submit(
        self,
        route: _Route,
        event: object,
        waiter: Waiter | None,
        *,
        ingestion_id: str | None = None,
        extra_headers: Sequence[tuple[str, bytes]] = (),
    ) -> Pending:
        """Encode `event` and send it to the raw topic, or dead-letter it;
        `waiter` learns when its result is ready. For this package's callers
        (the asyncio producer): it never waits for an acknowledgement.
        `ingestion_id` replaces the random one; `extra_headers` follow the
        metadata headers (both for the HTTP layer: idempotency keys, trace
        context)."""
        pending = Pending(self._engine, route.target, ingestion_id or new_ingestion_id(), waiter)
        headers: Headers = [
            *route.headers,
            ("ingestion_id", pending.ingestion_id.encode()),
            ("producer_service", self._service),
            ("ingested_at", self._clock.now(time.time_ns())),
            *extra_headers,
        ]
        try:
            value, key = route.encoder.encode(event)
        except InvalidEventError as invalid:
            self._dlq.dead_letter(route.dataset, pending, event, invalid, headers)
            return pending
        if not self._engine.send(
            self._producer, route.target.raw_topic, key, value, headers, pending
        ):
            too_large = InvalidEventError(
                ErrorType.RECORD_TOO_LARGE,
                f"the encoded record is {len(value)} bytes, more than the producer's "
                "message.max.bytes allows",
            )
            self._dlq.dead_letter(route.dataset, pending, event, too_large, headers)
        return pending

    # --- shutdown --------------------------------------------------------------
    def close(self, timeout: float = 30.0) -> int:
        """Flush both producers for at most `timeout` seconds; purge what is
        left and return how many records were not delivered (0 when all were).
        Every record handed over is counted, also those of an abandoned
        `produce_many` (whose results are lost with it). Call it once every
        producing call has returned."""
        return self._engine.close(timeout)

    def __enter__(self) -> IngestionProducer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _encoding(dataset: Dataset) -> str:
    """The dataset's JSON dialect (catalog's `json_encoding`, "natural" until it has one)."""
    return str(getattr(dataset, "json_encoding", "natural"))
