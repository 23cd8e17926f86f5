"""Fixtures for `streamlake serve` through a real socket: the server runs as a
subprocess on the test's own catalog (unique topics) against the stack, and
is stopped with SIGTERM at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servehelpers import Server, start_server

StartServer = Callable[..., Server]


@pytest.fixture
def start_serve(stack: Any, schemas_dir: Path, tmp_path: Path) -> Iterator[StartServer]:
    """`start_serve(*args, config=None, env=None, schemas_dir=None)`: a ready server."""
    servers: list[Server] = []

    def start(
        *args: str,
        global_args: tuple[str, ...] = (),
        config: str | None = None,
        env: dict[str, str] | None = None,
        catalog: Path | None = None,
        wait_ready: bool = True,
    ) -> Server:
        server = start_server(
            bootstrap_servers=stack.bootstrap_servers,
            schema_registry_url=stack.schema_registry_url,
            schemas_dir=catalog or schemas_dir,
            log=tmp_path / f"serve-{len(servers)}.log",
            args=args,
            global_args=global_args,
            config=config,
            env=env,
            wait_ready=wait_ready,
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.terminate()


@pytest.fixture
def server(start_serve: StartServer) -> Server:
    return start_serve()
