"""Configuration: one frozen dataclass, built in one place.

A leaf module: it imports only the other leaves (errors, redaction), so every
part of the package may use it without an import cycle.

`ProducerConfig.from_env()` reads the environment; librdkafka's dotted
property dict and the registry client's dict are produced only at the edge
(`kafka_conf()`, `registry_conf()`). Secrets never appear in `repr`.

Defaults, chosen for a caller that waits on an acknowledgement:

=========================  ================  =====================================
librdkafka property        default           why
=========================  ================  =====================================
acks                       all               a record is durable once acknowledged
enable.idempotence         true              retries never duplicate or reorder
linger.ms                  5                 small batches, low latency
message.timeout.ms         30000             a dead broker reaches the caller in
                                             30 s, not librdkafka's 300 s; retries
                                             are bounded by this, never endless
partitioner                murmur2_random    same key -> same partition as Java
                                             producers and Kafka Streams
client.id                  producer_service  visible in broker logs and quotas
=========================  ================  =====================================

librdkafka's own log lines go to the Python logger
``streamlake.kafka.librdkafka`` (served on poll/flush), not to stderr: an
unreachable broker otherwise prints a line per reconnect attempt, hundreds in
a 30 s startup wait, past any logging configuration.

Environment: STREAMLAKE_BOOTSTRAP_SERVERS, STREAMLAKE_SCHEMA_REGISTRY_URL,
STREAMLAKE_SCHEMAS_DIR, STREAMLAKE_PRODUCER_SERVICE; any librdkafka property as
STREAMLAKE_KAFKA_<NAME> (``STREAMLAKE_KAFKA_SASL_PASSWORD`` -> ``sasl.password``)
and any registry client property as STREAMLAKE_REGISTRY_<NAME>
(``STREAMLAKE_REGISTRY_BASIC_AUTH_USER_INFO`` -> ``basic.auth.user.info``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamlake._logging import quiet_repeats
from streamlake.errors import ConfigurationError
from streamlake.redaction import redact, redact_url

KAFKA_DEFAULTS: Mapping[str, str] = {
    "acks": "all",
    "enable.idempotence": "true",
    "linger.ms": "5",
    "message.timeout.ms": "30000",
    "partitioner": "murmur2_random",
}
LIBRDKAFKA_LOG = quiet_repeats(logging.getLogger("streamlake.kafka.librdkafka"))
REGISTRY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 30.0
REGISTRY_DEFAULTS: Mapping[str, Any] = {
    # StreamLake retries the registry itself, within registry_timeout_s; the
    # client's own retries would multiply that budget.
    "max.retries": 0,
    "timeout": 10,
}


@dataclass(frozen=True, kw_only=True)
class ProducerConfig:
    """Where Kafka and the registry are, and how to talk to them."""

    bootstrap_servers: str = ""
    """Required by whatever talks to Kafka (checked there)."""
    schema_registry_url: str = ""
    """Required by whatever talks to the registry (checked there)."""
    schemas_dir: Path = Path("avro")
    producer_service: str = "ingestion-api"
    """Written to every record's `producer_service` header."""
    kafka: Mapping[str, str] = field(default_factory=dict)
    """librdkafka properties that override the defaults (security included)."""
    registry: Mapping[str, str] = field(default_factory=dict)
    """Schema registry client properties (basic auth, bearer token, TLS)."""
    registry_timeout_s: float = REGISTRY_TIMEOUT_S
    """How long startup retries an unreachable registry before giving up."""
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    """How long startup waits for brokers that do not answer before giving up."""

    def __repr__(self) -> str:
        return (
            f"ProducerConfig(bootstrap_servers={self.bootstrap_servers!r}, "
            f"schema_registry_url={redact_url(self.schema_registry_url)!r}, "
            f"schemas_dir={str(self.schemas_dir)!r}, producer_service={self.producer_service!r}, "
            f"kafka={redact(self.kafka)!r}, registry={redact(self.registry)!r})"
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> ProducerConfig:
        """Build the config from STREAMLAKE_* variables; `overrides` (e.g. CLI
        flags) win over the environment, and `kafka` / `registry` overrides are
        merged over the environment's properties."""
        env = os.environ if environ is None else environ
        kafka = _properties(env, "STREAMLAKE_KAFKA_")
        registry = _properties(env, "STREAMLAKE_REGISTRY_")
        kafka.update(overrides.pop("kafka", None) or {})  # type: ignore[call-overload]
        registry.update(overrides.pop("registry", None) or {})  # type: ignore[call-overload]
        values: dict[str, object] = {
            "bootstrap_servers": env.get("STREAMLAKE_BOOTSTRAP_SERVERS", ""),
            "schema_registry_url": env.get("STREAMLAKE_SCHEMA_REGISTRY_URL", ""),
            "schemas_dir": Path(env.get("STREAMLAKE_SCHEMAS_DIR", "avro")),
            "producer_service": env.get("STREAMLAKE_PRODUCER_SERVICE", "ingestion-api"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(kafka=kafka, registry=registry, **values)  # type: ignore[arg-type]

    def kafka_conf(self, **extra: Any) -> dict[str, Any]:
        """librdkafka's property dict: defaults, then overrides, then `extra`."""
        return {
            **KAFKA_DEFAULTS,
            "client.id": self.producer_service,
            **self.connection_conf(),
            **extra,
        }

    def connection_conf(self) -> dict[str, Any]:
        """What every Kafka client needs (admin, consumer, and under the
        producer defaults): brokers, security settings and the logger
        librdkafka's log lines go to."""
        if not self.bootstrap_servers:
            raise ConfigurationError(
                "no Kafka bootstrap servers: set STREAMLAKE_BOOTSTRAP_SERVERS or "
                "--bootstrap-servers (e.g. 127.0.0.1:9092)"
            )
        return {**self.kafka, "bootstrap.servers": self.bootstrap_servers, "logger": LIBRDKAFKA_LOG}

    def registry_conf(self) -> dict[str, Any]:
        """The confluent-kafka SchemaRegistryClient config dict."""
        if not self.schema_registry_url:
            raise ConfigurationError(
                "no schema registry URL: set STREAMLAKE_SCHEMA_REGISTRY_URL or "
                "--schema-registry-url (e.g. http://127.0.0.1:8081)"
            )
        url = urlsplit(self.schema_registry_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigurationError(
                f"schema registry URL {redact_url(self.schema_registry_url)!r} is not an "
                "http(s) URL: expected e.g. http://127.0.0.1:8081 (Confluent) or "
                "http://127.0.0.1:8080/apis/ccompat/v7 (Apicurio)"
            )
        return {**REGISTRY_DEFAULTS, **self.registry, "url": self.schema_registry_url}


def _properties(env: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {
        name[len(prefix) :].lower().replace("_", "."): value
        for name, value in env.items()
        if name.startswith(prefix)
    }
