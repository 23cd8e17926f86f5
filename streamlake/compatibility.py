"""The schema-evolution gate: do a dataset's versions evolve as its level allows?

Whether a reader schema can read a writer schema is decided by the `avro`
package's ``ReaderWriterCompatibilityChecker``, the reference implementation of
Avro schema resolution, applied per level as Confluent Schema Registry does:

    BACKWARD   the new version (reader) reads the previous one (writer)
    FORWARD    the previous version reads the new one
    FULL       both
    *_TRANSITIVE   against every earlier version, not just the previous
    NONE       no check

This module adds no resolution rule of its own. It turns the checker's verdict,
whose locations are field indexes and whose messages lose their pairing once
merged, into `Problem`s that name the field and say what changed, oldest
version to newest (``type double -> string``, ``enum symbol GOLD removed``). To
attribute each incompatibility it asks the checker again about the sub-schemas
of the fields, unions, arrays and maps the verdict blames.

Versions using shared types (``avro/_types``) are checked with those types
resolved: as they are now for the catalog's versions, as they were at the ref
for released ones, and as the registry holds them (through each registered
version's references) for registered ones. A changed shared type is thus
checked against every dataset using it.

`check_against` also compares the catalog with a git ref, where released
versions live: a released version may not change or disappear.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, TypeAlias

import avro.errors
import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    lookup_writer_field,
)
from confluent_kafka.schema_registry import SchemaReference

from streamlake import _git
from streamlake.catalog import (
    _VERSION_FILE,
    TYPES_DIR,
    Catalog,
    Dataset,
    NamedType,
    SchemaVersion,
    load_types,
    references_of,
    resolved_schema_text,
)
from streamlake.errors import CatalogError
from streamlake.registry import (
    CompatibilityVerdict,
    RegisteredVersion,
    SchemaRegistry,
    TypeRegistration,
    same_schema,
)

CHANGED_AFTER_RELEASE = "CHANGED_AFTER_RELEASE"
VERSION_REMOVED = "VERSION_REMOVED"
DATASET_REMOVED = "DATASET_REMOVED"

_NAMED_TYPES = ("record", "enum", "fixed")

_Change: TypeAlias = tuple[str | None, str]
"""A field path (None for the whole schema) and what changed there."""


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One reason the catalog may not be released as it is."""

    path: Path
    """The file at fault: the newer version of the pair, or the removed file."""
    dataset: str
    rule: str
    """The compatibility level broken (``BACKWARD``, ...) or a git rule
    (`CHANGED_AFTER_RELEASE`, `VERSION_REMOVED`, `DATASET_REMOVED`)."""
    reader: str | None = None
    writer: str | None = None
    """Version labels compared (``v3``, ``v2``); None for git rules."""
    field: str | None = None
    """Dotted field path (``address.city``, ``lines[].sku``); None for the whole schema."""
    detail: str

    @property
    def display_path(self) -> str:
        """`path` relative to the working directory when it is under it."""
        cwd = Path.cwd()
        for path, base in ((self.path, cwd), (self.path.resolve(), cwd.resolve())):
            if path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return self.path.as_posix()

    @property
    def reason(self) -> str:
        """The line without its path and rule: what is wrong, and where."""
        parts = []
        if self.reader is not None and self.writer is not None:
            parts.append(f"{self.reader} cannot read {self.writer}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        parts.append(self.detail)
        return ": ".join(parts)

    def __str__(self) -> str:
        return f"{self.display_path}: {self.rule}: {self.reason}"


def check_catalog(catalog: Catalog) -> list[Problem]:
    """Every dataset's versions, each against its predecessor(s) per its level."""
    return [problem for name in sorted(catalog) for problem in check_dataset(catalog[name])]


def check_dataset(dataset: Dataset) -> list[Problem]:
    """Each version N > 1 against N-1 (or every earlier one, for *_TRANSITIVE)."""
    return _check_versions(dataset, dataset.versions, first_new=1)


def describe_incompatibility(
    dataset: Dataset, reader: SchemaVersion, writer: SchemaVersion, rule: str
) -> list[Problem]:
    """Why `reader` cannot read data written with `writer`; [] when it can.

    The problems are charged to the newer of the two files (`reader` on a tie),
    and their details run from the older schema to the newer.
    """
    reader_schema, writer_schema = _parse(reader), _parse(writer)
    verdict = _verdict(reader_schema, writer_schema)
    if verdict.compatibility is not SchemaCompatibilityType.incompatible:
        return []
    reader_is_newer = reader.version >= writer.version
    explainer = _Explainer(writer_label=writer.label, reader_is_newer=reader_is_newer)
    changes = explainer.explain(reader_schema, writer_schema, None)
    if not changes:
        # The checker's own words, should a verdict ever escape the explainer.
        changes = [(None, "; ".join(sorted(verdict.messages)))]
    at_fault = reader if reader_is_newer else writer
    return [
        Problem(
            path=at_fault.path,
            dataset=dataset.name,
            rule=rule,
            reader=reader.label,
            writer=writer.label,
            field=field,
            detail=detail,
        )
        for field, detail in dict.fromkeys(changes)
    ]


def check_against(catalog: Catalog, ref: str, repo_root: Path | None = None) -> list[Problem]:
    """The catalog as it would be released, compared with the one released at git `ref`.

    A version present at `ref` is released: it must still exist and still parse
    to the same JSON (reformatting and key order are free; any other edit,
    even of a ``doc``, is `CHANGED_AFTER_RELEASE`, since the registry would see
    a different schema). A version new since `ref` is checked per the dataset's
    current level against the versions as released at `ref` and the new ones
    before it; a dataset new since `ref` is checked on its own. Pairs of
    released versions are not checked again: they are already in the registry.
    This includes the checks of `check_catalog` that concern new versions, so
    the two are not meant to be combined.
    """
    root = repo_root if repo_root is not None else _git.toplevel(catalog.root)
    schemas_dir = _git.relative_dir(catalog.root, root)
    released = _released_versions(root, ref, schemas_dir)
    types = _released_types(root, ref, schemas_dir)
    problems: list[Problem] = []
    for name in sorted(set(catalog) | set(released)):
        dataset = catalog.get(name)
        if dataset is None:
            problems.append(
                Problem(
                    path=catalog.root / name,
                    dataset=name,
                    rule=DATASET_REMOVED,
                    detail=f"released at {ref}; a released dataset must stay in the catalog",
                )
            )
        elif name not in released:
            problems += check_dataset(dataset)
        else:
            problems += _check_released(dataset, ref, released[name], root, types)
    return problems


def check_registry(catalog: Catalog, registry: SchemaRegistry) -> list[Problem]:
    """Each catalog version the registry does not hold yet, tested with the
    registry's compatibility endpoint for its subject under the subject's level.

    A subject the registry does not know is new and passes. When the registry
    gives no reasons (Apicurio gives none), the avro checker explains the
    break against the registry's latest version. When it cannot decide (a
    shared type changed and is not registered yet, or Apicurio 3.0 facing
    references), the avro checker decides, against the registered versions
    with the types they reference as the registry holds them.
    """
    problems: list[Problem] = []
    for name in sorted(catalog):
        dataset = catalog[name]
        subject = dataset.value_subject
        registered = registry.registered_versions(subject)
        if not registered:
            continue
        level = registry.compatibility_level(subject) or dataset.compatibility
        types = registry.register_types(catalog, [dataset], dry_run=True)
        for version in dataset.versions:
            if any(same_schema(version.schema_str, version.named_types, r) for r in registered):
                continue
            references = [types[n] for n in version.references]
            if all(t.version is not None for t in references):
                verdict = registry.test_compatibility(
                    subject, version.schema_str, _references(references)
                )
            else:
                verdict = CompatibilityVerdict(compatible=None, messages=())
            if verdict.compatible is None:
                problems += check_registered(dataset, version, registered, level)
                continue
            if verdict.compatible:
                continue
            latest = registered[-1]
            problems += [
                Problem(path=version.path, dataset=name, rule=level, detail=f"registry: {m}")
                for m in verdict.messages
            ] or _explain_registry_verdict(dataset, version, latest, level)
    return problems


def _references(types: Sequence[TypeRegistration]) -> list[SchemaReference]:
    return [SchemaReference(t.type.name, t.subject, t.version) for t in types]


def _as_version(dataset: Dataset, version: SchemaVersion, held: RegisteredVersion) -> SchemaVersion:
    """A registered version as a catalog version (charged to `version`'s file)."""
    return SchemaVersion(
        dataset=dataset.name,
        version=held.version,
        path=version.path,
        schema=json.loads(held.schema_str),
        schema_str=held.schema_str,
        named_types=held.named_types,
    )


def check_registered(
    dataset: Dataset, version: SchemaVersion, registered: Sequence[RegisteredVersion], level: str
) -> list[Problem]:
    """`version` against the registered versions `level` compares it with,
    the shared types of both resolved (the registry's through its references)."""
    if level == "NONE":
        return []
    earlier = registered if level.endswith("_TRANSITIVE") else registered[-1:]
    base = level.removesuffix("_TRANSITIVE")
    problems: list[Problem] = []
    for held in earlier:
        old = _as_version(dataset, version, held)
        # Registered versions are numbered by the registry, not the catalog: say so.
        label = f"registered version {held.version}"
        if base in ("BACKWARD", "FULL"):
            problems += [
                replace(p, writer=label, detail=_relabelled(p.detail, old.label, label))
                for p in describe_incompatibility(dataset, version, old, level)
            ]
        if base in ("FORWARD", "FULL"):
            problems += [
                replace(p, reader=label)
                for p in describe_incompatibility(dataset, old, version, level)
            ]
    return problems


def _relabelled(detail: str, label: str, new_label: str) -> str:
    """`detail` naming the writer by `new_label` (``... is not in v1``)."""
    return (
        detail.removesuffix(f" {label}") + f" {new_label}"
        if detail.endswith(f" {label}")
        else detail
    )


def _explain_registry_verdict(
    dataset: Dataset, version: SchemaVersion, latest: RegisteredVersion, level: str
) -> list[Problem]:
    held = _as_version(dataset, version, latest)
    base = level.removesuffix("_TRANSITIVE")
    problems = []
    if base in ("BACKWARD", "FULL"):
        problems += describe_incompatibility(dataset, version, held, level)
    if base in ("FORWARD", "FULL"):
        problems += describe_incompatibility(dataset, held, version, level)
    return problems or [
        Problem(
            path=version.path,
            dataset=dataset.name,
            rule=level,
            detail=f"the registry rejects it under {dataset.value_subject} and gives no reason",
        )
    ]


def _check_released(
    dataset: Dataset,
    ref: str,
    released: dict[int, str],
    root: Path,
    types: Mapping[str, NamedType],
) -> list[Problem]:
    problems: list[Problem] = []
    as_released: list[SchemaVersion] = []
    for number in sorted(released):
        current = dataset.version(number)
        git_path = released[number]
        if current is None:
            problems.append(
                Problem(
                    path=dataset.path / PurePosixPath(git_path).name,
                    dataset=dataset.name,
                    rule=VERSION_REMOVED,
                    detail=f"v{number} is released at {ref}; released versions must stay",
                )
            )
            continue
        text = _git.show(root, ref, git_path)
        old = _released_version(current, text, ref, types)
        as_released.append(old)
        if old.schema != current.schema:
            problems.append(
                Problem(
                    path=current.path,
                    dataset=dataset.name,
                    rule=CHANGED_AFTER_RELEASE,
                    detail=(
                        f"{current.label} differs from the one released at {ref}; "
                        f"released versions are immutable: revert it and add "
                        f"v{len(dataset.versions) + 1}.avsc instead"
                    ),
                )
            )
    if len(as_released) < len(released):
        # Versions have no gaps, so a removed version means there is no new one.
        return problems
    if any(old.named_types != dataset.versions[i].named_types for i, old in enumerate(as_released)):
        # A shared type changed: every version is registered again with it,
        # each checked against what precedes it, from the released ones on.
        versions = (*as_released, *dataset.versions)
    else:
        versions = (*as_released, *dataset.versions[len(as_released) :])
    return problems + _check_versions(dataset, versions, first_new=len(as_released))


def _released_versions(
    root: Path, ref: str, schemas_dir: PurePosixPath
) -> dict[str, dict[int, str]]:
    """Dataset -> version number -> repository path of its file, at `ref`."""
    released: dict[str, dict[int, str]] = {}
    for git_path in _git.list_files(root, ref, schemas_dir):
        relative = PurePosixPath(git_path).relative_to(schemas_dir)
        if len(relative.parts) != 2:
            continue
        match = _VERSION_FILE.fullmatch(relative.name)
        if match:
            released.setdefault(relative.parts[0], {})[int(match[1])] = git_path
    return released


def _released_types(root: Path, ref: str, schemas_dir: PurePosixPath) -> dict[str, NamedType]:
    """The shared types as released at `ref`, loaded and checked as the catalog's."""
    paths = _git.list_files(root, ref, schemas_dir / TYPES_DIR)
    if not paths:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / TYPES_DIR
        folder.mkdir()
        for git_path in paths:
            (folder / PurePosixPath(git_path).name).write_text(_git.show(root, ref, git_path))
        return load_types(folder)


def _released_version(
    current: SchemaVersion, text: str, ref: str, types: Mapping[str, NamedType]
) -> SchemaVersion:
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"not valid JSON at {ref}: {exc}", path=current.path) from exc
    references, named_types = references_of(current.path, schema, types)
    return SchemaVersion(
        dataset=current.dataset,
        version=current.version,
        path=current.path,
        schema=schema,
        schema_str=json.dumps(schema, separators=(",", ":")),
        references=references,
        named_types=named_types,
    )


def _check_versions(
    dataset: Dataset, versions: Sequence[SchemaVersion], *, first_new: int
) -> list[Problem]:
    """Checks of versions[first_new:], each against what precedes it in `versions`."""
    level = dataset.compatibility
    if level == "NONE":
        return []
    base = level.removesuffix("_TRANSITIVE")
    problems: list[Problem] = []
    for index in range(max(first_new, 1), len(versions)):
        new = versions[index]
        earlier = versions[:index] if level.endswith("_TRANSITIVE") else versions[index - 1 : index]
        for old in earlier:
            if base in ("BACKWARD", "FULL"):
                problems += describe_incompatibility(dataset, new, old, level)
            if base in ("FORWARD", "FULL"):
                problems += describe_incompatibility(dataset, old, new, level)
    return problems


def _parse(version: SchemaVersion) -> avro.schema.Schema:
    try:
        return _parse_text(version.schema_str, version.named_types)
    except (avro.errors.AvroException, ValueError, TypeError, KeyError) as exc:
        # fastavro accepted it when the catalog was loaded; the avro package is stricter.
        raise CatalogError(f"the avro package cannot parse it: {exc}", path=version.path) from exc


@lru_cache(maxsize=256)
def _parse_text(text: str, named_types: tuple[str, ...]) -> avro.schema.Schema:
    parsed = avro.schema.parse(resolved_schema_text(text, named_types))
    # With shared types, a union of them and the schema: the schema is last.
    if isinstance(parsed, avro.schema.UnionSchema):
        last: avro.schema.Schema = parsed.schemas[-1]
        return last
    return parsed


def _verdict(reader: avro.schema.Schema, writer: avro.schema.Schema) -> SchemaCompatibilityResult:
    # A fresh checker each time: its memo keeps the locations of the first call,
    # which would be wrong for a sub-schema asked about on its own.
    # The avro package leaves this constructor unannotated.
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    return checker.get_compatibility(reader, writer)


def _compatible(reader: avro.schema.Schema, writer: avro.schema.Schema) -> bool:
    return _verdict(reader, writer).compatibility is not SchemaCompatibilityType.incompatible


class _Explainer:
    """Walks an incompatible reader/writer pair down to the parts that differ.

    Each step asks the checker which sub-pairs are incompatible; only the
    wording (and the direction of change, oldest to newest) is decided here.
    """

    def __init__(self, *, writer_label: str, reader_is_newer: bool) -> None:
        self.writer_label = writer_label
        self.reader_is_newer = reader_is_newer
        self.descending: set[tuple[int, int]] = set()

    def explain(self, reader: Any, writer: Any, field: str | None) -> list[_Change]:
        # Only the pairs on the way down are skipped, so that recursive types
        # end while a named type used by two fields is explained for each.
        key = (id(reader), id(writer))
        if key in self.descending:
            return []
        self.descending.add(key)
        try:
            return self._explain(reader, writer, field)
        finally:
            self.descending.discard(key)

    def _explain(self, reader: Any, writer: Any, field: str | None) -> list[_Change]:
        verdict = _verdict(reader, writer)
        if verdict.compatibility is not SchemaCompatibilityType.incompatible:
            return []
        locations = verdict.locations
        if reader.type == writer.type == "record":
            return self._name(reader, writer, field, locations) + self._fields(
                reader, writer, field, locations
            )
        if reader.type == writer.type == "enum":
            changes = self._name(reader, writer, field, locations)
            if "/symbols" in locations:
                symbols = [s for s in writer.symbols if s not in reader.symbols]
                noun = "enum symbol" if len(symbols) == 1 else "enum symbols"
                changes.append((field, f"{noun} {', '.join(symbols)} {self._verb()}"))
            return changes
        if reader.type == writer.type == "fixed":
            changes = self._name(reader, writer, field, locations)
            if "/size" in locations:
                changes.append((field, self._change("fixed size", reader.size, writer.size)))
            return changes
        if reader.type == writer.type == "array":
            return self.explain(reader.items, writer.items, f"{field or ''}[]")
        if reader.type == writer.type == "map":
            return self.explain(reader.values, writer.values, f"{field or ''}{{}}")
        if reader.type == writer.type == "union":
            return self._unions(reader, writer, field)
        return self._mismatch(reader, writer, field)

    def _fields(
        self, reader: Any, writer: Any, field: str | None, locations: set[str]
    ) -> list[_Change]:
        changes: list[_Change] = []
        for index, reader_field in enumerate(reader.fields):
            path = reader_field.name if field is None else f"{field}.{reader_field.name}"
            writer_field = lookup_writer_field(writer_schema=writer, reader_field=reader_field)
            if writer_field is not None:
                changes += self.explain(reader_field.type, writer_field.type, path)
            elif _blamed(locations, f"/fields/{index}"):
                changes.append((path, f"has no default and is not in {self.writer_label}"))
        return changes

    def _unions(self, reader: Any, writer: Any, field: str | None) -> list[_Change]:
        changes: list[_Change] = []
        for branch in writer.schemas:
            if _compatible(reader, branch):
                continue
            counterpart = _counterpart(reader.schemas, branch)
            if counterpart is not None:
                changes += self.explain(counterpart, branch, field)
            else:
                changes.append((field, f"union member {_type_name(branch)} {self._verb()}"))
        return changes

    def _mismatch(self, reader: Any, writer: Any, field: str | None) -> list[_Change]:
        """Different kinds of type, possibly one of them a union."""
        if writer.type == "union":
            changes: list[_Change] = []
            retyped = False
            for branch in writer.schemas:
                if _compatible(reader, branch):
                    continue
                if _counterpart([reader], branch) is not None:
                    changes += self.explain(reader, branch, field)
                else:
                    retyped = True
            if retyped:
                changes.insert(0, (field, self._change("type", *map(_type_name, (reader, writer)))))
            return changes
        if reader.type == "union":
            counterpart = _counterpart(reader.schemas, writer)
            if counterpart is not None:
                return self.explain(counterpart, writer, field)
        return [(field, self._change("type", _type_name(reader), _type_name(writer)))]

    def _name(
        self, reader: Any, writer: Any, field: str | None, locations: set[str]
    ) -> list[_Change]:
        if "/name" not in locations:
            return []
        return [(field, self._change(f"{reader.type} name", reader.fullname, writer.fullname))]

    def _change(self, what: str, in_reader: object, in_writer: object) -> str:
        old, new = (in_writer, in_reader) if self.reader_is_newer else (in_reader, in_writer)
        return f"{what} {old} -> {new}"

    def _verb(self) -> str:
        """What happened to something the writer has and the reader lacks."""
        return "removed" if self.reader_is_newer else "added"


def _blamed(locations: Iterable[str], location: str) -> bool:
    return any(found == location or found.startswith(f"{location}/") for found in locations)


def _counterpart(candidates: Iterable[Any], writer: Any) -> Any | None:
    """The candidate of the same kind as `writer` (same name, if named): its new shape."""
    for candidate in candidates:
        if candidate.type == writer.type and (
            candidate.type not in _NAMED_TYPES or candidate.name == writer.name
        ):
            return candidate
    return None


def _type_name(schema: Any) -> str:
    if schema.type in _NAMED_TYPES:
        return str(schema.name)
    if schema.type == "array":
        return f"array<{_type_name(schema.items)}>"
    if schema.type == "map":
        return f"map<{_type_name(schema.values)}>"
    if schema.type == "union":
        return f"[{', '.join(_type_name(branch) for branch in schema.schemas)}]"
    return str(schema.type)
