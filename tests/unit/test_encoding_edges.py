"""Edges of the per-event helpers that once went wrong (encoding's own edges
are the codec's tests).

- `new_ingestion_id` gives version-4 UUIDs, unique, and never the same ones in
  a forked child as in its parent.
- `parse_json` agrees with `json.loads` (values and error messages).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamlake.errors import InvalidEventError
from streamlake.kafka.producer._encoding import new_ingestion_id, parse_json


def test_ingestion_ids_are_unique_version_4_uuids():
    ids = [new_ingestion_id() for _ in range(20_000)]

    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_ingestion_ids_use_every_random_bit():
    ids = [uuid.UUID(new_ingestion_id()).int for _ in range(4096)]
    fixed = (0xF000 << 64) | (0xC000 << 48)  # version nibble, variant bits
    ones = 0
    zeros = 0
    for value in ids:
        ones |= value
        zeros |= ~value
    assert ones & ~fixed == zeros & ~fixed & ((1 << 128) - 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_reuses_the_parents_ingestion_ids():
    new_ingestion_id()  # the pool holds ids now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, json.dumps([new_ingestion_id() for _ in range(50)]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(json.loads(pipe.read()))
    os.waitpid(pid, 0)
    parent = {new_ingestion_id() for _ in range(2000)}

    assert not child & parent


# --- JSON ------------------------------------------------------------------------------------

JSON_TEXTS = [
    '{"a": 1}',
    ' {"a": 1}',
    '{"a": 1} ',
    '{"a": 1}\n',
    "\ufeff{}",
    '{"a": 1} {"b": 2}',
    "",
    "   ",
    "nul",
    "[1, 2",
    '{"a": NaN}',
    "Infinity",
    '"text"',
    "12",
    '{"a": 1}x',
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_parse_json_agrees_with_json_loads(text):
    def reject(name: str) -> float:
        raise ValueError(f"{name} is not valid JSON")

    try:
        expected: Any = json.loads(text, parse_constant=reject)
    except ValueError as exc:
        with pytest.raises(InvalidEventError) as caught:
            parse_json(text.encode())
        assert caught.value.message == f"not valid JSON: {exc}"
    else:
        assert parse_json(text.encode()) == expected
        assert parse_json(text) == expected


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_parse_json_round_trips_like_json_loads(value):
    text = json.dumps(value)

    assert parse_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("1e999", "1e999 cannot be held exactly as a double"),
        ("[1.00000000000000000001]", "1.00000000000000000001 cannot be held exactly"),
    ],
)
def test_json_a_python_value_would_not_hold_exactly_is_refused_so_the_dlq_keeps_the_text(
    text, reason
):
    with pytest.raises(InvalidEventError, match=re.escape(reason)):
        parse_json(text)


def test_numbers_a_double_holds_exactly_parse_whatever_their_spelling():
    assert parse_json("[1.50, 0.1, 2e3, -0.0]") == [1.5, 0.1, 2000.0, -0.0]
