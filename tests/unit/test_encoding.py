"""ValueEncoder, to_record, parse_json and Clock.

The key property: ValueEncoder's bytes are byte-identical to confluent-kafka's
AvroSerializer for the same schema and record, for every version of the
shipped catalog and for a fixture schema using every Avro type, with
hand-written and generated records. The registry is confluent-kafka's mock
client: only the schema id comes from it, the rest is pure encoding.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import fastavro
import fastavro.utils
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlake.catalog import Catalog, SchemaVersion, load_catalog
from streamlake.errors import ErrorType, InvalidEventError
from streamlake.kafka.producer._encoding import Clock, ValueEncoder, parse_json, to_record

ROOT = Path(__file__).resolve().parents[2]

HYPOTHESIS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIXTURE_SCHEMA = {
    "type": "record",
    "name": "Shipment",
    "namespace": "test.fixture",
    "doc": "Every Avro type the encoder must agree with AvroSerializer on.",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "count", "type": "int"},
        {"name": "ratio", "type": "float"},
        {"name": "price", "type": "double"},
        {"name": "active", "type": "boolean"},
        {"name": "label", "type": "string"},
        {"name": "payload", "type": "bytes"},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {
            "name": "status",
            "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]},
        },
        {
            "name": "address",
            "type": {
                "type": "record",
                "name": "Address",
                "fields": [
                    {"name": "street", "type": "string"},
                    {"name": "zip", "type": ["null", "string"], "default": None},
                ],
            },
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "scores", "type": {"type": "map", "values": "long"}},
        {
            "name": "lines",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Line",
                    "fields": [
                        {"name": "sku", "type": "string"},
                        {"name": "qty", "type": "int"},
                    ],
                },
            },
        },
        {"name": "note", "type": ["null", "string", "long"], "default": None},
        {"name": "priority", "type": "int", "default": 5},
        {"name": "channel", "type": "string", "default": "web"},
        {"name": "flags", "type": {"type": "array", "items": "boolean"}, "default": []},
        {"name": "previous", "type": ["null", "Address"], "default": None},
    ],
}

SHIPMENT = {
    "id": 9_007_199_254_740_993,
    "count": -2_147_483_648,
    "ratio": 0.5,
    "price": 1234.5678,
    "active": True,
    "label": "héllo ✓ 🚚",
    "payload": b"\x00\xff\x10",
    "digest": b"\xde\xad\xbe\xef",
    "status": "SHIPPED",
    "address": {"street": "1 Main St", "zip": "75001"},
    "tags": ["fragile", ""],
    "scores": {"speed": 9, "care": -(2**63)},
    "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 2_147_483_647}],
    "note": 42,
    "priority": 1,
    "channel": "api",
    "flags": [True, False],
    "previous": {"street": "2 Side St", "zip": None},
}

CUSTOMER = {
    "customer_id": "c-1",
    "email": "a@b.c",
    "tier": "FREE",
    "updated_at": "2026-01-21",
}

ORDER_V2 = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "amount": 42.5,
    "event_time": "2026-01-21T10:00:00Z",
    "currency": "EUR",
}


# --- the reference: AvroSerializer over the mock registry ------------------------------------


@dataclass(frozen=True)
class Pair:
    """One schema version with both encoders: ours and confluent-kafka's."""

    version: SchemaVersion
    topic: str
    schema_id: int
    encoder: ValueEncoder
    serializer: AvroSerializer

    def reference(self, record: dict[str, Any]) -> bytes:
        return self.serializer(record, SerializationContext(self.topic, MessageField.VALUE))


def fixture_catalog(root: Path) -> Catalog:
    folder = root / "shipments"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text('key_field = "id"\n')
    (folder / "v1.avsc").write_text(json.dumps(FIXTURE_SCHEMA, indent=2))
    return load_catalog(root)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> dict[str, Pair]:
    """Every shipped version and the fixture, by label (``orders v2``)."""
    client = SchemaRegistryClient.new_client({"url": "mock://unit"})
    shipped = load_catalog(ROOT / "avro")
    extra = fixture_catalog(tmp_path_factory.mktemp("catalog"))
    result = {}
    for catalog in (shipped, extra):
        for dataset in catalog.values():
            for version in dataset.versions:
                schema_id = client.register_schema(
                    dataset.value_subject, Schema(version.schema_str, "AVRO")
                )
                serializer = AvroSerializer(
                    client,
                    version.schema_str,
                    conf={
                        "auto.register.schemas": False,
                        "use.latest.version": False,
                        "subject.name.strategy.type": "TOPIC",
                    },
                )
                result[f"{dataset.name} {version.label}"] = Pair(
                    version=version,
                    topic=dataset.raw_topic,
                    schema_id=schema_id,
                    encoder=ValueEncoder(version, schema_id),
                    serializer=serializer,
                )
    return result


SHIPPED_LABELS = ["customers v1", "orders v1", "orders v2"]
ALL_LABELS = [*SHIPPED_LABELS, "shipments v1"]


def test_the_reference_covers_every_shipped_version(pairs):
    shipped = load_catalog(ROOT / "avro")
    labels = [f"{d.name} {v.label}" for d in shipped.values() for v in d.versions]

    assert labels == SHIPPED_LABELS
    assert sorted(pairs) == sorted(ALL_LABELS)
    assert len({pair.schema_id for pair in pairs.values()}) == len(ALL_LABELS)


# --- generated records from a schema ---------------------------------------------------------


def avro_values(schema: Any, names: dict[str, Any], *, nan: bool = True) -> st.SearchStrategy:
    """Valid values of `schema`. Named types are registered in `names` by both
    their short and full name, as they are met (before any reference)."""
    if isinstance(schema, list):
        return st.one_of([avro_values(branch, names, nan=nan) for branch in schema])
    if isinstance(schema, str):
        primitives = {
            "null": st.none(),
            "boolean": st.booleans(),
            "int": st.integers(-(2**31), 2**31 - 1),
            "long": st.integers(-(2**63), 2**63 - 1),
            "float": st.floats(width=32, allow_nan=nan),
            "double": st.floats(allow_nan=nan),
            "string": st.text(max_size=20),
            "bytes": st.binary(max_size=20),
        }
        return primitives[schema] if schema in primitives else st.deferred(lambda: names[schema])
    kind = schema["type"]
    if kind == "record":
        required = {}
        optional = {}
        for f in schema["fields"]:
            values = avro_values(f["type"], names, nan=nan)
            (optional if "default" in f else required)[f["name"]] = values
        strategy = st.fixed_dictionaries(required, optional=optional)
    elif kind == "enum":
        strategy = st.sampled_from(schema["symbols"])
    elif kind == "fixed":
        strategy = st.binary(min_size=schema["size"], max_size=schema["size"])
    elif kind == "array":
        return st.lists(avro_values(schema["items"], names, nan=nan), max_size=4)
    elif kind == "map":
        return st.dictionaries(
            st.text(max_size=8), avro_values(schema["values"], names, nan=nan), max_size=4
        )
    else:
        return avro_values(kind, names, nan=nan)
    name = schema["name"]
    namespace = schema.get("namespace")
    names[name] = strategy
    if namespace:
        names[f"{namespace}.{name}"] = strategy
    return strategy


def records_of(version: SchemaVersion, *, nan: bool = True) -> st.SearchStrategy:
    return avro_values(dict(version.schema), {}, nan=nan)


def with_defaults(schema: Any, value: Any, names: dict[str, Any]) -> Any:
    """`value` as a reader sees it: every omitted field holding its default."""
    if isinstance(schema, str):
        return with_defaults(names[schema], value, names) if schema in names else value
    if isinstance(schema, list):
        records = [b for b in schema if (isinstance(b, str) and b in names) or isinstance(b, dict)]
        return with_defaults(records[0], value, names) if isinstance(value, dict) else value
    kind = schema["type"]
    if kind == "record":
        names[schema["name"]] = schema
        return {
            f["name"]: with_defaults(
                f["type"], value[f["name"]] if f["name"] in value else f["default"], names
            )
            for f in schema["fields"]
        }
    if kind == "array":
        return [with_defaults(schema["items"], item, names) for item in value]
    if kind == "map":
        return {k: with_defaults(schema["values"], v, names) for k, v in value.items()}
    return value


def decode(schema: Any, payload: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(payload), fastavro.parse_schema(dict(schema)))


# --- byte-identical to AvroSerializer --------------------------------------------------------

HAND_WRITTEN = [
    ("orders v1", {k: v for k, v in ORDER_V2.items() if k != "currency"}),
    ("orders v2", ORDER_V2),
    ("orders v2", {**ORDER_V2, "currency": None}),
    ("orders v2", {k: v for k, v in ORDER_V2.items() if k != "currency"}),
    ("orders v2", {**ORDER_V2, "amount": 0, "order_id": "", "customer_id": "çüstømer ✓"}),
    ("orders v2", {**ORDER_V2, "amount": -0.0}),
    ("orders v2", {**ORDER_V2, "amount": 1.7976931348623157e308}),
    ("orders v2", {**ORDER_V2, "amount": 5e-324}),
    ("orders v2", {**ORDER_V2, "amount": float("inf")}),
    ("orders v2", {**ORDER_V2, "amount": 10**15}),
    ("orders v2", {**ORDER_V2, "event_time": "x" * 5000}),
    ("customers v1", CUSTOMER),
    (
        "customers v1",
        {
            "customer_id": "c-2",
            "email": "d@e.f",
            "country": "FR",
            "tier": "ENTERPRISE",
            "updated_at": "2026-01-21",
        },
    ),
    (
        "customers v1",
        {
            "customer_id": "c-3",
            "email": "",
            "country": None,
            "tier": "PRO",
            "updated_at": "",
        },
    ),
    ("shipments v1", SHIPMENT),
    (
        "shipments v1",
        {
            k: v
            for k, v in SHIPMENT.items()
            if k not in ("note", "priority", "channel", "flags", "previous")
        },
    ),
    ("shipments v1", {**SHIPMENT, "note": "text", "tags": [], "scores": {}, "lines": []}),
    ("shipments v1", {**SHIPMENT, "note": None, "address": {"street": ""}, "payload": b""}),
]


@pytest.mark.parametrize(("label", "record"), HAND_WRITTEN)
def test_hand_written_records_encode_exactly_as_avro_serializer_does(pairs, label, record):
    pair = pairs[label]

    assert pair.encoder.encode(record) == pair.reference(record)


@pytest.mark.parametrize("label", ALL_LABELS)
def test_generated_records_encode_exactly_as_avro_serializer_does(pairs, label):
    pair = pairs[label]

    @HYPOTHESIS
    @given(records_of(pair.version))
    def check(record):
        assert pair.encoder.encode(record) == pair.reference(record)

    check()


@pytest.mark.parametrize("label", ALL_LABELS)
def test_fastavro_generated_records_encode_exactly_as_avro_serializer_does(pairs, label):
    pair = pairs[label]
    records = list(fastavro.utils.generate_many(dict(pair.version.schema), 200))

    assert len(records) == 200
    for record in records:
        assert pair.encoder.encode(record) == pair.reference(record)


# --- the wire format -------------------------------------------------------------------------


def test_the_wire_format_is_magic_byte_big_endian_schema_id_then_avro(pairs):
    encoder = ValueEncoder(pairs["orders v2"].version, 0x01020304)

    value = encoder.encode(ORDER_V2)

    assert value[0] == 0
    assert value[1:5] == b"\x01\x02\x03\x04"
    assert int.from_bytes(value[1:5], "big") == 0x01020304
    assert decode(pairs["orders v2"].version.schema, value[5:]) == ORDER_V2


def test_the_schema_id_in_the_value_is_the_registered_one(pairs):
    for pair in pairs.values():
        assert pair.encoder.schema_id == pair.schema_id
    value = pairs["customers v1"].encoder.encode(CUSTOMER)

    assert int.from_bytes(value[1:5], "big") == pairs["customers v1"].schema_id


def test_the_largest_schema_id_fits_the_four_bytes(pairs):
    value = ValueEncoder(pairs["customers v1"].version, 2**31 - 1).encode(CUSTOMER)

    assert value[:5] == b"\x00\x7f\xff\xff\xff"


def test_an_omitted_field_with_a_default_is_written_as_its_default(pairs):
    record = {k: v for k, v in ORDER_V2.items() if k != "currency"}

    value = pairs["orders v2"].encoder.encode(record)

    assert decode(pairs["orders v2"].version.schema, value[5:]) == {**record, "currency": None}


def test_the_fixture_record_decodes_back_to_itself(pairs):
    pair = pairs["shipments v1"]

    value = pair.encoder.encode(SHIPMENT)

    assert value[:1] == b"\x00"
    assert decode(pair.version.schema, value[5:]) == SHIPMENT


@pytest.mark.parametrize("label", ALL_LABELS)
def test_generated_records_decode_back_with_their_defaults(pairs, label):
    pair = pairs[label]

    @HYPOTHESIS
    @given(records_of(pair.version, nan=False))
    def check(record):
        value = pair.encoder.encode(record)

        assert value[0] == 0
        assert int.from_bytes(value[1:5], "big") == pair.schema_id
        expected = with_defaults(dict(pair.version.schema), record, {})
        assert decode(pair.version.schema, value[5:]) == expected

    check()


def test_the_encoder_keeps_no_state_between_records(pairs):
    encoder = pairs["orders v2"].encoder
    first = encoder.encode(ORDER_V2)
    with pytest.raises(InvalidEventError):
        encoder.encode({**ORDER_V2, "amount": "lots"})

    assert encoder.encode(ORDER_V2) == first


# --- invalid records -------------------------------------------------------------------------


def invalid(encoder: ValueEncoder, record: dict[str, Any]) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as caught:
        encoder.encode(record)
    return caught.value


def test_a_missing_required_field_is_a_missing_field_error_naming_field_dataset_and_version(
    pairs,
):
    record = {k: v for k, v in ORDER_V2.items() if k != "amount"}

    error = invalid(pairs["orders v2"].encoder, record)

    assert error.error_type is ErrorType.MISSING_FIELD
    assert error.message == "amount: required by orders v2 but missing"
    assert str(error) == error.message


def test_every_missing_required_field_is_named_in_schema_order(pairs):
    record = {"customer_id": "c-1", "event_time": "t"}

    error = invalid(pairs["orders v1"].encoder, record)

    assert error.error_type is ErrorType.MISSING_FIELD
    assert error.message == (
        "order_id: required by orders v1 but missing; amount: required by orders v1 but missing"
    )


def test_a_wrong_type_is_a_schema_validation_error_naming_field_type_and_value(pairs):
    error = invalid(pairs["orders v2"].encoder, {**ORDER_V2, "amount": "lots"})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == "amount: expected double, got string 'lots'"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": None}, "amount: expected double, got null None"),
        ({"order_id": 5}, "order_id: expected string, got number 5"),
        ({"customer_id": ["c"]}, "customer_id: expected string, got array ['c']"),
        ({"event_time": {"at": 1}}, "event_time: expected string, got object {'at': 1}"),
        ({"amount": "x" * 100}, "amount: expected double, got string '" + "x" * 56 + "..."),
    ],
)
def test_wrong_types_are_described_with_a_json_type_and_a_short_preview(pairs, change, message):
    error = invalid(pairs["orders v2"].encoder, {**ORDER_V2, **change})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == message


def test_a_union_mismatch_names_every_branch(pairs):
    error = invalid(pairs["orders v2"].encoder, {**ORDER_V2, "currency": 978})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == "currency: expected null or string, got number 978"


def test_a_three_branch_union_mismatch_names_every_branch(pairs):
    error = invalid(pairs["shipments v1"].encoder, {**SHIPMENT, "note": 1.5})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == "note: expected null or string or long, got number 1.5"


def test_an_unknown_enum_symbol_names_the_enum(pairs):
    record = {**CUSTOMER, "tier": "GOLD"}

    error = invalid(pairs["customers v1"].encoder, record)

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == "tier: expected io.streamlake.customers.Tier, got string 'GOLD'"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"digest": b"abc"}, "digest: expected test.fixture.Digest, got bytes b'abc'"),
        ({"payload": "text"}, "payload: expected bytes, got string 'text'"),
        ({"tags": ["a", 3]}, "tags: expected string, got number 3"),
        ({"scores": {"k": "v"}}, "scores: expected long, got string 'v'"),
    ],
)
def test_fixed_bytes_array_and_map_mismatches_are_described(pairs, change, message):
    error = invalid(pairs["shipments v1"].encoder, {**SHIPMENT, **change})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == message


def test_a_wrong_type_in_a_nested_record_names_the_nested_field(pairs):
    record = {**SHIPMENT, "lines": [{"sku": "A-1", "qty": "2"}]}

    error = invalid(pairs["shipments v1"].encoder, record)

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message.endswith("qty: expected int, got string '2'")


def test_an_extra_field_is_rejected_not_dropped(pairs):
    error = invalid(pairs["orders v2"].encoder, {**ORDER_V2, "coupon": "SAVE10"})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == "coupon: not a field of orders v2"
    assert "coupon" in str(error.__cause__)  # the writer refused it, it did not drop it


def test_every_extra_field_is_named_in_sorted_order(pairs):
    error = invalid(pairs["orders v1"].encoder, {**ORDER_V2, "zeta": 1, "alpha": 2})

    assert error.message == (
        "alpha: not a field of orders v1; currency: not a field of orders v1; "
        "zeta: not a field of orders v1"
    )


def test_a_v2_field_is_extra_for_v1(pairs):
    error = invalid(pairs["orders v1"].encoder, ORDER_V2)

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == "currency: not a field of orders v1"


def test_a_missing_field_is_reported_before_an_extra_one(pairs):
    record = {**{k: v for k, v in ORDER_V2.items() if k != "amount"}, "coupon": "SAVE10"}

    error = invalid(pairs["orders v2"].encoder, record)

    assert error.error_type is ErrorType.MISSING_FIELD
    assert error.message == "amount: required by orders v2 but missing"


def test_extra_keys_that_are_not_all_strings_are_still_an_invalid_event(pairs):
    # A Python caller's dict may hold non-string keys; the explanation must not
    # crash sorting them (TypeError: '<' not supported between str and int).
    error = invalid(pairs["orders v2"].encoder, {**ORDER_V2, 1: "x", "coupon": "y"})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert "coupon: not a field of orders v2" in error.message


def test_an_extra_field_inside_a_nested_record_is_rejected_not_dropped(pairs):
    record = {**SHIPMENT, "address": {"street": "1 Main St", "floor": 3}}

    error = invalid(pairs["shipments v1"].encoder, record)

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert "floor" in error.message


@pytest.mark.parametrize(
    ("label", "change", "message"),
    [
        ("orders v2", {"amount": True}, "amount: expected double, got boolean True"),
        ("shipments v1", {"id": 1.5}, "id: expected long, got number 1.5"),
        ("shipments v1", {"active": "no"}, "active: expected boolean, got string 'no'"),
        ("shipments v1", {"count": 2**40}, "count: expected int, got number 1099511627776"),
        ("shipments v1", {"scores": []}, "scores: expected map, got array []"),
    ],
    ids=["bool-as-double", "float-as-long", "string-as-boolean", "int-overflow", "list-as-map"],
)
def test_a_value_the_writer_would_coerce_is_rejected_not_silently_changed(
    pairs, label, change, message
):
    # fastavro's writer (and AvroSerializer's) casts these without complaint:
    # true becomes 1.0, 1.5 becomes 1, "no" becomes true, 2**40 is written as
    # an int no Java reader can read. The encoder must refuse them.
    base = ORDER_V2 if label == "orders v2" else SHIPMENT

    error = invalid(pairs[label].encoder, {**base, **change})

    assert error.error_type is ErrorType.SCHEMA_VALIDATION
    assert error.message == message


def test_a_value_that_validates_but_cannot_be_written_is_a_serialization_error(pairs):
    error = invalid(pairs["orders v2"].encoder, {**ORDER_V2, "order_id": "\ud800"})

    assert error.error_type is ErrorType.SERIALIZATION
    assert error.message == (
        "could not encode for orders v2: 'utf-8' codec can't encode character '\\ud800' "
        "in position 0: surrogates not allowed"
    )
    assert isinstance(error.__cause__, UnicodeEncodeError)


# --- to_record and parse_json ----------------------------------------------------------------


def test_a_dict_is_passed_through_as_is():
    record = {"order_id": "o-1"}

    assert to_record(record) is record


def test_json_text_is_parsed():
    assert to_record('{"order_id": "o-1", "amount": 1.5}') == {"order_id": "o-1", "amount": 1.5}


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_utf8_json_bytes_are_parsed(kind):
    assert to_record(kind('{"name": "Zoë ✓"}'.encode())) == {"name": "Zoë ✓"}


def test_a_dataclass_becomes_its_fields():
    @dataclass
    class Order:
        order_id: str
        amount: float
        tags: list[str]

    assert to_record(Order("o-1", 2.5, ["a"])) == {"order_id": "o-1", "amount": 2.5, "tags": ["a"]}


def test_an_object_with_to_dict_becomes_its_dict():
    class Order:
        def to_dict(self) -> dict[str, Any]:
            return {"order_id": "o-1"}

    assert to_record(Order()) == {"order_id": "o-1"}


def test_an_object_with_model_dump_becomes_its_dump():
    class Order:
        def model_dump(self) -> dict[str, Any]:
            return {"order_id": "o-2"}

        def to_dict(self) -> dict[str, Any]:
            raise AssertionError("model_dump comes first")

    assert to_record(Order()) == {"order_id": "o-2"}


def test_a_read_only_mapping_becomes_a_plain_dict():
    record = to_record(MappingProxyType({"order_id": "o-1"}))

    assert record == {"order_id": "o-1"}
    assert type(record) is dict


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("[1, 2]", "expected a JSON object, got array [1, 2]"),
        ([1, 2], "expected a JSON object, got array [1, 2]"),
        ("3", "expected a JSON object, got number 3"),
        ('"text"', "expected a JSON object, got string 'text'"),
        ("null", "expected a JSON object, got null None"),
        ("true", "expected a JSON object, got boolean True"),
        (42, "expected a JSON object, got number 42"),
        (None, "expected a JSON object, got null None"),
        (object, "expected a JSON object, got type <class 'object'>"),
    ],
)
def test_anything_but_a_json_object_is_a_schema_validation_error(event, message):
    with pytest.raises(InvalidEventError) as caught:
        to_record(event)

    assert caught.value.error_type is ErrorType.SCHEMA_VALIDATION
    assert caught.value.message == message


def test_a_long_array_is_previewed_in_sixty_characters():
    with pytest.raises(InvalidEventError) as caught:
        to_record(list(range(100)))

    preview = caught.value.message.removeprefix("expected a JSON object, got array ")
    assert len(preview) == 60
    assert preview.endswith("...")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{bad", "not valid JSON: Expecting property name enclosed in double quotes: line 1 "),
        ("", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ('{"a": 1} x', "not valid JSON: Extra data: line 1 column 10 (char 9)"),
        ('{"amount": NaN}', "not valid JSON: NaN is not valid JSON"),
        ('{"amount": Infinity}', "not valid JSON: Infinity is not valid JSON"),
        ('{"amount": -Infinity}', "not valid JSON: -Infinity is not valid JSON"),
        (b'{"amount": NaN}', "not valid JSON: NaN is not valid JSON"),
        ("\ufeff{}", "not valid JSON: Unexpected UTF-8 BOM"),
    ],
)
def test_invalid_json_is_an_invalid_json_error(text, message):
    with pytest.raises(InvalidEventError) as caught:
        to_record(text)

    assert caught.value.error_type is ErrorType.INVALID_JSON
    assert caught.value.message.startswith(message)
    assert isinstance(caught.value.__cause__, ValueError)


def test_bytes_that_are_not_utf8_are_an_invalid_json_error():
    with pytest.raises(InvalidEventError) as caught:
        to_record(b'{"name": "\xff"}')

    assert caught.value.error_type is ErrorType.INVALID_JSON
    assert caught.value.message == (
        "not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 10: invalid start byte"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_bytes_in_another_unicode_encoding_are_not_utf8_and_are_rejected(encoding):
    # json.loads guesses UTF-16/32 for bytes; the contract is UTF-8 bytes only.
    with pytest.raises(InvalidEventError) as caught:
        to_record('{"order_id": "o-1"}'.encode(encoding))

    assert caught.value.error_type is ErrorType.INVALID_JSON


def test_deeply_nested_json_is_an_invalid_json_error_not_a_crash():
    with pytest.raises(InvalidEventError) as caught:
        parse_json("[" * 100_000 + "]" * 100_000)

    assert caught.value.error_type is ErrorType.INVALID_JSON


def test_parse_json_returns_any_json_value():
    assert parse_json("[1, 2.5, null, true]") == [1, 2.5, None, True]
    assert parse_json(b'"x"') == "x"


@HYPOTHESIS
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_parse_json_round_trips_any_finite_json_value(value):
    assert parse_json(json.dumps(value)) == value
    assert parse_json(json.dumps(value, ensure_ascii=False).encode()) == value


# --- Clock -----------------------------------------------------------------------------------


def ns(text: str) -> int:
    stamp = datetime.fromisoformat(text)
    return (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def test_clock_gives_rfc3339_utc_with_milliseconds_and_z():
    assert Clock().now(ns("2026-01-21T10:00:00.123+00:00")) == b"2026-01-21T10:00:00.123Z"


@pytest.mark.parametrize(
    ("time_ns", "text"),
    [
        (0, b"1970-01-01T00:00:00.000Z"),
        (999_999, b"1970-01-01T00:00:00.000Z"),
        (1_000_000, b"1970-01-01T00:00:00.001Z"),
        (1_768_989_600_123_999_999, b"2026-01-21T10:00:00.123Z"),
        (1_768_989_599_999_999_999, b"2026-01-21T09:59:59.999Z"),
        (1_768_989_600_007_000_000, b"2026-01-21T10:00:00.007Z"),
        (-1_000_001, b"1969-12-31T23:59:59.998Z"),
    ],
)
def test_clock_truncates_to_the_millisecond_with_exactly_three_digits(time_ns, text):
    assert Clock().now(time_ns) == text


def test_the_millisecond_before_the_epoch_is_not_mistaken_for_the_empty_cache():
    # Clock starts with _ms = -1 as "nothing cached", which is also the
    # millisecond of time_ns -1_000_000 .. -1: it then returns b"".
    assert Clock().now(-1) == b"1969-12-31T23:59:59.999Z"


def test_clock_gives_the_same_text_within_a_millisecond_and_new_text_after():
    clock = Clock()
    start = ns("2026-01-21T10:00:00.123+00:00")

    assert clock.now(start) == b"2026-01-21T10:00:00.123Z"
    assert clock.now(start + 999_999) == b"2026-01-21T10:00:00.123Z"
    assert clock.now(start + 1_000_000) == b"2026-01-21T10:00:00.124Z"
    assert clock.now(start) == b"2026-01-21T10:00:00.123Z"


@HYPOTHESIS
@given(st.integers(0, ns("9999-12-31T23:59:59.999999+00:00")))
def test_clock_agrees_with_exact_datetime_arithmetic(time_ns):
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=time_ns // 1_000_000)

    text = Clock().now(time_ns).decode()

    assert text == expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expected.microsecond // 1000:03d}Z"
    assert len(text) == 24
    assert datetime.fromisoformat(text) == expected


def test_many_ticks_of_one_clock_are_each_right():
    clock = Clock()
    start = ns("2026-12-31T23:59:59.990+00:00")

    texts = [clock.now(start + i * 1_000_000).decode() for i in range(20)]

    assert texts[0] == "2026-12-31T23:59:59.990Z"
    assert texts[9] == "2026-12-31T23:59:59.999Z"
    assert texts[10] == "2027-01-01T00:00:00.000Z"
    assert texts[19] == "2027-01-01T00:00:00.009Z"
