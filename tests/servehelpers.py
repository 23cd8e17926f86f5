"""`streamlake serve` as a real process for the HTTP tests: started on a free
loopback port against a stack, waited for until /readyz answers 200, its
combined output captured to a file, stopped with SIGTERM.

Imported as ``tests.servehelpers`` (tests/ is a package).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import h11
import httpx

TOKEN = "sl-integration-token-7f3c2a9b41d8e6"
"""A bearer token: tests grep the server's output for it."""
TOKEN_SHA256 = hashlib.sha256(TOKEN.encode()).hexdigest()
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 40.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlake_exe() -> str:
    exe = Path(sys.executable).with_name("streamlake")
    assert exe.exists(), f"{exe} missing: install the project (pip install -e .)"
    return str(exe)


@dataclass
class Server:
    """One running `streamlake serve`; `log` holds everything it printed."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    _log_file: object = field(repr=False, default=None)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # type: ignore[arg-type]

    def async_client(self, **kwargs: object) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        return httpx.AsyncClient(base_url=self.url, timeout=90, limits=limits, **kwargs)  # type: ignore[arg-type]

    def terminate(self) -> int:
        """SIGTERM, then the exit code (SIGKILL after STOP_TIMEOUT_S)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"serve ignored SIGTERM for {STOP_TIMEOUT_S} s:\n{self.output()}"
            ) from exc


def start_server(
    *,
    bootstrap_servers: str,
    schema_registry_url: str,
    schemas_dir: Path,
    log: Path,
    args: tuple[str, ...] = (),
    global_args: tuple[str, ...] = (),
    config: str | None = None,
    env: dict[str, str] | None = None,
    wait_ready: bool = True,
) -> Server:
    """Start `streamlake serve` and wait until it is ready (or has exited)."""
    port = free_port()
    command = [streamlake_exe(), "--schemas-dir", str(schemas_dir), *global_args]
    command += ["serve", "--port", str(port)]
    if config is not None:
        config_file = log.with_suffix(".toml")
        config_file.write_text(config, encoding="utf-8")
        command += ["--config", str(config_file)]
    command += list(args)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLAKE_")}
    environ.update(
        STREAMLAKE_BOOTSTRAP_SERVERS=bootstrap_servers,
        STREAMLAKE_SCHEMA_REGISTRY_URL=schema_registry_url,
        **(env or {}),
    )
    out = log.open("wb")
    process = subprocess.Popen(command, env=environ, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log, out)
    if not wait_ready:
        return server
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # the process gives no signal of readiness other than /readyz
    server.process.kill()
    raise AssertionError(f"serve not ready within {START_TIMEOUT_S} s:\n{server.output()}")


async def duplex_post(
    url: str, path: str, body: AsyncIterator[bytes], headers: dict[str, str]
) -> tuple[int, bytes]:
    """POST a chunked body while reading the answer, as curl does: httpx
    sends the whole body before it reads, so it cannot see a stream's answer
    that ends before the body does (the server draining, an idle timeout).
    Returns the status and the whole answer body."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    conn = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method="POST",
        target=path,
        headers=[("Host", parts.netloc), ("Transfer-Encoding", "chunked"), *headers.items()],
    )
    writer.write(conn.send(request))

    async def send_body() -> None:
        try:
            async for chunk in body:
                writer.write(conn.send(h11.Data(data=chunk)))
                await writer.drain()
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
        except (ConnectionError, h11.LocalProtocolError):
            pass  # the server answered and closed first: what it read, it answered

    sender = asyncio.create_task(send_body())
    status, received = 0, []
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                received.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
    finally:
        sender.cancel()
        writer.close()
    return status, b"".join(received)
