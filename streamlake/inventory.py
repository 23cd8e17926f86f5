"""What the catalog holds beside what the registry holds, and the drift between.

Drift is a version registered under a dataset's subject whose schema is in no
file under avro/ (someone registered it by hand, or a file was edited after
release), or a catalog version the registry does not have yet. A version
using shared types matches only a registered one whose references resolve to
the same types. A shared type is registered when its subject holds it; its
older versions there are its history, not drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streamlake.catalog import Catalog, Dataset, NamedType, SchemaVersion
from streamlake.registry import RegisteredVersion, SchemaRegistry, same_schema


@dataclass(frozen=True, kw_only=True)
class VersionStatus:
    version: SchemaVersion
    registered: RegisteredVersion | None
    """The registry's version holding the same schema, if any."""


@dataclass(frozen=True, kw_only=True)
class DatasetStatus:
    dataset: Dataset
    versions: tuple[VersionStatus, ...]
    unknown_registered: tuple[RegisteredVersion, ...]
    """Registered under the subject but in no catalog file."""
    registry_level: str | None

    @property
    def drift(self) -> bool:
        return bool(self.unknown_registered) or any(v.registered is None for v in self.versions)


@dataclass(frozen=True, kw_only=True)
class TypeStatus:
    type: NamedType
    registered: RegisteredVersion | None
    """The version of its subject holding it, if any."""


def type_inventory(catalog: Catalog, registry: SchemaRegistry) -> list[TypeStatus]:
    statuses = []
    for named in catalog.types.values():
        expected = tuple(catalog.types[n].schema_str for n in _closure(named, catalog.types))
        found = next(
            (
                r
                for r in registry.registered_versions(named.name)
                if same_schema(named.schema_str, expected, r)
            ),
            None,
        )
        statuses.append(TypeStatus(type=named, registered=found))
    return statuses


def _closure(named: NamedType, types: Mapping[str, NamedType]) -> list[str]:
    """The shared types `named` uses, directly or not."""
    seen: list[str] = []
    stack = list(named.references)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.append(name)
            stack.extend(types[name].references)
    return seen


def inventory(catalog: Catalog, registry: SchemaRegistry) -> list[DatasetStatus]:
    statuses = []
    for dataset in catalog.values():
        subject = dataset.value_subject
        registered = registry.registered_versions(subject)
        matched: set[int] = set()
        versions = []
        for version in dataset.versions:
            found = next(
                (r for r in registered if same_schema(version.schema_str, version.named_types, r)),
                None,
            )
            if found is not None:
                matched.add(found.version)
            versions.append(VersionStatus(version=version, registered=found))
        statuses.append(
            DatasetStatus(
                dataset=dataset,
                versions=tuple(versions),
                unknown_registered=tuple(r for r in registered if r.version not in matched),
                registry_level=registry.compatibility_level(subject) if registered else None,
            )
        )
    return statuses
