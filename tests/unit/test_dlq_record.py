"""dlq_value: the DLQ record's JSON shape, how the original round-trips, the
bounded stacktrace, truncation of oversized records, and valid JSON whatever
the Python payload holds."""

from __future__ import annotations

import base64
import json
import traceback
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamlake.errors import ErrorType, InvalidEventError
from streamlake.kafka.producer.dlq_producer import (
    MAX_DLQ_RECORD_BYTES,
    STACKTRACE_MAX_CHARS,
    TRUNCATED_ORIGINAL_CHARS,
    dlq_value,
)

FAILED_AT = "2026-01-21T10:00:00.123Z"
METADATA = {
    "dataset": "orders",
    "schema_version": "2",
    "ingestion_id": "0b7c6f4e-1f7a-4a4e-9d55-6a1f1f0c2d3e",
    "producer_service": "ingestion-api",
}
KEYS = {
    "original",
    "original_encoding",
    "original_truncated",
    "original_size_bytes",
    "error",
    "metadata",
    "dataset",
    "topic",
    "failed_at",
}


def error(message: str = "amount: expected double, got string 'lots'") -> InvalidEventError:
    return InvalidEventError(ErrorType.SCHEMA_VALIDATION, message, dataset="orders")


def error_with_cause(cause: Exception) -> InvalidEventError:
    try:
        try:
            raise cause
        except Exception as exc:
            raise error() from exc
    except InvalidEventError as invalid:
        return invalid


def strict_loads(value: bytes) -> dict[str, Any]:
    """json.loads that refuses NaN / Infinity, as non-Python consumers do."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} in a DLQ record")

    return json.loads(value.decode("utf-8"), parse_constant=refuse)


def record(original: object, invalid: InvalidEventError | None = None) -> dict[str, Any]:
    value = dlq_value(
        original=original,
        error=invalid or error(),
        metadata=METADATA,
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )
    assert isinstance(value, bytes)
    return strict_loads(value)


# --- shape -----------------------------------------------------------------------------------


def test_the_record_has_exactly_the_documented_keys_and_values():
    body = record({"order_id": "o-1", "amount": "lots"})

    assert set(body) == KEYS
    assert body == {
        "original": {"order_id": "o-1", "amount": "lots"},
        "original_encoding": "json",
        "original_truncated": False,
        "original_size_bytes": len('{"order_id": "o-1", "amount": "lots"}'),
        "error": {
            "type": "schema_validation",
            "message": "amount: expected double, got string 'lots'",
            "stacktrace": None,
        },
        "metadata": METADATA,
        "dataset": "orders",
        "topic": "raw.orders",
        "failed_at": FAILED_AT,
    }


def test_the_error_object_has_exactly_type_message_and_stacktrace():
    body = record("{}", InvalidEventError(ErrorType.INVALID_JSON, "not valid JSON: x"))

    assert body["error"] == {
        "type": "invalid_json",
        "message": "not valid JSON: x",
        "stacktrace": None,
    }


@pytest.mark.parametrize("error_type", list(ErrorType))
def test_the_error_type_is_the_error_types_value(error_type):
    body = record({}, InvalidEventError(error_type, "why"))

    assert body["error"]["type"] == error_type.value


def test_the_value_is_utf8_json_and_keeps_non_ascii_readable():
    value = dlq_value(
        original={"name": "Zoë ✓"},
        error=error("name: ünïcode"),
        metadata={},
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )

    assert "Zoë ✓".encode() in value
    assert "ünïcode".encode() in value
    assert strict_loads(value)["original"] == {"name": "Zoë ✓"}


def test_the_metadata_is_copied_as_given():
    body = record({}, error())

    assert body["metadata"] == METADATA


# --- the original round-trips ----------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        {"order_id": "o-1", "amount": 1.5, "tags": ["a", None], "nested": {"x": True}},
        {},
        {"name": "Zoë ✓ 🚚", "": ""},
        [1, 2, 3],
        {"big": 2**70},
    ],
)
def test_a_parsed_payload_comes_back_equal(original):
    body = record(original)

    assert body["original"] == original
    assert body["original_encoding"] == "json"
    assert body["original_truncated"] is False
    assert body["original_size_bytes"] == len(json.dumps(original, ensure_ascii=False).encode())


@pytest.mark.parametrize(
    "original",
    ['{"order_id": "o-1", "amount": ', "not json at all", "", '{"a": NaN}', "Zoë ✓ {"],
)
def test_raw_text_comes_back_as_the_same_string(original):
    body = record(original)

    assert body["original"] == original
    assert body["original_encoding"] == "text"
    assert body["original_truncated"] is False
    assert body["original_size_bytes"] == len(original.encode())


def test_utf8_bytes_come_back_as_the_same_text():
    raw = '{"order_id": "o-1", "name": "Zoë"'.encode()

    body = record(raw)

    assert body["original"] == raw.decode()
    assert body["original_encoding"] == "text"
    assert body["original_size_bytes"] == len(raw)


@pytest.mark.parametrize("raw", [b'{"name": "\xff"}', b"\x00\x01\xfe\xff", bytearray(b"\xc3\x28")])
def test_bytes_that_are_not_utf8_come_back_through_base64(raw):
    body = record(raw)

    assert body["original_encoding"] == "base64"
    assert base64.b64decode(body["original"], validate=True) == bytes(raw)
    assert body["original_truncated"] is False
    assert body["original_size_bytes"] == len(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_come_back_exactly(raw):
    body = record(raw)

    if body["original_encoding"] == "base64":
        assert base64.b64decode(body["original"], validate=True) == raw
    else:
        assert body["original_encoding"] == "text"
        assert body["original"].encode() == raw
    assert body["original_size_bytes"] == len(raw)


TEXT = st.text(st.characters(exclude_categories=["Cs"]))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(TEXT, JSON_VALUES, max_size=5) | st.lists(JSON_VALUES, max_size=5))
def test_any_parsed_object_or_array_comes_back_equal(original):
    body = record(original)

    assert body["original"] == original
    assert body["original_encoding"] == "json"


# --- stacktrace ------------------------------------------------------------------------------


def test_there_is_no_stacktrace_without_a_cause():
    assert record({})["error"]["stacktrace"] is None


def test_the_stacktrace_is_the_causes_traceback():
    invalid = error_with_cause(ValueError("could not convert string to float: 'lots'"))

    stacktrace = record({}, invalid)["error"]["stacktrace"]

    assert stacktrace == "".join(traceback.format_exception(invalid.__cause__))
    assert stacktrace.startswith("Traceback (most recent call last):\n")
    assert stacktrace.endswith("ValueError: could not convert string to float: 'lots'\n")


def test_a_long_stacktrace_keeps_its_last_characters_within_the_bound():
    invalid = error_with_cause(ValueError("x" * 20_000 + " the end"))

    stacktrace = record({}, invalid)["error"]["stacktrace"]

    assert len(stacktrace) <= STACKTRACE_MAX_CHARS + 3
    assert stacktrace.startswith("...")
    assert stacktrace.endswith("x the end\n")


def test_a_deep_chain_of_causes_is_bounded_too():
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise RuntimeError("middle " * 2_000) from inner
    except RuntimeError as middle:
        invalid = error_with_cause(middle)

    stacktrace = record({}, invalid)["error"]["stacktrace"]

    assert len(stacktrace) <= STACKTRACE_MAX_CHARS + 3
    assert stacktrace.startswith("...")
    assert stacktrace.endswith("middle \n")


# --- size ------------------------------------------------------------------------------------


def test_a_2mb_payload_is_truncated_to_fit_with_its_full_size_recorded():
    original = {"order_id": "o-1", "blob": "x" * 2_000_000}
    full = json.dumps(original, ensure_ascii=False)

    value = dlq_value(
        original=original,
        error=error(),
        metadata=METADATA,
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )
    body = strict_loads(value)

    assert len(value) <= MAX_DLQ_RECORD_BYTES
    assert set(body) == KEYS
    assert body["original_truncated"] is True
    assert body["original_encoding"] == "text"
    assert body["original_size_bytes"] == len(full.encode())
    assert body["original"] == full[:TRUNCATED_ORIGINAL_CHARS]
    assert body["error"]["message"] == "amount: expected double, got string 'lots'"
    assert body["metadata"] == METADATA


def test_2mb_of_raw_text_is_truncated_to_fit():
    original = "é" * 1_000_000

    value = dlq_value(
        original=original,
        error=error(),
        metadata=METADATA,
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )
    body = strict_loads(value)

    assert len(value) <= MAX_DLQ_RECORD_BYTES
    assert body["original"] == original[:TRUNCATED_ORIGINAL_CHARS]
    assert body["original_truncated"] is True
    assert body["original_size_bytes"] == 2_000_000


def test_2mb_of_binary_is_truncated_and_stays_decodable_base64():
    raw = bytes(range(256)) * 8_000 + b"\xff"

    value = dlq_value(
        original=raw,
        error=error(),
        metadata=METADATA,
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )
    body = strict_loads(value)

    assert len(value) <= MAX_DLQ_RECORD_BYTES
    assert body["original_truncated"] is True
    assert body["original_size_bytes"] == len(raw)
    # The kept characters are base64, so the encoding must still say so.
    assert body["original_encoding"] == "base64"
    kept = base64.b64decode(body["original"], validate=True)
    assert raw.startswith(kept)
    assert len(kept) > 0


def test_a_record_just_under_the_limit_is_not_truncated():
    original = "x" * (MAX_DLQ_RECORD_BYTES - 1_000)

    body = record(original)

    assert body["original"] == original
    assert body["original_truncated"] is False


def test_the_record_fits_even_when_the_error_message_is_huge():
    # An event with a 2 MB unknown field name gets a 2 MB "not a field of"
    # message from the encoder; the DLQ record must still fit.
    invalid = error("x" * 2_000_000 + ": not a field of orders v2")

    value = dlq_value(
        original={"order_id": "o-1"},
        error=invalid,
        metadata=METADATA,
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )

    assert len(value) <= MAX_DLQ_RECORD_BYTES
    assert strict_loads(value)["original"] == {"order_id": "o-1"}


# --- any Python payload yields valid JSON ----------------------------------------------------


def test_nan_and_infinity_in_a_python_payload_still_yield_strict_json():
    body = record({"amount": float("nan"), "limits": [float("inf"), -float("inf")], "ok": 1.5})

    assert body["original"] == {"amount": "nan", "limits": ["inf", "-inf"], "ok": 1.5}
    assert body["original_encoding"] == "json"


class Color(Enum):
    RED = "red"


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque>"


@pytest.mark.parametrize(
    ("original", "kept", "encoding"),
    [
        ({"blob": b"\xff"}, {"blob": "/w=="}, "python"),
        (
            {"at": datetime(2026, 1, 21, 10, 30, tzinfo=UTC), "on": date(2026, 1, 21)},
            {"at": "2026-01-21T10:30:00+00:00", "on": "2026-01-21"},
            "python",
        ),
        ({"price": Decimal("1.10")}, {"price": "1.10"}, "python"),
        ({"id": UUID(int=1)}, {"id": "00000000-0000-0000-0000-000000000001"}, "python"),
        ({"color": Color.RED}, {"color": "red"}, "python"),
        ({"thing": Opaque()}, {"thing": "<Opaque>"}, "python"),
        ({"ids": (1, 2)}, {"ids": [1, 2]}, "json"),
        ({1: "one", None: "none"}, {"1": "one", "null": "none"}, "json"),
    ],
    ids=["bytes", "datetime", "decimal", "uuid", "enum", "no-json-form", "tuple", "int-keys"],
)
def test_python_values_are_kept_in_their_json_form_and_labelled_so(original, kept, encoding):
    body = record(original)

    assert body["original"] == kept
    assert body["original_encoding"] == encoding


def test_a_dict_with_keys_json_cannot_hold_still_yields_a_record():
    body = record({("a", 1): "tuple key", "order_id": "o-1"})

    assert body["original_encoding"] in ("json", "text")
    assert "tuple key" in json.dumps(body["original"])


@pytest.mark.parametrize(
    "original",
    [{"order_id": "\ud800"}, '{"order_id": "\ud800"}', ["\udfff"]],
    ids=["dict", "text", "list"],
)
def test_a_lone_surrogate_in_the_original_still_yields_utf8_json(original):
    # json.loads('{"order_id": "\\ud800"}') is a valid parse giving a lone
    # surrogate; the encoder sends such an event here as a serialization error.
    value = dlq_value(
        original=original,
        error=InvalidEventError(ErrorType.SERIALIZATION, "could not encode for orders v2"),
        metadata=METADATA,
        dataset="orders",
        topic="raw.orders",
        failed_at=FAILED_AT,
    )

    body = strict_loads(value)
    assert set(body) == KEYS
    assert body["original_truncated"] is False
