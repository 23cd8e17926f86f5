"""Every error StreamLake raises, in one small hierarchy.

    StreamLakeError
    ├── ConfigurationError        bad settings; fix the configuration
    ├── CatalogError              a file under avro/ is malformed; fix that file
    ├── RegistryError             the schema registry failed or refused
    │   ├── RegistryUnavailableError   unreachable after bounded retries
    │   └── SchemaRejectedError        a version the registry will not accept
    ├── KafkaClusterError         a request to Kafka that is not a record's
    │                             delivery failed: brokers not answering at
    │                             startup, credentials refused, topic creation,
    │                             metadata, reading a DLQ
    ├── InvalidEventError         the event itself is bad (it goes to the DLQ)
    └── KafkaDeliveryError        Kafka did not acknowledge a record
        └── ProducerFatalError         the producer is unusable; recreate it

Each error carries its context (dataset, topic, ingestion_id, the librdkafka
error code when there is one) and `retriable`: whether trying the same thing
again may succeed. Client exceptions from confluent-kafka are translated into
these at one boundary per client, always with ``raise ... from exc``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class ErrorType(StrEnum):
    """Why an event went to the dead-letter topic: the DLQ record's `error.type`."""

    INVALID_JSON = "invalid_json"
    """The input was not JSON text (or not valid UTF-8)."""
    MISSING_FIELD = "missing_field"
    """The key field is absent, null or empty, or a required field is absent."""
    SCHEMA_VALIDATION = "schema_validation"
    """Not a JSON object, a field of the wrong type, or a field not in the schema."""
    SERIALIZATION = "serialization"
    """The value passed validation but could not be encoded."""
    INCOMPATIBLE_SCHEMA = "incompatible_schema"
    """The requested schema version was rejected by the registry."""
    RECORD_TOO_LARGE = "record_too_large"
    """The encoded record exceeds the producer's message.max.bytes."""


class StreamLakeError(Exception):
    """Base of every StreamLake error."""

    retriable: bool = False

    def __init__(
        self,
        message: str,
        *,
        dataset: str | None = None,
        topic: str | None = None,
        ingestion_id: str | None = None,
        retriable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.dataset = dataset
        self.topic = topic
        self.ingestion_id = ingestion_id
        if retriable is not None:
            self.retriable = retriable


class ConfigurationError(StreamLakeError):
    """A setting is missing or invalid."""


class CatalogError(StreamLakeError):
    """A schema catalog file is malformed: bad TOML/JSON, invalid Avro, version gap."""

    def __init__(self, message: str, *, path: Path, dataset: str | None = None) -> None:
        super().__init__(f"{path}: {message}", dataset=dataset)
        self.path = path


class RegistryError(StreamLakeError):
    """The schema registry answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        subject: str | None = None,
        status: int | None = None,
        dataset: str | None = None,
        retriable: bool | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message, dataset=dataset, retriable=retriable)
        self.url = url
        self.subject = subject
        self.status = status
        self.reason = reason
        """The registry's own words, when it gave any."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached within the retry budget."""

    retriable = True


class SchemaRejectedError(RegistryError):
    """The registry refused a schema version, usually as incompatible."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        subject: str,
        version: int,
        reason: str,
        status: int | None = None,
        dataset: str | None = None,
    ) -> None:
        super().__init__(
            message, url=url, subject=subject, status=status, dataset=dataset, reason=reason
        )
        self.version = version


class KafkaClusterError(StreamLakeError):
    """Kafka failed a startup, admin or metadata request (or a read): no
    record's fate depends on it. `code` is librdkafka's error name."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retriable: bool,
        dataset: str | None = None,
        topic: str | None = None,
    ) -> None:
        super().__init__(message, dataset=dataset, topic=topic, retriable=retriable)
        self.code = code


class InvalidEventError(StreamLakeError):
    """An event that cannot become a raw record; `error_type` says why."""

    def __init__(
        self,
        error_type: ErrorType,
        message: str,
        *,
        dataset: str | None = None,
        topic: str | None = None,
        ingestion_id: str | None = None,
    ) -> None:
        super().__init__(message, dataset=dataset, topic=topic, ingestion_id=ingestion_id)
        self.error_type = error_type


class KafkaDeliveryError(StreamLakeError):
    """Kafka did not acknowledge a record: the ingestion failed.

    `code` is librdkafka's error name (e.g. ``_MSG_TIMED_OUT``,
    ``_TRANSPORT``, ``MSG_SIZE_TOO_LARGE``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retriable: bool,
        dataset: str | None = None,
        topic: str | None = None,
        ingestion_id: str | None = None,
    ) -> None:
        super().__init__(
            message, dataset=dataset, topic=topic, ingestion_id=ingestion_id, retriable=retriable
        )
        self.code = code


class ProducerFatalError(KafkaDeliveryError):
    """A fatal producer error (e.g. an idempotence sequence error): the
    producer instance is unusable and must be closed and created anew."""
