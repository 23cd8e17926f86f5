"""Scenario 4: SIGTERM / SIGINT to a CLI `produce` of a large file, and
`close()` after an abandoned `produce_many`: reading stops, what is in flight
is settled within a bounded time, and every line up to the last one read is
accounted for."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from streamlake.catalog import load_catalog
from tests.reliability.faulthelpers import DATASET, cli_env, order, streamlake_exe

LINES = 300_000
INVALID_EVERY = 1_000
"""Every 1000th line is not an order: it goes to the DLQ."""
SIGNAL_AFTER_RESULTS = 2_000
EXIT_WITHIN_S = 30.0


def _write_events(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(1, LINES + 1):
            if i % INVALID_EVERY == 0:
                out.write('{"order_id": "BAD", "amount": "lots"}\n')
            else:
                out.write(json.dumps(order(f"S{i % 97}", amount=float(i))) + "\n")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_cli_and_every_line_read_is_accounted_for(
    stack, make_catalog, topics, tmp_path, sig
):
    schemas_dir = make_catalog()
    dataset = load_catalog(schemas_dir)[DATASET]
    events, results = tmp_path / "events.jsonl", tmp_path / "results.jsonl"
    _write_events(events)
    proc = subprocess.Popen(
        [streamlake_exe(), "produce", DATASET, str(events), "--results", str(results)],
        env=cli_env(
            STREAMLAKE_BOOTSTRAP_SERVERS=stack.bootstrap_servers,
            STREAMLAKE_SCHEMA_REGISTRY_URL=stack.schema_registry_url,
            STREAMLAKE_SCHEMAS_DIR=str(schemas_dir),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= SIGNAL_AFTER_RESULTS:
                break
            time.sleep(0.05)  # polling a file another process writes
        assert proc.poll() is None, f"produce ended before the signal: {proc.communicate()}"
        proc.send_signal(sig)
        signalled = time.monotonic()
        stdout, stderr = proc.communicate(timeout=EXIT_WITHIN_S)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    summary = dict(part.split("=", 1) for part in stdout.split() if "=" in part)
    last = int(summary["lines"])
    assert f"stopped after line {last} (stop requested)" in stderr
    assert SIGNAL_AFTER_RESULTS <= last < LINES

    rows = [json.loads(line) for line in results.read_text().splitlines()]
    numbers = Counter(row["line"] for row in rows)
    assert sorted(numbers) == list(range(1, last + 1))
    assert max(numbers.values()) == 1
    outcomes = Counter(row["outcome"] for row in rows)
    assert set(outcomes) <= {"produced", "dlq"}
    assert outcomes["dlq"] == last // INVALID_EVERY
    assert outcomes["produced"] == last - last // INVALID_EVERY
    assert (int(summary["produced"]), int(summary["dlq"]), int(summary["failed"])) == (
        outcomes["produced"],
        outcomes["dlq"],
        0,
    )
    assert topics.count(dataset.raw_topic) == outcomes["produced"]
    assert topics.count(dataset.dlq_topic) == outcomes["dlq"]
    print(
        f"\n{sig.name}: exited {proc.returncode} {took:.2f}s after the signal; "
        f"lines={last} produced={outcomes['produced']} dlq={outcomes['dlq']} failed=0 "
        f"raw_topic={outcomes['produced']} dlq_topic={outcomes['dlq']}"
    )


def test_close_after_an_abandoned_produce_many_delivers_everything_handed_over(
    make_producer, topics
):
    producer = make_producer()
    dataset = producer.catalog[DATASET]
    handed_over = 0

    def events():
        nonlocal handed_over
        for i in range(200_000):
            handed_over += 1
            yield order(f"A{i % 31}")

    results = producer.produce_many(DATASET, events())
    taken = [next(results) for _ in range(100)]
    results.close()  # the caller walks away with results still pending
    assert all(str(r.outcome) == "produced" for r in taken)
    left = producer.close(timeout=30)

    assert left == 0
    assert 100 <= handed_over < 200_000
    assert topics.count(dataset.raw_topic) == handed_over
    assert topics.count(dataset.dlq_topic) == 0
    print(f"\nabandoned produce_many: handed_over={handed_over} close()={left} stored=same")
