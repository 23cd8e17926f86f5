"""StreamLake: JSON events in, schema-checked Avro records in Kafka out.

from streamlake import IngestionProducer

with IngestionProducer.from_env() as producer:
    result = producer.produce("orders", {"order_id": "ORD-1", ...})
    print(result.topic, result.partition, result.offset)

async with AsyncIngestionProducer.from_env() as producer:   # asyncio
    result = await producer.produce("orders", {...})
"""

import logging

from streamlake.catalog import Catalog, Dataset, NamedType, SchemaVersion, load_catalog
from streamlake.config import ProducerConfig
from streamlake.errors import (
    CatalogError,
    ConfigurationError,
    ErrorType,
    InvalidEventError,
    KafkaClusterError,
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
    ProduceResult,
)
from streamlake.registry import Registration, SchemaRegistry, TypeRegistration
from streamlake.startup import register_catalog

# The library convention: silent until the application configures logging.
logging.getLogger("streamlake").addHandler(logging.NullHandler())

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
    "KafkaClusterError",
    "KafkaDeliveryError",
    "NamedType",
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
    "TypeRegistration",
    "load_catalog",
    "register_catalog",
]
