"""Per-event answers as JSON, and the HTTP status a set of them earns.

One result per event: ``status`` (produced | dlq | failed), where it landed
(topic, partition, offset) and its ingestion_id; a ``dlq`` result adds
``error: {type, message}`` (the DLQ error type and the message naming the
field path), a ``failed`` one ``error: {type: "kafka", code, retriable,
message}`` with librdkafka's error code. The text of a produced result is
formatted directly (its fields are numbers, a UUID and a topic name, which
need no escaping): it is the answer to almost every event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from streamlake.errors import InvalidEventError, KafkaDeliveryError, StreamLakeError
from streamlake.kafka.producer import Outcome, ProduceResult

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
dumps = _ENCODER.encode
"""Compact JSON, like the directly formatted produced results."""


def error_fields(error: StreamLakeError | None) -> dict[str, object]:
    if isinstance(error, InvalidEventError):
        return {"type": str(error.error_type), "message": error.message}
    if isinstance(error, KafkaDeliveryError):
        return {
            "type": "kafka",
            "code": error.code,
            "retriable": error.retriable,
            "message": error.message,
        }
    return {"type": "internal", "message": str(error)}


def result_fields(result: ProduceResult) -> dict[str, object]:
    fields: dict[str, object] = {
        "status": str(result.outcome),
        "topic": result.topic,
        "partition": result.partition,
        "offset": result.offset,
        "ingestion_id": result.ingestion_id,
    }
    if result.outcome is not Outcome.PRODUCED:
        fields["error"] = error_fields(result.error)
    return fields


def single_json(result: ProduceResult) -> str:
    """The answer to one event: its result with dataset and schema."""
    return dumps(
        {
            **result_fields(result),
            "dataset": result.dataset,
            "schema_id": result.schema_id,
            "schema_version": result.schema_version,
        }
    )


def item_json(position_name: str, position: int, result: ProduceResult) -> str:
    """One result of a batch (``index``) or a stream (``line``)."""
    if result.outcome is Outcome.PRODUCED:
        return (
            f'{{"{position_name}":{position},"status":"produced","topic":"{result.topic}",'
            f'"partition":{result.partition},"offset":{result.offset},'
            f'"ingestion_id":"{result.ingestion_id}"}}'
        )
    return dumps({position_name: position, **result_fields(result)})


@dataclass(slots=True)
class Summary:
    produced: int = 0
    dlq: int = 0
    failed: int = 0
    retriable_failures: int = 0

    def add(self, result: ProduceResult) -> None:
        outcome = result.outcome
        if outcome is Outcome.PRODUCED:
            self.produced += 1
        elif outcome is Outcome.DLQ:
            self.dlq += 1
        else:
            self.failed += 1
            if result.error is not None and result.error.retriable:
                self.retriable_failures += 1

    def fields(self) -> dict[str, int]:
        return {"produced": self.produced, "dlq": self.dlq, "failed": self.failed}

    def batch_status(self) -> int:
        """200 all produced; 503 nothing landed and every failure may be
        retried; else 207 (some went to the DLQ or failed)."""
        if self.dlq == 0 and self.failed == 0:
            return 200
        if self.produced == 0 and self.dlq == 0 and self.failed == self.retriable_failures:
            return 503
        return 207
