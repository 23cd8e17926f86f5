"""The Dockerfile and the compose `serve` service cannot run here (no Docker
engine); these tests read them and check they agree with the CLI's flags,
the settings' variables, the default port and the app's routes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from streamlake.cli import serve
from streamlake.http.settings import ENV_PREFIX, Limits, ServeSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SERVE_FLAGS = {opt for param in serve.params for opt in getattr(param, "opts", ())}
SETTINGS_VARIABLES = {
    ENV_PREFIX + name.upper()
    for name in (*ServeSettings.__dataclass_fields__, *Limits.__dataclass_fields__)
}


def instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def test_the_image_is_multi_stage_and_runs_streamlake_serve_as_a_non_root_user():
    stages = instructions("FROM")
    assert len(stages) >= 2 and stages[0].endswith(" AS build")
    assert any("--from=build" in line for line in instructions("COPY"))
    (user,) = instructions("USER")
    assert user not in ("root", "0")
    assert instructions("ENTRYPOINT") == ['["streamlake", "serve"]']


def test_the_build_stage_copies_every_source_the_build_backend_needs():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    copied = {line.split()[0] for line in instructions("COPY") if not line.startswith("--")}
    needed = {"streamlake", "pyproject.toml"}
    manifest = pyproject.get("tool", {}).get("maturin", {}).get("manifest-path")
    if manifest:
        needed.add(Path(manifest).parts[0])
    assert needed <= copied


def test_the_image_exposes_the_port_it_listens_on_and_probes_livez():
    (exposed,) = instructions("EXPOSE")
    env = dict(re.findall(r"(STREAMLAKE_\w+)=(\S+)", DOCKERFILE))

    assert env["STREAMLAKE_HTTP_PORT"] == exposed == str(ServeSettings().port)
    assert "/livez" in DOCKERFILE
    assert set(k for k in env if k.startswith(ENV_PREFIX)) <= SETTINGS_VARIABLES


def test_the_image_default_command_uses_flags_the_cli_has():
    (command,) = instructions("CMD")
    flags = re.findall(r'"(--[\w-]+)"', command)
    assert flags and set(flags) <= SERVE_FLAGS


def test_the_compose_serve_service_publishes_the_default_port_on_loopback_only():
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["serve"]

    assert service["build"] == "."
    (mapping,) = service["ports"]
    match = re.fullmatch(r"127\.0\.0\.1:\$\{(\w+):-(\d+)\}:(\d+)", mapping)
    assert match, mapping
    assert match[1] == "STREAMLAKE_HTTP_PORT"
    assert int(match[2]) == int(match[3]) == ServeSettings().port
    assert {f for f in service["command"] if f.startswith("--")} <= SERVE_FLAGS
    http_vars = {k for k in service["environment"] if k.startswith(ENV_PREFIX)}
    assert http_vars <= SETTINGS_VARIABLES
    assert service["environment"]["STREAMLAKE_BOOTSTRAP_SERVERS"] == "kafka:19092"
