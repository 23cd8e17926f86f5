"""The service's Prometheus metrics, one registry per app (prometheus-client).

=========================================  =========  ==============================
metric                                     type       labels
=========================================  =========  ==============================
streamlake_http_requests_total             counter    route, status
streamlake_http_request_duration_seconds   histogram  route
streamlake_http_events_total               counter    dataset, outcome
streamlake_http_ack_seconds                histogram  dataset (receipt -> broker ack)
streamlake_http_rejected_total             counter    reason (the problem type)
streamlake_http_in_flight_requests         gauge
streamlake_kafka_queue_depth               gauge      (records awaiting Kafka)
=========================================  =========  ==============================

Label children are cached, so a request pays a dict lookup, not
prometheus-client's label resolution. With ``--workers N`` each worker serves
its own numbers (one scrape sees one worker).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from streamlake.kafka.producer import Outcome

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "streamlake_http_requests",
            "HTTP requests answered, by route and status code",
            ("route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "streamlake_http_request_duration_seconds",
            "Time from the request's start to the end of its answer",
            ("route",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "streamlake_http_events",
            "Events answered, by dataset and outcome (produced, dlq, failed)",
            ("dataset", "outcome"),
            registry=self.registry,
        )
        self.ack = Histogram(
            "streamlake_http_ack_seconds",
            "Time from an event's receipt to its acknowledgement by Kafka "
            "(a batch observes once, for its last event)",
            ("dataset",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejected = Counter(
            "streamlake_http_rejected",
            "Requests refused as a whole, by reason",
            ("reason",),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "streamlake_http_in_flight_requests",
            "Produce requests being handled by this worker",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "streamlake_kafka_queue_depth",
            "Records handed to Kafka and not yet acknowledged or failed",
            registry=self.registry,
        )
        self._requests: dict[tuple[str, int], Counter] = {}
        self._durations: dict[str, Histogram] = {}
        self._events: dict[tuple[str, Outcome], Counter] = {}
        self._acks: dict[str, Histogram] = {}

    def watch_queue(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)

    def request(self, route: str, status: int, seconds: float) -> None:
        child = self._requests.get((route, status))
        if child is None:
            child = self._requests[route, status] = self.requests.labels(route, str(status))
        child.inc()
        duration = self._durations.get(route)
        if duration is None:
            duration = self._durations[route] = self.duration.labels(route)
        duration.observe(seconds)

    def count_events(self, dataset: str, outcome: Outcome, n: int = 1) -> None:
        child = self._events.get((dataset, outcome))
        if child is None:
            child = self._events[dataset, outcome] = self.events.labels(dataset, str(outcome))
        child.inc(n)

    def acked(self, dataset: str, seconds: float) -> None:
        child = self._acks.get(dataset)
        if child is None:
            child = self._acks[dataset] = self.ack.labels(dataset)
        child.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
