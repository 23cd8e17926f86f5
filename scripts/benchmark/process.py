"""One contender per child process: its wall time, peak RSS and printed result.

A worker is any module-level function `(spec: dict) -> dict` of this package;
the child runs it as `scripts/bench --worker MODULE:FUNCTION SPEC_JSON` and
prints its result as the last line of JSON.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.settings import BENCH_SCRIPT

Spec = dict[str, Any]
Worker = Callable[[Spec], dict[str, Any]]


POLL_S = 0.02


class Run:
    """A finished process: what it printed, its wall time, and its peak RSS.

    Peak RSS is the process's VmHWM, read from /proc every POLL_S while it
    runs. Not ru_maxrss: Linux carries the spawning process's high-water mark
    across fork/vfork + exec into the child's, so every child of a 70 MB
    parent would report at least 70 MB.
    """

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
            peak_kib = 0
            while proc.poll() is None:
                peak_kib = max(peak_kib, vm_hwm_kib(proc.pid))
                time.sleep(POLL_S)
            self.wall_s = time.perf_counter() - started
            self.returncode = proc.returncode
            self.peak_rss_mb = peak_kib / 1024
            out.seek(0)
            err.seek(0)
            self.stdout = out.read().decode(errors="replace")
            self.stderr = err.read().decode(errors="replace")

    def result(self) -> dict[str, Any]:
        """The worker's JSON result; RuntimeError with its stderr if it failed."""
        if self.returncode != 0:
            raise RuntimeError(f"exit {self.returncode}:\n{self.stderr[-3000:]}")
        lines = self.stdout.strip().splitlines()
        if lines and lines[-1].startswith("{"):
            result: dict[str, Any] = json.loads(lines[-1])
            return result
        return {}


def vm_hwm_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM) in KiB; 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def worker_command(worker: Worker, spec: Spec) -> list[str]:
    name = f"{worker.__module__}:{worker.__qualname__}"
    return [sys.executable, str(BENCH_SCRIPT), "--worker", name, json.dumps(spec)]


def run_worker(worker: Worker, spec: Spec, *, env: dict[str, str] | None = None) -> Run:
    """`worker(spec)` in a fresh interpreter (its own RSS, no state shared)."""
    return Run(worker_command(worker, spec), env=env)


def worker_main(name: str, spec_json: str) -> int:
    """The child's side of run_worker: run MODULE:FUNCTION, print its result."""
    module, _, function = name.partition(":")
    try:
        worker: Worker = getattr(importlib.import_module(module), function)
        result = worker(json.loads(spec_json))
    except Exception:
        traceback.print_exc()
        return 1
    # Exact, unlike the parent's polling: read at the very end of the work.
    print(json.dumps({**result, "peak_rss_kib": vm_hwm_kib(os.getpid())}))
    return 0


def python_path_env(tree: Path) -> dict[str, str]:
    """The environment in which `import streamlake` finds `tree` first (a child
    whose sys.path[0] is scripts/ or the venv's bin/, not the repository)."""
    return {**os.environ, "PYTHONPATH": str(tree)}
