"""The codec's logical-type conversions against Python's own.

Timestamps against ``datetime.fromisoformat`` and timedelta arithmetic, dates
against ``date.toordinal``, decimals against ``Decimal`` (quantized only when
that loses nothing), bytes against ``base64.b64decode(validate=True)``, uuids
against ``uuid.UUID``, JSON numbers against ``json.loads`` and ``struct``.
Each test reads the Avro value back in its underlying type (long, int, bytes,
string), so the conversion itself is what is checked.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import io
import json
import math
import re
import struct
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from streamlake._codec import EncodeError
from tests.unit.codec_strategies import (
    EPOCH,
    EPOCH_DATE,
    RawNumber,
    max_precision,
    rfc3339,
    to_json,
    two_complement,
)

CONVERSIONS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNIT_MICROS = {"millis": 1_000, "micros": 1}
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timedelta(minutes=m))
# Instants whose local time at any offset stays within years 1..9999.
INSTANTS = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC))


def _schema(value_type: Any) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Logical",
        "fields": [{"name": "id", "type": "string"}, {"name": "v", "type": value_type}],
    }


def _underlying(value_type: dict[str, Any]) -> Any:
    plain = {k: v for k, v in value_type.items() if k not in ("logicalType", "precision", "scale")}
    return plain if plain["type"] == "fixed" else plain["type"]


class Field:
    """One logical-typed field: encode `v`, read it back as its underlying type."""

    def __init__(self, make_encoder: Any, value_type: dict[str, Any]) -> None:
        self.natural = make_encoder(_schema(value_type))
        self.reader = fastavro.parse_schema(_schema(_underlying(value_type)))

    def read(self, value: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(value[5:]), self.reader)["v"]

    def from_json(self, v: Any) -> Any:
        value, _ = self.natural.encode_json(to_json({"id": "k", "v": v}))
        return self.read(value)

    def from_object(self, v: Any) -> Any:
        value, _ = self.natural.encode_object({"id": "k", "v": v})
        return self.read(value)

    def refuses(self, v: Any, *, as_object: bool = False) -> bool:
        try:
            self.from_object(v) if as_object else self.from_json(v)
        except EncodeError as error:
            assert [p for p, _ in error.errors] == ["v"], error.message
            return True
        return False


@pytest.fixture(scope="module")
def field(make_encoder):
    cache: dict[str, Field] = {}

    def make(value_type: dict[str, Any]) -> Field:
        key = json.dumps(value_type, sort_keys=True)
        cache.setdefault(key, Field(make_encoder, value_type))
        return cache[key]

    return make


def _python_iso(text: str) -> datetime:
    """`datetime.fromisoformat` on `text`, whose fraction digits past the sixth
    are zeros (Python 3.11 reads at most six)."""
    match = re.fullmatch(r"(.*\.\d{6})(0*)(.*)", text)
    return datetime.fromisoformat(match[1] + match[3] if match else text)


@pytest.mark.parametrize("unit", ["millis", "micros"])
@CONVERSIONS
@given(instant=INSTANTS, offset=OFFSETS, digits=st.integers(0, 9))
def test_rfc3339_timestamps_convert_as_python_computes_them(field, unit, instant, offset, digits):
    micros_per_unit = UNIT_MICROS[unit]
    kept = len(f"{instant.microsecond:06d}".rstrip("0"))
    assume(digits >= kept)
    text = rfc3339(instant, offset // timedelta(minutes=1), digits)
    expected, lossy = divmod(_python_iso(text) - EPOCH, timedelta(microseconds=micros_per_unit))
    timestamp = field({"type": "long", "logicalType": f"timestamp-{unit}"})

    if lossy:
        assert timestamp.refuses(text), text
    else:
        assert timestamp.from_json(text) == expected
        assert timestamp.from_json(expected) == expected
        assert timestamp.from_object(instant.astimezone(timezone(offset))) == expected


@pytest.mark.parametrize("unit", ["millis", "micros"])
@CONVERSIONS
@given(
    instant=INSTANTS,
    offset=st.timedeltas(-timedelta(hours=23, minutes=59), timedelta(hours=23, minutes=59)),
)
def test_aware_datetimes_at_any_offset_convert_as_python_subtracts_them(
    field, unit, instant, offset
):
    # Python's offsets may hold seconds and microseconds; RFC 3339's do not.
    moment = instant.astimezone(timezone(offset))
    expected, lossy = divmod(moment - EPOCH, timedelta(microseconds=UNIT_MICROS[unit]))
    timestamp = field({"type": "long", "logicalType": f"timestamp-{unit}"})

    if lossy:
        assert timestamp.refuses(moment, as_object=True), moment
    else:
        assert timestamp.from_object(moment) == expected


@pytest.mark.parametrize("unit", ["millis", "micros"])
@CONVERSIONS
@given(moment=st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)), digits=st.integers(0, 9))
def test_local_timestamps_convert_as_python_computes_them(field, unit, moment, digits):
    kept = len(f"{moment.microsecond:06d}".rstrip("0"))
    assume(digits >= kept)
    fraction = f"{moment.microsecond:06d}".ljust(9, "0")[:digits]
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}" + (f".{fraction}" if digits else "")
    since = _python_iso(text) - datetime(1970, 1, 1)
    expected, lossy = divmod(since, timedelta(microseconds=UNIT_MICROS[unit]))
    timestamp = field({"type": "long", "logicalType": f"local-timestamp-{unit}"})

    if lossy:
        assert timestamp.refuses(text), text
    else:
        assert timestamp.from_json(text) == expected
        assert timestamp.from_object(moment) == expected


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("2026-01-21T10:00:00Z", datetime(2026, 1, 21, 10, tzinfo=UTC)),
        ("2026-01-21T10:00:00+00:00", datetime(2026, 1, 21, 10, tzinfo=UTC)),
        ("2026-01-21T10:00:00+05:30", datetime(2026, 1, 21, 4, 30, tzinfo=UTC)),
        ("2026-01-01T00:30:00+01:00", datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
        ("1969-12-31T23:59:59.999Z", datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        ("1970-01-01T00:00:00.000000000Z", EPOCH),
    ],
)
def test_offsets_move_the_instant_to_utc(field, text, expected_utc):
    timestamp = field({"type": "long", "logicalType": "timestamp-millis"})

    assert timestamp.from_json(text) == (expected_utc - EPOCH) // timedelta(milliseconds=1)


@CONVERSIONS
@given(day=st.dates())
def test_dates_are_days_since_the_epoch_as_toordinal_counts_them(field, day):
    expected = day.toordinal() - EPOCH_DATE.toordinal()
    dates = field({"type": "int", "logicalType": "date"})

    assert dates.from_json(day.isoformat()) == expected
    assert dates.from_json(expected) == expected
    assert dates.from_object(day) == expected


@pytest.mark.parametrize("unit", ["millis", "micros"])
@CONVERSIONS
@given(moment=st.times(), digits=st.integers(0, 9))
def test_times_are_units_since_midnight(field, unit, moment, digits):
    kept = len(f"{moment.microsecond:06d}".rstrip("0"))
    assume(digits >= kept)
    fraction = f"{moment.microsecond:06d}".ljust(9, "0")[:digits]
    text = moment.strftime("%H:%M:%S") + (f".{fraction}" if digits else "")
    parsed = time.fromisoformat(text[:15])
    since = timedelta(
        hours=parsed.hour,
        minutes=parsed.minute,
        seconds=parsed.second,
        microseconds=parsed.microsecond,
    )
    expected, lossy = divmod(since, timedelta(microseconds=UNIT_MICROS[unit]))
    times = field({"type": "int" if unit == "millis" else "long", "logicalType": f"time-{unit}"})

    if lossy:
        assert times.refuses(text), text
    else:
        assert times.from_json(text) == expected
        assert times.from_object(moment) == expected


EXACT = decimal.Context(prec=200)


@CONVERSIONS
@given(
    value=st.decimals(-(10**25), 10**25, allow_nan=False, allow_infinity=False),
    precision=st.integers(1, 30),
    scale=st.integers(0, 12),
    as_number=st.booleans(),
)
def test_decimals_are_exact_and_quantized_only_when_lossless(
    field, value, precision, scale, as_number
):
    assume(scale <= precision)
    quantum = Decimal(1).scaleb(-scale)
    quantized = value.quantize(quantum, context=EXACT)
    unscaled = int(quantized.scaleb(scale, context=EXACT))
    fits = quantized == value and abs(unscaled) < 10**precision
    decimals = field(
        {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    )
    text = str(value)
    given_as = RawNumber(text) if as_number else text

    if not fits:
        assert decimals.refuses(given_as), text
        assert decimals.refuses(value, as_object=True), text
    else:
        assert decimals.from_json(given_as) == two_complement(unscaled, None)
        assert decimals.from_object(value) == two_complement(unscaled, None)


@pytest.mark.parametrize(
    ("text", "unscaled"),
    [
        ("199.99", 19999),
        ("199.9", 19990),
        ("199.990000", 19999),
        ("2", 200),
        ("-0.01", -1),
        ("-0", 0),
        ("0.00", 0),
        ("1.5e2", 15000),
        ("15E-1", 150),
        ("999.99", 99999),
        ("-999.99", -99999),
    ],
)
def test_decimal_spellings_read_exactly(field, text, unscaled):
    decimals = field({"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2})

    assert decimals.from_json(RawNumber(text)) == two_complement(unscaled, None)
    assert decimals.from_json(text) == two_complement(unscaled, None)


def test_a_decimal_number_is_never_read_through_a_binary_float(field):
    # 0.1 + 0.2 in binary is 0.30000000000000004: a float path would refuse
    # (lossy at scale 17) or round; the exact reading takes 0.3 and 20 digits.
    decimals = field({"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 17})
    exact = 3 * 10**16

    assert decimals.from_json(RawNumber("0.3")) == two_complement(exact, None)
    assert decimals.from_json(RawNumber("0.30000000000000004")) == two_complement(
        30000000000000004, None
    )
    assert decimals.from_json(RawNumber("12345678901234567890e-17")) == two_complement(
        12345678901234567890, None
    )


@CONVERSIONS
@given(unscaled=st.integers(-(2**63), 2**63 - 1), size=st.integers(8, 12))
def test_fixed_decimals_are_sign_extended_to_the_size(field, unscaled, size):
    precision = max_precision(size)
    assume(abs(unscaled) < 10**precision)
    decimals = field(
        {
            "type": "fixed",
            "name": f"D{size}",
            "size": size,
            "logicalType": "decimal",
            "precision": precision,
            "scale": 3,
        }
    )
    value = Decimal(unscaled).scaleb(-3)

    assert decimals.from_json(str(value)) == two_complement(unscaled, size)
    assert decimals.from_object(value) == two_complement(unscaled, size)


BASE64_TEXT = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n"),
    max_size=12,
)


@CONVERSIONS
@given(data=st.binary(max_size=40))
def test_base64_is_read_as_python_decodes_it(field, data):
    blobs = field({"type": "bytes"})

    assert blobs.from_json(base64.b64encode(data).decode()) == data
    assert blobs.from_object(data) == data


@CONVERSIONS
@given(text=BASE64_TEXT)
def test_base64_python_refuses_is_refused(field, text):
    blobs = field({"type": "bytes"})
    try:
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error:
        assert blobs.refuses(text), text
        return
    if base64.b64encode(decoded).decode() == text:
        assert blobs.from_json(text) == decoded
    else:
        # Python ignores non-zero padding bits ("AB==" is b"\0"); a stricter
        # decoder may refuse them, but must never read other bytes.
        assert blobs.refuses(text) or blobs.from_json(text) == decoded


@CONVERSIONS
@given(value=st.uuids())
def test_uuids_in_canonical_form_are_written_as_uuid_prints_them(field, value):
    uuids = field({"type": "string", "logicalType": "uuid"})

    assert uuids.from_json(str(value)) == str(value)
    assert uuids.from_object(value) == str(value)


@CONVERSIONS
@given(text=st.text(st.sampled_from("0123456789abcdef-"), min_size=30, max_size=40))
def test_only_the_canonical_uuid_form_is_accepted(field, text):
    uuids = field({"type": "string", "logicalType": "uuid"})
    canonical = re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)

    if canonical:
        assert uuids.from_json(text) == str(uuid.UUID(text))
    else:
        assert uuids.refuses(text), text


@pytest.mark.parametrize(
    "text",
    [
        "{0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00}",
        "urn:uuid:0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00",
        "0b9a3c1e6f4d4c559d3e2b7f3c9a1d00",
    ],
)
def test_forms_uuid_accepts_but_that_are_not_canonical_are_refused(field, text):
    uuid.UUID(text)

    assert field({"type": "string", "logicalType": "uuid"}).refuses(text)


def test_python_objects_of_each_logical_type_convert_like_their_text(field):
    pairs = [
        (
            {"type": "long", "logicalType": "timestamp-micros"},
            datetime(2026, 1, 21, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-21T10:00:00.123456-05:00",
        ),
        ({"type": "int", "logicalType": "date"}, date(1, 1, 1), "0001-01-01"),
        ({"type": "int", "logicalType": "time-millis"}, time(23, 59, 59, 999000), "23:59:59.999"),
        (
            {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2},
            Decimal("-12.5"),
            "-12.50",
        ),
        (
            {"type": "string", "logicalType": "uuid"},
            uuid.UUID("0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00"),
            "0b9a3c1e-6f4d-4c55-9d3e-2b7f3c9a1d00",
        ),
    ]
    for value_type, python, text in pairs:
        logical = field(value_type)
        assert logical.from_object(python) == logical.from_json(text), value_type


# --- JSON numbers, as Python's json module reads them --------------------------------------

JSON_NUMBER = st.from_regex(
    r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)


def _same_float(got: float, expected: float) -> bool:
    return struct.pack("<d", got) == struct.pack("<d", expected)


@CONVERSIONS
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_doubles_round_trip_through_their_shortest_text(field, value):
    # serde_json without float_roundtrip is off by one ulp on ~7% of these.
    assert _same_float(field({"type": "double"}).from_json(RawNumber(repr(value))), value)


def _python_double(text: str) -> float:
    try:
        return float(json.loads(text))
    except OverflowError:  # an integer past the double range
        return math.inf


@CONVERSIONS
@given(text=JSON_NUMBER)
def test_any_json_number_reads_as_a_double_as_python_reads_it(field, text):
    doubles = field({"type": "double"})
    expected = _python_double(text)

    if math.isinf(expected):
        assert doubles.refuses(RawNumber(text)), text
    else:
        assert _same_float(doubles.from_json(RawNumber(text)), expected), text


@CONVERSIONS
@given(text=JSON_NUMBER)
def test_any_json_number_reads_as_a_float_as_struct_packs_it(field, text):
    floats = field({"type": "float"})
    try:
        expected = struct.unpack("<f", struct.pack("<f", _python_double(text)))[0]
    except OverflowError:  # past the float range
        expected = math.inf

    if math.isinf(expected):
        assert floats.refuses(RawNumber(text)), text
    else:
        assert _same_float(floats.from_json(RawNumber(text)), expected), text


@CONVERSIONS
@given(text=st.from_regex(r"-?(0|[1-9][0-9]{0,21})", fullmatch=True))
def test_json_integers_read_as_python_reads_them(field, text):
    expected = json.loads(text)
    longs = field({"type": "long"})

    if -(2**63) <= expected < 2**63:
        assert longs.from_json(RawNumber(text)) == expected
    else:
        assert longs.refuses(RawNumber(text)), text


def test_minus_zero_is_the_integer_zero_as_python_reads_it(field):
    # A serde_json DOM reads -0 as -0.0; Python's json reads the integer 0.
    assert field({"type": "int"}).from_json(RawNumber("-0")) == 0
    assert _same_float(field({"type": "double"}).from_json(RawNumber("-0")), 0.0)
    assert _same_float(field({"type": "double"}).from_json(RawNumber("-0.0")), -0.0)
