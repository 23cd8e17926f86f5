"""``POST /v1/datasets/{dataset}/events``: parse the request, hand the events to
the producer, answer per event.

- ``application/json`` object: one event; 200 produced, 422 dead-lettered,
  503 (+ Retry-After) retriable Kafka failure, 500 fatal one; the body is the
  event's result.
- ``application/json`` array: a batch; ``{"summary", "results"}`` in request
  order; 200 all produced, 207 some not, 503 (+ Retry-After) nothing landed
  and every failure is retriable. ``Prefer: return=minimal`` keeps only the
  results that are not ``produced``.
- ``application/x-ndjson``: a stream; one result line per input line as the
  acknowledgements arrive, then ``{"summary": ..., "complete": true}``. At
  most `stream_max_in_flight` lines are read ahead of their answers: at the
  bound the body is not read further and TCP pushes back on the client.

Whatever fails before an event is attempted is a `Problem` (problem+json).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from streamlake.errors import KafkaDeliveryError
from streamlake.http._body import NDJSON, BodyLines, StreamEnded, check_media_type, read_body
from streamlake.http._idempotency import field_ids, idempotent_id
from streamlake.http.problems import Problem
from streamlake.http.results import Summary, dumps, error_fields, item_json, single_json
from streamlake.kafka.producer import Outcome

Headers = list[tuple[str, bytes]]

if TYPE_CHECKING:
    from streamlake.http.app import Service

log = logging.getLogger(__name__)

_TRACEPARENT = re.compile(r"[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,200}")
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")
_OUT_HIGH_WATER = 4096
"""Stream result lines waiting for the socket before producing pauses."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""Strict like the producer: NaN and Infinity are not JSON."""


def trace_headers(request: Request) -> tuple[Headers, dict[str, str]]:
    """(record headers, response headers) from traceparent and X-Request-Id.
    An invalid traceparent is ignored, as W3C Trace Context says."""
    record: list[tuple[str, bytes]] = []
    echo: dict[str, str] = {}
    traceparent = request.headers.get("traceparent")
    if traceparent is not None and _TRACEPARENT.fullmatch(traceparent.strip().lower()):
        traceparent = traceparent.strip().lower()
        record.append(("traceparent", traceparent.encode()))
        echo["traceparent"] = traceparent
    request_id = request.headers.get("x-request-id")
    if request_id is not None:
        if not _REQUEST_ID.fullmatch(request_id):
            raise Problem(400, "bad-request", "X-Request-Id must be 1-200 visible ASCII characters")
        record.append(("request_id", request_id.encode()))
        echo["X-Request-Id"] = request_id
    return record, echo


def _version(request: Request) -> int | None:
    text = request.query_params.get("version")
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise Problem(
            400, "bad-request", f"version={text!r}: give a schema version number, e.g. ?version=2"
        )
    return int(text)


def _prefers_minimal(request: Request) -> bool:
    return "return=minimal" in request.headers.get("prefer", "").replace(" ", "").lower()


async def produce_events(service: Service, request: Request) -> Response:
    dataset = request.path_params["dataset"]
    key = service.auth.authenticate(request)
    if dataset not in service.catalog:
        raise Problem(
            404,
            "not-found",
            f"unknown dataset {dataset!r}; GET /v1/datasets lists the {len(service.catalog)} "
            "datasets of the catalog",
        )
    service.auth.authorize(key, dataset)
    received = time.perf_counter()
    version = _version(request)
    kind = check_media_type(request.headers.get("content-type", ""))
    record_headers, echo = trace_headers(request)
    encoding = request.headers.get("content-encoding", "")
    idempotency_key = request.headers.get("idempotency-key")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise Problem(
            400, "bad-request", "Idempotency-Key must be 1-255 printable ASCII characters"
        )
    field = service.settings.idempotency_fields.get(dataset)
    if kind == NDJSON:
        if idempotency_key is not None:
            raise _key_on_many(dataset)
        _check_queue(service)
        lines = BodyLines(
            request.receive,
            encoding,
            max_line_bytes=service.limits.max_body_bytes,
            idle_timeout_s=service.limits.stream_idle_timeout_s,
            max_duration_s=service.limits.stream_max_duration_s,
        )
        return ResultStream(
            service,
            dataset,
            version,
            lines,
            record_headers,
            echo,
            minimal=_prefers_minimal(request),
            ids_field=field,
        )
    body = await read_body(request.receive, encoding, service.limits.max_body_bytes)
    try:
        document = _DECODER.decode(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return await _unparsable(service, dataset, version, body, record_headers, echo, exc)
    if isinstance(document, list):
        if idempotency_key is not None:
            raise _key_on_many(dataset)
        if not all(type(event) is dict for event in document):
            document = [_event(event) for event in document]
        return await _batch(
            service,
            request,
            dataset,
            version,
            document,
            record_headers,
            echo,
            field,
            received,
        )
    ingestion_id = None
    if idempotency_key is not None:
        ingestion_id = idempotent_id(dataset, idempotency_key)
    elif field is not None:
        ingestion_id = field_ids(dataset, field)(document)
    return await _single(
        service, dataset, version, _event(document), record_headers, echo, ingestion_id, received
    )


def _event(value: object) -> object:
    """What the producer takes: an object as parsed, any other JSON value as
    its JSON text, which the producer dead-letters with its own verdict."""
    return value if isinstance(value, dict) else dumps(value).encode()


def _check_queue(service: Service) -> None:
    """503 when librdkafka's queue is full: Kafka is slow or gone, and
    waiting for room would only pile requests up."""
    if service.producer.queue_depth() >= service.queue_limit:
        raise Problem(
            503,
            "kafka-queue-full",
            f"the Kafka producer already holds {service.queue_limit} records waiting for the "
            "broker; retry after the delay (Kafka is slow or unreachable)",
            retry_after=service.settings.retry_after_s,
        )


def _key_on_many(dataset: str) -> Problem:
    return Problem(
        400,
        "bad-request",
        "Idempotency-Key applies to a single event; for batches and streams, set "
        f"[datasets.{dataset}] idempotency_field in the server's config so each event's "
        "own field makes its ingestion_id",
    )


async def _single(
    service: Service,
    dataset: str,
    version: int | None,
    event: object,
    record_headers: Headers,
    echo: dict[str, str],
    ingestion_id: str | None,
    received: float,
) -> Response:
    _check_queue(service)
    try:
        result = await service.producer.produce(
            dataset, event, version=version, headers=record_headers, ingestion_id=ingestion_id
        )
    except KafkaDeliveryError as exc:
        service.metrics.count_events(dataset, Outcome.FAILED)
        body = {
            "status": "failed",
            "topic": exc.topic,
            "partition": None,
            "offset": None,
            "ingestion_id": exc.ingestion_id,
            "error": error_fields(exc),
            "dataset": dataset,
        }
        headers = dict(echo)
        if exc.retriable:
            headers["Retry-After"] = str(service.settings.retry_after_s)
        return Response(
            dumps(body),
            503 if exc.retriable else 500,
            headers,
            media_type="application/json",
        )
    service.metrics.count_events(dataset, result.outcome)
    service.metrics.acked(dataset, time.perf_counter() - received)
    status = 200 if result.outcome is Outcome.PRODUCED else 422
    return Response(single_json(result), status, echo, media_type="application/json")


async def _unparsable(
    service: Service,
    dataset: str,
    version: int | None,
    body: bytes,
    record_headers: Headers,
    echo: dict[str, str],
    exc: Exception,
) -> Response:
    """400, after the body went to the DLQ as invalid_json (the producer
    bounds what it keeps of a large body)."""
    detail = f"the body is not valid JSON ({exc}); fix it and send it again"
    try:
        result = await service.producer.produce(
            dataset, body, version=version, headers=record_headers
        )
    except KafkaDeliveryError as error:
        service.metrics.count_events(dataset, Outcome.FAILED)
        problem = Problem(
            400,
            "invalid-json",
            detail + "; it could not be kept in the dead-letter topic either",
            dlq=None,
            dlq_error=error_fields(error),
        )
        return problem.response(echo)
    service.metrics.count_events(dataset, result.outcome)
    problem = Problem(
        400,
        "invalid-json",
        detail,
        dlq={
            "topic": result.topic,
            "partition": result.partition,
            "offset": result.offset,
            "ingestion_id": result.ingestion_id,
        },
    )
    return problem.response(echo)


async def _batch(
    service: Service,
    request: Request,
    dataset: str,
    version: int | None,
    events: list[Any],
    record_headers: Headers,
    echo: dict[str, str],
    field: str | None,
    received: float,
) -> Response:
    limit = service.limits.max_batch_events
    if len(events) > limit:
        raise Problem(
            413,
            "too-large",
            f"the batch holds {len(events)} events, more than the limit of {limit}; split it, "
            "or send an NDJSON stream",
            limit_events=limit,
        )
    _check_queue(service)
    minimal = _prefers_minimal(request)
    summary = Summary()
    texts: list[str] = []
    index = 0
    results = service.producer.produce_many(
        dataset,
        events,
        version=version,
        headers=record_headers,
        ingestion_id_of=field_ids(dataset, field) if field else None,
    )
    async for result in results:
        summary.add(result)
        if not minimal or result.outcome is not Outcome.PRODUCED:
            texts.append(item_json("index", index, result))
        index += 1
    _count(service, dataset, summary)
    if events:
        service.metrics.acked(dataset, time.perf_counter() - received)
    status = summary.batch_status()
    headers = dict(echo)
    if status == 503:
        headers["Retry-After"] = str(service.settings.retry_after_s)
    if minimal:
        headers["Preference-Applied"] = "return=minimal"
    body = f'{{"summary":{dumps(summary.fields())},"results":[{",".join(texts)}]}}'
    return Response(body, status, headers, media_type="application/json")


def _count(service: Service, dataset: str, summary: Summary, since: Summary | None = None) -> None:
    before = since or Summary()
    for outcome, now, then in (
        (Outcome.PRODUCED, summary.produced, before.produced),
        (Outcome.DLQ, summary.dlq, before.dlq),
        (Outcome.FAILED, summary.failed, before.failed),
    ):
        if now > then:
            service.metrics.count_events(dataset, outcome, now - then)


class ResultStream(Response):
    """The answer to an NDJSON stream, written while the body is still read.

    A writer task sends result lines as they come, in as few socket writes as
    the pace allows; when it falls `_OUT_HIGH_WATER` lines behind (the client
    does not read), producing waits, so reading the body stops too.
    """

    media_type = NDJSON

    def __init__(
        self,
        service: Service,
        dataset: str,
        version: int | None,
        lines: BodyLines,
        record_headers: Headers,
        echo: dict[str, str],
        *,
        minimal: bool,
        ids_field: str | None,
    ) -> None:
        # Not Response.__init__: it would announce the empty body's length.
        self.status_code = 200
        self.background = None
        self.init_headers({**echo, "Preference-Applied": "return=minimal"} if minimal else echo)
        self.service = service
        self.dataset = dataset
        self.version = version
        self.lines = lines
        self.record_headers = record_headers
        self.minimal = minimal
        self.ids_field = ids_field
        self._out: list[str] = []
        self._wake = asyncio.Event()
        self._space = asyncio.Event()
        self._finished = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        writer = asyncio.create_task(self._write(send))
        final: dict[str, object] = {}
        summary = Summary()
        self.service.streams.add(self.lines)
        try:
            ended = await self._produce(summary)
            final = {
                "summary": {**summary.fields(), "blank": self.lines.blank},
                "complete": ended is None,
            }
            if ended is not None:
                final["error"] = {
                    "reason": ended,
                    "last_line_read": self.lines.number,
                    "resend_from_line": self.lines.number + 1,
                }
        except Exception:
            log.exception("stream for %s failed", self.dataset)
            final = {
                "summary": {**summary.fields(), "blank": self.lines.blank},
                "complete": False,
                "error": {
                    "reason": "internal error; see the server log",
                    "last_line_read": self.lines.number,
                },
            }
        finally:
            self.service.streams.discard(self.lines)
            self._finished = True
            self._wake.set()
            await writer
        await send(
            {
                "type": "http.response.body",
                "body": (dumps(final) + "\n").encode(),
                "more_body": False,
            }
        )

    async def _produce(self, summary: Summary) -> str | None:
        """Produce every line; the reason reading ended early, or None."""
        numbers: deque[tuple[int, float]] = deque()
        ended: list[str] = []
        lines = self.lines
        parse = self.ids_field is not None

        async def events() -> AsyncIterator[object]:
            try:
                async for line in lines:
                    numbers.append((lines.number, time.perf_counter()))
                    yield _parsed(line) if parse else line
            except StreamEnded as exc:
                ended.append(exc.reason)

        service = self.service
        metrics = service.metrics
        dataset = self.dataset
        counted = Summary()
        out = self._out
        results = service.producer.produce_many(
            dataset,
            events(),
            version=self.version,
            headers=self.record_headers,
            ingestion_id_of=field_ids(dataset, self.ids_field) if self.ids_field else None,
            max_in_flight=service.limits.stream_max_in_flight,
        )
        async for result in results:
            number, received = numbers.popleft()
            summary.add(result)
            metrics.acked(dataset, time.perf_counter() - received)
            if not self.minimal or result.outcome is not Outcome.PRODUCED:
                out.append(item_json("line", number, result))
                self._wake.set()
                if len(out) >= _OUT_HIGH_WATER:
                    self._space.clear()
                    await self._space.wait()
            if (summary.produced + summary.dlq + summary.failed) % 1000 == 0:
                _count(service, dataset, summary, counted)
                counted = Summary(summary.produced, summary.dlq, summary.failed)
        _count(service, dataset, summary, counted)
        return ended[0] if ended else None

    async def _write(self, send: Send) -> None:
        out = self._out
        while True:
            if not out:
                if self._finished:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            chunk = "\n".join(out) + "\n"
            out.clear()
            self._space.set()
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})


def _parsed(line: bytes) -> object:
    """The line as JSON for its idempotency field; as received when it is not
    JSON (the producer dead-letters it as invalid_json)."""
    try:
        return _DECODER.decode(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return line
