"""The schema catalog: the Avro schemas under ``avro/``, one folder per dataset.

    avro/
    └── orders/
        ├── dataset.toml     key field, compatibility level, optional topics
        ├── v1.avsc          one file per version, numbered from 1 without gaps
        └── v2.avsc

``dataset.toml`` keys (only ``key_field`` is required)::

    key_field = "order_id"        # the business id; becomes the record key
    compatibility = "BACKWARD"    # how versions may evolve (registry levels)
    partitions = 3                # used only when StreamLake creates the topics
    raw_topic = "raw.orders"      # default raw.<dataset>
    dlq_topic = "dlq.orders"      # default dlq.<dataset>
    replication_factor = 3        # default min(3, brokers); only when StreamLake creates
    min_insync_replicas = 2       # default min(2, replication factor); likewise

The value subject follows the topic name strategy: ``<raw_topic>-value``.
Everything is checked when the catalog is loaded; a malformed file is a
`CatalogError` naming it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.schema
import fastavro
from avro.errors import AvroException
from fastavro.schema import SchemaParseException, UnknownType

from streamlake.errors import CatalogError

COMPATIBILITY_LEVELS = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)
DATASET_FILE = "dataset.toml"
KEY_TYPES = ("string", "int", "long")

_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.avsc")
_DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DATASET_KEYS = {
    "key_field",
    "compatibility",
    "partitions",
    "raw_topic",
    "dlq_topic",
    "replication_factor",
    "min_insync_replicas",
}


@dataclass(frozen=True, kw_only=True)
class SchemaVersion:
    """One version of a dataset's value schema, as found on disk."""

    dataset: str
    version: int
    path: Path
    schema: Mapping[str, Any]
    """The schema as JSON, exactly as written in the file."""
    schema_str: str
    """The schema text registered with the registry (compact JSON)."""

    @property
    def label(self) -> str:
        """The version as it appears in headers and file names: ``v2``."""
        return f"v{self.version}"


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A dataset: its key, evolution rule, topics and schema versions."""

    name: str
    key_field: str
    compatibility: str
    partitions: int
    raw_topic: str
    dlq_topic: str
    versions: tuple[SchemaVersion, ...]
    path: Path
    replication_factor: int | None = None
    """Declared in dataset.toml; None: min(3, brokers) when the topics are created."""
    min_insync_replicas: int | None = None
    """Declared in dataset.toml; None: min(2, the replication factor)."""

    @property
    def value_subject(self) -> str:
        return f"{self.raw_topic}-value"

    @property
    def latest(self) -> SchemaVersion:
        return self.versions[-1]

    def version(self, version: int) -> SchemaVersion | None:
        return self.versions[version - 1] if 1 <= version <= len(self.versions) else None


@dataclass(frozen=True)
class Catalog(Mapping[str, Dataset]):
    """All datasets under a schemas directory, by name."""

    root: Path
    datasets: Mapping[str, Dataset]

    def __getitem__(self, name: str) -> Dataset:
        return self.datasets[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)


def load_catalog(root: str | Path) -> Catalog:
    """Load and check every dataset under `root` (e.g. ``./avro``)."""
    root = Path(root)
    if not root.is_dir():
        raise CatalogError("schemas directory not found (set --schemas-dir)", path=root)
    datasets = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        dataset = load_dataset(folder)
        datasets[dataset.name] = dataset
    if not datasets:
        raise CatalogError("no datasets: expected one folder per dataset", path=root)
    return Catalog(root, datasets)


def load_dataset(folder: Path) -> Dataset:
    name = folder.name
    if not _DATASET_NAME.fullmatch(name):
        raise CatalogError(
            "a dataset folder name may hold only letters, digits, '.', '_' and '-'", path=folder
        )
    settings = _read_settings(folder / DATASET_FILE, name)
    key_field = settings["key_field"]
    versions = _read_versions(folder, name, key_field)
    raw_topic = settings.get("raw_topic", f"raw.{name}")
    return Dataset(
        name=name,
        key_field=key_field,
        compatibility=settings.get("compatibility", "BACKWARD"),
        partitions=settings.get("partitions", 3),
        raw_topic=raw_topic,
        dlq_topic=settings.get("dlq_topic", f"dlq.{name}"),
        versions=versions,
        path=folder,
        replication_factor=settings.get("replication_factor"),
        min_insync_replicas=settings.get("min_insync_replicas"),
    )


def _read_settings(path: Path, dataset: str) -> dict[str, Any]:
    def fail(message: str) -> CatalogError:
        return CatalogError(message, path=path, dataset=dataset)

    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail("missing: every dataset folder declares at least key_field here") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise fail(f"not valid TOML: {exc}") from exc
    unknown = set(settings) - _DATASET_KEYS
    if unknown:
        raise fail(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_DATASET_KEYS)}")
    if not isinstance(settings.get("key_field"), str) or not settings["key_field"]:
        raise fail("key_field is required: the name of the field holding the business id")
    level = settings.setdefault("compatibility", "BACKWARD")
    if level not in COMPATIBILITY_LEVELS:
        raise fail(f"compatibility {level!r} is not one of {', '.join(COMPATIBILITY_LEVELS)}")
    for count_key in ("partitions", "replication_factor", "min_insync_replicas"):
        count = settings.get(count_key, 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise fail(f"{count_key} must be a positive integer, not {count!r}")
    replication = settings.get("replication_factor")
    min_insync = settings.get("min_insync_replicas")
    if replication is not None and min_insync is not None and min_insync > replication:
        raise fail(
            f"min_insync_replicas {min_insync} exceeds replication_factor {replication}: "
            "no write could ever be acknowledged"
        )
    for topic_key in ("raw_topic", "dlq_topic"):
        topic = settings.get(topic_key)
        if topic is not None and not (isinstance(topic, str) and _DATASET_NAME.fullmatch(topic)):
            raise fail(f"{topic_key} {topic!r} is not a valid Kafka topic name")
    return settings


def _read_versions(folder: Path, dataset: str, key_field: str) -> tuple[SchemaVersion, ...]:
    found: dict[int, Path] = {}
    for path in folder.glob("*.avsc"):
        match = _VERSION_FILE.fullmatch(path.name)
        if not match:
            raise CatalogError(
                "schema files are named v1.avsc, v2.avsc, ...", path=path, dataset=dataset
            )
        found[int(match[1])] = path
    if not found:
        raise CatalogError("no schema versions: add v1.avsc", path=folder, dataset=dataset)
    missing = sorted(set(range(1, max(found) + 1)) - set(found))
    if missing:
        raise CatalogError(
            f"version gap: {', '.join(f'v{n}.avsc' for n in missing)} missing; "
            "versions are numbered from 1 without gaps",
            path=folder,
            dataset=dataset,
        )
    return tuple(_read_version(found[n], dataset, n, key_field) for n in sorted(found))


def _field_names(schema: Any) -> Iterator[str]:
    """Every field name of every record in `schema`, nested ones included."""
    if isinstance(schema, list):
        for member in schema:
            yield from _field_names(member)
    elif isinstance(schema, dict):
        for field in schema.get("fields", ()) if schema.get("type") == "record" else ():
            yield str(field["name"])
            yield from _field_names(field["type"])
        for nested in (schema.get("items"), schema.get("values")):
            yield from _field_names(nested)


def _read_version(path: Path, dataset: str, version: int, key_field: str) -> SchemaVersion:
    def fail(message: str) -> CatalogError:
        return CatalogError(message, path=path, dataset=dataset)

    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise fail(f"not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8: {exc}") from exc
    try:
        # The avro package parses as strictly as the registry's Java parser
        # (duplicate fields, bad names); fastavro is what encodes later.
        avro.schema.parse(json.dumps(schema))
        fastavro.parse_schema(schema, _write_hint=False)
    except (
        AvroException,
        SchemaParseException,
        UnknownType,
        ValueError,
        TypeError,
        KeyError,
    ) as exc:
        raise fail(f"not a valid Avro schema: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise fail("the top-level type must be a record (events are JSON objects)")
    bad_names = [name for name in _field_names(schema) if not _AVRO_NAME.fullmatch(name)]
    if bad_names:
        # Python's avro package lets these pass; the spec and the registry do not.
        raise fail(f"not a valid Avro schema: invalid field name(s) {', '.join(bad_names)}")
    key = next((f for f in schema["fields"] if f["name"] == key_field), None)
    if key is None:
        raise fail(f"key field {key_field!r} (from {DATASET_FILE}) is not a field of this schema")
    key_type = key["type"]["type"] if isinstance(key["type"], dict) else key["type"]
    if key_type not in KEY_TYPES:
        raise fail(
            f"key field {key_field!r} has type {json.dumps(key['type'])}; "
            f"a key field must be required and one of {', '.join(KEY_TYPES)}"
        )
    return SchemaVersion(
        dataset=dataset,
        version=version,
        path=path,
        schema=schema,
        schema_str=json.dumps(schema, separators=(",", ":")),
    )
