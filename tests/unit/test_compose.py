"""docker-compose.yml cannot run here (no Docker engine), so its agreement with
scripts/stack, which the tests do run, is checked by reading both."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_stack_script():
    loader = importlib.machinery.SourceFileLoader("stack_script", str(ROOT / "scripts" / "stack"))
    spec = importlib.util.spec_from_loader("stack_script", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def published(service: dict) -> dict[str, tuple[str, int]]:
    """Container port -> (host port variable, its default) for each mapping."""
    ports = {}
    for mapping in service["ports"]:
        match = re.fullmatch(r"127\.0\.0\.1:\$\{(\w+):-(\d+)\}:(\d+)", mapping)
        assert match, f"port mapping {mapping!r} should be 127.0.0.1:${{VAR:-default}}:port"
        ports[match[3]] = (match[1], int(match[2]))
    return ports


def test_compose_runs_a_kafka_broker_and_a_confluent_schema_registry():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    assert set(compose["services"]) == {"kafka", "schema-registry", "serve"}
    assert compose["services"]["schema-registry"]["image"].startswith(
        "confluentinc/cp-schema-registry:"
    )
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_compose_publishes_the_ports_scripts_stack_uses_under_the_same_variables(monkeypatch):
    for var in ("STREAMLAKE_STACK_KAFKA_PORT", "STREAMLAKE_STACK_REGISTRY_PORT"):
        monkeypatch.delenv(var, raising=False)
    stack = load_stack_script()
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    script = (ROOT / "scripts" / "stack").read_text()

    assert published(services["kafka"]) == {
        "9092": ("STREAMLAKE_STACK_KAFKA_PORT", stack.KAFKA_PORT)
    }
    assert published(services["schema-registry"]) == {
        "8081": ("STREAMLAKE_STACK_REGISTRY_PORT", stack.REGISTRY_PORT)
    }
    for var in ("STREAMLAKE_STACK_KAFKA_PORT", "STREAMLAKE_STACK_REGISTRY_PORT"):
        assert f'os.environ.get("{var}"' in script


def test_compose_documents_the_client_variables_that_scripts_stack_writes():
    compose_text = (ROOT / "docker-compose.yml").read_text()
    script = (ROOT / "scripts" / "stack").read_text()

    for var in ("STREAMLAKE_BOOTSTRAP_SERVERS", "STREAMLAKE_SCHEMA_REGISTRY_URL"):
        assert f"export {var}=" in compose_text
        assert f"{var}=" in script
