"""Scenario 7: Kafka over SASL/SCRAM-SHA-256 (the stack's second listener),
registry basic auth reaching the registry client, and no secret in any log
line or error message."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from streamlake import IngestionProducer, ProducerConfig
from streamlake.errors import RegistryError, StreamLakeError
from streamlake.registry import SchemaRegistry
from tests.reliability.faulthelpers import DATASET, order

ADMIN_USER, ADMIN_PASSWORD = "streamlake-admin", "streamlake-admin-secret"
WRONG_PASSWORD = "wrong-pw-7f3a9c"
REGISTRY_SECRET = "reg-s3cret-pw-91b2"


def _sasl(stack) -> str:
    if stack.source != "scripts/stack":
        pytest.skip("the SASL listener is configured by scripts/stack")
    return f"127.0.0.1:{os.environ.get('STREAMLAKE_STACK_KAFKA_SASL_PORT', '9094')}"


def _scram(password: str) -> dict[str, str]:
    return {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": ADMIN_USER,
        "sasl.password": password,
    }


def test_sasl_scram_with_good_credentials_produces(stack, make_producer, topics):
    producer = make_producer(bootstrap_servers=_sasl(stack), kafka=_scram(ADMIN_PASSWORD))
    dataset = producer.catalog[DATASET]
    results = list(producer.produce_many(DATASET, (order(f"S{i}") for i in range(100))))
    assert [str(r.outcome) for r in results] == ["produced"] * 100
    assert topics.count(dataset.raw_topic) == 100  # read back over PLAINTEXT


def test_sasl_scram_with_a_wrong_password_fails_fast_with_a_clear_error_and_no_secret(
    stack, make_catalog, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    config = ProducerConfig(
        bootstrap_servers=_sasl(stack),
        schema_registry_url=stack.schema_registry_url,
        schemas_dir=make_catalog(),
        kafka=_scram(WRONG_PASSWORD),
    )
    started = time.monotonic()
    with pytest.raises(StreamLakeError) as raised:
        IngestionProducer(config)
    elapsed = time.monotonic() - started
    message = raised.value.message
    out, err = capfd.readouterr()
    assert "authentication" in message.lower(), f"after {elapsed:.1f}s: {message}"
    assert elapsed < 15, f"took {elapsed:.1f}s: {message}"
    for text in (message, str(raised.value), repr(config), caplog.text, out, err):
        assert WRONG_PASSWORD not in text
    print(f"\nwrong SCRAM password: failed after {elapsed:.1f}s: {message}")


class _Capture(BaseHTTPRequestHandler):
    """Records each request's Authorization header; answers like an empty
    registry (or 401 when asked to). A request capture, not a registry."""

    seen: ClassVar[list[tuple[str, str | None]]] = []
    status: ClassVar[int] = 200

    def _answer(self, body: object) -> None:
        type(self).seen.append((self.command, self.headers.get("Authorization")))
        data = json.dumps(body if self.status == 200 else {"error_code": 401, "message": "no"})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def do_GET(self) -> None:
        self._answer([])

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer({"is_compatible": True})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[str]:
    _Capture.seen, _Capture.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_registry_basic_auth_reaches_the_registry_client_and_never_a_message(
    capture, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    config = ProducerConfig.from_env(
        {
            "STREAMLAKE_SCHEMA_REGISTRY_URL": capture,
            "STREAMLAKE_REGISTRY_BASIC_AUTH_USER_INFO": f"svc-user:{REGISTRY_SECRET}",
        }
    )
    registry = SchemaRegistry(config.registry_conf(), timeout_s=2)
    assert registry.subjects() == []  # through confluent-kafka's client
    registry.test_compatibility("s-value", '"string"')  # through requests
    expected = "Basic " + base64.b64encode(f"svc-user:{REGISTRY_SECRET}".encode()).decode()
    assert _Capture.seen == [("GET", expected), ("POST", expected)]

    _Capture.status = 401
    with pytest.raises(RegistryError) as raised:
        registry.subjects()
    out, err = capfd.readouterr()
    for text in (raised.value.message, str(raised.value), repr(config), caplog.text, out, err):
        assert REGISTRY_SECRET not in text
