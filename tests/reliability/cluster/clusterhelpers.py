"""What the cluster scenarios and their conftest.py share: the node count and
a wait for every partition to be fully replicated again.

Imported as ``tests.reliability.cluster.clusterhelpers``, not from its
``conftest``, for the reason faulthelpers gives.
"""

from __future__ import annotations

import time

from confluent_kafka.admin import AdminClient

BROKERS = 3
REPLICATED_TIMEOUT_S = 120.0


def wait_fully_replicated(bootstrap_servers: str, timeout: float = REPLICATED_TIMEOUT_S) -> None:
    """Until every broker is registered and every partition of every topic has
    a leader and all its replicas in sync."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    deadline = time.monotonic() + timeout
    lagging: list[str] = []
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=10)
        lagging = [
            f"{topic.topic}[{p.id}] isr={p.isrs} replicas={p.replicas}"
            for topic in metadata.topics.values()
            for p in topic.partitions.values()
            if p.leader < 0 or len(p.isrs) < len(p.replicas)
        ]
        if len(metadata.brokers) == BROKERS and not lagging:
            return
        time.sleep(0.5)  # followers catching up: no event to wait on
    raise AssertionError(f"not fully replicated after {timeout:.0f}s: {lagging[:5]}")
