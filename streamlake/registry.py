"""The schema registry, through the Confluent Schema Registry API only.

This is the one boundary where registry failures become StreamLake errors:
transport failures and 5xx answers are retried with backoff for a bounded time
(`RegistryUnavailableError` after it), other refusals become `RegistryError`
or, for a rejected version, `SchemaRejectedError` carrying the registry's
reason. Registration is idempotent: a version already under the subject keeps
its id and is reported as existing.

Shared types (``avro/_types``) are registered first, each under its own
subject (its full name, compatibility NONE: what may change in a shared type
is decided by every dataset using it, under that dataset's level), and every
version using them is registered with Confluent's ``references``: name,
subject and version of each type it uses directly.

`probe` checks first that the URL speaks the Confluent API at all, so a
wrong URL is a configuration error, never a subject that seems not to exist.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from httpx2 import TransportError

from streamlake._logging import quiet_repeats
from streamlake.catalog import Catalog, Dataset, NamedType, SchemaVersion, named_types_of
from streamlake.config import REGISTRY_TIMEOUT_S
from streamlake.errors import (
    ConfigurationError,
    RegistryError,
    RegistryUnavailableError,
    SchemaRejectedError,
)
from streamlake.redaction import redact_url

log = quiet_repeats(logging.getLogger(__name__))

T = TypeVar("T")

VersionCheck = Callable[[Dataset, SchemaVersion, Sequence["RegisteredVersion"]], list[str]]
"""Why a version using shared types may not follow the registered ones ([] if it may)."""

_SUBJECT_NOT_FOUND = 40401
_SCHEMA_NOT_FOUND = 40403
_BACKOFF_MAX_S = 5.0
_CANNOT_CHECK = 42201
"""Apicurio 3.0's answer to a compatibility test on a subject whose versions
use references: "Could not execute compatibility rule on invalid Avro schema"
(registration still applies the rule)."""
TYPE_LEVEL = "NONE"
CONFLUENT_API_HINT = (
    "a Confluent-API URL is the registry's base URL, e.g. http://127.0.0.1:8081 for "
    "Confluent Schema Registry or http://127.0.0.1:8080/apis/ccompat/v7 for Apicurio"
)


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
    references: tuple[TypeRegistration, ...] = ()
    """The shared types the version uses, directly or not, as registered (or
    looked up, in a dry run), each after the types it uses."""

    @property
    def usable(self) -> bool:
        return self.schema_id is not None


@dataclass(frozen=True, kw_only=True)
class TypeRegistration:
    """What happened to one shared type at the registry."""

    type: NamedType
    subject: str
    version: int | None
    """Its version under its subject: what references name; None in a dry run
    that would register it."""
    schema_id: int | None
    new: bool


@dataclass(frozen=True, kw_only=True)
class RegisteredVersion:
    """A version as the registry holds it under a subject."""

    subject: str
    version: int
    schema_id: int | None
    schema_str: str
    references: tuple[tuple[str, str, int], ...] = ()
    """(name, subject, version) of each type it uses directly."""
    named_types: tuple[str, ...] = ()
    """The texts of the types it uses, resolved from the registry, each after its own."""


def same_schema(schema_str: str, named_types: tuple[str, ...], other: RegisteredVersion) -> bool:
    """Whether `other` holds this schema with these shared types (formatting aside)."""

    def parsed(texts: tuple[str, ...]) -> list[Any]:
        return sorted((json.loads(t) for t in texts), key=lambda t: json.dumps(t, sort_keys=True))

    try:
        return bool(
            json.loads(schema_str) == json.loads(other.schema_str)
            and parsed(named_types) == parsed(other.named_types)
        )
    except ValueError:
        return schema_str == other.schema_str and named_types == other.named_types


@dataclass(frozen=True, kw_only=True)
class CompatibilityVerdict:
    compatible: bool | None
    """None when the registry cannot decide: Apicurio 3.0 cannot test a subject
    whose versions use references, nor can any registry test a reference to a
    type version not registered yet. Check locally against
    `registered_versions` then."""
    messages: tuple[str, ...]
    """The registry's reasons, when it gives any (Confluent does, Apicurio does not)."""


class SchemaRegistry:
    """A Confluent-API schema registry client with bounded retries."""

    def __init__(self, conf: dict[str, Any], *, timeout_s: float = REGISTRY_TIMEOUT_S) -> None:
        self.url = redact_url(conf["url"])
        """The URL as shown in messages: without a password."""
        self.timeout_s = timeout_s
        self._conf = conf
        try:
            self._client = SchemaRegistryClient(conf)
        except ValueError as exc:  # unknown properties, a malformed URL
            raise ConfigurationError(
                f"schema registry client configuration (STREAMLAKE_REGISTRY_*, "
                f"--schema-registry-url): {exc}"
            ) from exc
        self._resolved: dict[tuple[str, int], RegisteredVersion] = {}

    def probe(self) -> None:
        """Check that the URL answers the Confluent API (``GET /subjects`` is a
        JSON list); a URL that does not is a `ConfigurationError` saying what a
        right one looks like. Transport failures are retried as any call."""
        url = f"{self._conf['url'].rstrip('/')}/subjects"

        def get() -> requests.Response:
            response = requests.get(url, timeout=10, **self._requests_options())
            if response.status_code >= 500:
                raise SchemaRegistryError(response.status_code, -1, response.reason)
            return response

        response = self._call("list subjects", get)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in (401, 403):
            raise RegistryError(
                f"registry at {self.url} refused the credentials (HTTP {response.status_code}): "
                "check STREAMLAKE_REGISTRY_BASIC_AUTH_USER_INFO or _BEARER_AUTH_TOKEN",
                url=self.url,
                status=response.status_code,
            )
        if response.status_code != 200 or not isinstance(body, list):
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise ConfigurationError(
                f"{self.url} does not answer the Confluent Schema Registry API: GET "
                f"{redact_url(url)} gave HTTP {response.status_code} ({kind}), not a JSON list "
                f"of subjects; {CONFLUENT_API_HINT}"
            )

    # --- registration ------------------------------------------------------
    def register_types(
        self, catalog: Catalog, datasets: list[Dataset], *, dry_run: bool = False
    ) -> dict[str, TypeRegistration]:
        """Register the shared types `datasets` use, each after the types it
        uses; return them by name. With `dry_run`, only look them up."""
        names = {
            name
            for dataset in datasets
            for version in dataset.versions
            for name in version.references
        }
        done: dict[str, TypeRegistration] = {}
        for text in named_types_of(tuple(sorted(names)), catalog.types):
            named = next(t for t in catalog.types.values() if t.schema_str == text)
            done[named.name] = self._register_type(named, done, dry_run)
        return done

    def _register_type(
        self, named: NamedType, done: dict[str, TypeRegistration], dry_run: bool
    ) -> TypeRegistration:
        subject = named.name
        references = _references(named.references, done)
        if references is None:  # dry run: a type it uses is not registered yet
            return TypeRegistration(
                type=named, subject=subject, version=None, schema_id=None, new=True
            )
        schema = Schema(named.schema_str, "AVRO", references)
        found = self._lookup(subject, schema)
        if found is None and dry_run:
            return TypeRegistration(
                type=named, subject=subject, version=None, schema_id=None, new=True
            )
        new = found is None
        if found is None:
            # Apicurio answers 404 to level NONE for a subject it does not hold
            # yet: a new subject gets it after its first version, which no
            # level can refuse anyway.
            def set_level() -> None:
                self._call(
                    f"set compatibility of {subject}",
                    lambda: self._client.set_compatibility(subject, TYPE_LEVEL),
                    subject=subject,
                )

            known = bool(self.registered_versions(subject))
            if known:
                set_level()
            self._call(
                f"register {named.path}",
                lambda: self._client.register_schema(subject, schema),
                subject=subject,
            )
            if not known:
                set_level()
            found = self._lookup(subject, schema)
            assert found is not None, "a registered schema is found by lookup"
            log.info("registered shared type %s as schema id %s", subject, found[0])
        return TypeRegistration(
            type=named, subject=subject, version=found[1], schema_id=found[0], new=new
        )

    def register_dataset(
        self,
        dataset: Dataset,
        *,
        dry_run: bool = False,
        types: dict[str, TypeRegistration] | None = None,
        check: VersionCheck | None = None,
    ) -> list[Registration]:
        """Set the subject's compatibility level, then register every version in
        order, with references to the shared `types` it uses (registered
        first, see `register_types`). With `dry_run`, only test what
        registering would do.

        A version using shared types is first checked with `check`: Apicurio
        3.0 does not resolve references in its compatibility rule, so it
        accepts any change made through a shared type."""
        subject = dataset.value_subject
        if not dry_run:
            self._call(
                f"set compatibility of {subject}",
                lambda: self._client.set_compatibility(subject, dataset.compatibility),
                subject=subject,
            )
        return [
            self._register(dataset, subject, version, dry_run, types or {}, check)
            for version in dataset.versions
        ]

    def _register(
        self,
        dataset: Dataset,
        subject: str,
        version: SchemaVersion,
        dry_run: bool,
        types: dict[str, TypeRegistration],
        check: VersionCheck | None,
    ) -> Registration:
        registration = partial(
            Registration,
            dataset=dataset.name,
            subject=subject,
            version=version,
            references=tuple(t for t in types.values() if t.type.schema_str in version.named_types),
        )
        references = _references(version.references, types)
        if references is not None:  # else a dry run, with a shared type not registered yet
            existing = self._lookup(subject, Schema(version.schema_str, "AVRO", references))
            if existing is not None:
                return registration(schema_id=existing[0], new=False)
        reasons = []
        if version.references and check is not None:
            reasons = check(dataset, version, self.registered_versions(subject))
        if reasons:
            rejected = self._rejection(
                dataset,
                subject,
                version,
                "; ".join(reasons),
                by="StreamLake (the registry does not check through shared types)",
            )
            log.error("%s", rejected)
            return registration(schema_id=None, new=False, error=rejected)
        if references is None:
            return registration(schema_id=None, new=True)
        schema = Schema(version.schema_str, "AVRO", references)
        try:
            if dry_run:
                verdict = self.test_compatibility(subject, version.schema_str, references)
                if verdict.compatible is False:
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
        self,
        dataset: Dataset,
        subject: str,
        version: SchemaVersion,
        reason: str,
        *,
        by: str = "",
    ) -> SchemaRejectedError:
        reason = reason or "incompatible with the versions already registered"
        by = by or f"the registry at {self.url}"
        return SchemaRejectedError(
            f"{version.path}: {by} rejected {subject} {version.label} "
            f"({dataset.compatibility}): {reason}. Fix the schema or the subject's "
            f"compatibility level; events for {version.label} go to the DLQ meanwhile",
            url=self.url,
            subject=subject,
            version=version.version,
            reason=reason,
            status=409,
            dataset=dataset.name,
        )

    def _lookup(self, subject: str, schema: Schema) -> tuple[int, int] | None:
        """The schema id and version of `schema` under `subject`, if it is there."""
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
        if found.schema_id is None or found.version is None:
            return None
        return found.schema_id, found.version

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
        return [self.registered_version(subject, number) for number in numbers]

    def registered_version(self, subject: str, number: int) -> RegisteredVersion:
        """One version, with the texts of the shared types it uses resolved."""
        cached = self._resolved.get((subject, number))
        if cached is not None:
            return cached
        found = self._call(
            f"get {subject} version {number}",
            lambda: self._client.get_version(subject, number),
            subject=subject,
        )
        references = tuple(
            (ref.name or "", ref.subject or "", int(ref.version or 0))
            for ref in found.schema.references or ()
        )
        named: dict[str, str] = {}
        for _, ref_subject, ref_version in references:
            used = self.registered_version(ref_subject, ref_version)
            for text in (*used.named_types, used.schema_str):
                named.setdefault(text, text)
        registered = RegisteredVersion(
            subject=subject,
            version=number,
            schema_id=found.schema_id,
            schema_str=found.schema.schema_str or "",
            references=references,
            named_types=tuple(named),
        )
        self._resolved[subject, number] = registered
        return registered

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

    def test_compatibility(
        self, subject: str, schema_str: str, references: list[SchemaReference] | None = None
    ) -> CompatibilityVerdict:
        """Ask the registry whether `schema_str` (using the shared types
        `references` names) may be added under `subject`, with its reasons
        (`?verbose=true`). A subject it does not know is new: anything is
        compatible with nothing."""
        url = (
            f"{self._conf['url'].rstrip('/')}/compatibility/subjects/{quote(subject, safe='')}"
            "/versions/latest?verbose=true"
        )

        def post() -> Any:
            body: dict[str, Any] = {"schema": schema_str, "schemaType": "AVRO"}
            if references:
                body["references"] = [
                    {"name": r.name, "subject": r.subject, "version": r.version} for r in references
                ]
            response = requests.post(
                url,
                data=json.dumps(body),
                timeout=10,
                **self._requests_options(),
            )
            answer = response.json() if response.content else {}
            if response.status_code == 404:
                return {"is_compatible": True, "messages": []}
            if answer.get("error_code") == _CANNOT_CHECK:
                return {"is_compatible": None, "messages": []}
            if response.status_code >= 400:
                raise SchemaRegistryError(
                    response.status_code, answer.get("error_code", -1), answer.get("message", "")
                )
            return answer

        answer = self._call(f"test compatibility of {subject}", post, subject=subject)
        compatible = answer.get("is_compatible")
        return CompatibilityVerdict(
            compatible=None if compatible is None else bool(compatible),
            messages=tuple(str(m) for m in answer.get("messages") or ()),
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


def _references(
    names: tuple[str, ...], types: dict[str, TypeRegistration]
) -> list[SchemaReference] | None:
    """Confluent references to the shared types `names`; None when one of
    them is not registered (a dry run)."""
    references = []
    for name in names:
        version = types[name].version
        if version is None:
            return None
        references.append(SchemaReference(name, types[name].subject, version))
    return references
