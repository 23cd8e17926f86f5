"""The `streamlake` CLI where no server is needed: help texts, flag parsing,
the offline schema gate on temporary catalogs, and configuration errors that
are reported before anything is contacted.

Every test runs in its own tmp_path (the working directory), with the catalog
at ./avro, so paths in the output are the relative ones CI would show.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import click
import pytest

from streamlake import cli
from streamlake.cli import main
from streamlake.kafka.producer.producer import Outcome, ProduceResult
from tests.clihelpers import (
    ORDERS_V1,
    ORDERS_V2,
    ORDERS_V3_AMOUNT_STRING,
    V3_PROBLEM,
    git,
    git_env,
    invoke,
    lines,
    write_catalog,
)

UNREACHABLE_REGISTRY = "http://127.0.0.1:1/apis/ccompat/v7"
OK = "OK: 1 dataset checked, no problems"
SEE_LIBRDKAFKA = "; see librdkafka's CONFIGURATION.md for the property names and values"
ONE_PROBLEM = "1 problem in 1 of 1 dataset"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def avro(tmp_path: Path) -> Path:
    """A good catalog: orders v1, v2 (BACKWARD), default topics."""
    write_catalog(tmp_path / "avro")
    return tmp_path / "avro"


@pytest.fixture
def bad_v3(avro: Path) -> Path:
    """The catalog with a v3 that retypes amount from double to string."""
    (avro / "orders" / "v3.avsc").write_text(json.dumps(ORDERS_V3_AMOUNT_STRING, indent=2))
    return avro


def check(*args: str) -> tuple[int, str, str]:
    result = invoke(["--schemas-dir", "avro", "schemas", "check", *args])
    return result.exit_code, result.stdout, result.stderr


# --- help --------------------------------------------------------------------------
def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            paths += _command_paths(sub, (*path, name))
    return paths


COMMAND_PATHS = _command_paths(main)


def test_every_command_is_listed_for_the_help_checks():
    assert set(COMMAND_PATHS) >= {
        (),
        ("schemas",),
        ("schemas", "list"),
        ("schemas", "register"),
        ("schemas", "check"),
        ("produce",),
        ("dlq",),
        ("dlq", "show"),
    }


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "streamlake")
def test_help_of_every_command_and_group_shows_an_example(path):
    result = invoke([*path, "--help"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: streamlake {' '.join(path)}".rstrip())
    assert "Example" in result.stdout, f"`streamlake {' '.join(path)} --help` has no example"


def test_short_help_flag_works_too():
    result = invoke(["-h"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: streamlake [OPTIONS] COMMAND [ARGS]...")


# --- -X ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["foo", "=bar", ""])
def test_a_malformed_kafka_property_is_a_usage_error(avro, value):
    result = invoke(["--schemas-dir", "avro", "-X", value, "schemas", "list"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr)[-1] == (
        f"Error: Invalid value for '-X': {value!r}: expected key=value, e.g. -X linger.ms=20"
    )


def test_well_formed_kafka_properties_are_accepted(avro):
    result = invoke(
        ["--schemas-dir", "avro", "-X", "linger.ms=1", "-X", "client.id=a=b", "schemas", "list"]
    )
    assert result.exit_code == 0, result.output


# --- schemas list, offline ---------------------------------------------------------------
def test_schemas_list_without_registry_shows_datasets_versions_keys_levels_topics(tmp_path):
    write_catalog(tmp_path / "avro")
    write_catalog(
        tmp_path / "avro",
        {"type": "record", "name": "Customer", "fields": [{"name": "id", "type": "long"}]},
        dataset="customers",
        key_field="id",
        compatibility="FULL",
        partitions=6,
        raw_topic="crm.customers",
        dlq_topic="crm.customers.dlq",
    )

    result = invoke(["--schemas-dir", "avro", "schemas", "list"])

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        "customers: key=id compatibility=FULL partitions=6 raw=crm.customers "
        "dlq=crm.customers.dlq subject=crm.customers-value",
        "  v1  avro/customers/v1.avsc",
        "orders: key=order_id compatibility=BACKWARD partitions=3 raw=raw.orders "
        "dlq=dlq.orders subject=raw.orders-value",
        "  v1  avro/orders/v1.avsc",
        "  v2  avro/orders/v2.avsc",
    ]
    assert result.stderr == ""


def test_schemas_dir_comes_from_the_environment_and_the_flag_wins(tmp_path, avro):
    write_catalog(tmp_path / "other", dataset="payments", key_field="order_id")

    from_env = invoke(["schemas", "list"], env={"STREAMLAKE_SCHEMAS_DIR": "other"})
    flag_wins = invoke(
        ["--schemas-dir", "avro", "schemas", "list"], env={"STREAMLAKE_SCHEMAS_DIR": "other"}
    )

    assert from_env.exit_code == 0, from_env.output
    assert lines(from_env.stdout)[0].startswith("payments: key=order_id ")
    assert flag_wins.exit_code == 0, flag_wins.output
    assert lines(flag_wins.stdout)[0].startswith("orders: key=order_id ")


def test_a_missing_schemas_dir_is_a_configuration_error():
    result = invoke(["--schemas-dir", "nowhere", "schemas", "list"])

    assert result.exit_code == 2
    assert result.stderr == "error: nowhere: schemas directory not found (set --schemas-dir)\n"


# --- schemas check, offline ------------------------------------------------------------
def test_check_passes_a_good_catalog(avro):
    assert check("--offline") == (0, f"{OK}\n", "")


def test_check_without_a_registry_url_is_offline(avro):
    assert check() == (0, f"{OK}\n", "")


def test_check_fails_an_incompatible_version_with_the_exact_problem_line(bad_v3):
    assert check("--offline") == (1, f"{V3_PROBLEM}\n{ONE_PROBLEM}\n", "")


def test_check_json_lists_every_field_of_the_problem(bad_v3):
    code, stdout, stderr = check("--offline", "--format", "json")

    assert code == 1
    assert json.loads(stdout) == [
        {
            "path": "avro/orders/v3.avsc",
            "dataset": "orders",
            "rule": "BACKWARD",
            "reader": "v3",
            "writer": "v2",
            "field": "amount",
            "detail": "type double -> string",
            "message": V3_PROBLEM,
        }
    ]
    assert stderr == f"{ONE_PROBLEM}\n"


def test_check_json_of_a_good_catalog_is_an_empty_list(avro):
    code, stdout, stderr = check("--offline", "--format", "json")
    assert (code, json.loads(stdout), stderr) == (0, [], f"{OK}\n")


def test_check_github_annotates_the_file(bad_v3):
    assert check("--offline", "--format", "github") == (
        1,
        f"::error file=avro/orders/v3.avsc,title=BACKWARD::{V3_PROBLEM}\n",
        f"{ONE_PROBLEM}\n",
    )


def test_check_github_prints_nothing_for_a_good_catalog(avro):
    assert check("--offline", "--format", "github") == (0, "", f"{OK}\n")


def test_check_junit_has_one_failing_testcase(bad_v3):
    code, stdout, stderr = check("--offline", "--format", "junit")

    assert code == 1
    root = ET.fromstring(stdout)
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "1", "1")
    (case,) = root.iter("testcase")
    assert case.get("name") == "orders"
    (failure,) = case.iter("failure")
    assert failure.get("type") == "BACKWARD"
    assert failure.get("message") == V3_PROBLEM
    assert failure.text == V3_PROBLEM
    assert stderr == f"{ONE_PROBLEM}\n"


def test_check_junit_of_a_good_catalog_has_no_failure(avro):
    code, stdout, _ = check("--offline", "--format", "junit")

    root = ET.fromstring(stdout)
    assert code == 0
    assert root.get("failures") == "0"
    assert [case.get("name") for case in root.iter("testcase")] == ["orders"]
    assert list(root.iter("failure")) == []


def test_check_an_unknown_format_is_a_usage_error(avro):
    code, stdout, stderr = check("--format", "xml")
    assert code == 2
    assert stdout == ""
    assert "Invalid value for '--format': 'xml' is not one of" in stderr


def test_check_a_bad_schema_file_exits_2_naming_the_file(avro):
    bad_type = {**ORDERS_V2, "fields": [{"name": "order_id", "type": "strang"}]}
    (avro / "orders" / "v2.avsc").write_text(json.dumps(bad_type))

    code, stdout, stderr = check("--offline")

    assert code == 2
    assert stdout == ""
    assert stderr.startswith("error: avro/orders/v2.avsc: not a valid Avro schema: ")
    assert len(lines(stderr)) == 1


def test_check_a_schema_file_that_is_not_json_exits_2_naming_the_file(avro):
    (avro / "orders" / "v2.avsc").write_text("{not json")

    code, stdout, stderr = check("--offline")

    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: avro/orders/v2.avsc: not valid JSON: ")


# --- schemas check --against ---------------------------------------------------------------
@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as a git repository whose main branch released orders v1, v2."""
    git_env(monkeypatch, tmp_path.parent)
    git(tmp_path, "init", "-q", "-b", "main")
    write_catalog(tmp_path / "avro")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "release orders v1, v2")
    return tmp_path / "avro"


def test_check_against_an_unchanged_release_passes(released):
    assert check("--offline", "--against", "main") == (0, f"{OK}\n", "")


def test_check_against_fails_a_changed_released_version(released):
    changed = {**ORDERS_V1, "doc": "amounts are in cents now"}
    (released / "orders" / "v1.avsc").write_text(json.dumps(changed))

    assert check("--offline", "--against", "main") == (
        1,
        "avro/orders/v1.avsc: CHANGED_AFTER_RELEASE: v1 differs from the one released at main; "
        "released versions are immutable: revert it and add v3.avsc instead\n"
        f"{ONE_PROBLEM}\n",
        "",
    )


def test_check_against_fails_a_removed_released_version(released):
    (released / "orders" / "v2.avsc").unlink()

    assert check("--offline", "--against", "main") == (
        1,
        "avro/orders/v2.avsc: VERSION_REMOVED: v2 is released at main; released versions "
        f"must stay\n{ONE_PROBLEM}\n",
        "",
    )


def test_check_against_also_checks_new_versions(released):
    (released / "orders" / "v3.avsc").write_text(json.dumps(ORDERS_V3_AMOUNT_STRING))
    assert check("--offline", "--against", "main") == (1, f"{V3_PROBLEM}\n{ONE_PROBLEM}\n", "")


def test_check_against_an_unknown_ref_exits_2(released):
    code, stdout, stderr = check("--offline", "--against", "origin/main")

    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: unknown git ref 'origin/main': fetch it first")


# --- configuration errors before anything is contacted -------------------------------------
def test_produce_without_bootstrap_servers_exits_2_naming_the_variable(avro, tmp_path):
    (tmp_path / "events.jsonl").write_text("{}\n")

    result = invoke(
        [
            "--schema-registry-url",
            UNREACHABLE_REGISTRY,
            "--schemas-dir",
            "avro",
            "produce",
            "orders",
            "events.jsonl",
        ]
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: no Kafka bootstrap servers: set STREAMLAKE_BOOTSTRAP_SERVERS or "
        "--bootstrap-servers (e.g. 127.0.0.1:9092)\n"
    )


def test_produce_with_no_broker_answering_warns_once_and_exits_2_after_the_connect_timeout(
    avro, tmp_path, caplog, capfd
):
    (tmp_path / "events.jsonl").write_text("{}\n")

    result = invoke(
        [
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--schema-registry-url",
            UNREACHABLE_REGISTRY,
            "--schemas-dir",
            "avro",
            "produce",
            "orders",
            "events.jsonl",
            "--connect-timeout",
            "3",
        ]
    )

    assert result.exit_code == 2
    assert result.stderr.startswith("error: Kafka: could not list topics within 3s: ")
    assert (
        "Check that the brokers in STREAMLAKE_BOOTSTRAP_SERVERS / --bootstrap-servers answer "
        "(--connect-timeout: how long to wait)"
    ) in result.stderr
    warnings = [r.getMessage() for r in caplog.records if r.name == "streamlake.kafka.topics"]
    assert len(warnings) == 1
    assert warnings[0].startswith("Kafka does not answer yet (")
    assert warnings[0].endswith("); retrying for up to 3 s")
    # librdkafka writes "%3|<time>|FAIL|..." to fd 2 unless given a logger.
    assert "|FAIL|" not in capfd.readouterr().err


def test_register_without_a_registry_url_exits_2_naming_the_variable(avro):
    result = invoke(["--schemas-dir", "avro", "schemas", "register"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: no schema registry URL: set STREAMLAKE_SCHEMA_REGISTRY_URL or "
        "--schema-registry-url (e.g. http://127.0.0.1:8081)\n"
    )


def test_register_an_unknown_dataset_exits_2(avro):
    result = invoke(
        [
            "--schema-registry-url",
            UNREACHABLE_REGISTRY,
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--schemas-dir",
            "avro",
            "schemas",
            "register",
            "orders",
            "nope",
        ]
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: unknown dataset(s) nope; the catalog in avro has orders\n"


def test_dlq_show_an_unknown_dataset_exits_2(avro):
    result = invoke(
        ["--bootstrap-servers", "127.0.0.1:1", "--schemas-dir", "avro", "dlq", "show", "nope"]
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: unknown dataset 'nope'; the catalog has orders\n"


def test_dlq_show_without_bootstrap_servers_exits_2_naming_the_variable(avro):
    result = invoke(["--schemas-dir", "avro", "dlq", "show", "orders"])

    assert result.exit_code == 2
    assert "STREAMLAKE_BOOTSTRAP_SERVERS" in result.stderr


@pytest.mark.parametrize("version", ["0", "x"])
def test_produce_rejects_a_bad_schema_version(avro, tmp_path, version):
    (tmp_path / "events.jsonl").write_text("{}\n")

    result = invoke(
        ["--schemas-dir", "avro", "produce", "orders", "events.jsonl", "--schema-version", version]
    )

    assert result.exit_code == 2
    assert "Invalid value for '--schema-version'" in result.stderr


# --- global options anywhere, one line per configuration mistake -----------------------------
def test_global_options_are_accepted_after_the_subcommand(avro, tmp_path):
    # Issue 14: "No such option" without a hint.
    write_catalog(tmp_path / "other", dataset="payments")

    after = invoke(["schemas", "check", "--schemas-dir", "avro", "--offline"])
    later_wins = invoke(["--schemas-dir", "avro", "schemas", "list", "--schemas-dir", "other"])
    on_the_group = invoke(["schemas", "--schemas-dir", "other", "list"])

    assert (after.exit_code, after.stdout) == (0, f"{OK}\n")
    assert later_wins.exit_code == 0, later_wins.output
    assert lines(later_wins.stdout)[0].startswith("payments: ")
    assert lines(on_the_group.stdout)[0].startswith("payments: ")


def test_kafka_properties_before_and_after_the_subcommand_are_merged(avro, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "check_kafka_properties", lambda config: seen.append(config.kafka))

    result = invoke(["-X", "linger.ms=1", "schemas", "list", "-X", "acks=all", "-X", "linger.ms=2"])

    assert result.exit_code == 0, result.output
    assert seen == [{"linger.ms": "2", "acks": "all"}]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["-X", "linger.mss=10"],
            {},
            "invalid Kafka configuration (-X or STREAMLAKE_KAFKA_*): No such configuration "
            f'property: "linger.mss"{SEE_LIBRDKAFKA}',
        ),
        (
            ["-X", "acks=0"],
            {},
            "invalid Kafka configuration (-X or STREAMLAKE_KAFKA_*): Failed to create producer: "
            f"`acks` must be set to `all` when `enable.idempotence` is true{SEE_LIBRDKAFKA}",
        ),
        (
            [],
            {"STREAMLAKE_KAFKA_LINGER_MS": "soon"},
            "invalid Kafka configuration (-X or STREAMLAKE_KAFKA_*): Invalid value for "
            f'configuration property "queue.buffering.max.ms"{SEE_LIBRDKAFKA}',
        ),
        (
            ["--schema-registry-url", "127.0.0.1:8081"],
            {},
            "schema registry URL '127.0.0.1:8081' is not an http(s) URL: expected e.g. "
            "http://127.0.0.1:8081 (Confluent) or http://127.0.0.1:8080/apis/ccompat/v7 (Apicurio)",
        ),
        (
            ["--schema-registry-url", "http://127.0.0.1:1"],
            {"STREAMLAKE_REGISTRY_BASIC_AUTH_USR_INFO": "u:p"},
            "schema registry client configuration (STREAMLAKE_REGISTRY_*, "
            "--schema-registry-url): Unrecognized properties: basic.auth.usr.info",
        ),
    ],
    ids=[
        "unknown-property",
        "conflicting-property",
        "invalid-value",
        "url-scheme",
        "registry-prop",
    ],
)
@pytest.mark.parametrize("command", [["schemas", "list"], ["schemas", "register"]])
def test_each_configuration_mistake_is_one_line_and_exit_2(avro, command, args, env, message):
    result = invoke([*command, "--bootstrap-servers", "127.0.0.1:1", *args], env=env)

    assert (result.exit_code, result.stdout) == (2, "")
    assert lines(result.stderr) == [f"error: {message}"]
    assert "Traceback" not in result.stderr


def test_version_prints_the_installed_version():
    result = invoke(["--version"])
    assert (result.exit_code, result.stdout) == (
        0,
        f"streamlake {metadata.version('streamlake')}\n",
    )


# --- produce, with the producer replaced: what the CLI does with what it gets -------------
class FakeProducer:
    """Stands in for IngestionProducer: records what the CLI asks of it and
    answers each line as produced, or raises `fail_at` once it reads that line."""

    instances: ClassVar[list[FakeProducer]] = []

    def __init__(self, config, *, catalog=None):
        self.calls: list[dict] = []
        self.closed = False
        self.fail_at: int | None = None
        FakeProducer.instances.append(self)

    def produce_many(self, dataset, events, **options):
        self.calls.append(options)
        pending = []
        for number, _ in enumerate(events, start=1):
            if number == self.fail_at:
                raise RuntimeError("injected")
            pending.append(number)
            if len(pending) == 3:  # results come back in batches, as librdkafka's do
                for offset in pending:
                    yield ProduceResult(
                        outcome=Outcome.PRODUCED,
                        dataset=dataset,
                        topic="raw.orders",
                        partition=0,
                        offset=offset,
                        ingestion_id=f"id-{offset}",
                        schema_id=1,
                        schema_version="v2",
                    )
                pending.clear()

    def close(self, timeout=30.0):
        self.closed = True
        return 0


@pytest.fixture
def fake_producer(monkeypatch):
    FakeProducer.instances.clear()
    monkeypatch.setattr(cli, "IngestionProducer", FakeProducer)
    return FakeProducer


def produce_args(*extra: str) -> list[str]:
    return ["produce", "orders", "events.jsonl", "--bootstrap-servers", "127.0.0.1:1", *extra]


@pytest.mark.parametrize(("flag", "passed"), [([], None), (["--json-encoding", "avro"], "avro")])
def test_produce_passes_the_chosen_json_encoding_to_the_producer(
    avro, tmp_path, fake_producer, flag, passed
):
    (tmp_path / "events.jsonl").write_text("{}\n{}\n")

    result = invoke(produce_args(*flag))

    assert result.exit_code == 0, result.output
    (producer,) = fake_producer.instances
    assert producer.calls == [{"version": None, "json_encoding": passed, "stop_on_failure": True}]


def test_produce_refuses_an_unknown_json_encoding(avro, tmp_path, fake_producer):
    (tmp_path / "events.jsonl").write_text("{}\n")
    result = invoke(produce_args("--json-encoding", "yaml"))
    assert result.exit_code == 2
    assert "Invalid value for '--json-encoding': 'yaml' is not one of 'natural', 'avro'" in (
        result.stderr
    )


def test_an_unexpected_error_while_producing_is_reported_with_the_lines_in_flight(
    avro, tmp_path, fake_producer, monkeypatch
):
    # Issue 10: a bare exception out of produce() ended the CLI on a
    # traceback, with most acknowledged results missing from --results.
    monkeypatch.setattr(FakeProducer, "__init__", _failing_at(5))
    (tmp_path / "events.jsonl").write_text("{}\n" * 8)

    result = invoke(produce_args("--results", "results.jsonl"))

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert lines(result.stderr) == [
        "stopped at line 5: unexpected error: RuntimeError: injected. Lines 4-5 were in "
        'flight: flushed, but with an unknown outcome (outcome "unknown" in --results)'
    ]
    written = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["line"], r["outcome"]) for r in written] == [
        (1, "produced"),
        (2, "produced"),
        (3, "produced"),
        (4, "unknown"),
        (5, "unknown"),
    ]
    assert FakeProducer.instances[-1].closed


def _failing_at(line: int):
    original = FakeProducer.__init__

    def init(self, config, *, catalog=None):
        original(self, config, catalog=catalog)
        self.fail_at = line

    return init


def test_dlq_show_with_no_broker_answering_exits_2_after_the_connect_timeout(avro):
    result = invoke(
        [
            "dlq",
            "show",
            "orders",
            "--schemas-dir",
            "avro",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--connect-timeout",
            "1",
        ]
    )

    assert (result.exit_code, result.stdout) == (2, "")
    assert lines(result.stderr) == [
        "error: Kafka at 127.0.0.1:1 did not answer within 1s: Failed to get metadata: Local: "
        "Broker transport failure (_TRANSPORT). Check that the brokers run and "
        "STREAMLAKE_BOOTSTRAP_SERVERS / --bootstrap-servers names them"
    ]


# --- the registry probe, against a web server that is not a registry -------------------------
class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # its request log would land in the CLI's stderr
        pass


@pytest.fixture
def web_server(tmp_path):
    """Python's own file server on a free port, serving tmp_path/site: a real
    HTTP server that does not speak the Confluent API."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(_QuietFiles, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("subjects", "answer"),
    [
        (None, "HTTP 404 (text/html)"),
        ("<html><body>Welcome</body></html>", "HTTP 200 (application/octet-stream)"),
        ('{"subjects": []}', "HTTP 200 (application/octet-stream)"),
    ],
    ids=["html-404", "not-json", "json-but-not-a-list"],
)
def test_check_against_a_url_that_is_not_a_registry_exits_2(avro, web_server, subjects, answer):
    site, url = web_server
    if subjects is not None:
        (site / "subjects").write_text(subjects)

    code, stdout, stderr = check("--schema-registry-url", url)

    assert (code, stdout) == (2, "")
    assert lines(stderr) == [
        f"error: {url} does not answer the Confluent Schema Registry API: GET {url}/subjects "
        f"gave {answer}, not a JSON list of subjects; a Confluent-API URL is the registry's "
        "base URL, e.g. http://127.0.0.1:8081 for Confluent Schema Registry or "
        "http://127.0.0.1:8080/apis/ccompat/v7 for Apicurio"
    ]
