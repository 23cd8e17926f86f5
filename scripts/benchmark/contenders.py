"""The throughput contenders: one table, name -> class.

Each contender runs on the same N events of one payload, into a fresh topic
of the same partition count, with the same librdkafka settings, in its own
process (so its peak RSS is its own), and its records are counted back from
its topic. In-process contenders are timed from the first produce to the
last acknowledgement (or result); file contenders by the process's wall time
(interpreter start, registration, JSON parsing, shutdown).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, ClassVar

from benchmark import naive, work
from benchmark.context import Context, log
from benchmark.payloads import KEY_FIELD, PAYLOADS
from benchmark.process import Run, Spec, Worker, python_path_env, run_worker
from benchmark.results import Row
from benchmark.settings import PRODUCER_CONF


def codec_missing() -> str | None:
    if importlib.util.find_spec("streamlake._codec") is None:
        return "streamlake._codec is not built (pip install -e . with cargo on PATH)"
    return None


class Contender:
    """One contender: `run(variant, rep)` measures it once and returns its Row."""

    label: ClassVar[str]
    naive_subject: ClassVar[str] = "naive"
    """The subject its 'x naive' ratio is against."""
    streamlake: ClassVar[bool] = False
    """Produces through a StreamLake catalog (and so must leave its DLQ empty)."""

    def __init__(self, ctx: Context, *, baseline: Path | None = None) -> None:
        self.ctx, self.baseline = ctx, baseline

    def unavailable(self) -> str | None:
        """Why this contender cannot run here, or None."""
        return None

    @property
    def name(self) -> str:
        return f"{self.label} (baseline)" if self.baseline else self.label

    def env(self) -> dict[str, str] | None:
        return python_path_env(self.baseline) if self.baseline else None

    def destination(self, variant: str, rep: int) -> tuple[str, str | None, dict[str, Any]]:
        """(topic, DLQ topic or None, spec extras): fresh topics for this run."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-")  # a valid topic name part
        if not self.streamlake:
            return self.ctx.broker.topic(variant, slug, f"r{rep}"), None, {}
        catalog, raw, dlq = self.ctx.broker.catalog(self.ctx.tmp, variant, slug, f"r{rep}")
        return raw, dlq, {"catalog": str(catalog)}

    def run(self, variant: str, rep: int) -> Row:
        raise NotImplementedError

    def row(self, variant: str, rep: int, run: Run, topic: str, dlq: str | None) -> Row:
        """The run's Row: its rate, peak RSS, and what its topics hold."""
        n = self.ctx.sizes.events
        row = Row(subject=f"{variant}/{self.name}", rep=rep, expected=n)
        row.metrics["peak_rss_mb"] = run.peak_rss_mb
        try:
            row.detail = run.result()
            row.metrics["peak_rss_mb"] = row.detail.get("peak_rss_kib", 0) / 1024 or run.peak_rss_mb
            elapsed = row.detail.get("elapsed_s", run.wall_s)
            row.metrics["events_per_s"] = n / elapsed
        except RuntimeError as exc:
            row.error = str(exc)
        row.counted = self.ctx.broker.count(topic)
        if dlq is not None:
            row.dlq_counted = self.ctx.broker.count(dlq)
        return row


class InProcess(Contender):
    """Timed inside its worker process, after the same warm start."""

    def worker(self) -> Worker:
        raise NotImplementedError

    def run(self, variant: str, rep: int) -> Row:
        topic, dlq, extra = self.destination(variant, rep)
        if self.baseline:
            extra["baseline"] = True
        spec = self.ctx.spec(variant, topic, self.ctx.sizes.events, **extra)
        run = run_worker(self.worker(), spec, env=self.env())
        return self.row(variant, rep, run, topic, dlq)


class Ceiling(InProcess):
    """Producer.produce() of pre-built key and value bytes plus six fixed headers."""

    label = "ceiling"

    def worker(self) -> Worker:
        return work.ceiling


class CodecFloor(InProcess):
    """The ceiling plus StreamLake's codec per event: the bound of the bulk path."""

    label = "codec floor"

    def unavailable(self) -> str | None:
        return codec_missing()

    def worker(self) -> Worker:
        return work.codec_floor


class FastavroFloor(InProcess):
    """The ceiling plus fastavro's validate and writer per event (the old path's bound)."""

    label = "fastavro floor"

    def worker(self) -> Worker:
        return work.fastavro_floor


class Naive(InProcess):
    """AvroSerializer, headers per event, poll(0) per produce, a callback per event."""

    label = "naive"

    def worker(self) -> Worker:
        return work.naive


class StreamlakeBulk(InProcess):
    """IngestionProducer.produce_many() of dicts."""

    label = "streamlake bulk"
    streamlake = True

    def worker(self) -> Worker:
        return work.bulk


class FromFile(Contender):
    """A process reading the payload's JSON-lines file, timed by its wall time."""

    naive_subject = "naive script"

    def command(self, variant: str, topic: str, spec: Spec, file: Path) -> list[str]:
        raise NotImplementedError

    def run(self, variant: str, rep: int) -> Row:
        file = self.ctx.jsonl(variant, self.ctx.sizes.events)
        topic, dlq, extra = self.destination(variant, rep)
        run = Run(self.command(variant, topic, extra, file), env=self.env())
        return self.row(variant, rep, run, topic, dlq)


class NaiveScript(FromFile):
    """The naive producer as a script: json.loads per line."""

    label = "naive script"

    def command(self, variant: str, topic: str, spec: Spec, file: Path) -> list[str]:
        return naive_script_command(self.ctx, variant, topic, file)


class StreamlakeCli(FromFile):
    """`streamlake produce DATASET FILE`."""

    label = "streamlake CLI"
    streamlake = True

    def env(self) -> dict[str, str] | None:
        return cli_env(self.ctx, self.baseline)

    def command(self, variant: str, topic: str, spec: Spec, file: Path) -> list[str]:
        return cli_command(self.ctx, variant, Path(spec["catalog"]), file)


def naive_script_command(ctx: Context, variant: str, topic: str, file: Path) -> list[str]:
    payload = PAYLOADS[variant]
    schema = ctx.tmp / f"{variant}.avsc"
    schema.write_text(payload.schema)
    options = {
        "bootstrap": ctx.bootstrap,
        "registry": ctx.registry,
        "topic": topic,
        "schema": str(schema),
        "dataset": payload.dataset,
        "version": payload.version_label,
        "key": KEY_FIELD,
        "file": str(file),
        "conf": json.dumps(PRODUCER_CONF),
    }
    return [sys.executable, naive.__file__, *(a for k, v in options.items() for a in (f"--{k}", v))]


def cli_env(ctx: Context, baseline: Path | None = None) -> dict[str, str]:
    return {
        **(python_path_env(baseline) if baseline else os.environ),
        "STREAMLAKE_BOOTSTRAP_SERVERS": ctx.bootstrap,
        "STREAMLAKE_SCHEMA_REGISTRY_URL": ctx.registry,
    }


def kafka_properties() -> list[str]:
    """PRODUCER_CONF as the CLI's repeated `-X name=value`."""
    return [arg for k, v in PRODUCER_CONF.items() for arg in ("-X", f"{k}={v}")]


def cli_command(ctx: Context, variant: str, catalog: Path, file: Path) -> list[str]:
    dataset = PAYLOADS[variant].dataset
    return [
        *ctx.streamlake_cli(),
        "--schemas-dir",
        str(catalog),
        *kafka_properties(),
        "produce",
        dataset,
        str(file),
    ]


CONTENDERS: dict[str, type[Contender]] = {
    "ceiling": Ceiling,
    "codec-floor": CodecFloor,
    "fastavro-floor": FastavroFloor,
    "naive": Naive,
    "bulk": StreamlakeBulk,
    "naive-script": NaiveScript,
    "cli": StreamlakeCli,
}
"""Every throughput contender, by the name `--contenders` selects it with."""
DEFAULT_CONTENDERS = ("ceiling", "codec-floor", "naive", "bulk", "naive-script", "cli")
"""The fastavro floor is opt-in: the codec scenario shows fastavro's own cost."""
BASELINE_CONTENDERS = ("bulk", "cli")
"""The contenders `--baseline DIR` runs a second time with DIR's streamlake."""


def selected(ctx: Context) -> list[Contender]:
    """The contenders to run, each available one once (and again for --baseline)."""
    chosen: list[Contender] = []
    for name in ctx.options.contenders:
        contender = CONTENDERS[name](ctx)
        reason = contender.unavailable()
        if reason:
            log(f"throughput: no {contender.label} row: {reason}")
            continue
        chosen.append(contender)
        if ctx.options.baseline and name in BASELINE_CONTENDERS:
            chosen.append(CONTENDERS[name](ctx, baseline=ctx.options.baseline))
    return chosen
