"""Shared builders for the reliability suite: a catalog per test with unique
topics, producers closed at teardown, and topics read back by `readback.Topics`.

Every scenario here stops or starts servers of a stack run by scripts/stack
(`stack.control`), so run this suite against a stack of its own when other
suites share the default one (see docs/reliability.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faulthelpers import DATASET, ORDERS
from readback import Topics

from streamlake import IngestionProducer, ProducerConfig


@pytest.fixture
def topics(stack: Any) -> Topics:
    return Topics(stack.bootstrap_servers, group_prefix="rel")


MakeCatalog = Callable[..., Path]


@pytest.fixture
def make_catalog(tmp_path: Path, unique: Callable[[str], str]) -> MakeCatalog:
    """`make_catalog(name="")`: an orders catalog (v1, v2) under tmp_path whose
    raw and DLQ topics are unique to the test."""

    def make(name: str = "") -> Path:
        root = tmp_path / f"catalog{name}"
        folder = root / DATASET
        folder.mkdir(parents=True)
        for version in (1, 2):
            shutil.copy(ORDERS / f"v{version}.avsc", folder / f"v{version}.avsc")
        (folder / "dataset.toml").write_text(
            'key_field = "order_id"\n'
            f'raw_topic = "{unique(f"rel-raw-orders{name}")}"\n'
            f'dlq_topic = "{unique(f"rel-dlq-orders{name}")}"\n',
            encoding="utf-8",
        )
        return root

    return make


MakeProducer = Callable[..., IngestionProducer]


@pytest.fixture
def make_producer(stack: Any, make_catalog: MakeCatalog) -> Iterator[MakeProducer]:
    """IngestionProducers (ProducerConfig fields as keyword overrides) on a
    fresh catalog unless `schemas_dir` is given; closed at teardown."""
    producers: list[IngestionProducer] = []

    def make(**overrides: Any) -> IngestionProducer:
        values: dict[str, Any] = {
            "bootstrap_servers": stack.bootstrap_servers,
            "schema_registry_url": stack.schema_registry_url,
            **overrides,
        }
        values.setdefault("schemas_dir", make_catalog(str(len(producers))))
        producer = IngestionProducer(ProducerConfig(**values))
        producers.append(producer)
        return producer

    yield make
    for producer in producers:
        producer.close(timeout=10)
