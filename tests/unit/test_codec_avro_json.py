"""The Avro JSON dialect (``json_encoding="avro"``) against fastavro.json_reader.

fastavro's json_reader is the reference where it is correct: it reads what
the codec writes back to the same values for every generated schema that is
not recursive. Where it is not:

- recursive schemas: json_reader recurses without end (RecursionError);
- a map of records without fields: json_reader fails on any entry ("no value
  and no default");
- it is lenient where the specification is not: it takes a fixed of the wrong
  length, a bool or a fraction for an int, an int out of range, NaN, a
  duplicate key (the last wins) and ignores unknown fields; the codec refuses
  each of these (the table at the end);
- it tags a logical-typed branch only by its underlying type (``{"long": 5}``
  for timestamp-millis), as the specification does: the codec agrees.
"""

from __future__ import annotations

import io
import json

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings

from streamlake._codec import EncodeError
from tests.unit.codec_strategies import cases, children, is_recursive

REFERENCE = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _read_back(schema, payload: bytes, named_types=()):
    named: dict = {}
    for text in named_types:
        fastavro.parse_schema(json.loads(text), named)
    parsed = fastavro.parse_schema(schema, named)
    return fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed)


def _standalone(generated) -> dict:
    """The schema with its named_types defined inline (at their first use):
    json_reader takes no separate named types."""
    schema = json.loads(json.dumps(generated.schema))
    external = {json.loads(t)["name"]: json.loads(t) for t in generated.named_types}
    for f in schema["fields"]:
        if isinstance(f["type"], str) and f["type"] in external:
            f["type"] = external.pop(f["type"])
    return schema


def _json_reader_reads(node) -> bool:
    """Whether fastavro's json_reader can read values of `node` (see above)."""
    if is_recursive(node):
        return False
    seen, pending = set(), [node]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.kind == "map" and current.items.kind == "record" and not current.items.fields:
            return False
        pending += children(current)
    return True


@REFERENCE
@given(cases().filter(lambda case: _json_reader_reads(case.schema.node)))
def test_avro_json_reads_as_fastavro_json_reader_reads_it(make_encoder, case):
    generated = case.schema
    encoder = make_encoder(
        generated.schema, json_encoding="avro", named_types=generated.named_types
    )
    for sample in case.records:
        text = json.dumps(sample.avro)

        value, _ = encoder.encode_json(text)

        (reference,) = fastavro.json_reader(io.StringIO(text), _standalone(generated))
        assert _read_back(generated.schema, value, generated.named_types) == reference


CARD_OR_IBAN = {
    "type": "record",
    "name": "Payment",
    "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "method",
            "type": [
                "null",
                {"type": "record", "name": "Card", "fields": [{"name": "last4", "type": "string"}]},
                {"type": "record", "name": "Iban", "fields": [{"name": "last4", "type": "string"}]},
            ],
        },
        {
            "name": "at",
            "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}, "string"],
        },
    ],
}


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "p", "method": {"com.acme.Card": {"last4": "4242"}}, "at": {"long": 5}}',
        '{"id": "p", "method": {"com.acme.Iban": {"last4": "4242"}}, "at": {"string": "x"}}',
        '{"id": "p", "method": null, "at": null}',
    ],
)
def test_the_specifications_tagged_unions_read_as_fastavro_reads_them(make_encoder, text):
    value, key = make_encoder(CARD_OR_IBAN, json_encoding="avro").encode_json(text)

    (reference,) = fastavro.json_reader(io.StringIO(text), CARD_OR_IBAN)
    assert _read_back(CARD_OR_IBAN, value) == reference
    assert key == b"p"


def test_the_tag_picks_the_branch_even_when_two_records_look_alike(make_encoder):
    encoder = make_encoder(CARD_OR_IBAN, json_encoding="avro")
    card = '{"id": "p", "method": {"com.acme.Card": {"last4": "1"}}, "at": null}'
    iban = '{"id": "p", "method": {"com.acme.Iban": {"last4": "1"}}, "at": null}'

    # union index: null 0, Card 1, Iban 2, zig-zag encoded after the id "p".
    assert encoder.encode_json(card)[0][5:8] == b"\x02p\x02"
    assert encoder.encode_json(iban)[0][5:8] == b"\x02p\x04"


LENIENT_IN_FASTAVRO = {
    "type": "record",
    "name": "Strict",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "n", "type": "int"},
        {"name": "d", "type": "double"},
        {"name": "f", "type": {"type": "fixed", "name": "Two", "size": 2}},
        {"name": "o", "type": ["null", "string"]},
    ],
}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"id": "k", "n": 1, "d": 1.0, "f": "a", "o": null}', "f"),
        ('{"id": "k", "n": true, "d": 1.0, "f": "ab", "o": null}', "n"),
        ('{"id": "k", "n": 1.5, "d": 1.0, "f": "ab", "o": null}', "n"),
        ('{"id": "k", "n": 9999999999, "d": 1.0, "f": "ab", "o": null}', "n"),
        ('{"id": "k", "n": 1, "n": 2, "d": 1.0, "f": "ab", "o": null}', "n"),
        ('{"id": "k", "n": 1, "d": 1.0, "f": "ab", "o": null, "x": 1}', "x"),
        ('{"id": "k", "n": 1, "d": 1.0, "f": "ab", "o": "untagged"}', "o"),
        ('{"id": "k", "n": 1, "d": 1.0, "f": "ab", "o": {"int": 1}}', "o"),
        ('{"id": "k", "n": 1, "d": 1.0, "f": "a\\u0100", "o": null}', "f"),
    ],
)
def test_avro_json_fastavro_would_take_is_refused_by_path(make_encoder, text, path):
    with pytest.raises(EncodeError) as caught:
        make_encoder(LENIENT_IN_FASTAVRO, json_encoding="avro").encode_json(text)

    assert caught.value.kind == "schema_validation"
    assert [p for p, _ in caught.value.errors] == [path]


def test_nan_in_avro_json_is_not_json(make_encoder):
    with pytest.raises(EncodeError) as caught:
        make_encoder(LENIENT_IN_FASTAVRO, json_encoding="avro").encode_json(
            '{"id": "k", "n": 1, "d": NaN, "f": "ab", "o": null}'
        )

    assert caught.value.kind == "invalid_json"


def test_the_dialect_is_chosen_by_configuration_never_guessed(make_encoder):
    tagged = '{"id": "p", "method": {"com.acme.Card": {"last4": "1"}}, "at": null}'
    natural = '{"id": "p", "method": {"com.acme.Card": {"last4": "1"}}, "at": 5}'

    assert make_encoder(CARD_OR_IBAN).encode_json(tagged) == make_encoder(
        CARD_OR_IBAN, json_encoding="avro"
    ).encode_json(tagged)
    with pytest.raises(EncodeError):
        make_encoder(CARD_OR_IBAN, json_encoding="avro").encode_json(natural)


def test_an_unknown_dialect_is_refused_when_the_encoder_is_made(make_encoder):
    with pytest.raises(ValueError, match="json_encoding"):
        make_encoder(CARD_OR_IBAN, json_encoding="guess")
