"""The produce loop and the delivery engine without a broker: librdkafka's
clients are tests/fakes.py's FakeProducers, driven by the real poll thread."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from streamlake import (
    AsyncIngestionProducer,
    ConfigurationError,
    ErrorType,
    KafkaDeliveryError,
    Outcome,
    StreamLakeError,
)
from tests.fakes import clients


def order(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": f"ORD-{i}",
        "customer_id": "CUST-1",
        "amount": 1.5,
        "event_time": "2026-01-21T10:00:00Z",
        "currency": "EUR",
        **fields,
    }


def test_results_come_in_input_order_when_acknowledgements_do_not(make_fake_producer):
    producer = make_fake_producer()
    raw, _ = clients(producer)
    raw.reverse = True
    events = [order(i) for i in range(300)]
    events[7] = order(7, amount="lots")

    results = list(producer.produce_many("orders", events))

    assert [r.outcome for r in results] == [
        Outcome.DLQ if i == 7 else Outcome.PRODUCED for i in range(300)
    ]
    produced = {r.ingestion_id: r for r in results if r.outcome is Outcome.PRODUCED}
    sent = [dict(headers)["ingestion_id"].decode() for _, _, _, headers in raw.records]
    assert set(sent) == set(produced)
    assert [r.offset for r in results if r.outcome is Outcome.PRODUCED] != sorted(
        r.offset for r in produced.values()
    ), "the fake did acknowledge out of order"


def test_stop_on_failure_stops_reading_and_still_yields_everything_in_flight(
    make_fake_producer,
):
    producer = make_fake_producer()
    raw, _ = clients(producer)
    raw.fail_keys = {b"ORD-10"}
    pulled = 0

    def events():
        nonlocal pulled
        for i in range(100_000):
            pulled += 1
            yield order(i)

    results = list(producer.produce_many("orders", events(), stop_on_failure=True))

    assert len(results) == pulled < 100_000
    assert results[10].outcome is Outcome.FAILED
    assert results[10].error.code == "_MSG_TIMED_OUT"
    assert [r.outcome for r in results[:10]] == [Outcome.PRODUCED] * 10
    assert producer.counts[Outcome.FAILED] == 1
    assert sum(producer.counts.values()) == pulled


def test_without_stop_on_failure_a_failure_is_a_result_and_reading_goes_on(make_fake_producer):
    producer = make_fake_producer()
    raw, _ = clients(producer)
    raw.fail_keys = {b"ORD-3"}

    results = list(producer.produce_many("orders", [order(i) for i in range(50)]))

    assert len(results) == 50
    assert [i for i, r in enumerate(results) if r.outcome is Outcome.FAILED] == [3]
    assert isinstance(results[3].error, KafkaDeliveryError)
    assert results[3].error.retriable is True


def test_a_full_librdkafka_queue_makes_produce_many_wait_not_fail(make_fake_producer):
    producer = make_fake_producer()
    raw, _ = clients(producer)
    raw.queue_limit = 5

    results = list(producer.produce_many("orders", [order(i) for i in range(200)]))

    assert [r.outcome for r in results] == [Outcome.PRODUCED] * 200
    assert raw.buffer_errors > 0
    assert len(raw.records) == 200


def test_a_record_larger_than_message_max_bytes_is_dead_lettered_as_record_too_large(
    make_fake_producer,
):
    producer = make_fake_producer()
    raw, dlq = clients(producer)
    raw.max_bytes = 200

    results = list(producer.produce_many("orders", [order(1), order(2, customer_id="C" * 500)]))

    assert [r.outcome for r in results] == [Outcome.PRODUCED, Outcome.DLQ]
    error = results[1].error
    assert error.error_type is ErrorType.RECORD_TOO_LARGE
    assert error.ingestion_id == results[1].ingestion_id
    assert error.message.startswith("the encoded record is ")
    ((topic, key, value, headers),) = dlq.records
    assert (topic, key) == (results[1].topic, b"ORD-2")
    assert json.loads(value)["error"]["type"] == "record_too_large"
    assert dict(headers)["error_type"] == b"record_too_large"


def test_a_dead_letter_record_kafka_refuses_fails_the_event_rather_than_vanish(
    make_fake_producer,
):
    producer = make_fake_producer()
    _, dlq = clients(producer)
    dlq.max_bytes = 10

    with pytest.raises(KafkaDeliveryError) as failed:
        producer.produce("orders", order(1, amount="lots"))

    assert failed.value.code == "MSG_SIZE_TOO_LARGE"
    assert "STREAMLAKE_KAFKA_MESSAGE_MAX_BYTES" in str(failed.value)
    assert producer.counts == {Outcome.PRODUCED: 0, Outcome.DLQ: 0, Outcome.FAILED: 1}


def test_produce_raises_the_kafka_failure_of_its_own_record(make_fake_producer):
    producer = make_fake_producer()
    raw, _ = clients(producer)
    raw.fail_keys = {b"ORD-9"}

    assert producer.produce("orders", order(1)).outcome is Outcome.PRODUCED
    with pytest.raises(KafkaDeliveryError) as failed:
        producer.produce("orders", order(9))

    assert failed.value.dataset == "orders"
    assert failed.value.ingestion_id
    assert producer.counts == {Outcome.PRODUCED: 1, Outcome.DLQ: 0, Outcome.FAILED: 1}


def test_threads_sharing_one_producer_get_their_own_results_and_exact_counts(
    make_fake_producer,
):
    producer = make_fake_producer()
    threads, per_thread = 8, 300
    results: dict[int, list[Any]] = {}

    def run(t: int) -> None:
        results[t] = [
            producer.produce("orders", order(t * 10_000 + i, amount="lots" if i % 10 == 0 else 1))
            for i in range(per_thread)
        ]

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    every = [r for t in range(threads) for r in results[t]]
    assert len({r.ingestion_id for r in every}) == threads * per_thread
    for t in range(threads):
        assert [r.outcome for r in results[t]] == [
            Outcome.DLQ if i % 10 == 0 else Outcome.PRODUCED for i in range(per_thread)
        ]
    assert producer.counts == {
        Outcome.PRODUCED: threads * per_thread * 9 // 10,
        Outcome.DLQ: threads * per_thread // 10,
        Outcome.FAILED: 0,
    }


def test_close_purges_what_was_not_acknowledged_and_its_caller_gets_the_failure(
    make_fake_producer,
):
    producer = make_fake_producer()
    raw, _ = clients(producer)
    raw.hold.set()  # a broker that never answers
    raised: list[BaseException] = []

    def run() -> None:
        try:
            producer.produce("orders", order(1))
        except KafkaDeliveryError as exc:
            raised.append(exc)

    caller = threading.Thread(target=run)
    caller.start()
    while not raw.records:
        threading.Event().wait(0.001)  # until the caller's record is queued

    left = producer.close(timeout=0.2)
    caller.join(5)

    assert left == 1
    assert [e.code for e in raised] == ["_PURGE_QUEUE"]
    assert producer.counts == {Outcome.PRODUCED: 0, Outcome.DLQ: 0, Outcome.FAILED: 1}


def test_produce_after_close_says_the_producer_is_closed(make_fake_producer):
    producer = make_fake_producer()
    producer.close()

    with pytest.raises(StreamLakeError, match="this producer is closed"):
        producer.produce("orders", order(1))


# --- asyncio ---------------------------------------------------------------------
def test_async_produce_many_yields_in_input_order_with_bounded_in_flight(make_fake_producer):
    producer = make_fake_producer(AsyncIngestionProducer)
    raw, _ = clients(producer)
    raw.reverse = True
    in_flight: list[int] = []

    async def events():
        for i in range(500):
            in_flight.append(len(raw))
            yield order(i, amount="lots") if i == 42 else order(i)

    async def run() -> list[Any]:
        return [r async for r in producer.produce_many("orders", events(), max_in_flight=50)]

    results = asyncio.run(run())

    assert [r.outcome for r in results] == [
        Outcome.DLQ if i == 42 else Outcome.PRODUCED for i in range(500)
    ]
    sent = [dict(headers)["ingestion_id"].decode() for _, _, _, headers in raw.records]
    assert sent == [r.ingestion_id for r in results if r.outcome is Outcome.PRODUCED]
    assert max(in_flight) <= 50


def test_async_produce_awaits_room_in_a_full_queue_instead_of_blocking(make_fake_producer):
    producer = make_fake_producer(
        AsyncIngestionProducer, kafka={"queue.buffering.max.messages": "5"}
    )
    raw, _ = clients(producer)
    raw.queue_limit = 5

    async def run() -> list[Any]:
        return await asyncio.gather(*(producer.produce("orders", order(i)) for i in range(100)))

    results = asyncio.run(run())

    assert [r.outcome for r in results] == [Outcome.PRODUCED] * 100
    assert raw.buffer_errors == 0  # it awaited room: librdkafka never refused one


def test_queue_depth_counts_records_awaiting_kafka_not_librdkafkas_error_events(
    make_fake_producer,
):
    producer = make_fake_producer(AsyncIngestionProducer)
    raw, _ = clients(producer)
    raw.hold.set()
    raw.error_events = 4  # e.g. "connection refused" while Kafka is down

    async def run() -> tuple[int, int]:
        tasks = [asyncio.create_task(producer.produce("orders", order(i))) for i in range(3)]
        await asyncio.sleep(0.05)
        held = producer.queue_depth()
        raw.hold.clear()
        await asyncio.gather(*tasks)
        return held, producer.queue_depth()

    assert asyncio.run(run()) == (3, 0)


def test_a_cancelled_await_does_not_unsend_and_its_outcome_is_still_counted(
    make_fake_producer,
):
    producer = make_fake_producer(AsyncIngestionProducer)
    raw, _ = clients(producer)
    raw.hold.set()

    async def run() -> None:
        task = asyncio.create_task(producer.produce("orders", order(1)))
        while not raw.records:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        raw.hold.clear()
        for _ in range(1000):
            if producer.counts[Outcome.PRODUCED]:
                break
            await asyncio.sleep(0.005)

    asyncio.run(run())

    assert len(raw.records) == 1
    assert producer.counts == {Outcome.PRODUCED: 1, Outcome.DLQ: 0, Outcome.FAILED: 0}


def test_async_produce_raises_the_kafka_failure_and_returns_dead_letters(make_fake_producer):
    producer = make_fake_producer(AsyncIngestionProducer)
    raw, _ = clients(producer)
    raw.fail_keys = {b"ORD-2"}

    async def run() -> list[Any]:
        return await asyncio.gather(
            producer.produce("orders", order(1)),
            producer.produce("orders", order(2)),
            producer.produce("orders", "{not json"),
            return_exceptions=True,
        )

    produced, failed, dead = asyncio.run(run())

    assert produced.outcome is Outcome.PRODUCED
    assert isinstance(failed, KafkaDeliveryError)
    assert failed.code == "_MSG_TIMED_OUT"
    assert dead.outcome is Outcome.DLQ
    assert dead.error.error_type is ErrorType.INVALID_JSON


def test_async_close_settles_every_awaiting_task_with_a_result_or_an_error(
    make_fake_producer,
):
    producer = make_fake_producer(AsyncIngestionProducer)
    raw, _ = clients(producer)
    raw.hold.set()

    async def run() -> tuple[int, list[Any]]:
        tasks = [asyncio.create_task(producer.produce("orders", order(i))) for i in range(20)]
        while len(raw.records) < 20:
            await asyncio.sleep(0.001)
        left = await producer.close(timeout=0.1)
        return left, await asyncio.gather(*tasks, return_exceptions=True)

    left, outcomes = asyncio.run(run())

    assert left == 20
    assert [getattr(o, "code", None) for o in outcomes] == ["_PURGE_QUEUE"] * 20
    assert producer.counts[Outcome.FAILED] == 20


# --- what reaches the caller, what reaches the DLQ -------------------------------------
@dataclass
class OrderEvent:
    order_id: str
    customer_id: str
    amount: float
    event_time: datetime
    currency: str | None = None


@pytest.mark.parametrize(
    "event", [OrderEvent, [order(1)], 42, None], ids=["a-class", "a-list", "a-number", "none"]
)
def test_an_event_that_is_no_event_is_a_type_error_for_the_caller_not_a_dlq_record(
    make_fake_producer, event
):
    producer = make_fake_producer()
    raw, dlq = clients(producer)

    with pytest.raises(TypeError):
        producer.produce("orders", event)

    assert (raw.records, dlq.records) == ([], [])
    assert producer.counts == {Outcome.PRODUCED: 0, Outcome.DLQ: 0, Outcome.FAILED: 0}


def test_a_dead_lettered_dataclass_keeps_its_json_form_so_it_can_be_replayed(
    make_fake_producer,
):
    producer = make_fake_producer()
    _, dlq = clients(producer)
    event = OrderEvent("ORD-1", "C-1", 1.5, datetime(2026, 1, 21, 10, 0, tzinfo=UTC))

    result = producer.produce("orders", event)

    assert result.outcome is Outcome.DLQ  # event_time is a string field, not a datetime
    ((_, key, value, _),) = dlq.records
    body = json.loads(value)
    assert key == b"ORD-1"
    assert body["original"] == {
        "order_id": "ORD-1",
        "customer_id": "C-1",
        "amount": 1.5,
        "event_time": "2026-01-21T10:00:00+00:00",
        "currency": None,
    }
    assert body["original_encoding"] == "python"


def test_json_encoding_picks_the_dialect_and_an_unknown_one_is_a_configuration_error(
    make_fake_producer,
):
    producer = make_fake_producer()
    tagged = json.dumps(order(1, currency={"string": "EUR"}))

    natural = producer.produce("orders", tagged)
    avro = producer.produce("orders", tagged, json_encoding="avro")

    assert natural.outcome is Outcome.PRODUCED  # a one-key object naming the branch
    assert avro.outcome is Outcome.PRODUCED
    with pytest.raises(ConfigurationError, match="unknown json_encoding 'xml'"):
        producer.produce("orders", tagged, json_encoding="xml")
    untagged = producer.produce("orders", json.dumps(order(2)), json_encoding="avro")
    assert untagged.outcome is Outcome.DLQ  # avro's JSON encoding tags non-null unions


def test_a_dead_lettered_json_text_python_would_change_is_kept_as_the_text_received(
    make_fake_producer,
):
    producer = make_fake_producer()
    _, dlq = clients(producer)
    text = json.dumps(order(1))[:-1] + ', "amount": 2.5}'  # a duplicate key

    result = producer.produce("orders", text)

    assert result.outcome is Outcome.DLQ
    ((_, _, value, _),) = dlq.records
    body = json.loads(value)
    assert (body["original_encoding"], body["original"]) == ("text", text)
