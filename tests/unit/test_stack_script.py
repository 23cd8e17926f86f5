"""scripts/stack's own checks, which need no server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_stack_up_without_confluent_kafka_names_the_python_to_use_and_starts_nothing(tmp_path):
    stack_dir = tmp_path / "stack"
    # -S: no site-packages, so this interpreter lacks confluent-kafka like a bare system Python.
    done = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "stack"), "up"],
        env={**os.environ, "STREAMLAKE_STACK_DIR": str(stack_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 1
    assert "lacks confluent-kafka" in done.stderr
    assert ".venv/bin/python scripts/stack up" in done.stderr
    assert not stack_dir.exists(), "nothing may be prepared or started"
