"""StreamLake: JSON events in, schema-checked Avro records in Kafka out.

from streamlake import IngestionProducer

with IngestionProducer.from_env() as producer:
    result = producer.produce("orders", {"order_id": "ORD-1", ...})
    print(result.topic, result.partition, result.offset)

async with AsyncIngestionProducer.from_env() as producer:   # asyncio
    result = await producer.produce("orders", {...})
"""

from streamlake.catalog import Catalog, Dataset, SchemaVersion, load_catalog
from streamlake.errors import (
    CatalogError,
    ConfigurationError,
    ErrorType,
    InvalidEventError,
    KafkaDeliveryError,
    ProducerFatalError,
    RegistryError,
    RegistryUnavailableError,
    SchemaRejectedError,
    StreamLakeError,
)
from streamlake.kafka.producer import (
    AsyncIngestionProducer,
    DLQProducer,
    IngestionProducer,
    Outcome,
    ProducerConfig,
    ProduceResult,
)
from streamlake.registry import Registration, SchemaRegistry
from streamlake.startup import register_catalog

__all__ = [
    "AsyncIngestionProducer",
    "Catalog",
    "CatalogError",
    "ConfigurationError",
    "DLQProducer",
    "Dataset",
    "ErrorType",
    "IngestionProducer",
    "InvalidEventError",
    "KafkaDeliveryError",
    "Outcome",
    "ProduceResult",
    "ProducerConfig",
    "ProducerFatalError",
    "Registration",
    "RegistryError",
    "RegistryUnavailableError",
    "SchemaRegistry",
    "SchemaRejectedError",
    "SchemaVersion",
    "StreamLakeError",
    "load_catalog",
    "register_catalog",
]
