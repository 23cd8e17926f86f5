"""The HTTP service's settings: flags > STREAMLAKE_HTTP_* variables > TOML > defaults.

Kafka and registry settings are the CLI's own (``--bootstrap-servers`` or
STREAMLAKE_BOOTSTRAP_SERVERS, ..., ``-X`` or STREAMLAKE_KAFKA_*), resolved into
a `ProducerConfig` the same way as for every command. What does not fit in a
variable lives in the optional TOML file (``streamlake serve --config``)::

    [serve]                         # each key also STREAMLAKE_HTTP_<KEY>, e.g. _PORT
    host = "127.0.0.1"
    port = 8080
    workers = 1
    drain_timeout_s = 20.0

    [limits]                        # each key also STREAMLAKE_HTTP_<KEY>
    max_body_bytes = 10485760       # after decompression
    max_batch_events = 1000

    [[api_keys]]                    # bearer tokens, stored as SHA-256 hex digests
    name = "checkout"
    sha256 = "<printf %s TOKEN | sha256sum>"
    datasets = ["orders"]           # or ["*"]
    rate_limit_rps = 200            # optional: requests per second for this key

    [datasets.orders]
    idempotency_field = "order_id"  # events' field that makes their ingestion_id

A mistake (an unknown key, a wrong type, a missing file) is a
`ConfigurationError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlake.config import ProducerConfig
from streamlake.errors import ConfigurationError

MiB = 1024 * 1024
ENV_PREFIX = "STREAMLAKE_HTTP_"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds on what one request may ask of a worker."""

    max_body_bytes: int = 10 * MiB
    """A single or batch body, after gzip decompression; also one stream line."""
    max_batch_events: int = 1000
    """Events in one JSON array. 1,000 orders are ~200 KB: one request stays
    well under a second of producing, and its answer (one result per event)
    under ~150 KB; bigger loads belong in an NDJSON stream."""
    max_concurrent_requests: int = 256
    """Produce requests a worker handles at once; beyond it 503 + Retry-After."""
    stream_max_in_flight: int = 1000
    """Stream lines read but not yet answered; at the bound reading pauses."""
    stream_idle_timeout_s: float = 30.0
    """A stream that sends nothing for this long is ended (as incomplete)."""
    stream_max_duration_s: float = 3600.0
    """A stream is ended (as incomplete) once it has lasted this long."""


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    """One bearer token: its SHA-256 digest, never the token itself."""

    name: str
    sha256: str = field(repr=False)
    datasets: frozenset[str]
    """Datasets this key may write and read; ``*`` means all."""
    rate_limit_rps: float | None = None

    def allows(self, dataset: str) -> bool:
        return "*" in self.datasets or dataset in self.datasets


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """Everything `create_app` and `streamlake serve` need."""

    producer: ProducerConfig = field(default_factory=ProducerConfig)
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    insecure: bool = False
    """Allow a non-loopback address without API keys."""
    log_format: str = "text"
    """``text`` or ``json`` (one JSON object per line)."""
    access_log: bool = True
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    drain_timeout_s: float = 20.0
    """SIGTERM: how long in-flight requests may take before the producer is
    purged; below Kubernetes' default 30 s grace period."""
    readiness_timeout_s: float = 2.0
    """/readyz: how long Kafka may take to answer a metadata request."""
    retry_after_s: int = 5
    """Retry-After for Kafka failures, draining and not-ready answers."""
    limits: Limits = field(default_factory=Limits)
    api_keys: tuple[ApiKey, ...] = ()
    idempotency_fields: Mapping[str, str] = field(default_factory=dict)
    """dataset -> the event field whose value makes the ingestion_id."""

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)


_SERVE_KEYS = {f.name: f for f in dataclasses.fields(ServeSettings)}
_SERVE_TABLE = (
    "host",
    "port",
    "workers",
    "insecure",
    "log_format",
    "access_log",
    "ssl_certfile",
    "ssl_keyfile",
    "drain_timeout_s",
    "readiness_timeout_s",
    "retry_after_s",
)
_LIMIT_KEYS = {f.name: f for f in dataclasses.fields(Limits)}
_TOP_LEVEL = {"serve", "limits", "api_keys", "datasets"}
_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str}


def load_settings(
    producer: ProducerConfig,
    *,
    config_file: Path | None = None,
    flags: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServeSettings:
    """Resolve the settings: `flags` (None values ignored) win over
    STREAMLAKE_HTTP_* variables, which win over `config_file`, then defaults."""
    env = os.environ if environ is None else environ
    document = _read_toml(config_file) if config_file is not None else {}
    where = str(config_file)
    serve_table = _table(document, "serve", where)
    limits_table = _table(document, "limits", where)

    def resolve(name: str, table: Mapping[str, Any], kind: str, section: str) -> object:
        given = (flags or {}).get(name)
        if given is not None:
            return given
        variable = ENV_PREFIX + name.upper()
        if variable in env:
            return _convert(env[variable], kind, variable)
        if name in table:
            return _checked(table[name], kind, f"{where}: [{section}] {name}")
        return None

    values = {
        name: resolve(name, serve_table, str(_SERVE_KEYS[name].type), "serve")
        for name in _SERVE_TABLE
    }
    limits = {
        name: resolve(name, limits_table, str(f.type), "limits") for name, f in _LIMIT_KEYS.items()
    }
    settings = ServeSettings(
        producer=producer,
        limits=Limits(**{k: v for k, v in limits.items() if v is not None}),  # type: ignore[arg-type]
        api_keys=_api_keys(document.get("api_keys", []), where),
        idempotency_fields=_idempotency_fields(_table(document, "datasets", where), where),
        **{k: v for k, v in values.items() if v is not None},  # type: ignore[arg-type]
    )
    _validate(settings)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: config file not found (--config)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(document) - _TOP_LEVEL
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown table(s) {sorted(unknown)}; allowed: {sorted(_TOP_LEVEL)}"
        )
    return document


def _table(document: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: [{name}] must be a table")
    allowed = {"serve": set(_SERVE_TABLE), "limits": set(_LIMIT_KEYS)}.get(name)
    unknown = set(table) - allowed if allowed is not None else set()
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {sorted(unknown)} in [{name}]; "
            f"allowed: {sorted(allowed or ())}"
        )
    return table


def _convert(text: str, kind: str, variable: str) -> object:
    try:
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered not in ("1", "true", "yes", "0", "false", "no"):
                raise ValueError(text)
            return lowered in ("1", "true", "yes")
        return _TYPES[kind](text)
    except ValueError:
        raise ConfigurationError(f"{variable}={text!r}: expected a {kind}") from None


def _checked(value: object, kind: str, where: str) -> object:
    expected = _TYPES[kind]
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool)):
        raise ConfigurationError(f"{where} = {value!r}: expected a {kind}")
    return value


def _api_keys(entries: object, where: str) -> tuple[ApiKey, ...]:
    if not isinstance(entries, list):
        raise ConfigurationError(f"{where}: api_keys must be an array of tables ([[api_keys]])")
    keys = []
    for number, entry in enumerate(entries, start=1):
        place = f"{where}: [[api_keys]] #{number}"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{place}: expected a table")
        unknown = set(entry) - {"name", "sha256", "datasets", "rate_limit_rps"}
        if unknown:
            raise ConfigurationError(f"{place}: unknown key(s) {sorted(unknown)}")
        digest = str(entry.get("sha256", "")).lower()
        if not _SHA256_HEX.fullmatch(digest):
            raise ConfigurationError(
                f"{place}: sha256 must be the token's SHA-256 as 64 hex digits "
                '(printf %s "$TOKEN" | sha256sum); never put the token itself here'
            )
        datasets = entry.get("datasets")
        if (
            not isinstance(datasets, list)
            or not datasets
            or not all(isinstance(d, str) for d in datasets)
        ):
            raise ConfigurationError(f'{place}: datasets must list dataset names, or ["*"]')
        rate = entry.get("rate_limit_rps")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)):
            raise ConfigurationError(f"{place}: rate_limit_rps must be a number")
        keys.append(
            ApiKey(
                name=str(entry.get("name") or f"key-{number}"),
                sha256=digest,
                datasets=frozenset(datasets),
                rate_limit_rps=float(rate) if rate is not None else None,
            )
        )
    return tuple(keys)


def _idempotency_fields(datasets: Mapping[str, Any], where: str) -> dict[str, str]:
    fields = {}
    for name, table in datasets.items():
        if not isinstance(table, dict) or set(table) - {"idempotency_field"}:
            raise ConfigurationError(f"{where}: [datasets.{name}] may only set idempotency_field")
        value = table.get("idempotency_field")
        if value is not None:
            if not isinstance(value, str) or not value:
                raise ConfigurationError(
                    f"{where}: [datasets.{name}] idempotency_field must be a field name"
                )
            fields[name] = value
    return fields


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validate(settings: ServeSettings) -> None:
    if not settings.auth_enabled and not settings.insecure and not is_loopback(settings.host):
        raise ConfigurationError(
            f"binding {settings.host} (not a loopback address) needs API keys: add "
            "[[api_keys]] to the --config file, or pass --insecure to serve without auth"
        )
    if settings.log_format not in ("text", "json"):
        raise ConfigurationError(f"log_format {settings.log_format!r}: expected text or json")
    if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
        raise ConfigurationError("TLS needs both ssl_certfile and ssl_keyfile")
    limits = settings.limits
    for name in ("max_body_bytes", "max_batch_events", "max_concurrent_requests"):
        if getattr(limits, name) < 1:
            raise ConfigurationError(f"limit {name} must be at least 1")
    if limits.stream_max_in_flight < 1:
        raise ConfigurationError("limit stream_max_in_flight must be at least 1")
    if not 0 < settings.drain_timeout_s < 30:
        raise ConfigurationError(
            "drain_timeout_s must be above 0 and below 30 (Kubernetes' grace period)"
        )
    if not 1 <= settings.port <= 65535 or settings.workers < 1:
        raise ConfigurationError("port must be 1-65535 and workers at least 1")
