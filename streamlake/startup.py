"""Startup registration: topics first, then the shared types, then every
schema version in order.

Used by `IngestionProducer` when it starts and by `streamlake schemas register`.
A version the registry rejects is reported (logged at ERROR, returned with its
reason) and the rest of the catalog keeps working.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from streamlake.catalog import Catalog, Dataset, SchemaVersion
from streamlake.compatibility import check_registered
from streamlake.config import ProducerConfig
from streamlake.errors import ConfigurationError
from streamlake.kafka.topics import ensure_topics
from streamlake.registry import RegisteredVersion, Registration, SchemaRegistry

log = logging.getLogger(__name__)


def register_catalog(
    config: ProducerConfig,
    catalog: Catalog,
    *,
    datasets: Iterable[str] | None = None,
    dry_run: bool = False,
    registry: SchemaRegistry | None = None,
) -> list[Registration]:
    """Make sure each dataset's topics exist, register the shared types they
    use, set each subject's compatibility level and register its versions.
    With `dry_run`, change nothing: only ask the registry whether each
    unregistered version would be accepted. A `registry` not given is created
    and probed (`SchemaRegistry.probe`) first."""
    names = list(datasets) if datasets else list(catalog)
    unknown = [name for name in names if name not in catalog]
    if unknown:
        raise ConfigurationError(
            f"unknown dataset(s) {', '.join(unknown)}; the catalog in {catalog.root} has "
            f"{', '.join(catalog)}"
        )
    chosen = [catalog[name] for name in names]
    probe = registry is None
    if registry is None:
        registry = SchemaRegistry(config.registry_conf(), timeout_s=config.registry_timeout_s)
    if not dry_run:
        ensure_topics(config.connection_conf(), chosen, connect_timeout_s=config.connect_timeout_s)
    if probe:
        registry.probe()
    types = registry.register_types(catalog, chosen, dry_run=dry_run)
    registrations = []
    for dataset in chosen:
        registrations.extend(
            registry.register_dataset(dataset, dry_run=dry_run, types=types, check=_check)
        )
    return registrations


def _check(
    dataset: Dataset, version: SchemaVersion, registered: Sequence[RegisteredVersion]
) -> list[str]:
    """The registry's compatibility rule, applied here for versions using
    shared types (which Apicurio 3.0 lets through unchecked)."""
    return [p.reason for p in check_registered(dataset, version, registered, dataset.compatibility)]
