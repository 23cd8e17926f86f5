"""What the HTTP layer needs of the producer: `AsyncIngestionProducer`'s face,
plus the two keywords it adds for HTTP (record headers, a given ingestion_id),
and the deterministic ingestion ids behind idempotency keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Protocol

from streamlake.catalog import Catalog
from streamlake.kafka.producer import Outcome, ProduceResult
from streamlake.registry import Registration

Headers = Sequence[tuple[str, bytes]]

IDEMPOTENCY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:streamlake:ingestion")
"""ingestion_id = uuid5(IDEMPOTENCY_NAMESPACE, f"{dataset}\\n{key}")."""


def idempotent_id(dataset: str, key: str) -> str:
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{dataset}\n{key}"))


def field_ids(dataset: str, field: str) -> Callable[[object], str | None]:
    """The ingestion id of an event from its `field` (None, for a random id,
    when the event is not an object or the field is absent, empty or not a
    string or number)."""

    def ingestion_id_of(event: object) -> str | None:
        if not isinstance(event, dict):
            return None
        value = event.get(field)
        if value is None or value == "" or isinstance(value, bool | dict | list):
            return None
        return idempotent_id(dataset, str(value))

    return ingestion_id_of


class Producer(Protocol):
    catalog: Catalog
    registrations: list[Registration]
    counts: dict[Outcome, int]

    async def produce(
        self,
        dataset: str,
        event: object,
        *,
        version: int | None = None,
        headers: Headers = (),
        ingestion_id: str | None = None,
    ) -> ProduceResult: ...

    def produce_many(
        self,
        dataset: str,
        events: Iterable[Any] | AsyncIterable[Any],
        *,
        version: int | None = None,
        headers: Headers = (),
        ingestion_id_of: Callable[[object], str | None] | None = None,
        max_in_flight: int = ...,
    ) -> AsyncIterator[ProduceResult]: ...

    async def close(self, timeout: float = 30.0) -> int: ...
