"""Generated event classes on the real stack: instances produced through
IngestionProducer land in the raw topic and read back (fastavro, with the
schema the registry holds for the record's id) equal to what was produced."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import fastavro
import pytest

from streamlake import Outcome, load_catalog
from streamlake.catalog import Catalog
from streamlake.codegen import generate
from streamlake.typed_events import event_dict
from tests.codegen_corpus import sample_event, write_corpus

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::avro.errors.IgnoredLogicalType"),
]


def generated_module(catalog: Catalog, path: Path) -> ModuleType:
    path.write_text(generate(catalog))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def produce_typed(producer, events) -> list:
    """Each event produced to the dataset version its class names."""
    return [producer.produce(event) for event in events]


def decoded_values(kafka, registry_client, topic: str, count: int) -> dict[bytes, object]:
    """Each record's value by key, decoded with the registry's schema for its id."""
    out = {}
    for record in kafka.read(topic, count, exact=True):
        assert record.value[0] == 0, "magic byte"
        schema = registry_client.get_schema(int.from_bytes(record.value[1:5], "big"))
        body = io.BytesIO(record.value[5:])
        out[record.key] = fastavro.schemaless_reader(
            body, fastavro.parse_schema(json.loads(schema.schema_str)), None
        )
        assert body.tell() == len(record.value) - 5, "trailing bytes"
    return out


def test_generated_orders_are_produced_and_read_back_equal(
    make_catalog, make_producer, tmp_path, kafka, registry_client
):
    schemas_dir = make_catalog()
    catalog = load_catalog(schemas_dir)
    orders = generated_module(catalog, tmp_path / "it_orders_events.py")
    events = [
        orders.OrdersV2(order_id="ORD-1", customer_id="C-1", amount=9.5, event_time="t1"),
        orders.OrdersV2(
            order_id="ORD-2", customer_id="C-2", amount=0.0, event_time="t2", currency="EUR"
        ),
        orders.OrdersV1(order_id="ORD-3", customer_id="C-3", amount=-1.5, event_time="t3"),
    ]
    producer = make_producer(schemas_dir=schemas_dir)

    results = produce_typed(producer, events)

    assert [r.outcome for r in results] == [Outcome.PRODUCED] * 3
    raw_topic = catalog["orders"].raw_topic
    decoded = decoded_values(kafka, registry_client, raw_topic, 3)
    assert decoded == {e.order_id.encode(): event_dict(e) for e in events}


def test_the_complex_corpus_is_produced_and_read_back_equal(
    make_producer, tmp_path, unique, kafka, registry_client
):
    raw_topic = unique("it-raw-events")
    schemas_dir = tmp_path / "avro"
    write_corpus(schemas_dir, raw_topic=raw_topic, dlq_topic=unique("it-dlq-events"))
    events_module = generated_module(load_catalog(schemas_dir), tmp_path / "it_corpus_events.py")
    events = [sample_event(events_module, f"E-{n}") for n in range(3)]
    producer = make_producer(schemas_dir=schemas_dir)

    # The instances themselves: the codec keys renamed fields (from_, class_)
    # by their Avro names.
    results = produce_typed(producer, events)

    assert [(r.outcome, r.error) for r in results] == [(Outcome.PRODUCED, None)] * 3
    decoded = decoded_values(kafka, registry_client, raw_topic, 3)
    assert decoded == {e.event_id.encode(): event_dict(e) for e in events}
