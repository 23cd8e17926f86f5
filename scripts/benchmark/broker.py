"""The parent's Kafka side: fresh topics, one-dataset catalogs, counting back.

Every contender produces into topics of its own, created here (never
auto-created) with the same partition count; after each run the records are
counted back from the topic (the sum of the partitions' high watermarks).
Topics and the subjects registered for them are deleted at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from confluent_kafka.schema_registry import SchemaRegistryClient

from benchmark.payloads import KEY_FIELD, PAYLOADS
from benchmark.settings import PARTITIONS, ROOT

COUNT_WAIT_S = 120.0


def stack_env() -> tuple[str, str]:
    """The bootstrap servers and registry URL, from the environment or .stack/env."""
    env = dict(os.environ)
    stack_file = ROOT / ".stack" / "env"
    if stack_file.is_file():
        for line in stack_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() and name.strip() not in env:
                env[name.strip()] = value.strip()
    bootstrap = env.get("STREAMLAKE_BOOTSTRAP_SERVERS", "")
    registry = env.get("STREAMLAKE_SCHEMA_REGISTRY_URL", "")
    if not bootstrap or not registry:
        sys.exit(
            "bench: set STREAMLAKE_BOOTSTRAP_SERVERS and STREAMLAKE_SCHEMA_REGISTRY_URL, "
            "or run `scripts/stack up` (it writes .stack/env)"
        )
    return bootstrap, registry


class Broker:
    """Topics named after the run, created and counted through one admin client."""

    def __init__(self, bootstrap: str, registry: str, run_id: str) -> None:
        self.bootstrap, self.registry, self.run_id = bootstrap, registry, run_id
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{run_id}"})
        self.topics: list[str] = []

    def topic(self, *parts: str) -> str:
        """A fresh topic `bench.RUN.PARTS...`, created and visible in the metadata."""
        name = ".".join(("bench", self.run_id, *parts))
        self.create_topics([name])
        return name

    def create_topics(self, names: list[str]) -> None:
        futures = self.admin.create_topics(
            [NewTopic(name, PARTITIONS, 1) for name in names], operation_timeout=30
        )
        for future in futures.values():
            future.result(timeout=60)
        self.topics.extend(names)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the metadata shows them
            known = self.admin.list_topics(timeout=10).topics
            if all(name in known and len(known[name].partitions) == PARTITIONS for name in names):
                return
            time.sleep(0.1)

    def count(self, topic: str) -> int:
        """Records in `topic`: the sum of its partitions' high minus low
        watermarks. Right after a broker restart (the asyncio outage) the
        partitions may have no leader yet: retry for up to COUNT_WAIT_S."""
        deadline = time.monotonic() + COUNT_WAIT_S
        while True:
            try:
                return sum(self._watermark_span(topic, p) for p in range(PARTITIONS))
            except KafkaException as exc:
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"could not count {topic} within {COUNT_WAIT_S:.0f}s: {exc}"
                    ) from exc
                time.sleep(1.0)

    def _watermark_span(self, topic: str, partition: int) -> int:
        low, high = self.consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=10
        )
        return int(high - low)

    def catalog(self, folder: Path, variant: str, *parts: str) -> tuple[Path, str, str]:
        """A one-dataset catalog under `folder` whose topics are fresh: (dir, raw, dlq)."""
        payload = PAYLOADS[variant]
        raw = ".".join(("bench", self.run_id, variant, *parts))
        dlq = f"{raw}.dlq"
        root = folder / f"catalog-{raw}"
        (root / payload.dataset).mkdir(parents=True)
        (root / payload.dataset / "dataset.toml").write_text(
            f'key_field = "{KEY_FIELD}"\ncompatibility = "BACKWARD"\npartitions = {PARTITIONS}\n'
            f'raw_topic = "{raw}"\ndlq_topic = "{dlq}"\n'
        )
        for i, schema in enumerate(payload.schemas, start=1):
            (root / payload.dataset / f"v{i}.avsc").write_text(schema)
        self.create_topics([raw, dlq])
        return root, raw, dlq

    def cleanup(self, *, keep_topics: bool) -> None:
        if self.topics and not keep_topics:
            for future in self.admin.delete_topics(self.topics, operation_timeout=30).values():
                with contextlib.suppress(Exception):
                    future.result(timeout=60)
            self.delete_subjects()
        self.consumer.close()

    def delete_subjects(self) -> None:
        """The value subjects the run registered (best effort, soft then hard)."""
        client = SchemaRegistryClient({"url": self.registry})
        mine = {f"{topic}-value" for topic in self.topics}
        with contextlib.suppress(Exception):
            for subject in set(client.get_subjects()) & mine:
                with contextlib.suppress(Exception):
                    client.delete_subject(subject)
                    client.delete_subject(subject, permanent=True)
