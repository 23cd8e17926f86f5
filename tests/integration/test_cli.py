"""The `streamlake` CLI against the real Kafka broker and schema registry.

Each test writes its own catalog to tmp_path/avro (orders v1, v2 with topics
named by `unique`), runs there, and invokes the CLI in-process with explicit
--bootstrap-servers / --schema-registry-url / --schemas-dir flags (one test
uses the environment instead). Exit codes and output lines are asserted
exactly; what the CLI says it wrote is read back from Kafka and the registry.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import pytest
from click.testing import Result
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from tests.clihelpers import (
    ORDERS_V1,
    ORDERS_V2,
    ORDERS_V3_AMOUNT_STRING,
    V3_PROBLEM,
    invoke,
    lines,
    read_topic,
    table,
    with_field,
    write_catalog,
)
from tests.readback import Record

OK = "OK: 1 dataset checked, no problems"
ONE_PROBLEM = "1 problem in 1 of 1 dataset"
UNREACHABLE_REGISTRY = "http://127.0.0.1:1/apis/ccompat/v7"
SUMMARY = re.compile(
    r"produced=(\d+) dlq=(\d+) failed=(\d+) blank=(\d+) lines=(\d+) "
    r"elapsed=\d+\.\d\ds rate=[\d,]+/s"
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Catalog:
    root: Path
    raw: str
    dlq: str

    @property
    def subject(self) -> str:
        return f"{self.raw}-value"

    @property
    def heading(self) -> str:
        """The dataset's line in `schemas list`."""
        return (
            f"orders: key=order_id compatibility=BACKWARD partitions=3 raw={self.raw} "
            f"dlq={self.dlq} subject={self.subject}"
        )

    def add(self, number: int, schema: dict[str, Any]) -> None:
        (self.root / "orders" / f"v{number}.avsc").write_text(json.dumps(schema, indent=2))


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique) -> Catalog:
    """orders v1, v2 (BACKWARD) at ./avro, with topics of this test's own."""
    monkeypatch.chdir(tmp_path)
    raw, dlq = unique("cli-raw-orders"), unique("cli-dlq-orders")
    write_catalog(tmp_path / "avro", raw_topic=raw, dlq_topic=dlq)
    return Catalog(tmp_path / "avro", raw, dlq)


Run = Callable[..., Result]


@pytest.fixture
def run(stack) -> Run:
    """`run(*args, input=None)`: streamlake with the stack's flags and ./avro."""

    def run_(*args: str, input: bytes | str | None = None, **flags: str) -> Result:
        options = {
            "--bootstrap-servers": stack.bootstrap_servers,
            "--schema-registry-url": stack.schema_registry_url,
            "--schemas-dir": "avro",
            **{f"--{name.replace('_', '-')}": value for name, value in flags.items()},
        }
        return invoke([*(x for pair in options.items() for x in pair), *args], input=input)

    return run_


@pytest.fixture
def registry(stack) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": stack.schema_registry_url})


def apicurio(stack) -> bool:
    """Apicurio gives no reasons for a compatibility verdict; Confluent does."""
    return "/apis/ccompat/" in stack.schema_registry_url


def registered_ids(stdout: str) -> dict[str, int]:
    """Version label -> schema id, from `schemas register`'s table."""
    return {row[1]: int(row[2]) for row in table(stdout)[1:] if row[2] != "-"}


def register(run: Run) -> dict[str, int]:
    result = run("schemas", "register")
    assert result.exit_code == 0, result.output
    return registered_ids(result.stdout)


def topics(stack) -> dict[str, int]:
    metadata = AdminClient({"bootstrap.servers": stack.bootstrap_servers}).list_topics(timeout=10)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


# --- schemas list ------------------------------------------------------------------
def test_schemas_list_without_registry_url_is_offline(catalog, stack):
    result = invoke(["--bootstrap-servers", stack.bootstrap_servers, "schemas", "list"])

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        catalog.heading,
        "  v1  avro/orders/v1.avsc",
        "  v2  avro/orders/v2.avsc",
    ]


def test_schemas_list_shows_not_registered_then_the_registered_version_and_id(catalog, run):
    before = run("schemas", "list")
    ids = register(run)
    after = run("schemas", "list")

    assert before.exit_code == 0, before.output
    assert lines(before.stdout) == [
        catalog.heading,
        "  v1  avro/orders/v1.avsc  NOT REGISTERED",
        "  v2  avro/orders/v2.avsc  NOT REGISTERED",
    ]
    assert after.exit_code == 0, after.output
    assert lines(after.stdout) == [
        catalog.heading,
        f"  v1  avro/orders/v1.avsc  registered as version 1, id {ids['v1']}",
        f"  v2  avro/orders/v2.avsc  registered as version 2, id {ids['v2']}",
    ]


def test_schemas_list_shows_drift_for_a_version_in_no_file(catalog, run, registry):
    ids = register(run)
    by_hand = with_field(ORDERS_V2, {"name": "note", "type": ["null", "string"], "default": None})
    extra_id = registry.register_schema(catalog.subject, Schema(json.dumps(by_hand), "AVRO"))

    result = run("schemas", "list")

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        catalog.heading,
        f"  v1  avro/orders/v1.avsc  registered as version 1, id {ids['v1']}",
        f"  v2  avro/orders/v2.avsc  registered as version 2, id {ids['v2']}",
        f"  DRIFT: registry version 3 (id {extra_id}) is in no file of the catalog",
    ]


def test_schemas_list_shows_drift_of_the_compatibility_level(catalog, run, registry):
    register(run)
    registry.set_compatibility(catalog.subject, "FULL")

    result = run("schemas", "list")

    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[-1] == "  DRIFT: registry compatibility is FULL"


# --- schemas register ------------------------------------------------------------------
def test_register_prints_new_then_existing_with_the_same_ids(catalog, run, registry, stack):
    first = run("schemas", "register")
    second = run("schemas", "register")

    assert first.exit_code == 0, first.output
    ids = registered_ids(first.stdout)
    assert table(first.stdout) == [
        ["SUBJECT", "VERSION", "SCHEMA", "ID", "STATUS"],
        [catalog.subject, "v1", str(ids["v1"]), "new"],
        [catalog.subject, "v2", str(ids["v2"]), "new"],
    ]
    # The table is aligned: each column starts where its heading does.
    header, *rows = lines(first.stdout)
    for row in rows:
        for column in ("VERSION", "SCHEMA ID", "STATUS"):
            assert row[header.index(column) - 2 : header.index(column)] == "  "
            assert row[header.index(column)] != " "
    assert second.exit_code == 0, second.output
    assert table(second.stdout) == [
        ["SUBJECT", "VERSION", "SCHEMA", "ID", "STATUS"],
        [catalog.subject, "v1", str(ids["v1"]), "existing"],
        [catalog.subject, "v2", str(ids["v2"]), "existing"],
    ]
    assert first.stderr == second.stderr == ""
    assert registry.get_versions(catalog.subject) == [1, 2]
    for version, schema in (("v1", ORDERS_V1), ("v2", ORDERS_V2)):
        text = json.dumps(schema, separators=(",", ":"))
        found = registry.lookup_schema(catalog.subject, Schema(text, "AVRO"))
        assert found.schema_id == ids[version]
    assert registry.get_compatibility(catalog.subject) == "BACKWARD"
    existing = topics(stack)
    assert (existing.get(catalog.raw), existing.get(catalog.dlq)) == (3, 3)


def test_register_dry_run_registers_nothing(catalog, run, registry, stack):
    result = run("schemas", "register", "--dry-run")

    assert result.exit_code == 0, result.output
    assert table(result.stdout) == [
        ["SUBJECT", "VERSION", "SCHEMA", "ID", "STATUS"],
        [catalog.subject, "v1", "-", "would", "register"],
        [catalog.subject, "v2", "-", "would", "register"],
    ]
    with pytest.raises(SchemaRegistryError) as missing:
        registry.get_versions(catalog.subject)
    assert missing.value.http_status_code == 404
    existing = topics(stack)
    assert catalog.raw not in existing
    assert catalog.dlq not in existing


def test_register_dry_run_after_register_says_existing(catalog, run):
    ids = register(run)
    catalog.add(3, with_field(ORDERS_V2, {"name": "note", "type": "string", "default": ""}))

    result = run("schemas", "register", "--dry-run")

    assert result.exit_code == 0, result.output
    assert table(result.stdout)[1:] == [
        [catalog.subject, "v1", str(ids["v1"]), "existing"],
        [catalog.subject, "v2", str(ids["v2"]), "existing"],
        [catalog.subject, "v3", "-", "would", "register"],
    ]


def test_register_a_rejected_version_exits_1_with_the_registry_reason(
    catalog, run, registry, stack
):
    catalog.add(3, ORDERS_V3_AMOUNT_STRING)

    result = run("schemas", "register")

    assert result.exit_code == 1, result.output
    ids = registered_ids(result.stdout)
    assert table(result.stdout) == [
        ["SUBJECT", "VERSION", "SCHEMA", "ID", "STATUS"],
        [catalog.subject, "v1", str(ids["v1"]), "new"],
        [catalog.subject, "v2", str(ids["v2"]), "new"],
        [catalog.subject, "v3", "-", "REJECTED"],
    ]
    url = stack.schema_registry_url
    (rejected,) = lines(result.stderr)
    prefix = (
        f"rejected: avro/orders/v3.avsc: the registry at {url} rejected {catalog.subject} v3 "
        "(BACKWARD): "
    )
    suffix = (
        ". Fix the schema or the subject's compatibility level; "
        "events for v3 go to the DLQ meanwhile"
    )
    assert rejected.startswith(prefix), rejected
    assert rejected.endswith(suffix), rejected
    reason = rejected[len(prefix) : -len(suffix)]
    assert reason.strip(), "the registry's reason is missing"
    if apicurio(stack):
        assert "STRING not compatible with writer type: DOUBLE" in reason, reason
    assert registry.get_versions(catalog.subject) == [1, 2]


def test_register_an_unknown_dataset_exits_2(catalog, run, registry):
    result = run("schemas", "register", "nope")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: unknown dataset(s) nope; the catalog in avro has orders\n"
    with pytest.raises(SchemaRegistryError):
        registry.get_versions(catalog.subject)


@pytest.mark.parametrize(
    "args",
    [
        ("schemas", "register"),
        ("schemas", "register", "--dry-run"),
        ("schemas", "list"),
        ("schemas", "check"),
        ("produce", "orders", "-"),
    ],
    ids=" ".join,
)
def test_an_unreachable_registry_exits_2_naming_its_url(catalog, run, args):
    started = time.monotonic()
    result = run(
        *args, schema_registry_url=UNREACHABLE_REGISTRY, registry_timeout="1", input=b"{}\n"
    )
    elapsed = time.monotonic() - started

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (message,) = lines(result.stderr)
    assert message.startswith(
        f"error: schema registry at {UNREACHABLE_REGISTRY} unreachable: could not "
    ), message
    assert "STREAMLAKE_SCHEMA_REGISTRY_URL / --schema-registry-url" in message
    assert elapsed < 10


# --- environment ------------------------------------------------------------------------
def test_settings_come_from_the_environment_and_flags_win(catalog, stack):
    good = {
        "STREAMLAKE_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "STREAMLAKE_SCHEMA_REGISTRY_URL": stack.schema_registry_url,
        "STREAMLAKE_SCHEMAS_DIR": "avro",
    }
    bad = {
        "STREAMLAKE_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "STREAMLAKE_SCHEMA_REGISTRY_URL": UNREACHABLE_REGISTRY,
        "STREAMLAKE_SCHEMAS_DIR": "nowhere",
    }

    from_env = invoke(["schemas", "register"], env=good)
    flags_win = invoke(
        [
            "--bootstrap-servers",
            stack.bootstrap_servers,
            "--schema-registry-url",
            stack.schema_registry_url,
            "--schemas-dir",
            "avro",
            "schemas",
            "register",
        ],
        env=bad,
    )

    assert from_env.exit_code == 0, from_env.output
    assert [row[-1] for row in table(from_env.stdout)[1:]] == ["new", "new"]
    assert catalog.raw in topics(stack)
    assert flags_win.exit_code == 0, flags_win.output
    assert [row[-1] for row in table(flags_win.stdout)[1:]] == ["existing", "existing"]
    assert registered_ids(flags_win.stdout) == registered_ids(from_env.stdout)


# --- schemas check against the registry -----------------------------------------------------
def test_check_passes_a_subject_the_registry_does_not_know(catalog, run, registry):
    result = run("schemas", "check")

    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{OK}\n", "")
    with pytest.raises(SchemaRegistryError):
        registry.get_versions(catalog.subject)


def test_check_passes_the_registered_catalog(catalog, run):
    register(run)
    result = run("schemas", "check")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{OK}\n", "")


def test_check_fails_a_new_version_incompatible_with_the_registered_ones(catalog, run, stack):
    register(run)
    catalog.add(3, ORDERS_V3_AMOUNT_STRING)

    result = run("schemas", "check")

    assert result.exit_code == 1, result.output
    if apicurio(stack):
        # The registry's verdict, explained locally, is the offline finding: shown once.
        assert result.stdout == f"{V3_PROBLEM}\n{ONE_PROBLEM}\n"
    assert lines(result.stdout)[0] == V3_PROBLEM


def test_check_fails_what_only_the_registry_knows_is_incompatible(catalog, run, stack):
    # Locally NONE, so the offline gate passes; the subject is BACKWARD in the registry.
    register(run)
    toml = catalog.root / "orders" / "dataset.toml"
    toml.write_text(toml.read_text() + 'compatibility = "NONE"\n')
    catalog.add(3, ORDERS_V3_AMOUNT_STRING)

    offline = run("schemas", "check", "--offline")
    online = run("schemas", "check")
    as_json = run("schemas", "check", "--format", "json")

    assert (offline.exit_code, offline.stdout) == (0, f"{OK}\n")
    assert online.exit_code == 1, online.output
    assert re.fullmatch(r"\d+ problems? in 1 of 1 dataset", lines(online.stdout)[-1])
    assert lines(online.stdout)[0].startswith("avro/orders/v3.avsc: BACKWARD: ")
    if apicurio(stack):
        assert online.stdout == f"{V3_PROBLEM}\n{ONE_PROBLEM}\n"
    assert as_json.exit_code == 1
    (problem, *_) = json.loads(as_json.stdout)
    assert (problem["path"], problem["dataset"], problem["rule"]) == (
        "avro/orders/v3.avsc",
        "orders",
        "BACKWARD",
    )


def test_check_a_bad_schema_file_exits_2_naming_it(catalog, run):
    register(run)
    catalog.add(3, {**ORDERS_V2, "fields": [{"name": "order_id", "type": "strang"}]})

    result = run("schemas", "check")

    assert result.exit_code == 2
    assert result.stdout == ""
    (message,) = lines(result.stderr)
    assert message.startswith("error: avro/orders/v3.avsc: not a valid Avro schema: "), message


# --- produce -----------------------------------------------------------------------------
def order(order_id: str | None = None, **fields: Any) -> dict[str, Any]:
    event = {
        "order_id": order_id or f"ORD-{uuid.uuid4().hex[:12]}",
        "customer_id": "CUST-42",
        "amount": 199.99,
        "event_time": "2026-01-21T10:00:00Z",
        "currency": "EUR",
    }
    return {**event, **fields}


def decode(record: Record, schema: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A raw record's schema id and value (Confluent wire format)."""
    assert record.value[0] == 0
    schema_id = int.from_bytes(record.value[1:5], "big")
    value = fastavro.schemaless_reader(io.BytesIO(record.value[5:]), fastavro.parse_schema(schema))
    return schema_id, value


def summary(result: Result) -> tuple[int, ...]:
    """produced, dlq, failed, blank, lines from the summary line (the only line)."""
    (line,) = lines(result.stdout)
    match = SUMMARY.fullmatch(line)
    assert match, line
    return tuple(int(n) for n in match.groups())


def read_results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_produce_a_file_to_the_raw_topic_and_the_dlq(catalog, run, stack, tmp_path):
    first, last = order("ORD-1"), order("ORD-2", amount=5)
    invalid_type = order("ORD-3", amount="a lot")
    events = tmp_path / "events.jsonl"
    events.write_text(
        f"{json.dumps(first)}\n\nnot json\n{json.dumps(invalid_type)}\n{json.dumps(last)}\n"
    )

    result = run("produce", "orders", "events.jsonl", "--results", "results.jsonl")

    assert result.exit_code == 0, result.output
    assert summary(result) == (2, 2, 0, 1, 5)
    assert result.stderr == ""
    results = read_results(tmp_path / "results.jsonl")
    assert [(r["line"], r["outcome"], r["topic"]) for r in results] == [
        (1, "produced", catalog.raw),
        (3, "dlq", catalog.dlq),
        (4, "dlq", catalog.dlq),
        (5, "produced", catalog.raw),
    ]
    for r in results:
        keys = {"line", "outcome", "topic", "partition", "offset", "ingestion_id"}
        assert set(r) == (keys | {"error"} if r["outcome"] == "dlq" else keys)
        assert isinstance(r["partition"], int) and isinstance(r["offset"], int)
        assert UUID.fullmatch(r["ingestion_id"])
    assert results[1]["error"] == {
        "type": "invalid_json",
        "message": "not valid JSON: expected ident at line 1 column 2",
        "code": None,
    }
    assert results[2]["error"]["type"] == "schema_validation"
    assert results[2]["error"]["message"].startswith("amount: ")
    assert len({r["ingestion_id"] for r in results}) == 4

    raw = {
        r.headers["ingestion_id"]: r for r in read_topic(stack.bootstrap_servers, catalog.raw, 2)
    }
    for r, event in ((results[0], first), (results[3], last)):
        record = raw[r["ingestion_id"]]
        assert (record.partition, record.offset) == (r["partition"], r["offset"])
        assert record.key == event["order_id"].encode()
        assert record.headers["schema_version"] == "v2"
        schema_id, value = decode(record, ORDERS_V2)
        assert str(schema_id) == record.headers["schema_id"]
        assert value == {**event, "amount": float(event["amount"])}

    dlq = {
        r.headers["ingestion_id"]: r for r in read_topic(stack.bootstrap_servers, catalog.dlq, 2)
    }
    for r, original in ((results[1], "not json"), (results[2], invalid_type)):
        record = dlq[r["ingestion_id"]]
        assert (record.partition, record.offset) == (r["partition"], r["offset"])
        body = json.loads(record.value)
        assert body["original"] == original
        assert body["error"]["type"] == r["error"]["type"]
        assert body["error"]["message"] == r["error"]["message"]
        assert record.headers["error_type"] == r["error"]["type"]


def test_produce_from_stdin(catalog, run, stack):
    event = order()

    result = run("produce", "orders", "-", input=f"{json.dumps(event)}\n".encode())

    assert result.exit_code == 0, result.output
    assert summary(result) == (1, 0, 0, 0, 1)
    (record,) = read_topic(stack.bootstrap_servers, catalog.raw, 1)
    assert record.key == event["order_id"].encode()
    assert decode(record, ORDERS_V2)[1] == event


def test_produce_reads_stdin_when_no_file_is_given(catalog, run, stack):
    result = run("produce", "orders", input=f"{json.dumps(order())}\n\n".encode())

    assert result.exit_code == 0, result.output
    assert summary(result) == (1, 0, 0, 1, 2)


def test_produce_with_a_pinned_schema_version(catalog, run, stack, tmp_path):
    ids = register(run)
    event = order()
    del event["currency"]

    result = run(
        "produce",
        "orders",
        "-",
        "--schema-version",
        "1",
        "--results",
        "results.jsonl",
        input=f"{json.dumps(event)}\n".encode(),
    )

    assert result.exit_code == 0, result.output
    assert summary(result) == (1, 0, 0, 0, 1)
    (produced,) = read_results(tmp_path / "results.jsonl")
    (record,) = read_topic(stack.bootstrap_servers, catalog.raw, 1)
    assert (record.partition, record.offset) == (produced["partition"], produced["offset"])
    assert record.headers["schema_version"] == "v1"
    assert record.headers["schema_id"] == str(ids["v1"])
    assert decode(record, ORDERS_V1) == (ids["v1"], event)


def test_produce_with_a_schema_version_the_catalog_lacks_exits_2_before_producing(
    catalog, run, stack
):
    # Issue 14: --schema-version 9 used to dead-letter every line and exit 0.
    result = run(
        "produce",
        "orders",
        "-",
        "--schema-version",
        "9",
        input=f"{json.dumps(order())}\n".encode(),
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: orders has no schema version v9; the catalog has v1, v2\n"
    assert catalog.raw not in topics(stack)
    assert catalog.dlq not in topics(stack)


def test_produce_to_an_unknown_dataset_exits_2(catalog, run):
    result = run("produce", "nope", "-", input=f"{json.dumps(order())}\n".encode())

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: unknown dataset 'nope'; the catalog in avro has orders\n"


def test_produce_accepts_kafka_properties(catalog, run, stack):
    result = run(
        "-X",
        "message.timeout.ms=10000",
        "-X",
        "linger.ms=1",
        "produce",
        "orders",
        "-",
        input=f"{json.dumps(order())}\n{json.dumps(order())}\n".encode(),
    )

    assert result.exit_code == 0, result.output
    assert summary(result) == (2, 0, 0, 0, 2)
    assert len(read_topic(stack.bootstrap_servers, catalog.raw, 2)) == 2


def test_produce_a_malformed_kafka_property_is_a_usage_error(catalog, run):
    result = run("-X", "foo", "produce", "orders", "-", input=b"{}\n")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr)[-1] == (
        "Error: Invalid value for '-X': 'foo': expected key=value, e.g. -X linger.ms=20"
    )


# --- dlq show -----------------------------------------------------------------------------
@pytest.fixture
def dead_letters(catalog, run, tmp_path) -> list[dict[str, Any]]:
    """Three lines produced: one valid, two to the DLQ; their results."""
    invalid_type = order("ORD-BAD", amount="a lot")
    text = f"{json.dumps(order())}\nnot json\n{json.dumps(invalid_type)}\n"
    result = run("produce", "orders", "-", "--results", "results.jsonl", input=text.encode())
    assert result.exit_code == 0, result.output
    assert summary(result) == (1, 2, 0, 0, 3)
    return [r for r in read_results(tmp_path / "results.jsonl") if r["outcome"] == "dlq"]


def test_dlq_show_prints_each_record(catalog, run, dead_letters):
    result = run("dlq", "show", "orders")

    assert result.exit_code == 0, result.output
    not_json, invalid_type = dead_letters
    expected = {
        (
            f"{catalog.dlq} [{r['partition']}] @{r['offset']}\n"
            f"  error:        {r['error']['type']}: {r['error']['message']}\n"
            f"  ingestion_id: {r['ingestion_id']}\n"
            f"  original:     {original}"
        )
        for r, original in (
            (not_json, '"not json"'),
            (invalid_type, json.dumps(order("ORD-BAD", amount="a lot"))),
        )
    }
    assert result.stdout.endswith("\n\n")
    assert set(result.stdout.removesuffix("\n\n").split("\n\n")) == expected
    assert result.stderr == ""


def test_dlq_show_json_prints_the_record_values(catalog, run, dead_letters):
    result = run("dlq", "show", "orders", "--format", "json")

    assert result.exit_code == 0, result.output
    values = [json.loads(line) for line in lines(result.stdout)]
    assert len(values) == 2
    assert {v["metadata"]["ingestion_id"] for v in values} == {
        r["ingestion_id"] for r in dead_letters
    }
    assert {v["error"]["type"] for v in values} == {"invalid_json", "schema_validation"}
    assert all(v["dataset"] == "orders" and v["topic"] == catalog.raw for v in values)


def test_dlq_show_limit(catalog, run, dead_letters):
    text = run("dlq", "show", "orders", "--limit", "1")
    as_json = run("dlq", "show", "orders", "--limit", "1", "--format", "json")

    assert text.exit_code == 0, text.output
    assert len(text.stdout.removesuffix("\n\n").split("\n\n")) == 1
    assert text.stdout.startswith(f"{catalog.dlq} [")
    assert as_json.exit_code == 0, as_json.output
    (value,) = [json.loads(line) for line in lines(as_json.stdout)]
    assert value["metadata"]["ingestion_id"] in {r["ingestion_id"] for r in dead_letters}


def test_dlq_show_an_empty_dlq_prints_nothing(catalog, run):
    register(run)

    result = run("dlq", "show", "orders")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_dlq_show_before_the_topics_exist_is_a_setup_error(catalog, run, stack):
    result = run("dlq", "show", "orders")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: DLQ topic {catalog.dlq} not found on {stack.bootstrap_servers}: has the "
        "dataset been registered (streamlake schemas register)?\n"
    )
