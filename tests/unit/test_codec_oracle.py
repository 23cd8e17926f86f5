"""The codec's bytes against the references, for generated schemas and values.

The catalog in avro/ is checked against confluent-kafka's AvroSerializer;
hypothesis-generated schemas (every primitive and logical type, nested and
recursive records, named types reused by name, enums, fixed, arrays, maps,
unions of every kind, defaults) against fastavro's schemaless_writer. Each
value goes in as natural JSON text (str and bytes), as Avro JSON text and as
Python objects; all must give the reference's bytes and the key field's text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlake.catalog import load_catalog
from tests.unit.codec_strategies import (
    UNREPRESENTABLE,
    Case,
    cases,
    expected_key,
    fastavro_bytes,
    node_of,
    to_json,
    values,
    wire,
)

ROOT = Path(__file__).resolve().parents[2]
ORACLE = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_the_catalog_holds_the_versions_this_oracle_checks(catalog_versions):
    labels = [v.label for v in catalog_versions]

    assert {"orders v1", "orders v2", "customers v1"} <= set(labels)
    assert len({v.schema_id for v in catalog_versions}) == len(labels)


CATALOG_LABELS = [
    f"{dataset.name} {version.label}"
    for dataset in load_catalog(ROOT / "avro").values()
    for version in dataset.versions
]


@pytest.mark.parametrize("label", CATALOG_LABELS)
def test_generated_catalog_events_encode_exactly_as_avro_serializer_does(catalog_versions, label):
    (version,) = [v for v in catalog_versions if v.label == label]
    key_field = version.dataset.key_field
    names: dict = {}
    for text in version.version.named_types:  # shared types, dependencies first
        node_of(json.loads(text), names=names)
    events = values(node_of(dict(version.version.schema), names=names)).filter(
        lambda sample: sample.datum[key_field] != ""
    )

    @settings(ORACLE, max_examples=60)
    @given(events, st.booleans())
    def check(sample, as_bytes):
        expected = (version.reference(sample.datum), expected_key(sample, key_field))
        text = to_json(sample.natural, ensure_ascii=not as_bytes)

        assert version.natural.encode_json(text.encode() if as_bytes else text) == expected
        assert version.natural.encode_object(sample.python) == expected
        assert version.avro.encode_json(json.dumps(sample.avro)) == expected

    check()


def _check_case(make_encoder, case: Case, *, as_bytes: bool) -> None:
    generated = case.schema
    named = generated.named_types
    natural = make_encoder(generated.schema, 11, named_types=named)
    avro = make_encoder(generated.schema, 11, json_encoding="avro", named_types=named)
    for sample in case.records:
        avro_bytes = fastavro_bytes(generated.schema, sample.datum, named)
        expected = (wire(11, avro_bytes), expected_key(sample))

        assert avro.encode_json(json.dumps(sample.avro)) == expected
        if sample.natural is not UNREPRESENTABLE:
            text = to_json(sample.natural, ensure_ascii=not as_bytes)
            assert natural.encode_json(text.encode() if as_bytes else text) == expected
        if sample.python is not UNREPRESENTABLE:
            assert natural.encode_object(sample.python) == expected


@ORACLE
@given(cases(), st.booleans())
def test_generated_schemas_encode_exactly_as_fastavro_does(make_encoder, case, as_bytes):
    _check_case(make_encoder, case, as_bytes=as_bytes)


@pytest.mark.parametrize("unscaled", [-128, -129, -32768, -(2**63), 127, 128, 0, -1])
def test_decimals_at_byte_boundaries_take_fastavros_length(make_encoder, unscaled):
    # fastavro sizes a bytes decimal by its magnitude: -128 takes two bytes,
    # not one; AvroSerializer does the same, so the codec must too.
    schema = {
        "type": "record",
        "name": "Price",
        "fields": [
            {"name": "id", "type": "string"},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 2},
            },
        ],
    }
    amount = Decimal(unscaled).scaleb(-2)
    expected = wire(7, fastavro_bytes(schema, {"id": "p", "amount": amount}))

    assert make_encoder(schema).encode_json(f'{{"id": "p", "amount": "{amount}"}}')[0] == expected
    assert make_encoder(schema).encode_object({"id": "p", "amount": amount})[0] == expected
