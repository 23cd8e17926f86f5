"""What every contender shares, so that a ratio compares like with like."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository (scripts/benchmark/ is two levels below it)."""
BENCH_SCRIPT = ROOT / "scripts" / "bench"
PARTITIONS = 3
PRODUCER_CONF: dict[str, str] = {
    # Identical for every contender; the first three are the settings,
    # the last two are StreamLake's defaults (no effect on the rate).
    "acks": "all",
    "enable.idempotence": "true",
    "linger.ms": "5",
    "partitioner": "murmur2_random",
    "message.timeout.ms": "30000",
}
