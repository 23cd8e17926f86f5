"""HTTP: `streamlake serve` under a real load generator, beside the library and the CLI.

- batch: POST arrays of `http_batch` orders over `http_connections` connections
  (hey), 1 worker, beside the library's bulk rate on as many events;
- stream: one NDJSON POST of N and of 10N orders over one connection (curl
  streams the file), a fresh server each time so its peak RSS is its own,
  beside the CLI on the same 10N lines;
- single: one event per request over `http_single_connections` connections,
  1 worker and 2 workers: requests/s and latency.
Every record is counted back from the server's topics. The load generator is
hey (Debian's `hey` package), installed by `scripts/bench --setup`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from benchmark.contenders import cli_command, cli_env, kafka_properties
from benchmark.context import Context
from benchmark.payloads import PAYLOADS, events
from benchmark.process import Run, vm_hwm_kib
from benchmark.results import Row
from benchmark.scenarios.base import P50, P99, RATE, Column, Scenario, streamlake_row
from benchmark.scenarios.rss import measured
from benchmark.stats import percentile

LIBRARY, BATCH = "library bulk", "http batch"
STREAM_N, STREAM_10N, CLI_10N = "http stream N", "http stream 10N", "streamlake CLI 10N"
SINGLE = "http single, {} worker{}"
LOAD_GENERATOR = "hey"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(ctx: Context, catalog: Path, workers: int) -> Iterator[Server]:
    """A ready `streamlake serve` for the block, stopped (SIGTERM) after it."""
    with tempfile.TemporaryFile() as output:
        server = Server(ctx, catalog, workers, output)
        try:
            server.wait_ready()
            yield server
        finally:
            server.stop()


class Server:
    """`streamlake serve` on a free loopback port, over one bench catalog."""

    def __init__(self, ctx: Context, catalog: Path, workers: int, log: IO[bytes]) -> None:
        self.port = free_port()
        self.log = log
        command = [
            *ctx.streamlake_cli(),
            "--schemas-dir",
            str(catalog),
            *kafka_properties(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        self.proc = subprocess.Popen(
            command, env=cli_env(ctx), stdout=self.log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def events_url(self, dataset: str) -> str:
        return f"{self.url}/v1/datasets/{dataset}/events"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlake serve exited {self.proc.returncode}: {self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"streamlake serve not ready after {timeout:.0f} s: {self.output()}")

    def peak_rss_mb(self) -> float:
        """VmHWM of the server process and its worker processes, summed."""
        pids = [self.proc.pid, *_children(self.proc.pid)]
        return sum(vm_hwm_kib(pid) for pid in pids) / 1024

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def hey(url: str, body: Path, *, requests: int, connections: int) -> dict[str, float]:
    """POST `body` `requests` times over `connections` connections: the rate,
    p50/p99 and how many answers were not 200."""
    command = [LOAD_GENERATOR, "-n", str(requests), "-c", str(connections), "-m", "POST"]
    command += ["-T", "application/json", "-D", str(body), "-o", "csv", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return hey_summary(done.stdout)


def hey_summary(text: str) -> dict[str, float]:
    """hey's per-request CSV (response-time in seconds, status-code, offset
    from the start) summed up."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise RuntimeError("hey reported no requests")
    times = sorted(float(row["response-time"]) for row in rows)
    elapsed = max(float(row["offset"]) + float(row["response-time"]) for row in rows)
    ok = sum(1 for row in rows if row["status-code"] == "200")
    return {
        "requests": float(len(rows)),
        "ok": float(ok),
        "requests_per_s": len(rows) / elapsed,
        "elapsed_s": elapsed,
        "p50_ms": percentile(times, 50) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
    }


def serve_missing(ctx: Context) -> str | None:
    done = subprocess.run([*ctx.streamlake_cli(), "serve", "--help"], capture_output=True)
    if done.returncode != 0:
        return "streamlake has no `serve` command yet (branch http)"
    for tool in (LOAD_GENERATOR, "curl"):
        if shutil.which(tool) is None:
            return (
                f"{tool} is not installed: run `scripts/bench --setup` (apt-get install hey curl)"
            )
    return None


class Http(Scenario):
    name = "http"
    title = "HTTP: streamlake serve under load (orders), beside the library and the CLI"
    columns: ClassVar[tuple[Column, ...]] = (
        RATE,
        Column("req/s", "requests_per_s", ",.0f", 9),
        P50,
        P99,
        Column("server RSS MB", "server_rss_mb", ".0f", 13),
    )
    each = "events_per_s"

    def unavailable(self) -> str | None:
        return serve_missing(self.ctx)

    def round(self, rep: int) -> list[Row]:
        sizes = self.ctx.sizes
        rows = [self.library(rep), self.batch(rep)]
        rows += [self.stream(STREAM_N, sizes.http_stream_events, rep)]
        rows += [self.stream(STREAM_10N, sizes.http_stream_events * 10, rep), self.cli(rep)]
        rows += [self.single(1, rep), self.single(2, rep)]
        return rows

    def destination(self, slug: str, rep: int) -> tuple[Path, str, str]:
        return self.ctx.broker.catalog(self.ctx.tmp, "orders", slug, f"r{rep}")

    def finish(self, row: Row, raw: str, dlq: str) -> Row:
        row.counted = self.ctx.broker.count(raw)
        row.dlq_counted = self.ctx.broker.count(dlq)
        return row

    def library(self, rep: int) -> Row:
        n = self.ctx.sizes.http_batch * self.ctx.sizes.http_batch_requests
        return streamlake_row(self.ctx, LIBRARY, rep, slug="http-library", n=n)

    def body(self, name: str, records: list[dict[str, Any]] | dict[str, Any]) -> Path:
        path = self.ctx.tmp / name
        path.write_text(json.dumps(records))
        return path

    def batch(self, rep: int) -> Row:
        sizes = self.ctx.sizes
        body = self.body("batch.json", list(events("orders", sizes.http_batch)))
        catalog, raw, dlq = self.destination("http-batch", rep)
        row = Row(subject=BATCH, rep=rep)
        self.load(row, catalog, 1, body, sizes.http_batch_requests, sizes.http_connections)
        row.expected = int(row.detail.get("ok", 0)) * sizes.http_batch
        if "requests_per_s" in row.metrics:
            row.metrics["events_per_s"] = row.metrics["requests_per_s"] * sizes.http_batch
        return self.finish(row, raw, dlq)

    def single(self, workers: int, rep: int) -> Row:
        sizes = self.ctx.sizes
        body = self.body("single.json", next(events("orders", 1)))
        catalog, raw, dlq = self.destination(f"http-single-w{workers}", rep)
        subject = SINGLE.format(workers, "" if workers == 1 else "s")
        row = Row(subject=subject, rep=rep)
        self.load(row, catalog, workers, body, sizes.http_requests, sizes.http_single_connections)
        row.expected = int(row.detail.get("ok", 0))
        return self.finish(row, raw, dlq)

    def load(
        self, row: Row, catalog: Path, workers: int, body: Path, requests: int, connections: int
    ) -> None:
        """hey against a fresh server; its summary into `row`. hey sends
        requests // connections per connection, so a few less than asked
        when they do not divide: the records expected are its 200 answers."""
        try:
            with serving(self.ctx, catalog, workers) as server:
                url = server.events_url(PAYLOADS["orders"].dataset)
                summary = hey(url, body, requests=requests, connections=connections)
                row.metrics["server_rss_mb"] = server.peak_rss_mb()
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            row.error = str(exc)
            return
        row.metrics.update({k: summary[k] for k in ("requests_per_s", "p50_ms", "p99_ms")})
        row.detail = summary
        if summary["ok"] != summary["requests"]:
            row.error = f"{summary['requests'] - summary['ok']:.0f} answers were not 200"

    def stream(self, subject: str, n: int, rep: int) -> Row:
        """One NDJSON POST of `n` lines through curl, which streams the file."""
        file = self.ctx.jsonl("orders", n)
        catalog, raw, dlq = self.destination(subject.replace(" ", "-"), rep)
        row = Row(subject=subject, rep=rep, expected=n)
        answers = self.ctx.tmp / "stream-answers.ndjson"
        command = ["curl", "-sS", "--fail", "-X", "POST", "-T", str(file)]
        command += ["-H", "Content-Type: application/x-ndjson", "-o", str(answers)]
        try:
            with serving(self.ctx, catalog, 1) as server:
                run = Run([*command, server.events_url(PAYLOADS["orders"].dataset)])
                row.metrics["server_rss_mb"] = server.peak_rss_mb()
            if run.returncode != 0:
                raise RuntimeError(f"curl exit {run.returncode}: {run.stderr[-2000:]}")
            row.metrics["events_per_s"] = n / run.wall_s
            row.detail = stream_end(answers)
        except RuntimeError as exc:
            row.error = str(exc)
        finally:
            answers.unlink(missing_ok=True)
        summary = row.detail.get("summary", {})
        if row.error is None and (summary.get("produced") != n or not row.detail.get("complete")):
            row.error = f"the stream did not end with {n:,} produced: {row.detail}"
        return self.finish(row, raw, dlq)

    def cli(self, rep: int) -> Row:
        n = self.ctx.sizes.http_stream_events * 10
        catalog, raw, dlq = self.destination("http-cli", rep)
        file = self.ctx.jsonl("orders", n)
        run = Run(cli_command(self.ctx, "orders", catalog, file), env=cli_env(self.ctx))
        return self.finish(measured(CLI_10N, rep, n, run), raw, dlq)

    def notes(self) -> list[str]:
        s = self.ctx.sizes
        return [
            f"(batch: {s.http_batch_requests:,} requests of {s.http_batch} orders, "
            f"{s.http_connections} connections, 1 worker; stream N = {s.http_stream_events:,} "
            f"lines, one connection; single: {s.http_requests:,} requests, "
            f"{s.http_single_connections} connections; load generator: {LOAD_GENERATOR})"
        ]


def stream_end(answers: Path) -> dict[str, Any]:
    """The stream's last line: the summary a complete stream ends with."""
    with answers.open("rb") as f:
        f.seek(max(0, os.path.getsize(answers) - 4096))
        lines = f.read().splitlines()
    if not lines:
        return {}
    last: dict[str, Any] = json.loads(lines[-1])
    return last
