"""The natural dialect's union rule, branch by branch.

Null picks the null branch; otherwise every branch is tried strictly, plus the
tagged reading of a one-key object named after a branch. Exactly one success
wins; only numeric ties are broken by rule (an integer takes the first
int/long branch, a fraction double over float); anything else that fits more
than one branch is refused with a hint to tag it. The expected bytes are
fastavro's for the branch named in fastavro's tuple notation, so fastavro's
own choice (double over float, the record with most fields) never decides.
"""

from __future__ import annotations

from typing import Any

import pytest

from streamlake._codec import EncodeError
from tests.unit.codec_strategies import fastavro_bytes, wire

CARD = {"type": "record", "name": "Card", "fields": [{"name": "last4", "type": "string"}]}
IBAN = {
    "type": "record",
    "name": "Iban",
    "fields": [
        {"name": "last4", "type": "string"},
        {"name": "bic", "type": ["null", "string"], "default": None},
    ],
}
KIND = {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}
MILLIS = {"type": "long", "logicalType": "timestamp-millis"}


def _schema(union: list[Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "U",
        "namespace": "test.unions",
        "fields": [{"name": "id", "type": "string"}, {"name": "u", "type": union}],
    }


PICKS = [
    # (union, natural JSON of the value, fastavro's tuple notation of the branch meant)
    (["null", "int", "long", "float", "double"], "5", ("int", 5)),
    (["null", "long", "int"], "5", ("long", 5)),
    (["int", "long"], str(2**40), ("long", 2**40)),
    (["int", "double"], "5.5", ("double", 5.5)),
    (["float", "double"], "5.5", ("double", 5.5)),
    (["double", "float"], "0.25", ("double", 0.25)),
    (["null", "float"], "0.25", ("float", 0.25)),
    (["null", "float"], "3", ("float", 3.0)),
    (["null", "string"], "null", None),
    (["string", "null"], "null", None),
    (["null", "string", "int"], '"5"', ("string", "5")),
    (["null", "boolean", "int"], "true", ("boolean", True)),
    (["null", "string", MILLIS], "1768989600000", ("long", 1768989600000)),
    (["null", "string", MILLIS], '{"long": 5}', ("long", 5)),
    (
        ["null", "string", MILLIS],
        '{"string": "2026-01-21T10:00:00Z"}',
        ("string", "2026-01-21T10:00:00Z"),
    ),
    (["null", "string", KIND], '{"test.unions.Kind": "A"}', ("test.unions.Kind", "A")),
    (["null", "string", KIND], '{"string": "A"}', ("string", "A")),
    (["null", "string", KIND], '"C"', ("string", "C")),
    (
        ["null", CARD, IBAN],
        '{"last4": "1", "bic": "X"}',
        ("test.unions.Iban", {"last4": "1", "bic": "X"}),
    ),
    (
        ["null", CARD, IBAN],
        '{"test.unions.Card": {"last4": "1"}}',
        ("test.unions.Card", {"last4": "1"}),
    ),
    (
        ["null", CARD, IBAN],
        '{"test.unions.Iban": {"last4": "1"}}',
        ("test.unions.Iban", {"last4": "1", "bic": None}),
    ),
    (["null", "bytes", "string"], '{"bytes": "AAE="}', ("bytes", b"\x00\x01")),
    (["null", {"type": "array", "items": "int"}, "string"], "[1, 2]", ("array", [1, 2])),
    (["null", {"type": "map", "values": "int"}, "string"], '{"a": 1}', ("map", {"a": 1})),
]


@pytest.mark.parametrize(("union", "text", "meant"), PICKS)
def test_the_union_rule_picks_the_one_branch_that_fits(make_encoder, union, text, meant):
    schema = _schema(union)
    expected = wire(7, fastavro_bytes(schema, {"id": "k", "u": meant}))

    assert make_encoder(schema).encode_json(f'{{"id": "k", "u": {text}}}') == (expected, b"k")


AMBIGUOUS = [
    (["string", MILLIS], '"2026-01-21T10:00:00Z"'),
    (["string", KIND], '"A"'),
    (["null", CARD, IBAN], '{"last4": "1"}'),
    (["string", "bytes"], '"AAEC"'),
    (["string", {"type": "int", "logicalType": "date"}], '"2026-01-21"'),
    (["string", {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}], '"1.50"'),
]


@pytest.mark.parametrize(("union", "text"), AMBIGUOUS)
def test_a_value_fitting_two_branches_is_refused_with_a_hint_to_tag_it(make_encoder, union, text):
    with pytest.raises(EncodeError) as caught:
        make_encoder(_schema(union)).encode_json(f'{{"id": "k", "u": {text}}}')

    assert caught.value.kind == "schema_validation"
    assert [p for p, _ in caught.value.errors] == ["u"]
    assert "tag it" in caught.value.message


@pytest.mark.parametrize(
    ("union", "text"),
    [
        (["null", "int"], '"5"'),
        (["null", "int"], "5.5"),
        (["null", "string"], "5"),
        (["null", CARD], '{"last4": 1}'),
        (["null", "string"], '{"int": 5}'),
        (["null", "string"], '{"string": 5}'),
        (["int"], "null"),
    ],
)
def test_a_value_fitting_no_branch_is_refused_naming_the_union(make_encoder, union, text):
    with pytest.raises(EncodeError) as caught:
        make_encoder(_schema(union)).encode_json(f'{{"id": "k", "u": {text}}}')

    assert caught.value.kind == "schema_validation"
    # The union, or the place inside its one plausible branch ("u.last4").
    (path,) = [p for p, _ in caught.value.errors]
    assert path == "u" or path.startswith("u.")


def test_python_objects_follow_the_same_union_rule(make_encoder):
    schema = _schema(["null", "string", KIND, MILLIS])
    encoder = make_encoder(schema)

    assert encoder.encode_object({"id": "k", "u": None}) == encoder.encode_json(
        '{"id": "k", "u": null}'
    )
    assert encoder.encode_object({"id": "k", "u": {"string": "A"}})[0] == wire(
        7, fastavro_bytes(schema, {"id": "k", "u": ("string", "A")})
    )
    with pytest.raises(EncodeError, match="tag it"):
        encoder.encode_object({"id": "k", "u": "A"})
