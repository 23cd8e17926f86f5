"""Scenario 5: a corpus of bad input, generated (hypothesis) and hand-picked.
The producer never raises; each input ends in the raw topic, in the DLQ or as
a reported failure; every DLQ record is valid JSON whose `original`
round-trips the input. A record larger than the broker accepts is an invalid
event (`record_too_large`) whose DLQ record keeps a truncated original."""

from __future__ import annotations

import base64
import json
import sys
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streamlake import Outcome
from streamlake.kafka.producer.dlq_producer import TRUNCATED_ORIGINAL_CHARS
from tests.readback import Topics
from tests.reliability.faulthelpers import DATASET, order

_MISSING = object()


def _strict_json(text: str | bytes, *, max_depth: bool = False) -> Any:
    """Strict JSON (no NaN/Infinity). `max_depth` lifts Python's recursion
    limit: a DLQ record nests the original two levels deeper than the input,
    and JSON's grammar has no depth limit."""

    def reject(name: str) -> float:
        raise ValueError(name)

    limit = sys.getrecursionlimit()
    if max_depth:
        sys.setrecursionlimit(max(limit, 50_000))
    try:
        return json.loads(text, parse_constant=reject)
    except (ValueError, RecursionError):
        return _MISSING
    finally:
        sys.setrecursionlimit(limit)


def expected_originals(event: object) -> list[tuple[str, Any]]:
    """The (original_encoding, original) pairs the DLQ record may hold for
    `event`. JSON text nested close to Python's recursion limit parses or not
    depending on the caller's stack depth, so for text both the parsed value
    and the text itself round-trip the input."""
    if isinstance(event, bytes):
        try:
            event = event.decode()
        except UnicodeDecodeError:
            return [("base64", base64.b64encode(event).decode())]
    if isinstance(event, str):
        parsed = _strict_json(event, max_depth=True)
        return [("text", event)] + ([] if parsed is _MISSING else [("json", parsed)])
    return [("json", _strict_json(json.dumps(event), max_depth=True))]


# --- the corpus ------------------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["order_id", "customer_id", "amount", "event_time", "currency", "extra", ""]
valid_orders = st.builds(
    order,
    st.text(min_size=1, max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)
orders_patched = st.builds(
    lambda base, patch, drop: {k: v for k, v in {**base, **patch}.items() if k not in drop},
    valid_orders,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    st.sets(st.sampled_from(FIELDS), max_size=2),
)
huge_strings = st.integers(100_000, 600_000).map(lambda n: order("HUGE", customer_id="x" * n))
deep_text = st.integers(10, 5_000).map(
    lambda n: '{"order_id": "D", "x": ' + "[" * n + "]" * n + "}"
)
non_finite_text = st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(
    lambda c: f'{{"order_id": "N", "customer_id": "C", "amount": {c}, "event_time": "t"}}'
)
invalid_utf8 = st.binary(max_size=40).map(lambda b: b'{"order_id": "' + b + b'\xff"}')
blank = st.sampled_from(["", " ", "\t", b"", "{}", "[]", "null", '""'])
payloads = st.one_of(json_values, orders_patched, valid_orders)
python_events = st.one_of(  # a Python event is a mapping: anything else is a TypeError
    orders_patched, valid_orders, st.dictionaries(st.text(max_size=8), json_values, max_size=4)
)
inputs = st.one_of(
    python_events,  # as Python objects
    payloads.map(json.dumps),  # as JSON text
    payloads.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),  # as UTF-8 bytes
    huge_strings,
    deep_text,
    non_finite_text,
    invalid_utf8,
    blank,
    st.text(max_size=50),
)


def _check_dlq(topics: Topics, topic: str, sent: dict[str, object]) -> Counter[str]:
    """Every DLQ record is strict JSON and round-trips its input."""
    records = topics.read_all(topic)
    assert {r.headers["ingestion_id"] for r in records} == set(sent)
    kinds: Counter[str] = Counter()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 50_000))  # comparing deeply nested originals
    try:
        _compare(records, sent, kinds)
    finally:
        sys.setrecursionlimit(limit)
    return kinds


def _compare(records: list[Any], sent: dict[str, object], kinds: Counter[str]) -> None:
    for record in records:
        body = _strict_json(record.value, max_depth=True)
        assert body is not _MISSING, record.value[:200]
        event = sent[record.headers["ingestion_id"]]
        kinds[body["error"]["type"]] += 1
        if body["original_truncated"]:
            assert len(body["original"]) == TRUNCATED_ORIGINAL_CHARS
            continue
        assert (body["original_encoding"], body["original"]) in expected_originals(event)


def test_a_generated_corpus_of_bad_input_never_crashes_and_every_input_is_accounted_for(
    make_producer, topics
):
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    outcomes: Counter[str] = Counter()
    dead: dict[str, object] = {}
    total = 0

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(inputs, min_size=1, max_size=8))
    @example(["", b"", b"\xff\xfe", "NaN", '{"order_id": "N", "amount": Infinity}', '"abc"'])
    def run(events: list[object]) -> None:
        nonlocal total
        results = list(producer.produce_many(DATASET, events))  # must never raise
        assert len(results) == len(events)
        total += len(events)
        for event, result in zip(events, results, strict=True):
            outcomes[str(result.outcome)] += 1
            assert result.outcome in (Outcome.PRODUCED, Outcome.DLQ), result.error
            if result.outcome is Outcome.DLQ:
                dead[result.ingestion_id] = event

    run()

    assert outcomes["failed"] == 0
    assert sum(outcomes.values()) == total
    assert topics.count(dataset.raw_topic) == outcomes["produced"]
    kinds = _check_dlq(topics, dataset.dlq_topic, dead)
    assert sum(kinds.values()) == outcomes["dlq"]
    print(
        f"\nbad-input corpus: inputs={total} produced={outcomes['produced']} "
        f"dlq={outcomes['dlq']} failed=0 dlq_by_type={dict(kinds)}"
    )


def test_a_record_larger_than_the_broker_accepts_goes_to_the_dlq_truncated(make_producer, topics):
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    big = order("BIG", customer_id="x" * 2_000_000)  # valid, but 2 MB encoded
    big_text = '{"order_id": "BIGTEXT", "note": "' + "y" * 2_000_000  # 2 MB, not JSON
    results = list(producer.produce_many(DATASET, [big, big_text]))

    assert [str(r.outcome) for r in results] == ["dlq", "dlq"]
    assert [str(r.error.error_type) for r in results] == ["record_too_large", "invalid_json"]
    by_id = {r.headers["ingestion_id"]: r for r in topics.read_all(dataset.dlq_topic)}
    for result, event in zip(results, [big, big_text], strict=True):
        record = by_id[result.ingestion_id]
        body = json.loads(record.value)
        assert len(record.value) < 1_000_000
        assert body["original_truncated"] is True
        assert body["original_size_bytes"] >= 2_000_000
        assert len(body["original"]) == TRUNCATED_ORIGINAL_CHARS
        full = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        assert full.startswith(body["original"])
    assert topics.count(dataset.raw_topic) == 0


def _deep(depth: int) -> object:
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({**order("DEEP"), "extra": _deep(5_000)}, id="deeply-nested-object"),
        pytest.param(
            '{"order_id": "\\ud800", "customer_id": "C", "amount": 1, "event_time": "t"}',
            id="lone-surrogate-in-key",
        ),
        pytest.param('["\\udfff"]', id="lone-surrogate-in-invalid-event"),
    ],
)
def test_inputs_python_cannot_encode_as_utf8_json_still_end_in_the_dlq(
    make_producer, topics, event
):
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    (result,) = list(producer.produce_many(DATASET, [event]))  # must never raise

    assert result.outcome is Outcome.DLQ, result.error
    (record,) = topics.read_all(dataset.dlq_topic)
    body = _strict_json(record.value, max_depth=True)
    assert body is not _MISSING
    if isinstance(event, dict):  # too deep for any JSON encoder: kept as Python shows it
        assert body["original_encoding"] == "repr"
        assert body["original"] == "<dict nested too deeply to show>"
    else:
        assert body["original_truncated"] or (
            (body["original_encoding"], body["original"]) in expected_originals(event)
        )
