"""Deterministic ingestion ids: what an idempotency key turns into.

``ingestion_id = uuid5(IDEMPOTENCY_NAMESPACE, f"{dataset}\\n{key}")`` where
``IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:streamlake:ingestion")``:
the same dataset and key give the same id in every worker, process and
release, so anyone can compute it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

IDEMPOTENCY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:streamlake:ingestion")


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
