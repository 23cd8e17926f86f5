"""Running `streamlake serve`: auth, logs, limits, stream timeouts and the
SIGTERM drain, each on a server of its own configuration."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from collections import Counter

import httpx

from tests.servehelpers import TOKEN, TOKEN_SHA256, duplex_post, streamlake_exe

EVENTS = "/v1/datasets/orders/events"
NDJSON = {"content-type": "application/x-ndjson"}
AUTH_CONFIG = f"""
[[api_keys]]
name = "checkout"
sha256 = "{TOKEN_SHA256}"
datasets = ["orders"]
"""


def test_with_api_keys_requests_need_the_token_and_no_log_line_holds_it(start_serve, order):
    server = start_serve(
        "--log-format", "json", config=AUTH_CONFIG, global_args=("--log-level", "INFO")
    )
    good = {"authorization": f"Bearer {TOKEN}"}
    with server.client() as http:
        missing = http.post(EVENTS, json=order())
        wrong = http.post(EVENTS, json=order(), headers={"authorization": f"Bearer {TOKEN}x"})
        produced = http.post(EVENTS, json=order(), headers=good)
        listed = http.get("/v1/datasets", headers=good)
        health = http.get("/livez")
    server.terminate()

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert produced.status_code == 200, produced.text
    assert listed.status_code == 200 and health.status_code == 200
    output = server.output()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [
        line["message"]
        for line in lines
        if line["logger"] == "streamlake.http.access" and "/readyz" not in line["message"]
    ]
    assert len(access) == 5
    assert sum(" 401 " in line for line in access) == 2
    assert TOKEN not in output
    assert TOKEN[:12] not in output


def test_without_api_keys_on_loopback_no_token_is_needed(server, order):
    with server.client() as http:
        assert http.post(EVENTS, json=order()).status_code == 200


def test_binding_another_address_without_keys_is_one_error_line_and_exit_2(stack, schemas_dir):
    result = subprocess.run(
        [streamlake_exe(), "--schemas-dir", str(schemas_dir), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "STREAMLAKE_BOOTSTRAP_SERVERS": stack.bootstrap_servers},
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "needs API keys" in result.stderr and "--insecure" in result.stderr


async def slow_body(chunks: list[bytes], pause_s: float):
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(pause_s)


def test_beyond_the_concurrent_request_limit_it_is_503_with_retry_after(start_serve, order):
    server = start_serve(config="[limits]\nmax_concurrent_requests = 1\n")
    body = json.dumps(order()).encode()

    async def scenario():
        async with server.async_client() as http:
            held = asyncio.create_task(
                http.post(
                    EVENTS,
                    content=slow_body([body[:10], body[10:]], 1.5),
                    headers={"content-type": "application/json"},
                )
            )
            await asyncio.sleep(0.5)
            refused = await http.post(EVENTS, json=order())
            return await held, refused

    held, refused = asyncio.run(scenario())

    assert held.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["type"] == "urn:streamlake:problem:overloaded"


def test_a_stream_that_goes_idle_is_ended_incomplete_with_every_line_read_answered(
    start_serve, order
):
    server = start_serve(config="[limits]\nstream_idle_timeout_s = 1.0\n")
    lines = [(json.dumps(order()) + "\n").encode() for _ in range(3)]

    async def body():
        for line in lines:
            yield line
        await asyncio.sleep(5)  # longer than the idle timeout
        yield (json.dumps(order()) + "\n").encode()

    status, answer = asyncio.run(duplex_post(server.url, EVENTS, body(), NDJSON))

    *results, final = [json.loads(line) for line in answer.splitlines()]
    assert status == 200
    assert [(r["line"], r["status"]) for r in results] == [(n, "produced") for n in (1, 2, 3)]
    assert final["complete"] is False
    assert "nothing arrived for 1 s" in final["error"]["reason"]
    assert final["error"]["resend_from_line"] == 4


def test_sigterm_drains_answering_every_request_in_flight_then_exits(
    start_serve, order, kafka, dataset
):
    server = start_serve(config="[serve]\ndrain_timeout_s = 10.0\n")
    statuses: Counter[int] = Counter()
    produced_ids: list[str] = []
    unanswered: list[str] = []

    async def single_client(http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                response = await http.post(EVENTS, json=order())
            except httpx.ConnectError:
                return  # the listener is gone: this request was never received
            except httpx.TransportError as exc:
                unanswered.append(repr(exc))
                return
            statuses[response.status_code] += 1
            if response.status_code == 200:
                produced_ids.append(response.json()["ingestion_id"])
            if response.status_code == 503:
                assert response.json()["type"] == "urn:streamlake:problem:draining"
                assert response.headers["retry-after"]
                return

    async def endless_stream():
        while True:
            yield (json.dumps(order()) + "\n").encode()
            await asyncio.sleep(0.01)

    held_body = json.dumps(order()).encode()

    async def scenario():
        stop = asyncio.Event()
        async with server.async_client() as http:
            stream = asyncio.create_task(duplex_post(server.url, EVENTS, endless_stream(), NDJSON))
            held = asyncio.create_task(
                http.post(
                    EVENTS,
                    content=slow_body([held_body[:10], held_body[10:]], 3.0),
                    headers={"content-type": "application/json"},
                )
            )
            clients = [asyncio.create_task(single_client(http, stop)) for _ in range(20)]
            await asyncio.sleep(1.5)
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await asyncio.sleep(0.3)
            ready = await http.get("/readyz")
            await asyncio.gather(*clients)
            stream_status, stream_body = await stream
            return ready, await held, stream_status, stream_body, signalled

    ready, held, stream_status, stream_body, signalled = asyncio.run(scenario())
    exit_code = server.process.wait(30)
    elapsed = time.monotonic() - signalled

    assert ready.status_code == 503 and "draining" in ready.json()["reasons"][0]
    assert unanswered == []
    assert statuses[200] > 0 and statuses[503] > 0
    assert set(statuses) <= {200, 503}
    assert held.status_code == 200  # in flight at SIGTERM: finished, not cut
    *lines, final = [json.loads(line) for line in stream_body.splitlines()]
    assert stream_status == 200
    assert final["complete"] is False and "shutting down" in final["error"]["reason"]
    assert [r["line"] for r in lines] == list(range(1, len(lines) + 1))
    assert final["summary"]["produced"] == len(lines) > 0
    assert elapsed < 15
    assert exit_code in (0, -signal.SIGTERM)
    raw = {r.headers["ingestion_id"] for r in kafka.read_all(dataset.raw_topic)}
    assert set(produced_ids) | {held.json()["ingestion_id"]} <= raw
    assert {r["ingestion_id"] for r in lines} <= raw


def test_two_workers_each_with_a_producer_serve_and_drain_on_sigterm(start_serve, order):
    server = start_serve("--workers", "2")
    with server.client() as http:
        statuses = {http.post(EVENTS, json=order()).status_code for _ in range(20)}

    assert statuses == {200}
    assert server.terminate() in (0, -signal.SIGTERM)
    assert "Traceback" not in server.output()


def test_a_stream_whose_client_does_not_read_stops_being_read_so_tcp_pushes_back(
    start_serve, order
):
    server = start_serve(config="[limits]\nstream_max_in_flight = 100\n")
    port = int(server.url.rsplit(":", 1)[1])
    line = (json.dumps(order()) + "\n").encode()
    chunk = line * 200
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        sock.setblocking(False)
        written, stalled_since, deadline = 0, time.monotonic(), time.monotonic() + 90
        # Never reading the answer: once the results fill the socket, the
        # server stops producing, then stops reading, and sends block.
        pending = memoryview(frame)
        while time.monotonic() - stalled_since < 5 and time.monotonic() < deadline:
            try:
                sent = sock.send(pending)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            written += sent
            pending = pending[sent:] or memoryview(frame)
            stalled_since = time.monotonic()
        with server.client() as http:
            alive = http.get("/livez").status_code

    assert time.monotonic() < deadline, f"the server kept reading: {written} bytes taken"
    assert alive == 200
    assert written < 200 * 1024 * 1024
