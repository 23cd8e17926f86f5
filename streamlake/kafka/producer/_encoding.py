"""The per-event helpers around the codec: ingestion ids, `ingested_at`
stamps, and strict JSON parsing for the dead-letter slow path.

Encoding itself is `streamlake.codec.Codec` (the native codec): JSON text in
one streaming pass, Python objects walked directly. `parse_json` is used only
when an event is dead-lettered, to keep a JSON text's value in the DLQ record.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from streamlake.errors import ErrorType, InvalidEventError


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _exact_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or Decimal(repr(value)) != Decimal(text):
        raise ValueError(f"{text} cannot be held exactly as a double")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise ValueError(f"duplicate key {key!r}")
        value[key] = item
    return value


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_exact_float, object_pairs_hook=_unique_keys
)
"""Built once: json.loads(text, parse_constant=...) builds a decoder per call (~1.2 us)."""


def parse_json(text: str | bytes | bytearray) -> Any:
    """Strict, lossless JSON: NaN and Infinity (which Python accepts) are
    rejected, and so is what a Python value would not hold exactly (a
    duplicate key, a number beyond a double's range or precision), so the
    DLQ keeps such a text as received rather than a changed value."""
    try:
        # Decode explicitly: json.loads would also guess UTF-16 and UTF-32.
        if isinstance(text, bytes | bytearray):
            text = text.decode("utf-8")
        if text.startswith("\ufeff"):  # json.loads's own check, which decode() lacks
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except UnicodeDecodeError as exc:
        raise InvalidEventError(ErrorType.INVALID_JSON, f"not UTF-8 text: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise InvalidEventError(ErrorType.INVALID_JSON, f"not valid JSON: {exc}") from exc


_UUIDS_PER_BATCH = 1024
_uuid_pool: list[str] = []
# A forked child must not hand out the ids its parent already holds.
os.register_at_fork(after_in_child=_uuid_pool.clear)
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))  # byte 6: version nibble 4
_RFC_4122 = bytes((b & 0x3F) | 0x80 for b in range(256))  # byte 8: variant bits 10
_UUID_GROUPS = itemgetter(slice(0, 8), slice(8, 12), slice(12, 16), slice(16, 20), slice(20, 32))


def new_ingestion_id() -> str:
    """A random (version 4) UUID as text, like ``str(uuid.uuid4())``.

    Both take the random bits from os.urandom and set the same version and
    variant bits, leaving 122 random; this draws 1024 ids per urandom call and
    formats them in one pass, ~0.4 us per id instead of uuid4's ~1.9 us.
    """
    try:
        return _uuid_pool.pop()
    except IndexError:
        raw = bytearray(os.urandom(16 * _UUIDS_PER_BATCH))
        raw[6::16] = raw[6::16].translate(_VERSION_4)
        raw[8::16] = raw[8::16].translate(_RFC_4122)
        hexes = raw.hex()
        _uuid_pool.extend(
            "-".join(_UUID_GROUPS(hexes[i : i + 32])) for i in range(0, len(hexes), 32)
        )
        return _uuid_pool.pop()


class Clock:
    """`ingested_at` values: RFC 3339, UTC, millisecond precision. The text is
    cached per millisecond, since bulk runs produce many events per tick; the
    cache is one tuple, so threads sharing a clock never pair a millisecond
    with another's text."""

    def __init__(self) -> None:
        self._cached: tuple[int | None, bytes] = (None, b"")

    def now(self, time_ns: int) -> bytes:
        ms = time_ns // 1_000_000
        cached_ms, text = self._cached
        if ms != cached_ms:
            stamp = datetime.fromtimestamp(ms / 1000, UTC)
            text = (stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z").encode()
            self._cached = (ms, text)
        return text
