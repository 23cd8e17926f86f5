"""The ingestion producers (threads, asyncio), their configuration, the dead-letter producer."""

from streamlake.config import ProducerConfig
from streamlake.kafka.producer.async_producer import AsyncIngestionProducer
from streamlake.kafka.producer.dlq_producer import DLQProducer
from streamlake.kafka.producer.producer import IngestionProducer, Outcome, ProduceResult

__all__ = [
    "AsyncIngestionProducer",
    "DLQProducer",
    "IngestionProducer",
    "Outcome",
    "ProduceResult",
    "ProducerConfig",
]
