"""`streamlake serve` settings: flags > STREAMLAKE_HTTP_* > TOML > defaults, and
the configuration mistakes that must stop startup with one clear line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from streamlake.config import ProducerConfig
from streamlake.errors import ConfigurationError
from streamlake.http.settings import Limits, ServeSettings, load_settings

PRODUCER = ProducerConfig(bootstrap_servers="127.0.0.1:1")
DIGEST = hashlib.sha256(b"s3cret-token").hexdigest()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "streamlake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_bind_loopback_with_the_documented_limits():
    settings = load_settings(PRODUCER, environ={})

    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8080, 1)
    assert settings.limits == Limits()
    assert settings.limits.max_body_bytes == 10 * 1024 * 1024
    assert settings.limits.max_batch_events == 1000
    assert not settings.auth_enabled
    assert settings.drain_timeout_s < 30


def test_a_flag_beats_the_environment_which_beats_the_file(tmp_path):
    config = write(tmp_path, "[serve]\nport = 7001\nworkers = 3\n[limits]\nmax_batch_events = 10\n")
    env = {"STREAMLAKE_HTTP_PORT": "7002", "STREAMLAKE_HTTP_MAX_BATCH_EVENTS": "20"}

    from_file = load_settings(PRODUCER, config_file=config, environ={})
    from_env = load_settings(PRODUCER, config_file=config, environ=env)
    from_flag = load_settings(PRODUCER, config_file=config, environ=env, flags={"port": 7003})

    assert (from_file.port, from_file.workers, from_file.limits.max_batch_events) == (7001, 3, 10)
    assert (from_env.port, from_env.workers, from_env.limits.max_batch_events) == (7002, 3, 20)
    assert from_flag.port == 7003
    assert (
        load_settings(PRODUCER, config_file=config, environ={}, flags={"port": None}).port == 7001
    )


def test_api_keys_are_read_as_digests_scoped_to_datasets(tmp_path):
    config = write(
        tmp_path,
        f'[[api_keys]]\nname = "checkout"\nsha256 = "{DIGEST}"\ndatasets = ["orders"]\n'
        'rate_limit_rps = 5\n[datasets.orders]\nidempotency_field = "order_id"\n',
    )

    settings = load_settings(PRODUCER, config_file=config, environ={})

    (key,) = settings.api_keys
    assert key.name == "checkout" and key.rate_limit_rps == 5.0
    assert key.allows("orders") and not key.allows("customers")
    assert DIGEST not in repr(key)
    assert settings.idempotency_fields == {"orders": "order_id"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[serve]\nprot = 1\n", "unknown key(s) ['prot'] in [serve]"),
        ("[limit]\n", "unknown table(s) ['limit']"),
        ('[serve]\nport = "80"\n', "[serve] port = '80': expected a int"),
        ('[[api_keys]]\nsha256 = "s3cret-token"\ndatasets = ["*"]\n', "never put the token"),
        (f'[[api_keys]]\nsha256 = "{DIGEST}"\n', "datasets must list"),
        ("[datasets.orders]\nkey = 1\n", "may only set idempotency_field"),
        ("[serve\n", "not valid TOML"),
    ],
)
def test_a_mistake_in_the_file_names_the_file_and_the_key(tmp_path, text, message):
    config = write(tmp_path, text)

    with pytest.raises(ConfigurationError) as caught:
        load_settings(PRODUCER, config_file=config, environ={})

    assert message in caught.value.message
    assert str(config) in caught.value.message


def test_a_variable_that_does_not_parse_is_named():
    with pytest.raises(ConfigurationError, match="STREAMLAKE_HTTP_WORKERS='two': expected a int"):
        load_settings(PRODUCER, environ={"STREAMLAKE_HTTP_WORKERS": "two"})


def test_a_missing_config_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="config file not found"):
        load_settings(PRODUCER, config_file=tmp_path / "nope.toml", environ={})


def test_binding_another_address_needs_api_keys_or_insecure(tmp_path):
    with pytest.raises(ConfigurationError, match=r"needs API keys.*--insecure"):
        load_settings(PRODUCER, environ={}, flags={"host": "0.0.0.0"})

    insecure = load_settings(
        PRODUCER, environ={"STREAMLAKE_HTTP_INSECURE": "true"}, flags={"host": "0.0.0.0"}
    )
    keyed = load_settings(
        PRODUCER,
        config_file=write(tmp_path, f'[[api_keys]]\nsha256 = "{DIGEST}"\ndatasets = ["*"]\n'),
        environ={},
        flags={"host": "0.0.0.0"},
    )
    assert insecure.insecure and not insecure.auth_enabled
    assert keyed.auth_enabled


def test_the_drain_bound_stays_below_the_kubernetes_grace_period():
    with pytest.raises(ConfigurationError, match="below 30"):
        load_settings(PRODUCER, environ={"STREAMLAKE_HTTP_DRAIN_TIMEOUT_S": "30"})
    assert ServeSettings().drain_timeout_s == 20.0
