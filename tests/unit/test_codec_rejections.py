"""Every rejection rule of the codec, one table: what goes in, what kind of
error comes out, and the path the message must name.

Strict means never coerce or round: each row is an input a lenient encoder
would accept (or crash on) and the codec must refuse with an ``EncodeError``
whose message names the offending path, with the Avro type in words. Last,
the same for generated schemas: wrong values put anywhere outside a union
are each named by their path, in one error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from streamlake._codec import EncodeError
from tests.unit.codec_strategies import (
    KITCHEN,
    LINKED,
    UNREPRESENTABLE,
    VALID,
    RawNumber,
    cases,
    expected_key,
    places,
    replaced,
    to_json,
    two_complement,
)

VALID_AVRO = {
    **VALID,
    "blob": "\u0000\u0001\u0002",
    "digest": "\u00de\u00ad\u00be\u00ef",
    "amount": two_complement(19999, None).decode("latin-1"),
    "created_at": 1768989600000,
    "local_at": 1768989600000,
    "day": 20474,
    "at": 36000250,
    "address": {"street": "1 Main St", "zip": None},
    "note": None,
}
VALID_OBJECT = {
    **VALID,
    "blob": b"\x00\x01\x02",
    "digest": b"\xde\xad\xbe\xef",
    "amount": Decimal("199.99"),
    "created_at": datetime(2026, 1, 21, 10, tzinfo=UTC),
}


def natural(**changes: Any) -> str:
    """The valid event as natural JSON text, with `changes` (None removes a field)."""
    event = {k: v for k, v in {**VALID, **changes}.items() if v is not None or k not in changes}
    return to_json(event)


def avro(**changes: Any) -> str:
    return to_json({**VALID_AVRO, **changes})


def obj(**changes: Any) -> dict[str, Any]:
    return {**VALID_OBJECT, **changes}


@dataclass(frozen=True)
class Rejection:
    input: str | bytes | object
    kind: str
    paths: tuple[str, ...]
    """Paths that `errors` must hold; the message names each of them."""
    words: str = ""
    """Text the message must hold as well (the Avro type in words, a hint)."""
    schema: Any = None
    dialect: str = "natural"
    as_object: bool = False


def row(name: str, input: Any, kind: str, *paths: str, **options: Any) -> Any:
    return pytest.param(Rejection(input, kind, paths, **options), id=name)


SV = "schema_validation"
MISSING = "missing_field"
INVALID = "invalid_json"
STRING_OR_TIMESTAMP = {
    "type": "record",
    "name": "Ambiguous",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "when", "type": ["string", {"type": "long", "logicalType": "timestamp-millis"}]},
    ],
}
STRING_OR_ENUM = {
    "type": "record",
    "name": "Ambiguous",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "what", "type": ["string", {"type": "enum", "name": "Kind", "symbols": ["A"]}]},
    ],
}
TWO_RECORDS = {
    "type": "record",
    "name": "Ambiguous",
    "namespace": "test.codec",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "pay",
            "type": [
                {"type": "record", "name": "Card", "fields": [{"name": "n", "type": "string"}]},
                {"type": "record", "name": "Iban", "fields": [{"name": "n", "type": "string"}]},
            ],
        },
    ],
}

REJECTIONS = [
    # decimals: exact or nothing
    row("lossy decimal string", natural(amount="1.234"), SV, "amount", words="decimal(5,2)"),
    row("lossy decimal number", natural(amount=RawNumber("1.234")), SV, "amount"),
    row("decimal digits over precision", natural(amount="1234.5"), SV, "amount"),
    row("decimal NaN string", natural(amount="NaN"), SV, "amount"),
    row("decimal Infinity string", natural(amount="Infinity"), SV, "amount"),
    row(
        "decimal in exponent form too precise", natural(amount=RawNumber("1.2345e1")), SV, "amount"
    ),
    row("lossy Decimal object", obj(amount=Decimal("199.999")), SV, "amount", as_object=True),
    row("Decimal NaN object", obj(amount=Decimal("NaN")), SV, "amount", as_object=True),
    # timestamps, dates, times
    row(
        "sub-millisecond fraction digits",
        natural(created_at="2026-01-21T10:00:00.1234Z"),
        SV,
        "created_at",
    ),
    row(
        "missing offset",
        natural(created_at="2026-01-21T10:00:00"),
        SV,
        "created_at",
        words="timestamp-millis",
    ),
    row(
        "offset on a local timestamp",
        natural(local_at="2026-01-21T10:00:00Z"),
        SV,
        "local_at",
        words="local-timestamp-millis",
    ),
    row("leap second", natural(created_at="2016-12-31T23:59:60Z"), SV, "created_at"),
    row("impossible calendar date", natural(day="2026-02-30"), SV, "day", words="date"),
    row("month 13", natural(day="2026-13-01"), SV, "day"),
    row("year zero", natural(day="0000-01-01"), SV, "day"),
    row("February 29 of a common year", natural(day="2023-02-29"), SV, "day"),
    row("hour 24", natural(created_at="2026-01-21T24:00:00Z"), SV, "created_at"),
    row("offset of 24 hours", natural(created_at="2026-01-21T10:00:00+24:00"), SV, "created_at"),
    row("offset without a colon", natural(created_at="2026-01-21T10:00:00+0530"), SV, "created_at"),
    row("timestamp without seconds", natural(created_at="2026-01-21T10:00Z"), SV, "created_at"),
    row("timestamp past year 9999", natural(created_at="10000-01-01T00:00:00Z"), SV, "created_at"),
    row("date with a time", natural(day="2026-01-21T00:00:00Z"), SV, "day"),
    row("time past midnight", natural(at="24:00:00"), SV, "at", words="time-millis"),
    row("sub-millisecond time digits", natural(at="10:00:00.0001"), SV, "at"),
    row(
        "naive datetime for a timestamp",
        obj(created_at=datetime(2026, 1, 21, 10)),
        SV,
        "created_at",
        as_object=True,
    ),
    # numbers
    row("bool for int", natural(qty=True), SV, "qty", words="int"),
    row("fraction for int", natural(qty=1.5), SV, "qty"),
    row("1.0 for int", natural(qty=RawNumber("1.0")), SV, "qty"),
    row("exponent for int", natural(qty=RawNumber("1e2")), SV, "qty"),
    row("int above range", natural(qty=2**31), SV, "qty"),
    row("int below range", natural(qty=-(2**31) - 1), SV, "qty"),
    row("long above range", natural(big=2**63), SV, "big", words="long"),
    row("bool for double", natural(price=False), SV, "price"),
    row("string for double", natural(price="19.99"), SV, "price"),
    row("bool for int object", obj(qty=True), SV, "qty", as_object=True),
    row("float for int object", obj(qty=2.0), SV, "qty", as_object=True),
    row("NaN object for double", obj(price=float("nan")), SV, "price", as_object=True),
    row("infinity object for double", obj(price=float("inf")), SV, "price", as_object=True),
    row("NaN literal", natural(price=RawNumber("NaN")), INVALID),
    row("Infinity literal", natural(price=RawNumber("Infinity")), INVALID),
    row("leading zero", natural(qty=RawNumber("02")), INVALID),
    row("leading plus", natural(qty=RawNumber("+2")), INVALID),
    row("bare fraction", natural(price=RawNumber(".5")), INVALID),
    row("trailing point", natural(price=RawNumber("5.")), INVALID),
    row("hexadecimal number", natural(qty=RawNumber("0x10")), INVALID),
    # Python's json reads it, but no UTF-8 text holds it: the text is refused.
    row("lone surrogate escape", natural(name=RawNumber('"\\ud800"')), INVALID),
    row("number too large for a double", natural(price=RawNumber("1e400")), SV, "price"),
    # strings, bytes, fixed, enums, uuids
    row("number for string", natural(name=5), SV, "name", words="string"),
    row("null for string", natural(name=RawNumber("null")), SV, "name"),
    row("invalid base64", natural(blob="not base64!"), SV, "blob", words="base64"),
    row("unpadded base64", natural(blob="AAE"), SV, "blob"),
    row("url-safe base64", natural(blob="-_-_"), SV, "blob"),
    row("wrong fixed length", natural(digest="AAEC"), SV, "digest", words="4 bytes"),
    row("wrong fixed length object", obj(digest=b"\x00"), SV, "digest", as_object=True),
    row("unknown enum symbol", natural(status="LOST"), SV, "status"),
    row("lowercase enum symbol", natural(status="new"), SV, "status"),
    row("not a uuid", natural(uid="not-a-uuid"), SV, "uid", words="uuid"),
    row("uuid without dashes", natural(uid="0b9a3c1e6f4d4c559d3e2b7f3c9a1d00"), SV, "uid"),
    row("code point above 255 for bytes", avro(blob="\u0100"), SV, "blob", dialect="avro"),
    row(
        "code point above 255 for fixed",
        avro(digest="\u00de\u00ad\u00be\u0100"),
        SV,
        "digest",
        dialect="avro",
    ),
    row("wrong fixed length in Avro JSON", avro(digest="\u00de"), SV, "digest", dialect="avro"),
    row(
        "RFC 3339 text in Avro JSON",
        avro(created_at="2026-01-21T10:00:00Z"),
        SV,
        "created_at",
        dialect="avro",
    ),
    row("untagged union in Avro JSON", avro(note="x"), SV, "note", dialect="avro"),
    # records, maps, arrays: the path names the nested place
    row("unknown field", natural(colour="red"), SV, "colour"),
    row("unknown nested field", natural(address={"street": "x", "floor": 2}), SV, "address.floor"),
    row(
        "bad item in an array",
        natural(items=[*VALID["items"][:2], {"sku": "c", "qty": 1.5}]),
        SV,
        "items[2].qty",
    ),
    row("bad map value", natural(tags={"k": "one"}), SV, 'tags["k"]'),
    row("missing required field", natural(qty=None), MISSING, "qty"),
    row("missing nested required field", natural(address={"zip": "1"}), MISSING, "address.street"),
    row("array for a record", natural(address=["1 Main St"]), SV, "address"),
    row("object for an array", natural(items={"sku": "a"}), SV, "items"),
    row("unknown union tag", natural(note={"test.codec.Unknown": "x"}), SV, "note"),
    row("unknown union tag in Avro JSON", avro(note={"int": 1}), SV, "note", dialect="avro"),
    row(
        "duplicate record key",
        natural().replace('"qty": 2', '"qty": 2, "qty": 3'),
        SV,
        "qty",
        words="twice",
    ),
    row(
        "duplicate record key spelled with an escape",
        natural().replace('"qty": 2', '"qty": 2, "q\\u0074y": 3'),
        SV,
        "qty",
        words="twice",
    ),
    row(
        "duplicate map key spelled with an escape",
        natural().replace('{"k": 1}', '{"k": 1, "\\u006b": 2}'),
        SV,
        'tags["k"]',
        words="twice",
    ),
    row(
        "duplicate map key",
        natural().replace('{"k": 1}', '{"k": 1, "k": 2}'),
        SV,
        'tags["k"]',
        words="twice",
    ),
    # the whole line
    row("string top level", '"hello"', SV, "", words="expected a JSON object"),
    row("array top level", "[1]", SV, "", words="expected a JSON object"),
    row("number top level", "3", SV, "", words="expected a JSON object"),
    row("null top level", "null", SV, "", words="expected a JSON object"),
    row(
        "double-encoded line is not unwrapped",
        json.dumps(natural()),
        SV,
        "",
        words="expected a JSON object",
    ),
    row("empty line", "", INVALID),
    row("truncated JSON", natural()[:-1], INVALID),
    row("trailing garbage", natural() + " x", INVALID),
    row("two values on one line", natural() + " " + natural(), INVALID),
    row("invalid UTF-8", b'{"id": "\xff"}', INVALID),
    row("list for the event object", [VALID], SV, "", words="expected", as_object=True),
    # unions StreamLake refuses to guess
    row(
        "string or timestamp",
        '{"id": "k", "when": "2026-01-21T10:00:00Z"}',
        SV,
        "when",
        words="tag it",
        schema=STRING_OR_TIMESTAMP,
    ),
    row(
        "string or enum",
        '{"id": "k", "what": "A"}',
        SV,
        "what",
        words="tag it",
        schema=STRING_OR_ENUM,
    ),
    row(
        "two fitting records",
        '{"id": "k", "pay": {"n": "1"}}',
        SV,
        "pay",
        words="tag it",
        schema=TWO_RECORDS,
    ),
    # the key
    row("empty key", natural(id=""), MISSING, "id"),
    row("missing key", natural(id=None), MISSING, "id"),
]


@pytest.mark.parametrize("case", REJECTIONS)
def test_each_rejection_rule_names_the_offending_path(make_encoder, case):
    encoder = make_encoder(case.schema or KITCHEN, json_encoding=case.dialect)

    with pytest.raises(EncodeError) as caught:
        if case.as_object:
            encoder.encode_object(case.input)
        else:
            encoder.encode_json(case.input)

    error = caught.value
    assert error.kind == case.kind, error.message
    assert [p for p, _ in error.errors][: len(case.paths)] == list(case.paths), error.errors
    for path in case.paths:
        assert path in error.message
    assert case.words in error.message


def test_the_valid_event_of_the_table_is_accepted_in_every_form(make_encoder):
    # Each rejection above changes one thing in this event; it must itself pass.
    value = make_encoder(KITCHEN).encode_json(natural())

    assert make_encoder(KITCHEN).encode_object(obj()) == value
    assert make_encoder(KITCHEN, json_encoding="avro").encode_json(avro()) == value
    assert value[1] == b"k-1"


def test_every_bad_field_is_named_in_one_message(make_encoder):
    text = natural(qty=1.5, name=5, tags={"k": "one"}, colour="red", created_at="yesterday")

    with pytest.raises(EncodeError) as caught:
        make_encoder(KITCHEN).encode_json(text)

    paths = {p for p, _ in caught.value.errors}
    assert paths == {"qty", "name", 'tags["k"]', "colour", "created_at"}
    for path in paths:
        assert f"{path}: " in caught.value.message
    assert caught.value.message.count("; ") == 4


def test_the_message_quotes_the_offending_value_and_the_expected_type(make_encoder):
    with pytest.raises(EncodeError) as caught:
        make_encoder(KITCHEN).encode_json(natural(created_at="2026-01-21T10:00:00"))

    assert caught.value.message.startswith(
        "created_at: expected timestamp-millis (RFC 3339 with offset, or epoch milliseconds),"
        ' got "2026-01-21T10:00:00"'
    )


def test_a_rejection_still_carries_the_key_of_the_event(make_encoder):
    with pytest.raises(EncodeError) as caught:
        make_encoder(KITCHEN).encode_json(natural(qty="two"))

    assert caught.value.key == b"k-1"


@pytest.mark.parametrize("text", [natural(id=""), natural(id=None)])
def test_an_empty_or_missing_key_has_no_key(make_encoder, text):
    with pytest.raises(EncodeError) as caught:
        make_encoder(KITCHEN).encode_json(text)

    assert caught.value.kind == MISSING
    assert caught.value.key is None


def test_an_error_is_a_value_error_with_its_message_as_text(make_encoder):
    with pytest.raises(ValueError, match="qty") as caught:
        make_encoder(KITCHEN).encode_json(natural(qty=True))

    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("key_type", "value", "key"),
    [
        ("string", '"ORD-1"', b"ORD-1"),
        ("string", '"çé ✓"', "çé ✓".encode()),
        ("int", "-42", b"-42"),
        ("long", str(2**62), str(2**62).encode()),
    ],
)
def test_the_key_is_the_key_fields_text(make_encoder, key_type, value, key):
    schema = {"type": "record", "name": "K", "fields": [{"name": "order_id", "type": key_type}]}
    encoder = make_encoder(schema, key_field="order_id")

    assert encoder.encode_json(f'{{"order_id": {value}}}')[1] == key
    assert encoder.encode_object({"order_id": json.loads(value)})[1] == key


def _nested(depth: int) -> dict[str, Any]:
    event: dict[str, Any] = {"id": "leaf", "next": None}
    for level in range(depth):
        event = {"id": f"n{level}", "next": event}
    return event


def _nested_text(depth: int) -> str:
    # Built by hand: json.dumps itself gives up past Python's recursion limit.
    opening = "".join(f'{{"id": "n{level}", "next": ' for level in reversed(range(depth)))
    return opening + '{"id": "leaf", "next": null}' + "}" * depth


def test_nesting_within_the_bound_is_encoded(make_encoder):
    event = _nested(20)

    assert json.loads(_nested_text(20)) == event
    assert make_encoder(LINKED).encode_json(_nested_text(20))[1] == b"n19"
    assert make_encoder(LINKED).encode_object(event)[1] == b"n19"


@pytest.mark.parametrize("depth", [200, 100_000])
def test_nesting_past_the_bound_is_refused_with_a_clear_error(make_encoder, depth):
    encoder = make_encoder(LINKED)

    with pytest.raises(EncodeError) as from_text:
        encoder.encode_json(_nested_text(depth))
    with pytest.raises(EncodeError) as from_object:
        encoder.encode_object(_nested(depth))

    for caught in (from_text, from_object):
        assert caught.value.kind == SV
        assert "nested deeper than" in caught.value.message


@pytest.mark.parametrize(
    "decimal",
    [
        # precision 3 promises 999, which a one-byte fixed cannot hold
        {"type": "fixed", "name": "One", "size": 1, "logicalType": "decimal", "precision": 3},
        {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 3},
    ],
    ids=["precision over the fixed size", "scale over precision"],
)
def test_an_invalid_decimal_is_its_underlying_type_as_the_specification_says(make_encoder, decimal):
    # "If a logical type is invalid ... implementations should ignore the
    # logical type and use the underlying Avro type": a number is refused,
    # base64 is taken, so no decimal is ever written past its size.
    schema = {
        "type": "record",
        "name": "Small",
        "fields": [{"name": "id", "type": "string"}, {"name": "d", "type": decimal}],
    }
    encoder = make_encoder(schema)

    assert encoder.encode_json('{"id": "k", "d": "fw=="}')[0][-1:] == b"\x7f"
    with pytest.raises(EncodeError) as caught:
        encoder.encode_json('{"id": "k", "d": 9}')
    assert [p for p, _ in caught.value.errors] == ["d"]


def test_escaped_names_and_keys_are_read_as_their_text(make_encoder):
    escaped = natural().replace('"qty"', '"q\\u0074y"').replace('"k-1"', '"k\\u002d1"')

    assert make_encoder(KITCHEN).encode_json(escaped) == make_encoder(KITCHEN).encode_json(
        natural()
    )


@pytest.mark.parametrize(
    ("text", "key"), [("-0", b"0"), ('"\\u00e9\\ud83d\\ude00"', "é😀".encode())]
)
def test_the_key_is_the_value_read_not_the_json_spelling(make_encoder, text, key):
    key_type = "string" if text.startswith('"') else "long"
    schema = {"type": "record", "name": "K", "fields": [{"name": "id", "type": key_type}]}

    assert make_encoder(schema).encode_json(f'{{"id": {text}}}')[1] == key


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(max_records=1), data=st.data())
def test_bad_values_anywhere_in_generated_events_are_each_named_by_path(make_encoder, case, data):
    sample = case.records[0]
    assume(sample.natural is not UNREPRESENTABLE)
    candidates = [p for p, _ in places(case.schema.node, sample.natural) if p not in ("", "id")]
    assume(candidates)
    # Places apart: a bad record hides what was inside it.
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True))
    targets = {p for p in chosen if not any(p != q and p.startswith(q) for q in chosen)}
    encoder = make_encoder(case.schema.schema, named_types=case.schema.named_types)

    with pytest.raises(EncodeError) as caught:
        encoder.encode_json(to_json(replaced(case.schema.node, sample.natural, targets)))

    assert caught.value.kind == SV, caught.value.message
    assert {p for p, _ in caught.value.errors} == targets
    assert caught.value.key == expected_key(sample)
