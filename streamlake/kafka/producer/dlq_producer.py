"""The dead-letter producer: owns the write of every invalid event.

Invalid events (bad JSON, missing fields, schema violations, unusable schema
versions, records too large) are written to the dataset's DLQ topic as plain
UTF-8 JSON; Kafka failures never come here. `DLQProducer.dead_letter` builds
the record (`dlq_value`), sends it through the delivery engine's one retry
wrapper, and the engine reports its delivery. It has its own librdkafka
producer with the same durability settings (acks=all, idempotence), so a
fatal error on the raw producer does not take the DLQ down with it. A DLQ
write that fails is reported to the caller, never dropped.

The record value::

    {
      "original": <the payload as received: the JSON value when it parsed,
                   else the raw text; base64 when it was not UTF-8; a Python
                   object in its JSON form ("python", see `_json_form`)>,
      "original_encoding": "json" | "python" | "text" | "base64" | "repr",
      "original_truncated": false,        # true when cut to fit (see below)
      "original_size_bytes": 123,
      "error": {"type": "schema_validation", "message": "...", "stacktrace": null},
      "metadata": {"dataset": ..., "schema_version": ..., "ingestion_id": ..., ...},
      "dataset": "orders",
      "topic": "raw.orders",              # the raw topic it was meant for
      "failed_at": "2026-11-27T12:00:00.123Z"
    }

Its headers are the metadata headers plus `error_type`; its key is the
original key when one could be extracted. A record that would exceed
`MAX_DLQ_RECORD_BYTES` (e.g. an event larger than the broker accepts) keeps
only the first `TRUNCATED_ORIGINAL_CHARS` characters of the original's JSON
text, with `original_truncated: true` and the full size.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import math
import time
import traceback
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from streamlake._codec import EncodeError
from streamlake.catalog import Dataset
from streamlake.config import ProducerConfig
from streamlake.errors import InvalidEventError, KafkaDeliveryError
from streamlake.kafka.producer._encoding import Clock, parse_json
from streamlake.kafka.producer.delivery import DeliveryEngine, Headers, Pending

log = logging.getLogger(__name__)

MAX_DLQ_RECORD_BYTES = 900_000
"""Below librdkafka's and the broker's ~1 MB default message size."""
TRUNCATED_ORIGINAL_CHARS = 65_536
STACKTRACE_MAX_CHARS = 4_096


def dlq_value(
    *,
    original: object,
    error: InvalidEventError,
    metadata: Mapping[str, str],
    dataset: str,
    topic: str,
    failed_at: str,
    unparsed: bool | None = None,
) -> bytes:
    """The DLQ record value: valid UTF-8 JSON that round-trips the original.

    `unparsed` says whether `original` is the input text as received (it did
    not parse as JSON) or a value; by default a str or bytes original is
    unparsed text, so a parsed JSON string needs ``unparsed=False`` to be kept
    as JSON.
    """
    if unparsed is None:
        unparsed = isinstance(original, str | bytes | bytearray)
    body: dict[str, Any] = {
        **_original_fields(original, unparsed),
        "error": {
            "type": str(error.error_type),
            "message": error.message,
            "stacktrace": _stacktrace(error),
        },
        "metadata": dict(metadata),
        "dataset": dataset,
        "topic": topic,
        "failed_at": failed_at,
    }
    value = _encode(body)
    if len(value) <= MAX_DLQ_RECORD_BYTES:
        return value
    # Too large for Kafka: keep the head of the original and of the message.
    original = body["original"]
    text = original if isinstance(original, str) else _json(original)[0]
    if len(text) > TRUNCATED_ORIGINAL_CHARS:
        body["original"] = text[:TRUNCATED_ORIGINAL_CHARS]
        if body["original_encoding"] == "json":
            body["original_encoding"] = "text"
        body["original_truncated"] = True
    message = body["error"]["message"]
    if len(message) > TRUNCATED_ORIGINAL_CHARS:
        body["error"]["message"] = message[:TRUNCATED_ORIGINAL_CHARS] + "... (truncated)"
    return _encode(body)


def _encode(body: dict[str, Any]) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate (valid in a JSON escape, not in UTF-8): escape it.
        return json.dumps(body, ensure_ascii=True, allow_nan=False).encode()


def _original_fields(original: object, unparsed: bool) -> dict[str, Any]:
    if unparsed and isinstance(original, bytes | bytearray):
        data = bytes(original)
        try:
            original = data.decode()
        except UnicodeDecodeError:
            return {
                "original": base64.b64encode(data).decode(),
                "original_encoding": "base64",
                "original_truncated": False,
                "original_size_bytes": len(data),
            }
    if unparsed and isinstance(original, str):
        return {
            "original": original,
            "original_encoding": "text",
            "original_truncated": False,
            "original_size_bytes": len(original.encode(errors="surrogatepass")),
        }
    try:
        text, converted = _json(original)
        value = json.loads(text)
    except RecursionError:
        # A Python payload nested deeper than JSON tools can walk.
        text = _bounded_repr(original)
        return {
            "original": text,
            "original_encoding": "repr",
            "original_truncated": False,
            "original_size_bytes": len(text.encode(errors="surrogatepass")),
        }
    return {
        "original": value,
        "original_encoding": "python" if converted else "json",
        "original_truncated": False,
        "original_size_bytes": len(text.encode(errors="surrogatepass")),
    }


def _bounded_repr(value: object) -> str:
    try:
        return repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"


def _json(value: object) -> tuple[str, bool]:
    """JSON text of a parsed or typed payload, and whether Python values had
    to be converted to their JSON form (see `_json_form`)."""
    converted = False

    def fallback(obj: object) -> object:
        nonlocal converted
        converted = True
        return _json_form(obj)

    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=fallback)
    except (ValueError, TypeError):  # NaN, Infinity or non-string keys in a Python payload
        text = json.dumps(_jsonable(value), ensure_ascii=False, default=fallback)
    return text, converted


def _json_form(obj: object) -> object:
    """A Python value as JSON can hold it, so the DLQ record can be replayed:
    datetimes, dates and times in ISO 8601 (RFC 3339 when aware), Decimals
    and UUIDs as strings, bytes in base64, Enum members by value, sets as
    lists, dataclasses and pydantic models as their fields; anything else
    as its repr."""
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime | date | dt_time):
        return obj.isoformat()
    if isinstance(obj, Decimal | UUID):
        return str(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(obj)).decode()
    if isinstance(obj, set | frozenset):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        try:
            return dump(mode="json")
        except TypeError:  # not pydantic's model_dump
            return dump()
    return repr(obj)


def _jsonable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {k if isinstance(k, str) else repr(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _stacktrace(error: BaseException) -> str | None:
    cause = error.__cause__
    if cause is None or isinstance(cause, EncodeError):  # the message says it all
        return None
    text = "".join(traceback.format_exception(cause))
    return text if len(text) <= STACKTRACE_MAX_CHARS else "..." + text[-STACKTRACE_MAX_CHARS:]


class DLQProducer:
    """Writes invalid events to their dataset's DLQ topic, with acks=all, on
    its own librdkafka client served by the producer's delivery engine."""

    def __init__(self, config: ProducerConfig, engine: DeliveryEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._producer = engine.client(
            config.kafka_conf(**{"client.id": f"{config.producer_service}-dlq"})
        )

    def dead_letter(
        self,
        dataset: Dataset,
        pending: Pending,
        event: object,
        error: InvalidEventError,
        headers: Headers,
    ) -> None:
        """Send `event` to `dataset`'s DLQ because of `error`; `pending`
        completes with outcome ``dlq`` once Kafka acknowledged it. The error
        gets its context here (dataset, raw topic, ingestion id)."""
        error.dataset = dataset.name
        error.topic = dataset.raw_topic
        error.ingestion_id = pending.ingestion_id
        pending.dead_lettered = error
        original, unparsed = _original(event)
        metadata = {name: value.decode() for name, value in headers if isinstance(value, bytes)}
        value = dlq_value(
            original=original,
            unparsed=unparsed,
            error=error,
            metadata=metadata,
            dataset=dataset.name,
            topic=dataset.raw_topic,
            failed_at=self._clock.now(time.time_ns()).decode(),
        )
        key = _key(original, dataset.key_field)
        dlq_headers = [*headers, ("error_type", str(error.error_type).encode())]
        if not self._engine.send(
            self._producer, dataset.dlq_topic, key, value, dlq_headers, pending
        ):
            self._engine.fail(
                pending,
                KafkaDeliveryError(
                    f"the dead-letter record of ingestion {pending.ingestion_id} is "
                    f"{len(value)} bytes, more than the DLQ producer's message.max.bytes "
                    "allows; raise message.max.bytes (STREAMLAKE_KAFKA_MESSAGE_MAX_BYTES)",
                    code="MSG_SIZE_TOO_LARGE",
                    retriable=False,
                    dataset=dataset.name,
                    topic=dataset.dlq_topic,
                    ingestion_id=pending.ingestion_id,
                ),
            )


def _original(event: object) -> tuple[object, bool]:
    """What the DLQ keeps of `event`, and whether it is the unparsed input:
    JSON text as the JSON value it holds (parsed again only here, on the slow
    path), text that is not JSON as received, a dataclass or model as its
    fields."""
    if isinstance(event, str | bytes | bytearray):
        try:
            return parse_json(event), False
        except InvalidEventError:
            return event, True
    if not isinstance(event, type) and (
        dataclasses.is_dataclass(event) or callable(getattr(event, "model_dump", None))
    ):
        return _json_form(event), False
    return event, False


def _key(original: object, key_field: str) -> bytes | None:
    """The record key when the original has a usable one, else none."""
    if not isinstance(original, Mapping):
        return None
    value = original.get(key_field)
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return str(value).encode()
    except UnicodeEncodeError:
        return None
