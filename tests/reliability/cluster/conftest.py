"""The cluster scenarios' own stack: `scripts/stack up --brokers 3` in a
directory and on ports of its own, up for the session and down after it, so
the one-broker stack the rest of the suite uses is never touched.

    STREAMLAKE_CLUSTER_STACK_DIR (.stack-cluster)
    STREAMLAKE_CLUSTER_STACK_KAFKA_PORT (39092), ..._KAFKA_CONTROLLER_PORT (39093),
    ..._KAFKA_SASL_PORT (39094), ..._REGISTRY_PORT (38081)

are handed to scripts/stack as its STREAMLAKE_STACK_* settings; nodes 2 and 3
take the Kafka ports + 10 and + 20. Before each test every node and the
registry run and every partition is fully replicated again, whatever the
previous test left.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.reliability.cluster.clusterhelpers import BROKERS, wait_fully_replicated
from tests.stacks import ROOT, Stack, read_env_file, run_stack, unavailable

_DEFAULTS = {
    "DIR": str(ROOT / ".stack-cluster"),
    "KAFKA_PORT": "39092",
    "KAFKA_CONTROLLER_PORT": "39093",
    "KAFKA_SASL_PORT": "39094",
    "REGISTRY_PORT": "38081",
}


def cluster_env() -> dict[str, str]:
    return {
        f"STREAMLAKE_STACK_{name}": os.environ.get(f"STREAMLAKE_CLUSTER_STACK_{name}", default)
        for name, default in _DEFAULTS.items()
    }


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    env = cluster_env()
    try:
        run_stack("up", "--brokers", str(BROKERS), env=env)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        run_stack("down", env=env)  # what did start must not outlive the session
        unavailable(f"no {BROKERS}-broker stack: {exc}")
    found = read_env_file(ROOT / env["STREAMLAKE_STACK_DIR"])
    yield Stack(
        found["STREAMLAKE_BOOTSTRAP_SERVERS"],
        found["STREAMLAKE_SCHEMA_REGISTRY_URL"],
        "scripts/stack",
        env,
    )
    run_stack("down", env=env)


@pytest.fixture(autouse=True)
def healthy_cluster(stack: Stack) -> None:
    stack.control("start", "kafka")
    stack.control("start", "registry")
    wait_fully_replicated(stack.bootstrap_servers)
