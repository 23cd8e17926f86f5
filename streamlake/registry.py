"""The schema registry, through the Confluent Schema Registry API only.

This is the one boundary where registry failures become StreamLake errors:
transport failures and 5xx answers are retried with backoff for a bounded time
(`RegistryUnavailableError` after it), other refusals become `RegistryError`
or, for a rejected version, `SchemaRejectedError` carrying the registry's
reason. Registration is idempotent: a version already under the subject keeps
its id and is reported as existing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from httpx2 import TransportError

from streamlake.catalog import Dataset, SchemaVersion
from streamlake.errors import RegistryError, RegistryUnavailableError, SchemaRejectedError
from streamlake.kafka.producer.config import REGISTRY_TIMEOUT_S, redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")

_SUBJECT_NOT_FOUND = 40401
_SCHEMA_NOT_FOUND = 40403
_BACKOFF_MAX_S = 5.0


@dataclass(frozen=True, kw_only=True)
class Registration:
    """What happened to one catalog version at the registry."""

    dataset: str
    subject: str
    version: SchemaVersion
    schema_id: int | None
    """The registry's id, used in every record's wire format; None if rejected."""
    new: bool
    """True when this run registered it, False when it was already there."""
    error: SchemaRejectedError | None = None

    @property
    def usable(self) -> bool:
        return self.schema_id is not None


@dataclass(frozen=True, kw_only=True)
class RegisteredVersion:
    """A version as the registry holds it under a subject."""

    subject: str
    version: int
    schema_id: int | None
    schema_str: str


@dataclass(frozen=True, kw_only=True)
class CompatibilityVerdict:
    compatible: bool
    messages: tuple[str, ...]
    """The registry's reasons, when it gives any (Confluent does, Apicurio does not)."""


class SchemaRegistry:
    """A Confluent-API schema registry client with bounded retries."""

    def __init__(self, conf: dict[str, Any], *, timeout_s: float = REGISTRY_TIMEOUT_S) -> None:
        self.url = redact_url(conf["url"])
        """The URL as shown in messages: without a password."""
        self.timeout_s = timeout_s
        self._conf = conf
        self._client = SchemaRegistryClient(conf)

    # --- registration ------------------------------------------------------
    def register_dataset(self, dataset: Dataset, *, dry_run: bool = False) -> list[Registration]:
        """Set the subject's compatibility level, then register every version in
        order. With `dry_run`, only test what registering would do."""
        subject = dataset.value_subject
        if not dry_run:
            self._call(
                f"set compatibility of {subject}",
                lambda: self._client.set_compatibility(subject, dataset.compatibility),
                subject=subject,
            )
        return [self._register(dataset, subject, version, dry_run) for version in dataset.versions]

    def _register(
        self, dataset: Dataset, subject: str, version: SchemaVersion, dry_run: bool
    ) -> Registration:
        registration = partial(Registration, dataset=dataset.name, subject=subject, version=version)
        schema = Schema(version.schema_str, "AVRO")
        existing = self._lookup(subject, schema)
        if existing is not None:
            return registration(schema_id=existing, new=False)
        try:
            if dry_run:
                verdict = self.test_compatibility(subject, version.schema_str)
                if not verdict.compatible:
                    raise self._rejection(dataset, subject, version, "; ".join(verdict.messages))
                return registration(schema_id=None, new=True)
            schema_id = self._call(
                f"register {version.path}",
                lambda: self._client.register_schema(subject, schema),
                subject=subject,
            )
        except RegistryError as exc:
            if exc.status != 409 and not isinstance(exc, SchemaRejectedError):
                raise
            rejected = (
                exc
                if isinstance(exc, SchemaRejectedError)
                else self._rejection(dataset, subject, version, exc.reason)
            )
            log.error("%s", rejected)
            return registration(schema_id=None, new=False, error=rejected)
        log.info("registered %s %s as schema id %s", subject, version.label, schema_id)
        return registration(schema_id=schema_id, new=True)

    def _rejection(
        self, dataset: Dataset, subject: str, version: SchemaVersion, reason: str
    ) -> SchemaRejectedError:
        reason = reason or "incompatible with the versions already registered"
        return SchemaRejectedError(
            f"{version.path}: the registry at {self.url} rejected {subject} {version.label} "
            f"({dataset.compatibility}): {reason}. Fix the schema or the subject's "
            f"compatibility level; events for {version.label} go to the DLQ meanwhile",
            url=self.url,
            subject=subject,
            version=version.version,
            reason=reason,
            status=409,
            dataset=dataset.name,
        )

    def _lookup(self, subject: str, schema: Schema) -> int | None:
        try:
            found = self._call(
                f"look up a schema under {subject}",
                lambda: self._client.lookup_schema(subject, schema),
                subject=subject,
            )
        except RegistryError as exc:
            if exc.status == 404:
                return None
            raise
        return found.schema_id

    # --- reading -----------------------------------------------------------
    def subjects(self) -> list[str]:
        return list(self._call("list subjects", self._client.get_subjects))

    def registered_versions(self, subject: str) -> list[RegisteredVersion]:
        """Every version under `subject`, oldest first; empty for an unknown subject."""
        try:
            numbers = self._call(
                f"list versions of {subject}",
                lambda: self._client.get_versions(subject),
                subject=subject,
            )
        except RegistryError as exc:
            if exc.status == 404:
                return []
            raise
        return [self._registered_version(subject, number) for number in numbers]

    def _registered_version(self, subject: str, number: int) -> RegisteredVersion:
        found = self._call(
            f"get {subject} version {number}",
            lambda: self._client.get_version(subject, number),
            subject=subject,
        )
        return RegisteredVersion(
            subject=subject,
            version=number,
            schema_id=found.schema_id,
            schema_str=found.schema.schema_str or "",
        )

    def compatibility_level(self, subject: str) -> str | None:
        try:
            return str(
                self._call(
                    f"get compatibility of {subject}",
                    lambda: self._client.get_compatibility(subject),
                    subject=subject,
                )
            )
        except RegistryError as exc:
            if exc.status == 404:
                return None
            raise

    def test_compatibility(self, subject: str, schema_str: str) -> CompatibilityVerdict:
        """Ask the registry whether `schema_str` may be added under `subject`,
        with its reasons (`?verbose=true`). A subject it does not know is new:
        anything is compatible with nothing."""
        url = (
            f"{self._conf['url'].rstrip('/')}/compatibility/subjects/{quote(subject, safe='')}"
            "/versions/latest?verbose=true"
        )

        def post() -> Any:
            response = requests.post(
                url,
                data=json.dumps({"schema": schema_str, "schemaType": "AVRO"}),
                timeout=10,
                **self._requests_options(),
            )
            body = response.json() if response.content else {}
            if response.status_code == 404:
                return {"is_compatible": True, "messages": []}
            if response.status_code >= 400:
                raise SchemaRegistryError(
                    response.status_code, body.get("error_code", -1), body.get("message", "")
                )
            return body

        body = self._call(f"test compatibility of {subject}", post, subject=subject)
        return CompatibilityVerdict(
            compatible=bool(body.get("is_compatible")),
            messages=tuple(str(m) for m in body.get("messages") or ()),
        )

    def _requests_options(self) -> dict[str, Any]:
        """The registry client's auth and TLS settings, for the one call it lacks."""
        headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
        options: dict[str, Any] = {"headers": headers}
        if "basic.auth.user.info" in self._conf:
            user, _, password = self._conf["basic.auth.user.info"].partition(":")
            options["auth"] = (user, password)
        if "bearer.auth.token" in self._conf:
            headers["Authorization"] = f"Bearer {self._conf['bearer.auth.token']}"
        if "ssl.ca.location" in self._conf:
            options["verify"] = self._conf["ssl.ca.location"]
        return options

    # --- the boundary --------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T], *, subject: str | None = None) -> T:
        """Run one registry request; retry transport errors and 5xx with
        exponential backoff until `timeout_s`, translate everything else."""
        deadline = time.monotonic() + self.timeout_s
        delay = 0.2
        while True:
            try:
                return fn()
            except SchemaRegistryError as exc:
                if exc.http_status_code < 500:
                    raise RegistryError(
                        f"registry at {self.url} refused to {what}: {exc.error_message} "
                        f"(HTTP {exc.http_status_code}, code {exc.error_code})",
                        url=self.url,
                        subject=subject,
                        status=exc.http_status_code,
                        reason=exc.error_message,
                    ) from exc
                cause: Exception = exc
            except (TransportError, requests.ConnectionError, requests.Timeout, OSError) as exc:
                cause = exc
            if time.monotonic() + delay > deadline:
                raise RegistryUnavailableError(
                    f"schema registry at {self.url} unreachable: could not {what} within "
                    f"{self.timeout_s:g}s ({cause}). Check that it runs and that "
                    "STREAMLAKE_SCHEMA_REGISTRY_URL / --schema-registry-url points at its "
                    "Confluent API",
                    url=self.url,
                    subject=subject,
                ) from cause
            log.warning("registry at %s: could not %s (%s); retrying", self.url, what, cause)
            time.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX_S)
