"""The schema catalog: the Avro schemas under ``avro/``, one folder per dataset.

    avro/
    ├── _types/
    │   └── com.acme.common.Address.avsc   a shared named type, one per file
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
    subject_strategy = "topic"    # or "record", "topic_record" (see below)
    json_encoding = "natural"     # or "avro": the JSON dialect of the events

The value subject follows `subject_strategy`, as Confluent's serializers
name it: ``topic`` ``<raw_topic>-value``, ``record`` the record's full name,
``topic_record`` ``<raw_topic>-<full name>``. Datasets sharing a raw topic
must use one of the last two.

A version may use any type of ``_types/`` by its full name: the file
``_types/<full name>.avsc`` defines it (it may use other shared types in
turn). It is registered under its own subject (its full name) and referenced
from the versions using it (Confluent's schema references).

Everything is checked when the catalog is loaded; a malformed file is a
`CatalogError` naming it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import avro.schema
import fastavro
from avro.errors import AvroException
from fastavro.schema import SchemaParseException, UnknownType

from streamlake.errors import CatalogError, ConfigurationError

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
JSON_ENCODINGS = ("natural", "avro")
KEY_TYPES = ("string", "int", "long")
SUBJECT_STRATEGIES = ("topic", "record", "topic_record")
TYPES_DIR = "_types"

_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.avsc")
_DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DATASET_KEYS = {
    "key_field",
    "compatibility",
    "partitions",
    "raw_topic",
    "dlq_topic",
    "subject_strategy",
    "json_encoding",
    "replication_factor",
    "min_insync_replicas",
}
_NAMED_KINDS = ("record", "enum", "fixed")


@dataclass(frozen=True, kw_only=True)
class NamedType:
    """A shared named type from ``_types/<full name>.avsc``."""

    name: str
    """Its full name, which is also its subject in the registry."""
    path: Path
    schema: Mapping[str, Any]
    schema_str: str
    """Compact JSON, as registered."""
    references: tuple[str, ...]
    """The shared types it uses directly, by full name."""


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
    references: tuple[str, ...] = ()
    """The shared types (``_types/``) it uses directly, by full name."""
    named_types: tuple[str, ...] = ()
    """Compact JSON texts of every shared type it uses, directly or not,
    each after the types it uses: what an encoder compiles before the schema."""

    @property
    def label(self) -> str:
        """The version as it appears in headers and file names: ``v2``."""
        return f"v{self.version}"

    @property
    def record_name(self) -> str:
        """The full name of its top-level record (``com.acme.orders.Order``)."""
        return full_name(self.schema)


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
    subject_strategy: str = "topic"
    """How the value subject is named: ``topic``, ``record`` or ``topic_record``."""
    json_encoding: str = "natural"
    """The JSON dialect events come in: ``natural`` or ``avro`` (Avro's JSON encoding)."""
    replication_factor: int | None = None
    """Declared in dataset.toml; None: min(3, brokers) when the topics are created."""
    min_insync_replicas: int | None = None
    """Declared in dataset.toml; None: min(2, the replication factor)."""

    @property
    def value_subject(self) -> str:
        """The subject its versions are registered under, per `subject_strategy`
        (every version has the same record name unless the strategy is topic)."""
        if self.subject_strategy == "record":
            return self.latest.record_name
        if self.subject_strategy == "topic_record":
            return f"{self.raw_topic}-{self.latest.record_name}"
        return f"{self.raw_topic}-value"

    @property
    def latest(self) -> SchemaVersion:
        return self.versions[-1]

    def version(self, version: int) -> SchemaVersion | None:
        return self.versions[version - 1] if 1 <= version <= len(self.versions) else None

    def pinned(self, version: int | None) -> SchemaVersion:
        """The version to produce with: `version`, or the latest when None;
        a version the catalog lacks is a `ConfigurationError`."""
        if version is None:
            return self.latest
        found = self.version(version)
        if found is None:
            raise ConfigurationError(
                f"{self.name} has no schema version v{version}; the catalog has "
                f"{', '.join(v.label for v in self.versions)}",
                dataset=self.name,
            )
        return found


@dataclass(frozen=True)
class Catalog(Mapping[str, Dataset]):
    """All datasets under a schemas directory, by name."""

    root: Path
    datasets: Mapping[str, Dataset]
    types: Mapping[str, NamedType] = field(default_factory=dict)
    """The shared named types of ``_types/``, by full name."""

    def users(self, type_name: str) -> list[Dataset]:
        """The datasets with a version using the shared type, directly or not."""
        text = self.types[type_name].schema_str
        return [d for d in self.values() if any(text in v.named_types for v in d.versions)]

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
    types = load_types(root / TYPES_DIR)
    datasets = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name == TYPES_DIR:
            continue
        dataset = load_dataset(folder, types)
        datasets[dataset.name] = dataset
    if not datasets:
        raise CatalogError("no datasets: expected one folder per dataset", path=root)
    _check_subjects(root, datasets)
    return Catalog(root, datasets, types)


def _check_subjects(root: Path, datasets: Mapping[str, Dataset]) -> None:
    """One subject per dataset: a raw topic shared under the topic strategy
    would put several datasets' versions under one subject."""
    by_topic: dict[str, list[Dataset]] = {}
    for dataset in datasets.values():
        by_topic.setdefault(dataset.raw_topic, []).append(dataset)
    for topic, sharing in by_topic.items():
        on_topic = [d.name for d in sharing if d.subject_strategy == "topic"]
        if len(sharing) > 1 and on_topic:
            raise CatalogError(
                f"datasets {', '.join(d.name for d in sharing)} share raw_topic {topic!r}, "
                f'but {", ".join(on_topic)} use(s) subject_strategy "topic" (one subject, '
                f'{topic}-value, per topic): set subject_strategy = "record" or '
                '"topic_record" in each of their dataset.toml',
                path=root,
            )
    by_subject: dict[str, list[str]] = {}
    for dataset in datasets.values():
        by_subject.setdefault(dataset.value_subject, []).append(dataset.name)
    for subject, names in by_subject.items():
        if len(names) > 1:
            raise CatalogError(
                f"datasets {', '.join(names)} would share the subject {subject}: give their "
                'records different full names or use subject_strategy = "topic_record"',
                path=root,
            )


def full_name(schema: Mapping[str, Any]) -> str:
    """A named type's full name: its name, qualified by its namespace."""
    name = str(schema.get("name", ""))
    namespace = schema.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


def load_types(folder: Path) -> dict[str, NamedType]:
    """The shared named types of `folder` (``avro/_types``), none if it is absent."""
    if not folder.is_dir():
        return {}
    texts: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        schema = _read_json(path, None)
        if (
            path.suffix != ".avsc"
            or not isinstance(schema, dict)
            or schema.get("type") not in _NAMED_KINDS
        ):
            raise CatalogError(
                "a shared type file holds one record, enum or fixed and is named "
                "<full name>.avsc (e.g. com.acme.common.Address.avsc)",
                path=path,
            )
        name = full_name(schema)
        if path.stem != name:
            raise CatalogError(
                f"defines {name}: a shared type file is named after the type's full name "
                f"({name}.avsc)",
                path=path,
            )
        texts[name] = (path, schema)
    loaded: dict[str, tuple[NamedType, dict[str, Any]]] = {}
    loading: list[str] = []

    def load(name: str, used_by: Path) -> dict[str, Any]:
        """The parsed named schemas of `name` and everything it uses."""
        if name in loaded:
            return loaded[name][1]
        if name not in texts:
            raise _unknown_type(name, used_by, folder)
        if name in loading:
            cycle = " -> ".join([*loading[loading.index(name) :], name])
            raise CatalogError(f"shared types use each other in a cycle: {cycle}", path=used_by)
        loading.append(name)
        path, schema = texts[name]
        references, named = _parse_with_references(path, schema, lambda n: load(n, path))
        loading.pop()
        named_type = NamedType(
            name=name,
            path=path,
            schema=schema,
            schema_str=json.dumps(schema, separators=(",", ":")),
            references=references,
        )
        loaded[name] = (named_type, named)
        return named

    for name, (path, _) in texts.items():
        load(name, path)
    return {name: loaded[name][0] for name in texts}


def _unknown_type(name: str, used_by: Path, types_dir: Path) -> CatalogError:
    return CatalogError(
        f"not a valid Avro schema: unknown type {name!r}; a shared type is defined in "
        f"{types_dir / f'{name}.avsc'}",
        path=used_by,
    )


def _parse_with_references(
    path: Path, schema: Any, load: Callable[[str], dict[str, Any]], *, strict: bool = True
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Parse `schema` with fastavro, loading each unknown name it meets with
    `load`; return the names it uses directly and every named schema parsed.
    Not `strict`, other errors end the search (a stricter parser reports them)."""
    references: list[str] = []
    named: dict[str, Any] = {}
    while True:
        trial = dict(named)  # parse_schema adds to it, even when it fails
        try:
            fastavro.parse_schema(schema, named_schemas=trial, _write_hint=False)
        except UnknownType as exc:
            if exc.name in references:
                raise CatalogError(f"not a valid Avro schema: {exc}", path=path) from exc
            references.append(exc.name)
            named.update(load(exc.name))
            continue
        except (SchemaParseException, ValueError, TypeError, KeyError) as exc:
            if not strict:
                return tuple(references), trial
            raise CatalogError(f"not a valid Avro schema: {exc}", path=path) from exc
        return tuple(references), trial


def named_types_of(references: tuple[str, ...], types: Mapping[str, NamedType]) -> tuple[str, ...]:
    """The texts of `references` and of the types they use, each after its own."""
    ordered: dict[str, str] = {}

    def visit(name: str) -> None:
        if name in ordered:
            return
        for used in types[name].references:
            visit(used)
        ordered[name] = types[name].schema_str

    for name in references:
        visit(name)
    return tuple(ordered.values())


def load_dataset(folder: Path, types: Mapping[str, NamedType] | None = None) -> Dataset:
    name = folder.name
    if not _DATASET_NAME.fullmatch(name):
        raise CatalogError(
            "a dataset folder name may hold only letters, digits, '.', '_' and '-'", path=folder
        )
    settings = _read_settings(folder / DATASET_FILE, name)
    key_field = settings["key_field"]
    versions = _read_versions(folder, name, key_field, types or {})
    raw_topic = settings.get("raw_topic", f"raw.{name}")
    strategy = settings.get("subject_strategy", "topic")
    names = sorted({v.record_name for v in versions})
    if strategy != "topic" and len(names) > 1:
        raise CatalogError(
            f"subject_strategy {strategy!r} names the subject after the record, but the "
            f"versions' records are named {', '.join(names)}: keep one full name for all",
            path=folder / DATASET_FILE,
            dataset=name,
        )
    return Dataset(
        name=name,
        key_field=key_field,
        compatibility=settings.get("compatibility", "BACKWARD"),
        partitions=settings.get("partitions", 3),
        raw_topic=raw_topic,
        dlq_topic=settings.get("dlq_topic", f"dlq.{name}"),
        versions=versions,
        path=folder,
        subject_strategy=strategy,
        json_encoding=settings.get("json_encoding", "natural"),
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
    for key, allowed in (
        ("subject_strategy", SUBJECT_STRATEGIES),
        ("json_encoding", JSON_ENCODINGS),
    ):
        if key in settings and settings[key] not in allowed:
            raise fail(f"{key} {settings[key]!r} is not one of {', '.join(allowed)}")
    for topic_key in ("raw_topic", "dlq_topic"):
        topic = settings.get(topic_key)
        if topic is not None and not (isinstance(topic, str) and _DATASET_NAME.fullmatch(topic)):
            raise fail(f"{topic_key} {topic!r} is not a valid Kafka topic name")
    return settings


def _read_versions(
    folder: Path, dataset: str, key_field: str, types: Mapping[str, NamedType]
) -> tuple[SchemaVersion, ...]:
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
    return tuple(_read_version(found[n], dataset, n, key_field, types) for n in sorted(found))


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


def _read_json(path: Path, dataset: str | None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogError(f"not valid JSON: {exc}", path=path, dataset=dataset) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8: {exc}", path=path, dataset=dataset) from exc


def resolved_schema_text(schema_str: str, named_types: tuple[str, ...]) -> str:
    """One self-contained text for parsers without references: a union of the
    named types and then the schema, whose last branch is the schema."""
    return f"[{','.join([*named_types, schema_str])}]" if named_types else schema_str


def resolved_schema_json(schema: Any, named_types: tuple[str, ...]) -> Any:
    """`resolved_schema_text` as JSON: the schema alone when it uses no shared type."""
    return [*map(json.loads, named_types), schema] if named_types else schema


def references_of(
    path: Path, schema: Any, types: Mapping[str, NamedType]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The shared types `schema` uses directly, and the texts of all it uses
    (`SchemaVersion.references` and `.named_types`)."""

    def shared(name: str) -> dict[str, Any]:
        if name not in types:
            raise _unknown_type(name, path, path.parent.parent / TYPES_DIR)
        named: dict[str, Any] = {}
        for text in named_types_of((name,), types):
            fastavro.parse_schema(json.loads(text), named_schemas=named, _write_hint=False)
        return named

    if not isinstance(schema, dict):
        return (), ()
    references, _ = _parse_with_references(path, schema, shared, strict=False)
    return references, named_types_of(references, types)


def _read_version(
    path: Path, dataset: str, version: int, key_field: str, types: Mapping[str, NamedType]
) -> SchemaVersion:
    def fail(message: str) -> CatalogError:
        return CatalogError(message, path=path, dataset=dataset)

    schema = _read_json(path, dataset)

    references, named_types = references_of(path, schema, types)
    try:
        # The avro package parses as strictly as the registry's Java parser
        # (duplicate fields, bad names); fastavro is what encodes later.
        avro.schema.parse(resolved_schema_text(json.dumps(schema), named_types))
        fastavro.parse_schema(resolved_schema_json(schema, named_types), _write_hint=False)
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
        references=references,
        named_types=named_types,
    )
