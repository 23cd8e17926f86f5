"""Producing through `streamlake serve`: a real socket, the real broker and
registry. Every answer is checked against what the topics hold."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest

EVENTS = "/v1/datasets/orders/events"
JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_one_event_is_200_with_where_it_landed_and_the_trace_headers_in_the_record(
    server, order, kafka, dataset
):
    event = order()
    with server.client() as http:
        response = http.post(
            EVENTS, json=event, headers={"traceparent": TRACEPARENT, "x-request-id": "req-1"}
        )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["traceparent"] == TRACEPARENT
    assert response.headers["x-request-id"] == "req-1"
    body = response.json()
    assert body["status"] == "produced"
    assert body["topic"] == dataset.raw_topic
    assert body["schema_version"] == "v2" and body["schema_id"] > 0
    uuid.UUID(body["ingestion_id"])
    record = kafka.read_at(dataset.raw_topic, body["partition"], body["offset"])
    assert record.key == event["order_id"].encode()
    assert record.headers["ingestion_id"] == body["ingestion_id"]
    assert record.headers["traceparent"] == TRACEPARENT
    assert record.headers["request_id"] == "req-1"
    assert record.headers["producer_service"] == "ingestion-api"


def test_a_pinned_version_is_used(server, order_v1):
    with server.client() as http:
        body = http.post(EVENTS + "?version=1", json=order_v1()).json()
    assert body["status"] == "produced" and body["schema_version"] == "v1"


def test_an_invalid_event_is_422_and_its_dlq_record_names_the_field(server, order, kafka, dataset):
    with server.client() as http:
        response = http.post(EVENTS, json=order(amount="lots"))

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == "dlq" and body["topic"] == dataset.dlq_topic
    assert body["error"]["type"] == "schema_validation"
    assert "amount" in body["error"]["message"]
    record = kafka.read_at(dataset.dlq_topic, body["partition"], body["offset"])
    dlq = record.json()
    assert dlq["error"]["type"] == "schema_validation"
    assert dlq["original"]["amount"] == "lots"
    assert record.headers["ingestion_id"] == body["ingestion_id"]


def test_an_unparsable_body_is_400_problem_and_goes_to_the_dlq_as_invalid_json(
    server, kafka, dataset
):
    with server.client() as http:
        response = http.post(EVENTS, content=b'{"order_id": "ORD-1", ', headers=JSON)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:streamlake:problem:invalid-json"
    where = problem["dlq"]
    record = kafka.read_at(dataset.dlq_topic, where["partition"], where["offset"])
    assert record.json()["error"]["type"] == "invalid_json"
    assert record.json()["original"] == '{"order_id": "ORD-1", '


def test_a_batch_answers_each_event_in_order_with_207_when_some_were_dead_lettered(
    server, order, kafka, dataset
):
    events = [order(), order(amount="lots"), order(), {"order_id": "ORD-x"}, order()]
    with server.client() as http:
        response = http.post(EVENTS, json=events)

    assert response.status_code == 207, response.text
    body = response.json()
    assert body["summary"] == {"produced": 3, "dlq": 2, "failed": 0}
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in body["results"]] == [
        "produced",
        "dlq",
        "produced",
        "dlq",
        "produced",
    ]
    assert body["results"][3]["error"]["type"] == "missing_field"
    for result, event in zip(body["results"], events, strict=True):
        if result["status"] == "produced":
            record = kafka.read_at(dataset.raw_topic, result["partition"], result["offset"])
            assert record.key == event["order_id"].encode()


def test_a_fully_produced_batch_is_200_and_return_minimal_keeps_only_the_others(server, order):
    with server.client() as http:
        all_good = http.post(EVENTS, json=[order() for _ in range(20)])
        minimal = http.post(
            EVENTS, json=[order(), order(amount="x"), order()], headers={"prefer": "return=minimal"}
        )

    assert all_good.status_code == 200
    assert all_good.json()["summary"] == {"produced": 20, "dlq": 0, "failed": 0}
    assert len(all_good.json()["results"]) == 20
    assert minimal.status_code == 207
    assert minimal.headers["preference-applied"] == "return=minimal"
    assert [(r["index"], r["status"]) for r in minimal.json()["results"]] == [(1, "dlq")]


def test_a_gzip_batch_is_decompressed(server, order):
    events = [order() for _ in range(50)]
    with server.client() as http:
        response = http.post(
            EVENTS,
            content=gzip.compress(json.dumps(events).encode()),
            headers={**JSON, "content-encoding": "gzip"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["produced"] == 50


def stream_lines(response_text: str) -> list[dict]:
    lines = [json.loads(line) for line in response_text.splitlines()]
    assert lines, "the stream answered nothing"
    return lines


def test_a_stream_answers_one_line_per_input_line_in_order_then_a_complete_summary(
    server, order, kafka, dataset
):
    events = [order() for _ in range(300)]
    events[7]["amount"] = "lots"
    body = (
        "\n".join(json.dumps(e) for e in events[:150])
        + "\n\n"
        + "\n".join(json.dumps(e) for e in events[150:])
        + "\nnot json\n"
    )
    with server.client() as http:
        response = http.post(EVENTS, content=body.encode(), headers=NDJSON)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    *results, final = stream_lines(response.text)
    assert final == {
        "summary": {"produced": 299, "dlq": 2, "failed": 0, "blank": 1},
        "complete": True,
    }
    expected_lines = [*range(1, 151), *range(152, 303)]
    assert [r["line"] for r in results] == expected_lines
    assert results[7]["status"] == "dlq"
    assert results[-1]["status"] == "dlq" and results[-1]["error"]["type"] == "invalid_json"
    produced = {r["ingestion_id"] for r in results if r["status"] == "produced"}
    in_topic = kafka.read_all(dataset.raw_topic)
    assert len(produced) == 299
    assert produced == {r.headers["ingestion_id"] for r in in_topic}


def test_a_gzip_stream_with_return_minimal_answers_only_the_exceptions(server, order):
    lines = [json.dumps(order()) for _ in range(200)]
    lines[50] = json.dumps(order(amount=True))
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    with server.client() as http:
        response = http.post(
            EVENTS,
            content=body,
            headers={**NDJSON, "content-encoding": "gzip", "prefer": "return=minimal"},
        )

    *results, final = stream_lines(response.text)
    assert [(r["line"], r["status"]) for r in results] == [(51, "dlq")]
    assert final["complete"] is True
    assert final["summary"]["produced"] == 199


def test_the_same_idempotency_key_gives_the_same_ingestion_id(server, order, kafka, dataset):
    event = order()
    with server.client() as http:
        first = http.post(EVENTS, json=event, headers={"idempotency-key": "client-7:order-1"})
        retry = http.post(EVENTS, json=event, headers={"idempotency-key": "client-7:order-1"})
        other = http.post(EVENTS, json=event, headers={"idempotency-key": "client-7:order-2"})
        none = http.post(EVENTS, json=event)

    ids = [r.json()["ingestion_id"] for r in (first, retry, other, none)]
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3
    assert ids[0] == str(
        uuid.uuid5(
            uuid.uuid5(uuid.NAMESPACE_URL, "urn:streamlake:ingestion"), "orders\nclient-7:order-1"
        )
    )
    record = kafka.read_at(dataset.raw_topic, retry.json()["partition"], retry.json()["offset"])
    assert record.headers["ingestion_id"] == ids[0]


def test_a_dataset_idempotency_field_makes_batch_and_stream_ids_deterministic(start_serve, order):
    server = start_serve(config='[datasets.orders]\nidempotency_field = "order_id"\n')
    events = [order() for _ in range(3)]
    with server.client() as http:
        batch = http.post(EVENTS, json=events).json()["results"]
        again = http.post(EVENTS, json=events).json()["results"]
        stream = http.post(
            EVENTS, content="\n".join(json.dumps(e) for e in events).encode(), headers=NDJSON
        )

    streamed = stream_lines(stream.text)[:-1]
    ids = [r["ingestion_id"] for r in batch]
    assert ids == [r["ingestion_id"] for r in again] == [r["ingestion_id"] for r in streamed]
    assert len(set(ids)) == 3


def test_metrics_count_events_by_outcome_after_producing(server, order):
    with server.client() as http:
        http.post(EVENTS, json=[order(), order(amount="x")])
        text = http.get("/metrics").text

    assert 'streamlake_http_events_total{dataset="orders",outcome="produced"} 1.0' in text
    assert 'streamlake_http_events_total{dataset="orders",outcome="dlq"} 1.0' in text
    assert 'streamlake_http_requests_total{route="produce",status="207"} 1.0' in text
    assert "streamlake_http_ack_seconds_count" in text
    assert "streamlake_kafka_queue_depth" in text


def test_readyz_and_lookups_answer_with_the_registered_schema_ids(server, registry_client, dataset):
    with server.client() as http:
        ready = http.get("/readyz")
        datasets = http.get("/v1/datasets").json()["datasets"]
        schema = http.get("/v1/datasets/orders/schema").json()

    assert ready.status_code == 200 and ready.json()["ready"] is True
    (orders,) = datasets
    latest = registry_client.get_latest_version(dataset.value_subject)
    assert orders["versions"][-1]["schema_id"] == latest.schema_id == schema["schema_id"]
    assert all(v["usable"] for v in orders["versions"])


@pytest.mark.parametrize("events", [0, 1])
def test_an_empty_batch_or_a_batch_of_one_is_answered_too(server, order, events):
    with server.client() as http:
        response = http.post(EVENTS, json=[order() for _ in range(events)])
    assert response.status_code == 200
    assert response.json()["summary"]["produced"] == events


def test_an_event_larger_than_a_kafka_record_is_422_record_too_large(server, order):
    with server.client() as http:
        response = http.post(EVENTS, json=order(customer_id="C" * 1_500_000))

    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "record_too_large"


def test_json_values_that_are_not_objects_are_dead_lettered_not_refused(
    server, order, kafka, dataset
):
    with server.client() as http:
        single = http.post(EVENTS, content=b"42", headers=JSON)
        batch = http.post(EVENTS, json=[order(), "text", None, [1], order()])

    assert single.status_code == 422, single.text
    assert single.json()["error"]["type"] == "schema_validation"
    assert batch.status_code == 207
    statuses = [r["status"] for r in batch.json()["results"]]
    assert statuses == ["produced", "dlq", "dlq", "dlq", "produced"]
    text = batch.json()["results"][1]
    assert (
        kafka.read_at(dataset.dlq_topic, text["partition"], text["offset"]).json()["original"]
        == "text"
    )
