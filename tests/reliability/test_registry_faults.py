"""Scenario 3: the schema registry down. After startup, producing goes on from
the ids cached at startup without a single registry call; at startup, the
producer and the CLI give up after bounded retries with an error naming the URL.

Each test restarts the registry in `finally`; it keeps its schemas in a file
database, so later tests find their ids again."""

from __future__ import annotations

import socket
import subprocess
import time
from collections import Counter
from urllib.parse import urlparse

import pytest

from streamlake import IngestionProducer, ProducerConfig
from streamlake.errors import RegistryUnavailableError
from streamlake.registry import SchemaRegistry
from tests.reliability.faulthelpers import DATASET, cli_env, free_port, order, streamlake_exe


def test_registry_down_after_startup_producing_goes_on_with_zero_registry_calls(
    stack, make_producer, topics, monkeypatch
):
    sent = 1_000
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    registry_port = urlparse(stack.schema_registry_url).port
    calls: Counter[str] = Counter()
    real_connect = socket.socket.connect
    real_call = SchemaRegistry._call

    def connect(sock: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[1] == registry_port:
            calls["socket connect"] += 1
        return real_connect(sock, address)

    def call(self: SchemaRegistry, what: str, *args: object, **kwargs: object) -> object:
        calls[f"registry: {what}"] += 1
        return real_call(self, what, *args, **kwargs)

    stack.control("stop", "registry")
    try:
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(SchemaRegistry, "_call", call)
        outcomes = Counter(
            str(r.outcome)
            for r in producer.produce_many(DATASET, (order(f"R{i}") for i in range(sent)))
        )
        monkeypatch.undo()
    finally:
        stack.control("start", "registry")

    assert outcomes == {"produced": sent}
    assert dict(calls) == {}
    assert topics.count(dataset.raw_topic) == sent
    print(f"\nregistry down after startup: produced={outcomes['produced']} registry_calls=0")


def test_registry_down_at_startup_the_producer_gives_up_in_bounded_time_naming_the_url(
    stack, make_catalog
):
    url = f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"
    config = ProducerConfig(
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=url,
        schemas_dir=make_catalog(),
        registry_timeout_s=3,
    )
    started = time.monotonic()
    with pytest.raises(RegistryUnavailableError) as raised:
        IngestionProducer(config)
    elapsed = time.monotonic() - started
    assert elapsed < 10
    assert url in raised.value.message
    assert "unreachable" in raised.value.message
    print(f"\nregistry down at startup (library, 3 s budget): gave up after {elapsed:.1f}s")


def test_registry_down_at_startup_the_cli_exits_non_zero_naming_the_url(
    stack, make_catalog, tmp_path
):
    url = f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"
    events = tmp_path / "events.jsonl"
    events.write_text('{"order_id": "A", "customer_id": "C", "amount": 1, "event_time": "t"}\n')
    started = time.monotonic()
    done = subprocess.run(
        [streamlake_exe(), "--registry-timeout", "3", "produce", DATASET, str(events)],
        env=cli_env(
            STREAMLAKE_BOOTSTRAP_SERVERS=stack.bootstrap_servers,
            STREAMLAKE_SCHEMA_REGISTRY_URL=url,
            STREAMLAKE_SCHEMAS_DIR=str(make_catalog()),
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert url in done.stderr
    assert "unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 20
    print(f"\nregistry down at startup (CLI): exit {done.returncode} after {elapsed:.1f}s")
