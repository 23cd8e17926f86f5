"""The naive producer: what a user writes from the confluent-kafka docs.

AvroSerializer (topic subject, auto-registration) + StringSerializer, the six
headers built per event (uuid4, datetime.now), poll(0) after every produce, a
delivery callback per event, retry on BufferError. The bench imports it for
its in-process contenders and runs this file as "the naive script":

    python naive.py --bootstrap B --registry URL --topic T --schema FILE \\
        --dataset D --version v2 --key order_id --file events.jsonl --conf '{...}'

It imports nothing from StreamLake or the bench: it is the user's alternative.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer


class NaiveProducer:
    def __init__(
        self,
        *,
        bootstrap: str,
        registry_url: str,
        topic: str,
        schema_str: str,
        dataset: str,
        version: str,
        key_field: str,
        conf: dict[str, str],
    ) -> None:
        client = SchemaRegistryClient({"url": registry_url})
        self.schema_id = str(client.register_schema(f"{topic}-value", Schema(schema_str, "AVRO")))
        self.value_serializer = AvroSerializer(
            client,
            schema_str,
            conf={"auto.register.schemas": True, "subject.name.strategy.type": "TOPIC"},
        )
        self.key_serializer = StringSerializer("utf_8")
        self.producer = Producer({"bootstrap.servers": bootstrap, **conf})
        self.topic, self.dataset, self.version, self.key_field = topic, dataset, version, key_field
        self.delivered = self.failed = 0

    def delivery_report(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failed += 1
            print(f"Delivery failed for record {msg.key()!r}: {err}", file=sys.stderr)
        else:
            self.delivered += 1

    def produce(self, event: dict[str, Any]) -> None:
        headers: list[tuple[str, str | bytes | None]] = [
            ("dataset", self.dataset),
            ("schema_version", self.version),
            ("schema_id", self.schema_id),
            ("ingestion_id", str(uuid.uuid4())),
            ("producer_service", "naive"),
            ("ingested_at", datetime.now(UTC).isoformat()),
        ]
        key = self.key_serializer(event[self.key_field])
        value = self.value_serializer(event, SerializationContext(self.topic, MessageField.VALUE))
        while True:
            try:
                self.producer.produce(
                    topic=self.topic,
                    key=key,
                    value=value,
                    headers=headers,
                    on_delivery=self.delivery_report,
                )
                break
            except BufferError:  # the local queue is full: serve deliveries, retry
                self.producer.poll(0.1)
        self.producer.poll(0)

    def produce_and_wait(self, event: dict[str, Any]) -> None:
        self.produce(event)
        self.producer.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("bootstrap", "registry", "topic", "schema", "dataset", "version", "key"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--conf", required=True, help="librdkafka settings as a JSON object")
    args = parser.parse_args(argv)
    with open(args.schema) as f:
        schema_str = f.read()
    naive = NaiveProducer(
        bootstrap=args.bootstrap,
        registry_url=args.registry,
        topic=args.topic,
        schema_str=schema_str,
        dataset=args.dataset,
        version=args.version,
        key_field=args.key,
        conf=json.loads(args.conf),
    )
    with open(args.file, "rb") as lines:
        for line in lines:
            naive.produce(json.loads(line))
    naive.producer.flush()
    print(json.dumps({"delivered": naive.delivered, "failed": naive.failed}))
    return 0 if naive.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
