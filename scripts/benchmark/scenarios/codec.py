"""The codec's own per-event cost beside fastavro's, without a broker.

Per event of each payload: StreamLake's `Encoder.encode_json` (JSON text in,
Confluent wire format and key out) and `encode_object` (the dict in), beside
what the pre-codec path did per event: `json.loads` + fastavro's
`validate(raise_errors=False)` + `schemaless_writer`. Before the clock starts
every event's bytes from the codec are checked against fastavro's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, ClassVar

from benchmark import work
from benchmark.contenders import codec_missing
from benchmark.payloads import KEY_FIELD, PAYLOADS, events
from benchmark.process import Spec, run_worker
from benchmark.results import Row, Summary
from benchmark.scenarios.base import Column, Scenario, ratio, set_ratio

PATHS = ("codec encode_json", "codec encode_object", "fastavro loads+validate+write")
FASTAVRO = PATHS[2]


def fastavro_path(line: bytes, parsed: Any, encode: Callable[[Any], bytes], validate: Any) -> bytes:
    record = json.loads(line)
    if not validate(record, parsed, raise_errors=False):
        raise RuntimeError(f"fastavro rejects a bench event (they are valid): {record}")
    return encode(record)


def check_identical(variant: str, dicts: list[dict[str, Any]], lines: list[bytes]) -> None:
    """The codec writes fastavro's bytes and the key, for every event timed."""
    encoder = work.codec_encoder(PAYLOADS[variant].schema, 1)
    _, encode = work.fastavro_encoder(PAYLOADS[variant].schema, 1)
    for record, line in zip(dicts, lines, strict=True):
        expected = (encode(record), record[KEY_FIELD].encode())
        for got in (encoder.encode_json(line), encoder.encode_object(record)):
            if tuple(got) != expected:
                raise RuntimeError(f"the codec's bytes differ from fastavro's for {record}")


def time_paths(spec: Spec) -> dict[str, Any]:
    """Worker: each path over the same events once, in an order that turns
    with the round; microseconds per event."""
    from fastavro.validation import validate

    variant, n, rep = spec["variant"], spec["events"], spec["rep"]
    schema = PAYLOADS[variant].schema
    encoder = work.codec_encoder(schema, 1)
    parsed, encode = work.fastavro_encoder(schema, 1)
    dicts = list(events(variant, n))
    lines = [json.dumps(record).encode() for record in dicts]
    check_identical(variant, dicts, lines)
    paths: list[tuple[str, Callable[[Any], Any], list[Any]]] = [
        (PATHS[0], encoder.encode_json, lines),
        (PATHS[1], encoder.encode_object, dicts),
        (FASTAVRO, lambda line: fastavro_path(line, parsed, encode, validate), lines),
    ]
    shift = rep % len(paths)
    result: dict[str, Any] = {}
    for name, one, inputs in paths[shift:] + paths[:shift]:
        started = time.perf_counter()
        for item in inputs:
            one(item)
        result[name] = (time.perf_counter() - started) / n * 1e6
    return result


class CodecMicro(Scenario):
    name = "codec"
    title = "the codec's per-event encode cost beside fastavro's (no broker, one process)"
    columns: ClassVar[tuple[Column, ...]] = (
        Column("us/event", "us_per_event", ".2f", 9),
        Column("x faster than fastavro", "x_fastavro", ".1f", 22),
    )
    each = "us_per_event"

    def unavailable(self) -> str | None:
        return codec_missing()

    def round(self, rep: int) -> list[Row]:
        rows = []
        for variant in self.ctx.options.variants:
            n = self.ctx.sizes.codec_events
            run = run_worker(time_paths, {"variant": variant, "events": n, "rep": rep})
            try:
                result, error = run.result(), None
            except RuntimeError as exc:
                result, error = {}, str(exc)
            for path in PATHS:
                row = Row(subject=f"{variant}/{path}", rep=rep, error=error)
                if path in result:
                    row.metrics["us_per_event"] = result[path]
                rows.append(row)
        return rows

    def derive(self, summaries: dict[str, Summary]) -> None:
        for variant in self.ctx.options.variants:
            base = f"{variant}/{FASTAVRO}"
            for path in PATHS:
                subject = f"{variant}/{path}"
                if subject in summaries:
                    speedup = ratio(summaries, base, subject, "us_per_event")
                    set_ratio(summaries[subject], "x_fastavro", speedup)
