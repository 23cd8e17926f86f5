"""The ingestion producer, its configuration and the dead-letter producer."""

from streamlake.config import ProducerConfig
from streamlake.kafka.producer.dlq_producer import DLQProducer
from streamlake.kafka.producer.producer import IngestionProducer, Outcome, ProduceResult

__all__ = ["DLQProducer", "IngestionProducer", "Outcome", "ProduceResult", "ProducerConfig"]
