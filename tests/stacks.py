"""Stacks the tests run against, and scripts/stack to control them: shared
by tests/conftest.py and tests/reliability/cluster/conftest.py.

Imported as ``tests.stacks`` (tests/ is a package).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STACK_SCRIPT = ROOT / "scripts" / "stack"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Stack:
    bootstrap_servers: str
    schema_registry_url: str
    source: str
    """'env', 'testcontainers' or 'scripts/stack'."""
    env: Mapping[str, str] = field(default_factory=dict)
    """STREAMLAKE_STACK_* settings naming this stack to scripts/stack, over os.environ."""

    def control(self, action: str, *args: str) -> None:
        """Run `scripts/stack action args` (stop or start a server, down, up) on
        this stack; only a scripts/stack stack can be controlled."""
        if self.source != "scripts/stack":
            unavailable(f"fault injection needs a stack run by scripts/stack, not {self.source}")
        run_stack(action, *args, env=self.env)


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def run_stack(*args: str, env: Mapping[str, str] | None = None) -> None:
    result = subprocess.run(
        [sys.executable, str(STACK_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/stack {' '.join(args)} failed:\n{result.stderr}")


def read_env_file(stack_dir: Path) -> dict[str, str]:
    """The STREAMLAKE_* settings `scripts/stack up` wrote for its stack."""
    text = (stack_dir / "env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if line)
