"""The `streamlake` command line: parsing, printing and exit codes only.

Exit codes: 0 success; 1 the work failed (a schema rejected or incompatible, a
line Kafka did not take); 2 usage or configuration errors (bad flags, a bad
schema file, the registry unreachable).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from streamlake import _report
from streamlake.catalog import JSON_ENCODINGS, Catalog, load_catalog
from streamlake.compatibility import check_against, check_catalog, check_registry
from streamlake.config import (
    CONNECT_TIMEOUT_S,
    LIBRDKAFKA_LOG,
    REGISTRY_TIMEOUT_S,
    ProducerConfig,
)
from streamlake.errors import KafkaDeliveryError, StreamLakeError
from streamlake.inventory import inventory, type_inventory
from streamlake.jsonlines import produce_lines
from streamlake.kafka.dlq_reader import read_dlq
from streamlake.kafka.producer.producer import IngestionProducer, ProduceResult
from streamlake.kafka.properties import check_kafka_properties
from streamlake.registry import RegisteredVersion, SchemaRegistry
from streamlake.startup import register_catalog

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2


class Context:
    """What the global options say, turned into library objects on demand.

    The global options are accepted before the subcommand and after it (a
    value given later wins): each command gets the same option objects
    (`GLOBAL_OPTIONS`), whose callbacks record into the one Context."""

    def __init__(self) -> None:
        self.bootstrap_servers: str | None = None
        self.schema_registry_url: str | None = None
        self.schemas_dir = Path("avro")
        self.properties: dict[str, str] = {}
        self.registry_timeout_s = REGISTRY_TIMEOUT_S
        self.connect_timeout_s = CONNECT_TIMEOUT_S

    def catalog(self) -> Catalog:
        return load_catalog(self.schemas_dir)

    def config(self) -> ProducerConfig:
        config = ProducerConfig.from_env(
            bootstrap_servers=self.bootstrap_servers,
            schema_registry_url=self.schema_registry_url,
            schemas_dir=self.schemas_dir,
            kafka=self.properties,
            registry_timeout_s=self.registry_timeout_s,
            connect_timeout_s=self.connect_timeout_s,
        )
        return config

    def check(self) -> None:
        """Refuse bad librdkafka properties before any command runs."""
        check_kafka_properties(ProducerConfig.from_env(kafka=self.properties))

    def registry(self) -> SchemaRegistry:
        """The registry client, once the URL proved to speak the Confluent API."""
        config = self.config()
        registry = SchemaRegistry(config.registry_conf(), timeout_s=config.registry_timeout_s)
        registry.probe()
        return registry


def fail(message: str, code: int) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


@contextlib.contextmanager
def errors_mapped() -> Iterator[None]:
    """StreamLake errors -> a red one-line message and an exit code: Kafka
    delivery failures 1; configuration, catalog, registry and Kafka cluster
    (startup, metadata) errors 2."""
    try:
        yield
    except KafkaDeliveryError as exc:
        fail(exc.message, EXIT_FAILED)
    except StreamLakeError as exc:
        fail(exc.message, EXIT_USAGE)


def parse_property(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    properties = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{value!r}: expected key=value, e.g. -X linger.ms=20")
        properties[name.strip()] = setting
    return properties


def _configure_logging(level: str) -> None:
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level.upper())
    # librdkafka repeats a line per reconnect attempt; what matters reaches the
    # user once, through the producer's error callback or the final error.
    LIBRDKAFKA_LOG.setLevel(logging.NOTSET if level.upper() == "DEBUG" else logging.CRITICAL)


def _record(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record a global option into the Context: every value on the group (its
    default and environment variable included), only values typed on the
    command line after the subcommand, which then win."""
    name = param.name or ""
    if name == "properties":
        value = parse_property(ctx, param, value)
    if ctx.parent is not None and ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
        return
    state = ctx.ensure_object(Context)
    if name == "properties":
        state.properties.update(value)
    elif name == "log_level":
        _configure_logging(value)
    else:
        setattr(state, name, value)


def _global_options() -> list[click.Option]:
    """Fresh option objects for one command (click binds each to its command)."""
    common: dict[str, Any] = {"expose_value": False, "callback": _record}
    return [
        click.Option(
            ["--bootstrap-servers"],
            envvar="STREAMLAKE_BOOTSTRAP_SERVERS",
            metavar="HOST:PORT[,...]",
            help="Kafka brokers. [env: STREAMLAKE_BOOTSTRAP_SERVERS]",
            **common,
        ),
        click.Option(
            ["--schema-registry-url"],
            envvar="STREAMLAKE_SCHEMA_REGISTRY_URL",
            metavar="URL",
            help="Confluent-API schema registry. [env: STREAMLAKE_SCHEMA_REGISTRY_URL]",
            **common,
        ),
        click.Option(
            ["--schemas-dir"],
            envvar="STREAMLAKE_SCHEMAS_DIR",
            type=click.Path(path_type=Path),
            default=Path("avro"),
            help="The schema catalog. [env: STREAMLAKE_SCHEMAS_DIR]",
            **common,
        ),
        click.Option(
            ["--log-level"],
            type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
            default="WARNING",
            **common,
        ),
        click.Option(
            ["--registry-timeout", "registry_timeout_s"],
            type=click.FloatRange(min=0),
            default=REGISTRY_TIMEOUT_S,
            metavar="SECONDS",
            help="How long to retry an unreachable registry before giving up.",
            **common,
        ),
        click.Option(
            ["--connect-timeout", "connect_timeout_s"],
            type=click.FloatRange(min=0),
            default=CONNECT_TIMEOUT_S,
            metavar="SECONDS",
            help="How long to wait for Kafka brokers that do not answer before giving up.",
            **common,
        ),
        click.Option(
            ["-X", "properties"],
            multiple=True,
            metavar="KEY=VALUE",
            help="A librdkafka property, e.g. -X sasl.mechanism=SCRAM-SHA-256 (repeatable).",
            **common,
        ),
    ]


class _Group(click.Group):
    """A group whose every command and subgroup also takes the global options."""

    group_class = type

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(_global_options())
        super().add_command(cmd, name)


@click.group(
    cls=_Group,
    params=_global_options(),
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(package_name="streamlake", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """StreamLake: JSON events in, schema-checked Avro records in Kafka out.

    Global options go before or after the subcommand (a later value wins;
    flags win over the environment).

    \b
    Example:
      export STREAMLAKE_BOOTSTRAP_SERVERS=127.0.0.1:9092
      export STREAMLAKE_SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7
      streamlake schemas register
      streamlake produce orders events.jsonl
    """
    ctx.ensure_object(Context)


def pass_context(command: F) -> F:
    """Pass the Context, once every global option is recorded and checked."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        state = click.get_current_context().ensure_object(Context)
        with errors_mapped():
            state.check()
        return command(state, *args, **kwargs)

    return run  # type: ignore[return-value]


# --- schemas -------------------------------------------------------------------
@main.group()
def schemas() -> None:
    """Register, list and check the Avro schemas under --schemas-dir.

    \b
    Example:
      streamlake schemas check --against origin/main --format github
    """


@schemas.command("list")
@pass_context
def schemas_list(ctx: Context) -> None:
    """Datasets, versions, keys, levels and topics; with a registry, ids and drift.

    \b
    Example:
      streamlake schemas list
    """
    with errors_mapped():
        catalog = ctx.catalog()
        registry = ctx.registry() if ctx.schema_registry_url else None
        statuses = inventory(catalog, registry) if registry else None
        types = type_inventory(catalog, registry) if registry else None
    for named in catalog.types.values():
        users = ", ".join(d.name for d in catalog.users(named.name)) or "no dataset"
        click.echo(f"{named.name}: shared type subject={named.name} used by {users}")
        line = f"  {named.path}"
        held = next((t.registered for t in types or () if t.type is named), None)
        if types is not None:
            line += _registered(held)
        click.echo(line)
    for dataset in catalog.values():
        click.echo(
            f"{dataset.name}: key={dataset.key_field} compatibility={dataset.compatibility} "
            f"partitions={dataset.partitions} raw={dataset.raw_topic} dlq={dataset.dlq_topic} "
            f"subject={dataset.value_subject}"
        )
        status = next((s for s in statuses or () if s.dataset is dataset), None)
        for i, version in enumerate(dataset.versions):
            line = f"  {version.label}  {version.path}"
            if version.references:
                line += f"  uses {', '.join(version.references)}"
            if status is not None:
                line += _registered(status.versions[i].registered)
            click.echo(line)
        if status is not None:
            for extra in status.unknown_registered:
                click.echo(
                    f"  DRIFT: registry version {extra.version} (id {extra.schema_id}) "
                    "is in no file of the catalog"
                )
            if status.registry_level and status.registry_level != dataset.compatibility:
                click.echo(f"  DRIFT: registry compatibility is {status.registry_level}")


def _registered(registered: RegisteredVersion | None) -> str:
    if registered is None:
        return "  NOT REGISTERED"
    return f"  registered as version {registered.version}, id {registered.schema_id}"


@schemas.command("register")
@click.argument("datasets", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Only check compatibility; register nothing.")
@pass_context
def schemas_register(ctx: Context, datasets: tuple[str, ...], dry_run: bool) -> None:
    """Create topics, set compatibility levels and register every version.

    Exit 1 if the registry rejected any version.

    \b
    Example:
      streamlake schemas register orders --dry-run
    """
    with errors_mapped():
        catalog = ctx.catalog()
        registrations = register_catalog(ctx.config(), catalog, datasets=datasets, dry_run=dry_run)
    rows = [("SUBJECT", "VERSION", "SCHEMA ID", "STATUS")]
    shared = {t.subject: t for r in registrations for t in r.references}
    for t in shared.values():
        if dry_run:
            state = "would register" if t.new else "existing"
        else:
            state = "new" if t.new else "existing"
        rows.append((t.subject, "shared", str(t.schema_id or "-"), state))
    for r in registrations:
        if r.error is not None:
            status = "REJECTED"
        elif dry_run:
            status = "would register" if r.new else "existing"
        else:
            status = "new" if r.new else "existing"
        schema_id = str(r.schema_id) if r.schema_id is not None else "-"
        rows.append((r.subject, r.version.label, schema_id, status))
    click.echo(_table(rows))
    rejected = [r.error for r in registrations if r.error is not None]
    for error in rejected:
        click.secho(f"rejected: {error}", fg="red", err=True)
    if rejected:
        sys.exit(EXIT_FAILED)


@schemas.command("check")
@click.option("--offline", is_flag=True, help="Check the catalog alone, without the registry.")
@click.option("--against", "ref", metavar="REF", help="Compare avro/ with a git ref.")
@click.option(
    "--format", "fmt", type=click.Choice(_report.FORMATS), default="text", help="Report format."
)
@pass_context
def schemas_check(ctx: Context, offline: bool, ref: str | None, fmt: str) -> None:
    """The CI gate: exit 1 when a schema change would break readers.

    Always checks each dataset's versions against its compatibility level;
    with a registry URL (and without --offline) also asks the registry about
    versions it does not have yet; with --against, also checks that released
    versions (those at REF) did not change or disappear.

    \b
    Example (a GitHub Actions step):
      streamlake schemas check --offline --against origin/main --format github
    """
    with errors_mapped():
        catalog = ctx.catalog()
        # check_against includes the catalog's own checks for new versions.
        problems = check_against(catalog, ref) if ref else check_catalog(catalog)
        if ctx.schema_registry_url and not offline:
            problems += check_registry(catalog, ctx.registry())
    # The registry's verdict, explained locally, may repeat an offline finding.
    problems = list(dict.fromkeys(problems))
    report = _report.render(problems, list(catalog), fmt)
    if report:
        click.echo(report)
    if fmt != "text":
        click.echo(_report.summary(problems, list(catalog)), err=True)
    sys.exit(EXIT_FAILED if problems else 0)


# --- produce -------------------------------------------------------------------
@main.command()
@click.argument("dataset")
@click.argument("file", type=click.File("rb"), default="-")
@click.option(
    "--schema-version", type=click.IntRange(min=1), help="Pin a version (default: latest)."
)
@click.option(
    "--json-encoding",
    type=click.Choice(JSON_ENCODINGS),
    help="The lines' JSON dialect (default: the dataset's json_encoding).",
)
@click.option(
    "--results",
    type=click.File("w"),
    help="Write one JSON line per input line: line, outcome, topic, partition, offset, ...",
)
@pass_context
def produce(
    ctx: Context,
    dataset: str,
    file: IO[bytes],
    schema_version: int | None,
    json_encoding: str | None,
    results: IO[str] | None,
) -> None:
    """Produce one JSON event per line of FILE (or stdin) to DATASET's raw topic.

    Invalid lines go to the DLQ; exit 0 when Kafka acknowledged every line (raw
    or DLQ), 1 when any line could not be written. On a Kafka failure or
    SIGTERM/SIGINT, reading stops and what is in flight is settled.

    \b
    Example:
      streamlake produce orders events.jsonl --results results.jsonl
    """
    stop = threading.Event()
    with errors_mapped():
        catalog = ctx.catalog()
        if dataset not in catalog:
            fail(
                f"unknown dataset {dataset!r}; the catalog in {catalog.root} has "
                f"{', '.join(catalog)}",
                EXIT_USAGE,
            )
        catalog[dataset].pinned(schema_version)
        producer = IngestionProducer(ctx.config(), catalog=catalog)
    write = _result_writer(results) if results else None
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        with errors_mapped(), _progress(file) as lines:
            summary = produce_lines(
                producer,
                dataset,
                lines,
                version=schema_version,
                json_encoding=json_encoding,
                on_result=write,
                stop=stop,
            )
    finally:
        left = producer.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(
        f"produced={summary.produced} dlq={summary.dlq} failed={summary.failed} "
        f"blank={summary.blank} lines={summary.last_line} "
        f"elapsed={summary.elapsed_s:.2f}s rate={summary.rate:,.0f}/s"
    )
    if summary.unsettled:
        if results:
            for line in summary.unsettled:
                results.write(json.dumps(_unknown_result(line, summary.stopped_by)) + "\n")
        click.secho(
            f"stopped at line {summary.last_line}: {summary.stopped_by}. "
            f"{_in_flight(summary.unsettled)} in flight: flushed, but with an unknown "
            "outcome" + (' (outcome "unknown" in --results)' if results else ""),
            fg="red",
            err=True,
        )
    elif not summary.complete:
        click.secho(
            f"stopped after line {summary.last_line} ({summary.stopped_by}): "
            "later lines were not attempted",
            fg="yellow",
            err=True,
        )
    if left:
        click.secho(f"{left} record(s) were not acknowledged at shutdown", fg="red", err=True)
    failed = summary.failed or left or summary.unsettled or summary.stopped_by_error
    sys.exit(EXIT_FAILED if failed else 0)


def _unknown_result(line: int, reason: str | None) -> dict[str, object]:
    return {
        "line": line,
        "outcome": "unknown",
        "error": {"type": "internal", "message": f"in flight when StreamLake stopped: {reason}"},
    }


def _in_flight(numbers: Sequence[int]) -> str:
    """``Line 7 was``, ``Lines 4-6, 9 were``: consecutive numbers as ranges."""
    if len(numbers) == 1:
        return f"Line {numbers[0]} was"
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][-1] + 1:
            spans[-1][1:] = [number]
        else:
            spans.append([number])
    return f"Lines {', '.join('-'.join(map(str, span)) for span in spans)} were"


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def _progress(file: IO[bytes]) -> Iterator[Iterator[bytes]]:
    """The file's lines, with a progress bar when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield iter(file)
        return
    with click.progressbar(file, label="producing", file=sys.stderr) as bar:
        yield iter(bar)


def _result_writer(out: IO[str]) -> Callable[[int, ProduceResult], None]:
    def write(line: int, result: ProduceResult) -> None:
        record: dict[str, object] = {
            "line": line,
            "outcome": str(result.outcome),
            "topic": result.topic,
            "partition": result.partition,
            "offset": result.offset,
            "ingestion_id": result.ingestion_id,
        }
        if result.error is not None:
            record["error"] = {
                "type": str(getattr(result.error, "error_type", "") or "kafka"),
                "message": result.error.message,
                "code": getattr(result.error, "code", None),
            }
        out.write(json.dumps(record) + "\n")

    return write


# --- serve ---------------------------------------------------------------------
@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML file: API keys, limits, per-dataset idempotency fields.",
)
@click.option(
    "--host", metavar="ADDRESS", help="Bind address (127.0.0.1). [env: STREAMLAKE_HTTP_HOST]"
)
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Port (8080). [env: STREAMLAKE_HTTP_PORT]"
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes, one producer each (1). [env: STREAMLAKE_HTTP_WORKERS]",
)
@click.option(
    "--insecure",
    is_flag=True,
    default=None,
    help="Allow a non-loopback address without API keys. [env: STREAMLAKE_HTTP_INSECURE]",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="text, or one JSON object per line (text). [env: STREAMLAKE_HTTP_LOG_FORMAT]",
)
@click.option("--ssl-certfile", metavar="PEM", help="TLS certificate (with --ssl-keyfile).")
@click.option("--ssl-keyfile", metavar="PEM", help="TLS private key.")
@pass_context
def serve(ctx: Context, /, config_file: Path | None, **flags: Any) -> None:
    """Serve the HTTP ingestion API (see README: `streamlake serve`).

    Settings: flags > STREAMLAKE_HTTP_* variables > --config file > defaults.

    \b
    Example:
      streamlake serve --port 8080 --config streamlake.toml
    """
    from streamlake.http import server
    from streamlake.http.settings import load_settings

    log_level = logging.getLevelName(logging.getLogger().level)
    with errors_mapped():
        settings = load_settings(ctx.config(), config_file=config_file, flags=flags)
        server.configure_logging(settings, log_level)
        catalog = ctx.catalog()
        registrations = register_catalog(settings.producer, catalog, registry=ctx.registry())
    server.serve(settings, catalog=catalog, registrations=registrations, log_level=log_level)


# --- dlq -----------------------------------------------------------------------
@main.group()
def dlq() -> None:
    """Inspect dead-letter topics (read only).

    \b
    Example:
      streamlake dlq show orders --limit 5 --format json
    """


@dlq.command("show")
@click.argument("dataset")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N records.")
@click.option("--follow", is_flag=True, help="Keep waiting for new records.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_context
def dlq_show(ctx: Context, dataset: str, limit: int | None, follow: bool, fmt: str) -> None:
    """Print DATASET's dead-letter records from the beginning.

    \b
    Example:
      streamlake dlq show orders --limit 10
    """
    with errors_mapped():
        catalog = ctx.catalog()
        if dataset not in catalog:
            fail(f"unknown dataset {dataset!r}; the catalog has {', '.join(catalog)}", EXIT_USAGE)
        topic = catalog[dataset].dlq_topic
        for record in read_dlq(ctx.config(), topic, limit=limit, follow=follow):
            if fmt == "json":
                click.echo(record.value.decode(errors="replace"))
                continue
            body = record.body
            error = body.get("error") or {}
            click.echo(
                f"{topic} [{record.partition}] @{record.offset}\n"
                f"  error:        {error.get('type')}: {error.get('message')}\n"
                f"  ingestion_id: {record.headers.get('ingestion_id')}\n"
                f"  original:     {json.dumps(body.get('original'), ensure_ascii=False)}\n"
            )


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
