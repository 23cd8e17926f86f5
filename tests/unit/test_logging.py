"""The library is quiet unless the application configures logging, and a
warning that repeats per retry is logged once per interval with a count."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

from streamlake._logging import RepeatFilter


def test_the_streamlake_logger_has_a_null_handler():
    handlers = logging.getLogger("streamlake").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_a_library_user_without_logging_sees_nothing_during_a_broker_outage(tmp_path):
    # Issue 14: 678 lines on stderr during a 30 s outage (librdkafka FAIL
    # lines and a "Connection refused" warning per reconnect attempt).
    script = textwrap.dedent(
        """
        import sys
        from streamlake import IngestionProducer, KafkaClusterError, ProducerConfig
        config = ProducerConfig(
            bootstrap_servers="127.0.0.1:1",
            schema_registry_url="http://127.0.0.1:1",
            schemas_dir=sys.argv[1],
            connect_timeout_s=3,
        )
        try:
            IngestionProducer(config)
        except KafkaClusterError:
            print("refused")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "avro"], capture_output=True, text=True, timeout=60
    )

    assert (result.stdout, result.stderr) == ("refused\n", "")


def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("streamlake.test", level, __file__, 1, message, (), None)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_alike_warnings_pass_once_per_interval_then_with_the_count_dropped():
    clock = Clock()
    repeats = RepeatFilter(interval_s=10, clock=clock)
    passed = []
    for ms in range(5):
        clock.now += 1
        refused = record(f"Connect to 127.0.0.1:1 failed (after {ms}ms in state CONNECT)")
        if repeats.filter(refused):
            passed.append(refused.getMessage())
    clock.now += 10
    later = record("Connect to 127.0.0.1:1 failed (after 9ms in state CONNECT)")

    assert repeats.filter(later)
    assert passed == ["Connect to 127.0.0.1:1 failed (after 0ms in state CONNECT)"]
    assert later.getMessage() == (
        "Connect to 127.0.0.1:1 failed (after 9ms in state CONNECT) "
        "(4 more like it in the last 10 s)"
    )


def test_different_warnings_and_debug_records_are_never_dropped():
    repeats = RepeatFilter(interval_s=10, clock=Clock())

    assert repeats.filter(record("broker down"))
    assert repeats.filter(record("registry down"))
    assert repeats.filter(record("broker down", logging.ERROR))
    assert all(repeats.filter(record("event 1", logging.DEBUG)) for _ in range(3))
