"""Checking librdkafka properties before any client uses them.

librdkafka is the judge of its own configuration: a producer is created from
the properties (without brokers, so nothing connects) and its refusal becomes
a `ConfigurationError` naming the property, instead of a `KafkaException`
from whichever client happens to be created first.
"""

from __future__ import annotations

from confluent_kafka import KafkaException, Producer

from streamlake.config import KAFKA_DEFAULTS, LIBRDKAFKA_LOG, ProducerConfig
from streamlake.errors import ConfigurationError


def check_kafka_properties(config: ProducerConfig) -> None:
    """Raise `ConfigurationError` when librdkafka refuses `config`'s properties."""
    conf = {**KAFKA_DEFAULTS, **config.kafka, "logger": LIBRDKAFKA_LOG}
    conf.pop("bootstrap.servers", None)
    try:
        Producer(conf)
    except KafkaException as exc:
        raise ConfigurationError(
            f"invalid Kafka configuration (-X or STREAMLAKE_KAFKA_*): {exc.args[0].str()}; "
            "see librdkafka's CONFIGURATION.md for the property names and values"
        ) from exc
