"""`streamlake serve` while Kafka goes away: a stream and 50 concurrent
single-event clients keep sending while the broker is stopped. Every request
gets an HTTP answer; what was acknowledged is in the topic; the rest was
answered as failed (503 + Retry-After, with librdkafka's code). /readyz says
503 with the reason while the broker is gone, 200 once it is back.

Needs a stack of its own (it stops the broker; see docs/reliability.md)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.reliability.faulthelpers import order
from tests.servehelpers import duplex_post, start_server

EVENTS = "/v1/datasets/orders/events"
TIMEOUT_MS = 6000
"""message.timeout.ms for the server: failures reach the clients in 6 s, not 30."""


def test_kafka_stopped_under_a_stream_and_50_clients_every_request_is_answered(
    stack, make_catalog, topics, tmp_path: Path
):
    schemas_dir = make_catalog()
    raw_topic = next(
        line.split('"')[1]
        for line in (schemas_dir / "orders" / "dataset.toml").read_text().splitlines()
        if line.startswith("raw_topic")
    )
    server = start_server(
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=stack.schema_registry_url,
        schemas_dir=schemas_dir,
        log=tmp_path / "serve.log",
        global_args=("-X", f"message.timeout.ms={TIMEOUT_MS}"),
    )
    statuses: Counter[int] = Counter()
    produced: set[str] = set()
    failures: list[dict] = []
    unanswered: list[str] = []
    sequence = iter(range(10**9))

    async def single_client(http: httpx.AsyncClient, until: float) -> None:
        while time.monotonic() < until:
            try:
                response = await http.post(EVENTS, json=order(f"S-{next(sequence)}"))
            except httpx.TransportError as exc:
                unanswered.append(repr(exc))
                continue
            statuses[response.status_code] += 1
            body = response.json()
            if response.status_code == 200:
                produced.add(body["ingestion_id"])
            else:
                assert response.status_code == 503, response.text
                assert int(response.headers["retry-after"]) > 0
                failures.append(body)

    async def stream_body(until: float):
        while time.monotonic() < until:
            yield (json.dumps(order(f"L-{next(sequence)}")) + "\n").encode()
            await asyncio.sleep(0.005)

    async def scenario() -> tuple[tuple[int, bytes], int, int]:
        until = time.monotonic() + 6 + TIMEOUT_MS / 1000 + 6
        async with server.async_client() as http:
            stream = asyncio.create_task(
                duplex_post(
                    server.url, EVENTS, stream_body(until), {"content-type": "application/x-ndjson"}
                )
            )
            clients = [asyncio.create_task(single_client(http, until)) for _ in range(50)]
            await asyncio.sleep(3)
            await asyncio.to_thread(stack.control, "stop", "kafka")
            await asyncio.sleep(1)
            ready_down = (await http.get("/readyz")).status_code
            await asyncio.gather(*clients)
            answer = await stream
            await asyncio.to_thread(stack.control, "start", "kafka")
            # The broker answers again, but the probe's client reconnects
            # with backoff: wait for the condition, within a bound.
            deadline = time.monotonic() + 30
            ready_up = 0
            while ready_up != 200 and time.monotonic() < deadline:
                ready_up = (await http.get("/readyz")).status_code
                await asyncio.sleep(0.5)
            return answer, ready_down, ready_up

    try:
        (stream_status, stream_answer), ready_down, ready_up = asyncio.run(scenario())
    finally:
        stack.control("start", "kafka")  # idempotent: leave the broker up for other tests
        server.terminate()

    assert unanswered == []
    assert ready_down == 503 and ready_up == 200
    assert statuses[200] > 0 and statuses[503] > 0, statuses
    assert {f["error"]["code"] for f in failures} <= {
        "_MSG_TIMED_OUT",
        "_TRANSPORT",
        "_ALL_BROKERS_DOWN",
    }
    assert all(f["status"] == "failed" and f["error"]["retriable"] for f in failures)
    *lines, final = [json.loads(line) for line in stream_answer.splitlines()]
    assert stream_status == 200 and final["complete"] is True
    assert [r["line"] for r in lines] == list(range(1, len(lines) + 1))
    stream_counts = Counter(r["status"] for r in lines)
    assert stream_counts["produced"] > 0 and stream_counts["failed"] > 0, stream_counts
    assert final["summary"]["failed"] == stream_counts["failed"]
    produced |= {r["ingestion_id"] for r in lines if r["status"] == "produced"}
    in_topic = {r.headers["ingestion_id"] for r in topics.read_all(raw_topic)}
    assert produced <= in_topic


async def queue_filled(http: httpx.AsyncClient, depth: int) -> None:
    """Until the server holds `depth` records awaiting Kafka (its /metrics
    gauge), within 4 s: before message.timeout.ms fails them. A fixed sleep
    raced the requests' arrival on a busy machine."""
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        metrics = (await http.get("/metrics")).text
        gauge = next(
            line for line in metrics.splitlines() if line.startswith("streamlake_kafka_queue_depth")
        )
        if float(gauge.split()[-1]) >= depth:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server's queue never held {depth} records: {gauge}")


def test_a_full_librdkafka_queue_is_503_at_once_instead_of_piling_requests_up(
    stack, make_catalog, tmp_path: Path
):
    server = start_server(
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=stack.schema_registry_url,
        schemas_dir=make_catalog(),
        log=tmp_path / "serve.log",
        global_args=("-X", "queue.buffering.max.messages=10", "-X", "message.timeout.ms=5000"),
    )

    async def scenario() -> tuple[list[httpx.Response], httpx.Response, float]:
        async with server.async_client() as http:
            waiting = [
                asyncio.create_task(http.post(EVENTS, json=order(f"Q-{n}"))) for n in range(15)
            ]
            await queue_filled(http, 10)  # Kafka is gone: 15 > 10
            started = time.monotonic()
            refused = await http.post(EVENTS, json=order("Q-extra"))
            refusal_s = time.monotonic() - started
            return await asyncio.gather(*waiting), refused, refusal_s

    stack.control("stop", "kafka")
    try:
        waited, refused, refusal_s = asyncio.run(scenario())
    finally:
        stack.control("start", "kafka")
        server.terminate()

    def queue_full(response: httpx.Response) -> bool:
        return response.headers["content-type"] == "application/problem+json" and (
            response.json()["type"] == "urn:streamlake:problem:kafka-queue-full"
        )

    assert refused.status_code == 503 and queue_full(refused)
    assert int(refused.headers["retry-after"]) > 0
    assert refusal_s < 1  # refused at once, not after message.timeout.ms
    # Ten were queued and failed after message.timeout.ms; five were refused.
    assert [r.status_code for r in waited] == [503] * 15
    failed = [r.json() for r in waited if not queue_full(r)]
    assert (len(failed), sum(queue_full(r) for r in waited)) == (10, 5)
    assert all(f["status"] == "failed" for f in failed)
    assert {f["error"]["code"] for f in failed} <= {"_MSG_TIMED_OUT", "_TRANSPORT"}


def test_a_drain_that_outlasts_its_bound_purges_and_answers_every_request_failed(
    stack, make_catalog, tmp_path: Path
):
    server = start_server(
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=stack.schema_registry_url,
        schemas_dir=make_catalog(),
        log=tmp_path / "serve.log",
        config="[serve]\ndrain_timeout_s = 3.0\n",
    )

    async def scenario() -> tuple[list[httpx.Response], float]:
        async with server.async_client() as http:
            in_flight = [
                asyncio.create_task(http.post(EVENTS, json=order(f"D-{n}"))) for n in range(8)
            ]
            await asyncio.sleep(1)  # waiting for a broker that is gone (30 s timeout)
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            answers = await asyncio.gather(*in_flight)
            return answers, time.monotonic() - signalled

    stack.control("stop", "kafka")
    try:
        answers, answered_s = asyncio.run(scenario())
        exit_code = server.process.wait(30)
    finally:
        stack.control("start", "kafka")
        server.terminate()

    assert [r.status_code for r in answers] == [503] * 8
    assert all(r.json()["status"] == "failed" for r in answers)
    assert 3 <= answered_s < 10  # the drain bound, then the purge: not the 30 s timeout
    assert exit_code in (0, -signal.SIGTERM)
    assert "8 record(s) were not delivered" in server.output()
