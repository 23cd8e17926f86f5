"""Running the app: uvicorn (httptools, uvloop) with one or more workers.

Each worker process builds its own app and producer from the same settings
(`create_app` through a picklable factory), and drains on SIGTERM; with
``workers > 1`` uvicorn's supervisor forwards SIGTERM to every worker.
"""

from __future__ import annotations

import functools
import logging.config

import uvicorn

from streamlake.catalog import Catalog
from streamlake.http._logging import log_config
from streamlake.http.app import create_app
from streamlake.http.settings import ServeSettings
from streamlake.registry import Registration

GRACEFUL_BACKSTOP_S = 5.0
"""uvicorn's own shutdown wait, after the app's drain has answered everything."""


def configure_logging(settings: ServeSettings, level: str) -> None:
    """This process's logging as the workers will have it (for startup)."""
    logging.config.dictConfig(_log_config(settings, level))


def _log_config(settings: ServeSettings, level: str) -> dict[str, object]:
    return log_config(log_format=settings.log_format, level=level, access_log=settings.access_log)


def serve(
    settings: ServeSettings,
    *,
    catalog: Catalog,
    registrations: list[Registration] | None,
    log_level: str = "INFO",
) -> None:
    """Serve until SIGTERM/SIGINT. `registrations` (from the startup check)
    spare the single worker a second registration; several workers each
    register on their own (the registry answers "existing")."""
    factory = functools.partial(
        create_app,
        settings,
        catalog=catalog,
        registrations=registrations if settings.workers == 1 else None,
    )
    config = uvicorn.Config(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=_log_config(settings, log_level),
        ssl_certfile=settings.ssl_certfile or None,
        ssl_keyfile=settings.ssl_keyfile or None,
        timeout_graceful_shutdown=int(GRACEFUL_BACKSTOP_S),
        server_header=False,
    )
    if settings.workers > 1:
        sock = config.bind_socket()
        uvicorn.supervisors.Multiprocess(config, sockets=[sock]).run()
        return
    uvicorn.Server(config).run()
