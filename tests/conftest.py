"""Fixtures shared by every test: where the real Kafka and registry are.

The stack is found, in this order:
1. STREAMLAKE_BOOTSTRAP_SERVERS and STREAMLAKE_SCHEMA_REGISTRY_URL, when set;
2. testcontainers (Kafka + cp-schema-registry), when a Docker engine answers;
3. `scripts/stack up` (real Kafka and Apicurio from Maven Central).

Tests under tests/integration and tests/reliability are marked and get the
stack; unit tests never start it. tests/reliability/cluster (marked `cluster`)
brings up a 3-node stack of its own instead (its conftest.py). With CI=true, a
test that cannot get a stack fails instead of skipping.

Both suites build producers with `make_catalog` (an orders catalog whose
topics are unique to the test) and `make_producer` / `make_async_producer`
(on the suite's `schemas_dir` unless given another, closed at teardown).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamlake import AsyncIngestionProducer, IngestionProducer, ProducerConfig
from streamlake.config import LIBRDKAFKA_LOG
from tests.stacks import ROOT, Stack, read_env_file, run_stack, unavailable

ORDERS_SCHEMAS = ROOT / "avro" / "orders"
STACK_DIR = Path(os.environ.get("STREAMLAKE_STACK_DIR", ROOT / ".stack")).resolve()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        # Relative to tests/: the checkout's own path may hold these words.
        parts = item.path.resolve().relative_to(tests).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "reliability" in parts:
            item.add_marker(pytest.mark.reliability)
        if "cluster" in parts:
            item.add_marker(pytest.mark.cluster)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def _testcontainers_stack() -> Iterator[Stack]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.kafka import KafkaContainer

    with Network() as network:
        kafka = KafkaContainer("confluentinc/cp-kafka:7.9.0").with_kraft()
        kafka.with_network(network).with_network_aliases("kafka")
        kafka.with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        with kafka:
            registry = (
                DockerContainer("confluentinc/cp-schema-registry:7.9.0")
                .with_network(network)
                .with_exposed_ports(8081)
                .with_env("SCHEMA_REGISTRY_HOST_NAME", "schema-registry")
                .with_env("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:8081")
                .with_env("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "kafka:9092")
            )
            with registry:
                wait_for_logs(registry, "Server started", timeout=120)
                host = registry.get_container_host_ip()
                url = f"http://{host}:{registry.get_exposed_port(8081)}"
                yield Stack(kafka.get_bootstrap_server(), url, "testcontainers")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    bootstrap = os.environ.get("STREAMLAKE_BOOTSTRAP_SERVERS")
    registry = os.environ.get("STREAMLAKE_SCHEMA_REGISTRY_URL")
    if bootstrap and registry:
        # A stack run by scripts/stack can still be stopped and started.
        env_file = STACK_DIR / "env"
        ours = env_file.exists() and f"={bootstrap}\n" in env_file.read_text()
        yield Stack(bootstrap, registry, "scripts/stack" if ours else "env")
        return
    if _docker_answers():
        yield from _testcontainers_stack()
        return
    try:
        run_stack("up")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"no Kafka/registry stack: {exc}")
    env = read_env_file(STACK_DIR)
    yield Stack(
        env["STREAMLAKE_BOOTSTRAP_SERVERS"], env["STREAMLAKE_SCHEMA_REGISTRY_URL"], "scripts/stack"
    )


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names unique to this test, so tests share the stack without sharing topics."""
    token = uuid.uuid4().hex[:10]
    return lambda prefix: f"{prefix}-{token}"


@pytest.fixture(autouse=True)
def librdkafka_log_level_reset() -> Iterator[None]:
    """The CLI sets the librdkafka logger's level for its process; CliRunner
    runs it in this one, so every test starts from the default again."""
    yield
    LIBRDKAFKA_LOG.setLevel(logging.NOTSET)


MakeCatalog = Callable[..., Path]


@pytest.fixture
def make_catalog(tmp_path: Path, unique: Callable[[str], str]) -> MakeCatalog:
    """Write an orders catalog under tmp_path; its topics are unique to the test.

    `versions` picks which of avro/orders' schema files to copy (1 and 2 by
    default), `name` tells several catalogs of one test apart, and
    `compatibility` / `partitions` / `replication_factor` /
    `min_insync_replicas` go to dataset.toml when given.
    """

    def make(
        *,
        versions: tuple[int, ...] = (1, 2),
        name: str = "",
        compatibility: str | None = None,
        partitions: int | None = None,
        replication_factor: int | None = None,
        min_insync_replicas: int | None = None,
    ) -> Path:
        root = tmp_path / f"catalog{name}"
        folder = root / "orders"
        folder.mkdir(parents=True)
        for version in versions:
            shutil.copy(ORDERS_SCHEMAS / f"v{version}.avsc", folder / f"v{version}.avsc")
        lines = [
            'key_field = "order_id"',
            f'raw_topic = "{unique(f"t-raw-orders{name}")}"',
            f'dlq_topic = "{unique(f"t-dlq-orders{name}")}"',
        ]
        if compatibility is not None:
            lines.append(f'compatibility = "{compatibility}"')
        counts = {
            "partitions": partitions,
            "replication_factor": replication_factor,
            "min_insync_replicas": min_insync_replicas,
        }
        lines += [f"{key} = {value}" for key, value in counts.items() if value is not None]
        (folder / "dataset.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return root

    return make


@pytest.fixture
def schemas_dir(make_catalog: MakeCatalog) -> Path:
    return make_catalog()


def _producer_config(
    stack: Stack, request: pytest.FixtureRequest, **overrides: Any
) -> ProducerConfig:
    values: dict[str, Any] = {
        "bootstrap_servers": stack.bootstrap_servers,
        "schema_registry_url": stack.schema_registry_url,
        **overrides,
    }
    if "schemas_dir" not in values:
        values["schemas_dir"] = request.getfixturevalue("schemas_dir")
    return ProducerConfig(**values)


MakeProducer = Callable[..., IngestionProducer]


@pytest.fixture
def make_producer(stack: Stack, request: pytest.FixtureRequest) -> Iterator[MakeProducer]:
    """IngestionProducers on the test's catalog (ProducerConfig fields as
    keyword overrides, e.g. another `schemas_dir`), all closed at teardown."""
    producers: list[IngestionProducer] = []

    def make(**overrides: Any) -> IngestionProducer:
        producer = IngestionProducer(_producer_config(stack, request, **overrides))
        producers.append(producer)
        return producer

    yield make
    for producer in producers:
        producer.close(timeout=10)


MakeAsyncProducer = Callable[..., AsyncIngestionProducer]


@pytest.fixture
def make_async_producer(
    stack: Stack, request: pytest.FixtureRequest
) -> Iterator[MakeAsyncProducer]:
    """`make_producer` for AsyncIngestionProducers."""
    producers: list[AsyncIngestionProducer] = []

    def make(**overrides: Any) -> AsyncIngestionProducer:
        producer = AsyncIngestionProducer(_producer_config(stack, request, **overrides))
        producers.append(producer)
        return producer

    yield make
    for producer in producers:
        asyncio.run(producer.close(timeout=10))
