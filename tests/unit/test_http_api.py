"""The HTTP API's answers that need no producer: every refusal before an event
is attempted (problem+json), auth, limits, lookups, health, metrics and the
OpenAPI document. In-process (Starlette's TestClient), no servers; the app's
startup is not run, so nothing here can reach Kafka. Producing is tested
through a real socket against the real stack in tests/integration."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from streamlake.config import ProducerConfig
from streamlake.http import ApiKey, Limits, ServeSettings, create_app
from streamlake.http.problems import Problem
from streamlake.http.results import Summary

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sl-test-token-0123456789"
PRODUCER = ProducerConfig(bootstrap_servers="127.0.0.1:1", schemas_dir=ROOT / "avro")
EVENTS = "/v1/datasets/orders/events"


def client(**settings: object) -> TestClient:
    app = create_app(ServeSettings(producer=PRODUCER, **settings), drain_on_signal=False)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=True)


def keyed(rate: float | None = None, datasets: tuple[str, ...] = ("orders",)) -> TestClient:
    key = ApiKey(
        name="checkout",
        sha256=hashlib.sha256(TOKEN.encode()).hexdigest(),
        datasets=frozenset(datasets),
        rate_limit_rps=rate,
    )
    return client(api_keys=(key,))


def problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:streamlake:problem:{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    if status in (429, 503):
        assert int(response.headers["retry-after"]) >= 1
    return body


def test_livez_answers_while_readyz_says_the_catalog_is_not_registered_yet():
    api = client()

    assert api.get("/livez").json() == {"live": True}
    ready = api.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"]
    assert any("starting" in reason for reason in ready.json()["reasons"])


def test_an_unknown_dataset_is_404_naming_where_to_look():
    body = problem(client().post("/v1/datasets/nope/events", json={}), 404, "not-found")
    assert "GET /v1/datasets" in body["detail"]


def test_unknown_routes_and_methods_are_problems_too():
    problem(client().get("/v2/anything"), 404, "not-found")
    problem(client().get(EVENTS), 405, "method-not-allowed")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_an_unsupported_content_type_is_415_listing_the_accepted_ones(content_type):
    response = client().post(EVENTS, content=b"{}", headers={"content-type": content_type})

    body = problem(response, 415, "unsupported-media-type")
    assert "application/x-ndjson" in body["detail"]
    assert response.headers["accept-post"] == "application/json, application/x-ndjson"


def test_an_unsupported_content_encoding_is_415():
    response = client().post(
        EVENTS,
        content=b"{}",
        headers={"content-type": "application/json", "content-encoding": "br"},
    )
    assert "gzip" in problem(response, 415, "unsupported-media-type")["detail"]


def test_the_body_limit_applies_after_gzip_decompression():
    api = client(limits=Limits(max_body_bytes=1000))
    bomb = gzip.compress(b"[" + b" " * 5000 + b"]")  # 5 kB that compress to a few bytes
    assert len(bomb) < 1000

    plain = api.post(
        EVENTS, content=b"[" + b" " * 1200 + b"]", headers={"content-type": "application/json"}
    )
    zipped = api.post(
        EVENTS,
        content=bomb,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )

    assert problem(plain, 413, "too-large")["limit_bytes"] == 1000
    assert problem(zipped, 413, "too-large")["limit_bytes"] == 1000


def test_corrupt_gzip_is_400():
    response = client().post(
        EVENTS,
        content=b"not gzip at all",
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert "gzip" in problem(response, 400, "bad-request")["detail"]


def test_a_batch_over_the_event_limit_is_413_before_any_event_is_produced():
    api = client(limits=Limits(max_batch_events=3))

    body = problem(api.post(EVENTS, json=[{}] * 4), 413, "too-large")

    assert body["limit_events"] == 3
    assert "NDJSON" in body["detail"]


@pytest.mark.parametrize(
    ("headers", "query", "needle"),
    [
        ({}, "?version=latest", "schema version number"),
        ({}, "?version=0", "schema version number"),
        ({"x-request-id": "x" * 201}, "", "X-Request-Id"),
        ({"idempotency-key": "k1"}, "", "idempotency_field"),
    ],
)
def test_malformed_requests_are_400_saying_what_to_change(headers, query, needle):
    response = client().post(EVENTS + query, json=[{"order_id": "1"}], headers=headers)
    assert needle in problem(response, 400, "bad-request")["detail"]


def test_an_idempotency_key_on_a_stream_is_refused_like_on_a_batch():
    response = client().post(
        EVENTS,
        content=b"{}\n",
        headers={"content-type": "application/x-ndjson", "idempotency-key": "k"},
    )
    problem(response, 400, "bad-request")


def test_without_a_bearer_token_it_is_401_with_www_authenticate():
    response = keyed().post(EVENTS, json={})

    body = problem(response, 401, "unauthorized")
    assert "Authorization: Bearer" in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem(
        keyed().post(EVENTS, json={}, headers={"authorization": "Bearer wrong"}),
        401,
        "unauthorized",
    )


def test_a_key_not_scoped_to_the_dataset_is_403():
    response = keyed(datasets=("customers",)).post(
        EVENTS, json={}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert "'orders'" in problem(response, 403, "forbidden")["detail"]


def test_a_key_over_its_rate_limit_gets_429_with_retry_after():
    api = keyed(rate=1)
    auth = {"authorization": f"Bearer {TOKEN}"}

    first = api.get("/v1/datasets", headers=auth)
    second = api.get("/v1/datasets", headers=auth)

    assert first.status_code == 200
    problem(second, 429, "rate-limited")


def test_the_dataset_list_shows_only_what_the_key_may_use():
    everything = client().get("/v1/datasets").json()["datasets"]
    scoped = keyed().get("/v1/datasets", headers={"authorization": f"Bearer {TOKEN}"}).json()

    assert {d["name"] for d in everything} == {"orders", "customers"}
    assert [d["name"] for d in scoped["datasets"]] == ["orders"]
    orders = next(d for d in everything if d["name"] == "orders")
    assert orders["key_field"] == "order_id"
    assert [v["version"] for v in orders["versions"]] == [1, 2]


def test_the_schema_lookup_returns_the_catalog_schema_and_404s_an_unknown_version():
    api = client()

    latest = api.get("/v1/datasets/orders/schema").json()
    first = api.get("/v1/datasets/orders/schema?version=1").json()

    on_disk = json.loads((ROOT / "avro" / "orders" / "v2.avsc").read_text())
    assert latest["version"] == 2 and latest["schema"] == on_disk
    assert first["version"] == 1
    problem(api.get("/v1/datasets/orders/schema?version=9"), 404, "not-found")


def test_the_openapi_document_is_valid_openapi_3_1_covering_every_route():
    document = client().get("/openapi.json").json()

    validate(document)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/v1/datasets/{dataset}/events",
        "/v1/datasets",
        "/v1/datasets/{dataset}/schema",
        "/openapi.json",
        "/livez",
        "/readyz",
        "/metrics",
    }
    statuses = set(document["paths"]["/v1/datasets/{dataset}/events"]["post"]["responses"])
    assert statuses == {
        "200",
        "207",
        "400",
        "401",
        "403",
        "404",
        "413",
        "415",
        "422",
        "429",
        "500",
        "503",
    }


def test_metrics_count_requests_by_route_and_status_and_rejections_by_reason():
    api = client()
    api.post("/v1/datasets/nope/events", json={})
    api.get("/livez")

    text = api.get("/metrics").text

    assert 'streamlake_http_requests_total{route="produce",status="404"} 1.0' in text
    assert 'streamlake_http_requests_total{route="livez",status="200"} 1.0' in text
    assert 'streamlake_http_rejected_total{reason="not-found"} 1.0' in text
    assert "streamlake_http_request_duration_seconds_bucket" in text


def test_while_draining_produce_requests_get_503_and_readyz_says_why():
    api = client()
    api.app.state.service.begin_drain()

    response = api.post(EVENTS, json={})

    problem(response, 503, "draining")
    assert response.headers["connection"] == "close"
    assert any("draining" in r for r in api.get("/readyz").json()["reasons"])
    assert api.get("/livez").status_code == 200


def test_429_and_503_problems_cannot_be_built_without_retry_after():
    with pytest.raises(ValueError, match="Retry-After"):
        Problem(503, "not-ready", "x")


@pytest.mark.parametrize(
    ("produced", "dlq", "failed", "retriable", "status"),
    [
        (3, 0, 0, 0, 200),
        (0, 0, 0, 0, 200),
        (2, 1, 0, 0, 207),
        (2, 0, 1, 1, 207),
        (0, 0, 3, 3, 503),
        (0, 0, 3, 2, 207),
        (0, 1, 2, 2, 207),
    ],
)
def test_a_batch_status_follows_its_results(produced, dlq, failed, retriable, status):
    assert Summary(produced, dlq, failed, retriable).batch_status() == status
