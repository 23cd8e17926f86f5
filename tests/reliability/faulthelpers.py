"""Builders shared by the reliability tests and their conftest.py: a valid
event, a free port, the `streamlake` executable and a clean environment for it.

Imported as ``faulthelpers`` (pytest puts tests/reliability on sys.path for its
conftest.py), not from ``conftest``: which conftest that name means depends on
the order pytest imported them, so a run of this suite beside tests/integration
got the wrong one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from servehelpers import free_port, streamlake_exe  # shared with the serve tests

__all__ = ["DATASET", "ORDERS", "ROOT", "cli_env", "free_port", "order", "streamlake_exe"]

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


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a `streamlake` subprocess: no STREAMLAKE_* leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLAKE_")}
    env.update(extra)
    return env
