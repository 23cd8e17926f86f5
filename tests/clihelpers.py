"""Builders shared by the CLI tests (tests/unit/test_cli_offline.py and
tests/integration/test_cli.py): a catalog written to a temporary folder, the
CLI invoked in-process with no STREAMLAKE_* variable leaking in from the
environment, and topics read back in a bounded loop.

Imported as ``tests.clihelpers`` (tests/ is a package).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from streamlake.cli import main
from tests.readback import READ_TIMEOUT_S, Record, Topics

ROOT = Path(__file__).resolve().parent.parent
ORDERS = ROOT / "avro" / "orders"
ORDERS_V1: dict[str, Any] = json.loads((ORDERS / "v1.avsc").read_text())
ORDERS_V2: dict[str, Any] = json.loads((ORDERS / "v2.avsc").read_text())

V3_PROBLEM = "avro/orders/v3.avsc: BACKWARD: v3 cannot read v2: field amount: type double -> string"


def retyped(schema: Mapping[str, Any], name: str, new_type: object) -> dict[str, Any]:
    """`schema` with field `name` given `new_type`."""
    fields = [{**f, "type": new_type} if f["name"] == name else f for f in schema["fields"]]
    return {**schema, "fields": fields}


def with_field(schema: Mapping[str, Any], field: Mapping[str, Any]) -> dict[str, Any]:
    return {**schema, "fields": [*schema["fields"], dict(field)]}


ORDERS_V3_AMOUNT_STRING = retyped(ORDERS_V2, "amount", "string")


def write_catalog(
    schemas_dir: Path,
    *versions: Mapping[str, Any],
    dataset: str = "orders",
    raw_topic: str | None = None,
    dlq_topic: str | None = None,
    compatibility: str | None = None,
    partitions: int | None = None,
    key_field: str = "order_id",
) -> Path:
    """Write `dataset` (dataset.toml and v1.avsc, v2.avsc, ...) under
    `schemas_dir`; orders v1 and v2 when no version is given. Returns its folder."""
    folder = schemas_dir / dataset
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f'key_field = "{key_field}"']
    if compatibility is not None:
        lines.append(f'compatibility = "{compatibility}"')
    if partitions is not None:
        lines.append(f"partitions = {partitions}")
    if raw_topic is not None:
        lines.append(f'raw_topic = "{raw_topic}"')
    if dlq_topic is not None:
        lines.append(f'dlq_topic = "{dlq_topic}"')
    (folder / "dataset.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for number, schema in enumerate(versions or (ORDERS_V1, ORDERS_V2), start=1):
        (folder / f"v{number}.avsc").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return folder


def invoke(
    args: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    input: bytes | str | None = None,
) -> Result:
    """Run `streamlake ARGS` in-process. Every STREAMLAKE_* variable of the
    test process is removed first, so only `env` and the flags count."""
    clean: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("STREAMLAKE_")
    }
    clean.update(env or {})
    return CliRunner().invoke(
        main, list(args), prog_name="streamlake", env=clean, input=input, catch_exceptions=False
    )


def lines(text: str) -> list[str]:
    return text.splitlines()


def table(stdout: str) -> list[list[str]]:
    """The rows of `schemas register`'s table, split on runs of spaces."""
    return [line.split() for line in stdout.splitlines()]


# --- git ------------------------------------------------------------------------
def git_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """A git identity and no user/system config, for throwaway repositories."""
    for variable, value in {
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(variable, value)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


# --- reading topics back ---------------------------------------------------------
def read_topic(
    bootstrap_servers: str, topic: str, count: int, timeout: float = READ_TIMEOUT_S
) -> list[Record]:
    """The first `count` records of `topic`, all partitions, ordered by
    (partition, offset); fails when fewer arrive within `timeout` or when more
    are there."""
    return Topics(bootstrap_servers, group_prefix="cli-test").read(
        topic, count, timeout, exact=True
    )
