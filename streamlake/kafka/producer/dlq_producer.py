"""The dead-letter producer: a separate component for invalid events only.

Invalid events (bad JSON, missing fields, schema violations, unusable schema
versions, records too large) are written to the dataset's DLQ topic as plain
UTF-8 JSON; Kafka failures never come here. It has its own librdkafka
producer with the same durability settings (acks=all, idempotence), so a
fatal error on the raw producer does not take the DLQ down with it. A DLQ
write that fails is reported to the caller, never dropped.

The record value::

    {
      "original": <the payload as received: the JSON value when it parsed,
                   else the raw text; base64 when it was not UTF-8>,
      "original_encoding": "json" | "text" | "base64" | "repr",
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
import json
import logging
import math
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from streamlake.config import ProducerConfig
from streamlake.errors import InvalidEventError

log = logging.getLogger(__name__)

MAX_DLQ_RECORD_BYTES = 900_000
"""Below librdkafka's and the broker's ~1 MB default message size."""
TRUNCATED_ORIGINAL_CHARS = 65_536
STACKTRACE_MAX_CHARS = 4_096

DeliveryCallback = Callable[[KafkaError | None, Message], None]
Headers = list[tuple[str, str | bytes | None]]


def dlq_value(
    *,
    original: object,
    error: InvalidEventError,
    metadata: Mapping[str, str],
    dataset: str,
    topic: str,
    failed_at: str,
    raw: bool | None = None,
) -> bytes:
    """The DLQ record value: valid UTF-8 JSON that round-trips the original.

    `raw` says whether `original` is the input text as received (it did not
    parse) or a value; by default a str or bytes original is raw text, so a
    parsed JSON string needs ``raw=False`` to be kept as JSON.
    """
    if raw is None:
        raw = isinstance(original, str | bytes | bytearray)
    body: dict[str, Any] = {
        **_original_fields(original, raw),
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
    text = original if isinstance(original, str) else _json(original)
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


def _original_fields(original: object, raw: bool) -> dict[str, Any]:
    if raw and isinstance(original, bytes | bytearray):
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
    if raw and isinstance(original, str):
        return {
            "original": original,
            "original_encoding": "text",
            "original_truncated": False,
            "original_size_bytes": len(original.encode(errors="surrogatepass")),
        }
    try:
        text = _json(original)
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
        "original_encoding": "json",
        "original_truncated": False,
        "original_size_bytes": len(text.encode(errors="surrogatepass")),
    }


def _bounded_repr(value: object) -> str:
    try:
        return repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"


def _json(value: object) -> str:
    """JSON text of a parsed or typed payload; what JSON cannot hold (NaN,
    bytes, dates) is written as its repr rather than lost."""

    def fallback(obj: object) -> str:
        return repr(obj)

    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=fallback)
    except (ValueError, TypeError):  # NaN, Infinity or non-string keys in a Python payload
        return json.dumps(_jsonable(value), ensure_ascii=False, default=fallback)


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
    if cause is None:
        return None
    text = "".join(traceback.format_exception(cause))
    return text if len(text) <= STACKTRACE_MAX_CHARS else "..." + text[-STACKTRACE_MAX_CHARS:]


class DLQProducer:
    """Writes invalid events to DLQ topics, asynchronously, with acks=all."""

    def __init__(self, config: ProducerConfig) -> None:
        conf = config.kafka_conf(**{"client.id": f"{config.producer_service}-dlq"})
        self._producer = Producer(conf)

    def send(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Headers,
        on_delivery: DeliveryCallback,
    ) -> None:
        """Queue one DLQ record; `on_delivery` learns whether Kafka took it.
        Raises BufferError when the local queue is full, KafkaException when
        librdkafka refuses the record outright."""
        self._producer.produce(topic, value, key, headers=headers, on_delivery=on_delivery)

    def poll(self, timeout: float = 0) -> int:
        return int(self._producer.poll(timeout))

    def flush(self, timeout: float) -> int:
        return int(self._producer.flush(timeout))

    def purge(self) -> None:
        self._producer.purge()
        self._producer.poll(0)

    def __len__(self) -> int:
        return len(self._producer)
