"""What the catalog holds beside what the registry holds, and the drift between.

Drift is a version registered under a dataset's subject whose schema is in no
file under avro/ (someone registered it by hand, or a file was edited after
release), or a catalog version the registry does not have yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from streamlake.catalog import Catalog, Dataset, SchemaVersion
from streamlake.registry import RegisteredVersion, SchemaRegistry


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


def _same_schema(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


def inventory(catalog: Catalog, registry: SchemaRegistry) -> list[DatasetStatus]:
    statuses = []
    for dataset in catalog.values():
        subject = dataset.value_subject
        registered = registry.registered_versions(subject)
        matched: set[int] = set()
        versions = []
        for version in dataset.versions:
            found = next(
                (r for r in registered if _same_schema(r.schema_str, version.schema_str)), None
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
