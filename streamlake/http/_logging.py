"""Log configuration for `streamlake serve`: text or JSON lines, in every worker.

uvicorn applies it with `logging.config.dictConfig` in each worker process,
so spawned workers log like the first one. Access lines come from the app's
own logger ``streamlake.http.access`` (uvicorn's access log is off): method,
path, status and duration, never a header or a payload.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message (and exc)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_config(*, log_format: str, level: str, access_log: bool) -> dict[str, Any]:
    formatter: dict[str, Any] = (
        {"()": "streamlake.http._logging.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "propagate": True},
            "streamlake.http.access": {
                "level": "INFO" if access_log else "WARNING",
                "propagate": True,
            },
            # The Kafka client's reconnect chatter reaches the service once,
            # through the producer's error callback.
            "streamlake.kafka.librdkafka": {
                "level": "DEBUG" if level.upper() == "DEBUG" else "CRITICAL"
            },
        },
    }
