"""Builders shared by the reliability tests and their conftest.py: a valid
event, a free port, the `streamlake` executable and a clean environment for it.

Imported as ``faulthelpers`` (pytest puts tests/reliability on sys.path for its
conftest.py), not from ``conftest``: which conftest that name means depends on
the order pytest imported them, so a run of this suite beside tests/integration
got the wrong one.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ORDERS = ROOT / "avro" / "orders"
DATASET = "orders"


def order(order_id: str, amount: float = 1.0, **fields: Any) -> dict[str, Any]:
    """A valid orders v2 event."""
    return {
        "order_id": order_id,
        "customer_id": "CUST-1",
        "amount": amount,
        "event_time": "2026-01-21T10:00:00Z",
        "currency": "EUR",
        **fields,
    }


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlake_exe() -> str:
    exe = Path(sys.executable).with_name("streamlake")
    assert exe.exists(), f"{exe} missing: install the project (pip install -e .)"
    return str(exe)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a `streamlake` subprocess: no STREAMLAKE_* leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLAKE_")}
    env.update(extra)
    return env
