"""What runs inside a contender's child process: build, warm up, time, report.

Each function here is a worker (`spec -> result`, see process.py). Every
in-process contender gets the same warm start (connected, with its topic's
metadata), so no timed section includes connection setup.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from benchmark.naive import NaiveProducer
from benchmark.payloads import KEY_FIELD, PAYLOADS, POOL, events
from benchmark.process import Spec
from benchmark.settings import PRODUCER_CONF

Pairs = Iterator[tuple[bytes, bytes]]
"""(key, value) per event."""
Headers = list[tuple[str, str | bytes | None]]


def fastavro_encoder(schema_str: str, schema_id: int) -> tuple[Any, Callable[[Any], bytes]]:
    """The parsed schema and a record -> Confluent-framed Avro bytes encoder
    (magic byte 0, the 4-byte big-endian schema id, fastavro's schemaless
    encoding)."""
    import fastavro

    parsed = fastavro.parse_schema(json.loads(schema_str))
    prefix = b"\x00" + schema_id.to_bytes(4, "big")
    writer = fastavro.schemaless_writer

    def encode(record: Any) -> bytes:
        buffer = io.BytesIO()
        buffer.write(prefix)
        writer(buffer, parsed, record, strict_allow_default=True)
        return buffer.getvalue()

    return parsed, encode


def codec_encoder(schema_str: str, schema_id: int) -> Any:
    """StreamLake's native encoder for one schema (streamlake._codec.Encoder)."""
    from streamlake._codec import Encoder  # type: ignore[import-not-found, unused-ignore]

    return Encoder(schema_str, schema_id, key_field=KEY_FIELD)


def fixed_headers(variant: str) -> Headers:
    """The six headers, built once per run (no per-event uuid or clock): the
    ceiling's and the floors', the same list object for every event."""
    return [
        ("dataset", PAYLOADS[variant].dataset.encode()),
        ("schema_version", b"v1"),
        ("schema_id", b"1"),
        ("ingestion_id", b"00000000-0000-4000-8000-000000000000"),
        ("producer_service", b"ceiling"),
        ("ingested_at", b"2026-11-27T12:00:00.000Z"),
    ]


def ready(producer: Any, topic: str) -> None:
    """Connected, with the topic's metadata and (give or take) the idempotent
    producer id: the same warm start for every in-process contender."""
    producer.list_topics(topic, timeout=30)
    time.sleep(0.3)


def produce_all(spec: Spec, pairs: Pairs, headers: Headers) -> dict[str, Any]:
    """Produce every pair with the fixed headers: no delivery callback, poll
    only on BufferError, flush at the end. Timed from the first pair to the
    end of the flush, so whatever `pairs` computes per event is in."""
    producer = Producer({"bootstrap.servers": spec["bootstrap"], **PRODUCER_CONF})
    produce, poll, topic = producer.produce, producer.poll, spec["topic"]
    ready(producer, topic)
    started = time.perf_counter()
    for key, value in pairs:
        while True:
            try:
                produce(topic, value, key, headers=headers)
                break
            except BufferError:
                poll(0.05)
    left = producer.flush(60)
    return {"elapsed_s": time.perf_counter() - started, "not_flushed": left}


def ceiling(spec: Spec) -> dict[str, Any]:
    """Pre-built keys and values: nothing computed per event."""
    variant, n = spec["variant"], spec["events"]
    _, encode = fastavro_encoder(PAYLOADS[variant].schema, 1)
    keys = [f"ORD-{i:09d}".encode() for i in range(n)]
    values = [encode(event) for event in events(variant, POOL)]
    return produce_all(spec, zip(keys, itertools.cycle(values)), fixed_headers(variant))


def codec_floor(spec: Spec) -> dict[str, Any]:
    """The ceiling plus the codec's encode_object of each event dict (value
    and key in one call): the bound the streamlake bulk path can reach."""
    variant = spec["variant"]
    encode = codec_encoder(PAYLOADS[variant].schema, 1).encode_object
    stream = events(variant, spec["events"])  # the pool is built here, before the clock

    def pairs() -> Pairs:
        for record in stream:
            value, key = encode(record)
            yield key, value

    return produce_all(spec, pairs(), fixed_headers(variant))


def fastavro_floor(spec: Spec) -> dict[str, Any]:
    """The ceiling plus fastavro's validate + schemaless_writer of each event
    and its key's encode(): the bound of the pre-codec path."""
    from fastavro.validation import validate

    variant = spec["variant"]
    parsed, encode = fastavro_encoder(PAYLOADS[variant].schema, 1)
    stream = events(variant, spec["events"])

    def pairs() -> Pairs:
        for record in stream:
            if not validate(record, parsed, raise_errors=False):
                raise RuntimeError(f"fastavro rejects a bench event (they are valid): {record}")
            yield record[KEY_FIELD].encode(), encode(record)

    return produce_all(spec, pairs(), fixed_headers(variant))


def naive_producer(spec: Spec) -> NaiveProducer:
    payload = PAYLOADS[spec["variant"]]
    return NaiveProducer(
        bootstrap=spec["bootstrap"],
        registry_url=spec["registry"],
        topic=spec["topic"],
        schema_str=payload.schema,
        dataset=payload.dataset,
        version=payload.version_label,
        key_field=KEY_FIELD,
        conf=PRODUCER_CONF,
    )


def naive(spec: Spec) -> dict[str, Any]:
    producer = naive_producer(spec)
    produce = producer.produce
    stream = events(spec["variant"], spec["events"])
    ready(producer.producer, spec["topic"])
    started = time.perf_counter()
    for event in stream:
        produce(event)
    left = producer.producer.flush(60)
    return {
        "elapsed_s": time.perf_counter() - started,
        "not_flushed": left,
        "delivered": producer.delivered,
        "failed": producer.failed,
    }


def streamlake_config(spec: Spec) -> Any:
    from streamlake.kafka.producer import ProducerConfig

    return ProducerConfig(
        bootstrap_servers=spec["bootstrap"],
        schema_registry_url=spec["registry"],
        schemas_dir=Path(spec["catalog"]),
        producer_service="bench",
        kafka=PRODUCER_CONF,
    )


def streamlake_producer(spec: Spec) -> Any:
    from streamlake.kafka.producer import IngestionProducer

    return IngestionProducer(streamlake_config(spec))


def streamlake_ready(producer: Any, topic: str) -> None:
    """The library's own librdkafka producer warmed up like the others': the
    first `_producer` down the chain that answers list_topics (the async
    producer wraps an IngestionProducer, which wraps librdkafka's)."""
    client = getattr(producer, "_producer", None)
    while client is not None and not hasattr(client, "list_topics"):
        client = getattr(client, "_producer", None)
    if client is not None:
        ready(client, topic)
    else:
        time.sleep(0.3)


def bulk(spec: Spec) -> dict[str, Any]:
    """IngestionProducer.produce_many() of dicts, every result consumed."""
    import streamlake

    if spec.get("baseline") and not streamlake.__file__.startswith(os.environ["PYTHONPATH"]):
        raise RuntimeError(f"the baseline run imported {streamlake.__file__}")
    producer = streamlake_producer(spec)
    dataset = PAYLOADS[spec["variant"]].dataset
    outcomes: dict[str, int] = {}
    stream = events(spec["variant"], spec["events"])
    streamlake_ready(producer, spec["topic"])
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    for result in producer.produce_many(dataset, stream):
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    left = producer.close()
    return {
        "elapsed_s": elapsed,
        "not_flushed": left,
        "outcomes": outcomes,
        "streamlake": streamlake.__file__,
    }
