"""The helpers around the codec: strict JSON parsing (the DLQ's slow path)
and the `ingested_at` clock. Encoding itself is tested with the codec."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlake.errors import ErrorType, InvalidEventError
from streamlake.kafka.producer._encoding import Clock, parse_json

HYPOTHESIS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- parse_json ------------------------------------------------------------------------------
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
        parse_json(text)

    assert caught.value.error_type is ErrorType.INVALID_JSON
    assert caught.value.message.startswith(message)
    assert isinstance(caught.value.__cause__, ValueError)


def test_bytes_that_are_not_utf8_are_an_invalid_json_error():
    with pytest.raises(InvalidEventError) as caught:
        parse_json(b'{"name": "\xff"}')

    assert caught.value.error_type is ErrorType.INVALID_JSON
    assert caught.value.message == (
        "not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 10: invalid start byte"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_bytes_in_another_unicode_encoding_are_not_utf8_and_are_rejected(encoding):
    # json.loads guesses UTF-16/32 for bytes; the contract is UTF-8 bytes only.
    with pytest.raises(InvalidEventError) as caught:
        parse_json('{"order_id": "o-1"}'.encode(encoding))

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
