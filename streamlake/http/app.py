"""The ASGI app: `create_app(settings)` returns a Starlette application.

Routes::

    POST /v1/datasets/{dataset}/events     produce (see produce.py)
    GET  /v1/datasets                      the catalog: datasets, versions, schema ids
    GET  /v1/datasets/{dataset}/schema     one version's schema (?version=N)
    GET  /openapi.json                     the API, as OpenAPI 3.1
    GET  /livez  /readyz  /metrics         operations

One producer per worker process, created at startup (registering the catalog
unless registrations are given) and closed at shutdown. A `_Gate` in front of
the routes counts and times every request, writes one access log line, and
refuses produce requests beyond `max_concurrent_requests` or while draining.

On SIGTERM (when `drain_on_signal`), the worker drains: /readyz answers 503
at once, new produce requests get 503 + Retry-After, streams stop reading and
answer what they read, in-flight requests get `drain_timeout_s` to finish;
then the producer is closed (what it could not deliver is purged, answered as
``failed`` and counted) and the server is told to exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamlake.catalog import Catalog
from streamlake.http import openapi
from streamlake.http._body import BodyLines
from streamlake.http.auth import Authenticator
from streamlake.http.metrics import Metrics
from streamlake.http.problems import Problem
from streamlake.http.produce import produce_events
from streamlake.http.settings import ServeSettings
from streamlake.kafka.producer.async_producer import AsyncIngestionProducer
from streamlake.registry import Registration

log = logging.getLogger(__name__)
access_log = logging.getLogger("streamlake.http.access")

_DRAIN_STREAM_REASON = (
    "the server is shutting down; send the lines after the last one read to another instance"
)
_CLOSE = (b"connection", b"close")
_DRAIN_MIN_S = 1.0
"""Draining lasts at least this long, so clients on idle keep-alive
connections get a 503 with Connection: close rather than a closed socket."""
_PURGE_WAIT_S = 3.0
_LIBRDKAFKA_QUEUE = 100_000
"""librdkafka's default queue.buffering.max.messages."""
"""After the producer is purged, how long answers may take to be written."""


class Service:
    """The app's state: settings, producer, auth, metrics, drain."""

    def __init__(
        self,
        settings: ServeSettings,
        *,
        producer: AsyncIngestionProducer | None,
        catalog: Catalog | None,
        registrations: list[Registration] | None,
    ) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.auth = Authenticator(settings.api_keys)
        self.queue_limit = int(
            settings.producer.kafka.get("queue.buffering.max.messages", _LIBRDKAFKA_QUEUE)
        )
        """Records librdkafka may hold; at it, produce requests get 503."""
        self.metrics = Metrics()
        self._producer = producer
        self.owns_producer = producer is None
        self.catalog: Catalog = producer.catalog if producer is not None else catalog  # type: ignore[assignment]
        self.registrations = registrations
        self.draining = False
        self.closed = False
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.streams: set[BodyLines] = set()
        self._admin: AdminClient | None = None
        self._probe: asyncio.Lock | None = None
        self._probed: tuple[float, str | None] = (0.0, "not probed yet")

    @property
    def producer(self) -> AsyncIngestionProducer:
        if self._producer is None:
            raise Problem(
                503, "not-ready", "the producer is starting; retry shortly", retry_after=1
            )
        return self._producer

    async def start(self) -> None:
        if self._producer is None:
            self._producer = AsyncIngestionProducer(
                self.settings.producer, catalog=self.catalog, registrations=self.registrations
            )
        self.catalog = self._producer.catalog
        self.registrations = self._producer.registrations
        self._admin = AdminClient(self.settings.producer.connection_conf())
        self._probe = asyncio.Lock()
        self.metrics.watch_queue(self._producer.queue_depth)

    async def close(self, timeout: float) -> int:
        if self.closed or self._producer is None or not self.owns_producer:
            return 0
        self.closed = True
        left = await self._producer.close(timeout)
        if left:
            log.error("shutdown: %d record(s) were not delivered and were answered as failed", left)
        return left

    # --- readiness -------------------------------------------------------------
    async def not_ready(self) -> list[str]:
        """Why this worker should get no traffic (empty when ready)."""
        reasons = []
        if self.draining:
            reasons.append("draining: the server is shutting down")
        if self._producer is None or self._admin is None or self._probe is None:
            return [*reasons, "starting: the catalog is not registered yet"]
        kafka = await self._kafka_reason()
        if kafka:
            reasons.append(kafka)
        return reasons

    async def _kafka_reason(self) -> str | None:
        assert self._probe is not None and self._admin is not None
        async with self._probe:  # concurrent probes share one metadata request
            stamp, reason = self._probed
            if time.monotonic() - stamp < 1.0:
                return reason
            timeout = self.settings.readiness_timeout_s
            try:
                await asyncio.to_thread(self._admin.list_topics, timeout=timeout)
                reason = None
            except KafkaException as exc:
                reason = (
                    f"kafka: no metadata answer within {timeout:g} s from "
                    f"{self.settings.producer.bootstrap_servers} ({exc.args[0].name()})"
                )
            self._probed = (time.monotonic(), reason)
            return reason

    # --- drain -----------------------------------------------------------------
    def begin_drain(self) -> None:
        if self.draining:
            return
        self.draining = True
        log.warning(
            "draining: %d request(s) in flight get %.0f s to finish; new ones are refused",
            self.in_flight,
            self.settings.drain_timeout_s,
        )
        for lines in self.streams:
            lines.stop(_DRAIN_STREAM_REASON)

    async def drain(self) -> None:
        """Drain, then close the producer: every request gets an answer."""
        self.begin_drain()
        started = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), self.settings.drain_timeout_s)
        await asyncio.sleep(max(0.0, started + _DRAIN_MIN_S - time.monotonic()))
        if self.in_flight:
            log.error(
                "draining: %d request(s) still in flight after %.0f s; purging the producer",
                self.in_flight,
                self.settings.drain_timeout_s,
            )
            await self.close(0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.idle.wait(), _PURGE_WAIT_S)
        await self.close(max(1.0, 29.0 - self.settings.drain_timeout_s - _PURGE_WAIT_S))

    def enter(self) -> None:
        self.in_flight += 1
        self.idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.idle.set()


def _route_name(method: str, path: str) -> str:
    if path.startswith("/v1/datasets"):
        if path.endswith("/events"):
            return "produce"
        return "schema" if path.endswith("/schema") else "datasets"
    return (
        path.strip("/") if path in ("/livez", "/readyz", "/metrics", "/openapi.json") else "other"
    )


class _Gate:
    """Counts, times and logs every request; admits produce requests."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = self.service
        started = time.perf_counter()
        route = _route_name(scope["method"], scope["path"])
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if service.draining:  # no client should reuse this connection
                    message["headers"] = [*message.get("headers", ()), _CLOSE]
            await send(message)

        producing = route == "produce" and scope["method"] == "POST"
        try:
            if producing:
                refusal = self._refusal()
                if refusal is not None:
                    service.metrics.rejected.labels(refusal.slug).inc()
                    await refusal.response()(scope, receive, send_status)
                    return
                service.enter()
                service.metrics.in_flight.inc()
                try:
                    await self.app(scope, receive, send_status)
                finally:
                    service.leave()
                    service.metrics.in_flight.dec()
            else:
                await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            service.metrics.request(route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(
                    "%s %s %s %d %.1fms",
                    client[0] if client else "-",
                    scope["method"],
                    scope["path"],
                    status,
                    elapsed * 1000,
                )

    def _refusal(self) -> Problem | None:
        service = self.service
        retry = service.settings.retry_after_s
        if service.draining:
            return Problem(
                503,
                "draining",
                "this instance is shutting down; retry against another instance",
                retry_after=retry,
            )
        if service.in_flight >= service.limits.max_concurrent_requests:
            return Problem(
                503,
                "overloaded",
                f"this worker already handles {service.limits.max_concurrent_requests} produce "
                "requests; retry after the delay, or send batches instead of single events",
                retry_after=1,
            )
        return None


def _handler(service: Service, func: Callable[[Service, Request], Any]) -> Callable[[Request], Any]:
    """A Starlette endpoint that answers a raised Problem as problem+json."""

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await func(service, request)
        except Problem as problem:
            service.metrics.rejected.labels(problem.slug).inc()
            return problem.response()
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is left to read it
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return Problem(
                500, "internal", "the server failed on this request; see its log"
            ).response()
        return response

    return endpoint


async def _datasets(service: Service, request: Request) -> Response:
    key = service.auth.authenticate(request)
    registered = {(r.dataset, r.version.version): r for r in service.registrations or ()}
    datasets = []
    for dataset in service.catalog.values():
        if key is not None and not key.allows(dataset.name):
            continue
        datasets.append(
            {
                "name": dataset.name,
                "key_field": dataset.key_field,
                "raw_topic": dataset.raw_topic,
                "dlq_topic": dataset.dlq_topic,
                "subject": dataset.value_subject,
                "compatibility": dataset.compatibility,
                "latest_version": dataset.latest.version,
                "idempotency_field": service.settings.idempotency_fields.get(dataset.name),
                "versions": [
                    _version_fields(v.version, registered.get((dataset.name, v.version)))
                    for v in dataset.versions
                ],
            }
        )
    return JSONResponse({"datasets": datasets})


def _version_fields(version: int, registration: Registration | None) -> dict[str, object]:
    return {
        "version": version,
        "label": f"v{version}",
        "schema_id": registration.schema_id if registration else None,
        "usable": bool(registration and registration.usable),
    }


async def _schema(service: Service, request: Request) -> Response:
    key = service.auth.authenticate(request)
    name = request.path_params["dataset"]
    if name not in service.catalog:
        raise Problem(404, "not-found", f"unknown dataset {name!r}; GET /v1/datasets lists them")
    service.auth.authorize(key, name)
    dataset = service.catalog[name]
    text = request.query_params.get("version")
    version = (
        dataset.latest if text is None else (dataset.version(int(text)) if text.isdigit() else None)
    )
    if version is None:
        raise Problem(
            404,
            "not-found",
            f"{name} has no version {text!r}; it has "
            f"{', '.join(str(v.version) for v in dataset.versions)}",
        )
    registration = next(
        (
            r
            for r in service.registrations or ()
            if r.dataset == name and r.version.version == version.version
        ),
        None,
    )
    return JSONResponse(
        {
            "dataset": name,
            **_version_fields(version.version, registration),
            "subject": dataset.value_subject,
            "key_field": dataset.key_field,
            "schema": version.schema,
        }
    )


async def _livez(service: Service, request: Request) -> Response:
    return JSONResponse({"live": True})


async def _readyz(service: Service, request: Request) -> Response:
    reasons = await service.not_ready()
    if reasons:
        return JSONResponse(
            {"ready": False, "reasons": reasons},
            503,
            {"Retry-After": str(service.settings.retry_after_s)},
        )
    rejected = [
        f"{r.dataset} {r.version.label}" for r in service.registrations or () if not r.usable
    ]
    return JSONResponse({"ready": True, "unusable_versions": rejected})


async def _metrics(service: Service, request: Request) -> Response:
    return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")


async def _openapi(service: Service, request: Request) -> Response:
    return JSONResponse(openapi.document(service.settings))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return Problem(
            405,
            "method-not-allowed",
            f"{request.method} is not allowed on {request.url.path}; see /openapi.json",
        ).response(dict(exc.headers or {}))
    if exc.status_code == 404:
        return Problem(
            404, "not-found", f"no route {request.url.path}; see /openapi.json for the API"
        ).response()
    return Problem(400, "bad-request", str(exc.detail)).response()


def _install_drain(service: Service) -> Callable[[], None]:
    """SIGTERM drains first, then hands the signal to the server (uvicorn's
    own handler, which then shuts down). Returns the uninstaller."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    async def drain_then_exit() -> None:
        await service.drain()
        if callable(previous):
            previous(signal.SIGTERM, None)
        else:
            signal.signal(signal.SIGTERM, previous)
            os.kill(os.getpid(), signal.SIGTERM)

    tasks: set[asyncio.Task[None]] = set()

    def on_sigterm() -> None:
        if not service.draining:
            task = loop.create_task(drain_then_exit())
            tasks.add(task)

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)

    def uninstall() -> None:
        loop.remove_signal_handler(signal.SIGTERM)
        if callable(previous) or previous in (signal.SIG_DFL, signal.SIG_IGN):
            signal.signal(signal.SIGTERM, previous)

    return uninstall


def create_app(
    settings: ServeSettings | None = None,
    *,
    producer: AsyncIngestionProducer | None = None,
    catalog: Catalog | None = None,
    registrations: list[Registration] | None = None,
    drain_on_signal: bool = True,
) -> Starlette:
    """The StreamLake HTTP API as a Starlette app.

    Without `producer`, an `AsyncIngestionProducer` is created at startup from
    `settings.producer` (and `catalog` / `registrations` when given, so
    workers need not register the catalog again) and closed at shutdown; a
    given producer stays the caller's. With `drain_on_signal`, SIGTERM drains
    the app before the server shuts down (main thread only).
    """
    settings = settings or ServeSettings()
    if producer is None and catalog is None:
        from streamlake.catalog import load_catalog

        catalog = load_catalog(settings.producer.schemas_dir)
    service = Service(settings, producer=producer, catalog=catalog, registrations=registrations)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        uninstall = _install_drain(service) if drain_on_signal and _in_main_thread() else None
        log.info(
            "ready: %d dataset(s) on %s", len(service.catalog), settings.producer.bootstrap_servers
        )
        try:
            yield
        finally:
            if uninstall is not None:
                uninstall()
            await service.close(settings.drain_timeout_s)

    def route(path: str, func: Callable[[Service, Request], Any], method: str) -> Route:
        return Route(path, _handler(service, func), methods=[method])

    app = Starlette(
        routes=[
            route("/v1/datasets/{dataset}/events", produce_events, "POST"),
            route("/v1/datasets", _datasets, "GET"),
            route("/v1/datasets/{dataset}/schema", _schema, "GET"),
            route("/openapi.json", _openapi, "GET"),
            route("/livez", _livez, "GET"),
            route("/readyz", _readyz, "GET"),
            route("/metrics", _metrics, "GET"),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(_Gate, service=service)
    return app


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
