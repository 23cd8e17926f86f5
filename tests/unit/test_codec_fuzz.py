"""Fuzzing the codec: whatever goes in, a value or an EncodeError comes out.

Never another exception, never a PanicException (a Rust panic reaching
Python is a bug), never a crash of the process: arbitrary bytes, arbitrary
text, arbitrary JSON, valid events with bytes flipped, and arbitrary
(deeply nested, cyclic, odd) Python objects, for several schemas.
"""

from __future__ import annotations

import enum
import json
import math
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlake._codec import EncodeError, Encoder
from tests.unit.codec_strategies import KITCHEN, LINKED, PRINTABLE_JSON, VALID, cases, to_json

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNION_HEAVY = {
    "type": "record",
    "name": "Unions",
    "namespace": "fuzz",
    "fields": [
        {"name": "id", "type": "long"},
        {
            "name": "u",
            "type": [
                "null",
                "int",
                "float",
                "double",
                "string",
                "bytes",
                {"type": "long", "logicalType": "timestamp-micros"},
                KITCHEN["fields"][8]["type"],
                {"type": "array", "items": ["null", "fuzz.Unions"]},
                {"type": "map", "values": ["string", "boolean"]},
            ],
        },
        {
            "name": "fixed_amount",
            "type": {
                "type": "fixed",
                "name": "Amt",
                "size": 3,
                "logicalType": "decimal",
                "precision": 6,
                "scale": 3,
            },
            "default": "\u0000\u0000\u0000",
        },
    ],
}
SCHEMAS = {"kitchen": KITCHEN, "linked": LINKED, "unions": UNION_HEAVY}


@pytest.fixture(
    scope="module",
    params=[(name, dialect) for name in SCHEMAS for dialect in ("natural", "avro")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def encoder(request, make_encoder) -> Encoder:
    name, dialect = request.param
    return make_encoder(SCHEMAS[name], 3, json_encoding=dialect)


def survives(encode: Any, payload: Any) -> None:
    """`encode(payload)` gives (value, key) in the wire format or raises EncodeError."""
    try:
        value, key = encode(payload)
    except EncodeError as error:
        assert error.kind in ("invalid_json", "missing_field", "schema_validation")
        assert isinstance(error.message, str)
        assert error.message
        assert all(isinstance(p, str) and isinstance(r, str) for p, r in error.errors)
        assert error.key is None or isinstance(error.key, bytes)
        return
    except BaseException as other:  # a PanicException is a BaseException
        pytest.fail(f"{type(other).__module__}.{type(other).__qualname__}: {other!r}")
    assert isinstance(value, bytes)
    assert value[:5] == b"\x00\x00\x00\x00\x03"
    assert isinstance(key, bytes)


@FUZZ
@given(payload=st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_anything_but_encode_error(encoder, payload):
    survives(encoder.encode_json, payload)


ANY_TEXT = st.text(st.characters(), max_size=100) | st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.sampled_from('{}[]":,\\'),
    max_size=30,
)
"""Any text, lone surrogates (not UTF-8 encodable) included."""


@FUZZ
@given(text=ANY_TEXT)
def test_arbitrary_text_never_escapes_as_anything_but_encode_error(encoder, text):
    survives(encoder.encode_json, text)


@FUZZ
@given(value=PRINTABLE_JSON)
def test_arbitrary_json_never_escapes_as_anything_but_encode_error(encoder, value):
    survives(encoder.encode_json, json.dumps(value))
    survives(encoder.encode_object, value)


@pytest.mark.parametrize("dialect", ["natural", "avro"])
@settings(FUZZ, max_examples=60)
@given(value=st.dictionaries(st.sampled_from([*VALID, "x"]), PRINTABLE_JSON, max_size=6))
def test_events_of_the_schemas_fields_with_arbitrary_values_never_escape(
    make_encoder, dialect, value
):
    event = {**VALID, **value}
    encoder = make_encoder(KITCHEN, 3, json_encoding=dialect)

    survives(encoder.encode_json, json.dumps(event))
    survives(encoder.encode_object, event)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> bytes:
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "insert", "delete"]))
        if how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
        else:
            del data[at]
    return bytes(data)


@settings(FUZZ, max_examples=100)
@given(payload=mutated(to_json(VALID)))
def test_valid_events_with_bytes_flipped_never_escape(make_encoder, payload):
    survives(make_encoder(KITCHEN, 3).encode_json, payload)


@settings(FUZZ, max_examples=40)
@given(case=cases(max_records=1), garbage=PRINTABLE_JSON, field=st.integers(0, 10))
def test_generated_schemas_with_garbage_in_one_field_never_escape(
    make_encoder, case, garbage, field
):
    record = case.records[0]
    event = dict(record.avro)
    name = list(event)[field % len(event)]
    event[name] = garbage
    for dialect in ("natural", "avro"):
        encoder = make_encoder(
            case.schema.schema, 3, json_encoding=dialect, named_types=case.schema.named_types
        )
        survives(encoder.encode_json, json.dumps(event))
        survives(encoder.encode_object, event)


class Colour(enum.Enum):
    RED = "RED"
    NEW = 1


class Exploding:
    """An object whose every conversion raises: the codec must not let it out."""

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        return "Exploding()"  # hypothesis prints its examples with repr

    def __index__(self) -> int:
        raise RuntimeError("index")

    def __float__(self) -> float:
        raise RuntimeError("float")


class StrSub(str):
    pass


class IntSub(int):
    pass


class DictSub(dict):
    def keys(self):
        raise RuntimeError("keys")


ODD_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**200), 2**200),
    st.floats(),
    ANY_TEXT,
    st.binary(max_size=20).map(lambda b: b if len(b) % 2 else bytearray(b)),
    st.decimals(),
    st.sampled_from([Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+999999")]),
    st.datetimes(timezones=st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=-3)))),
    st.dates(),
    st.times(timezones=st.none() | st.just(UTC)),
    st.timedeltas(),
    st.uuids(),
    st.sampled_from(list(Colour)),
    st.complex_numbers(),
    st.builds(Exploding),
    st.sampled_from(
        [
            object(),
            StrSub("NEW"),
            IntSub(2),
            math.pi,
            ...,
            type,
            uuid.UUID,
            memoryview(b"ab"),
            frozenset({1}),
        ]
    ),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.one_of(
        ANY_TEXT, st.integers(), st.none(), st.tuples(st.integers()), st.builds(Exploding)
    )
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.lists(st.integers(), max_size=3).map(set),
        st.dictionaries(ANY_TEXT, children, max_size=4),
        st.dictionaries(keys, children, max_size=3),
        st.dictionaries(ANY_TEXT, children, max_size=3).map(OrderedDict),
        st.dictionaries(ANY_TEXT, children, max_size=3).map(MappingProxyType),
        st.dictionaries(ANY_TEXT, children, max_size=3).map(DictSub),
    )


ODD_OBJECTS = st.recursive(ODD_LEAVES, _containers, max_leaves=25)


@FUZZ
@given(value=ODD_OBJECTS)
def test_arbitrary_python_objects_never_escape_as_anything_but_encode_error(encoder, value):
    survives(encoder.encode_object, value)


@settings(FUZZ, max_examples=80)
@given(value=ODD_OBJECTS, field=st.sampled_from([f["name"] for f in KITCHEN["fields"]]))
def test_odd_objects_in_any_field_of_a_valid_event_never_escape(make_encoder, value, field):
    event = {**VALID, field: value}

    survives(make_encoder(KITCHEN, 3).encode_object, event)


def test_a_cyclic_object_is_refused_not_followed_forever(make_encoder):
    cycle: dict[str, Any] = {"id": "k", "next": None}
    cycle["next"] = cycle
    items: list[Any] = []
    items.append(items)

    for encoder, event in (
        (make_encoder(LINKED, 3), cycle),
        (make_encoder(KITCHEN, 3), {**VALID, "items": items}),
    ):
        with pytest.raises(EncodeError) as caught:
            encoder.encode_object(event)
        assert caught.value.kind == "schema_validation"


@pytest.mark.parametrize(
    "payload",
    ["[" * 100_000, '{"a":' * 100_000, '{"id": "k", "qty": ' + "[" * 100_000 + "]" * 100_000 + "}"],
    ids=["open arrays", "open objects", "deep array in a field"],
)
def test_deep_json_does_not_overflow_the_stack(make_encoder, payload):
    survives(make_encoder(KITCHEN, 3).encode_json, payload)


def test_deep_python_objects_do_not_overflow_the_stack(make_encoder):
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]

    survives(make_encoder(KITCHEN, 3).encode_object, {**VALID, "items": deep})
    survives(make_encoder(KITCHEN, 3).encode_object, deep)


def test_an_encoder_called_again_from_inside_a_conversion_still_answers(make_encoder):
    encoder = make_encoder(KITCHEN, 3)

    class Reentrant:
        """Describing it for the error message encodes another event."""

        def __repr__(self) -> str:
            try:
                encoder.encode_object({**VALID, "qty": "inner"})
            except EncodeError as inner:
                return f"Reentrant({inner.kind})"
            return "Reentrant(encoded)"

        __str__ = __repr__

    with pytest.raises(EncodeError) as caught:
        encoder.encode_object({**VALID, "qty": Reentrant()})

    assert [p for p, _ in caught.value.errors] == ["qty"]


def test_one_encoder_shared_by_threads_gives_each_the_same_bytes(make_encoder):
    encoder = make_encoder(KITCHEN, 3)
    texts = [to_json({**VALID, "id": f"k-{i}", "qty": i}) for i in range(50)]
    expected = [encoder.encode_json(text) for text in texts]
    results: list[list[tuple[bytes, bytes]]] = []

    def encode_all() -> None:
        results.append([encoder.encode_json(text) for text in texts * 20])

    threads = [threading.Thread(target=encode_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [expected * 20] * 4
