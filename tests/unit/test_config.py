"""ProducerConfig: the environment it reads, the librdkafka defaults it sets,
the errors for missing settings, and a repr that never shows a secret.
Every test passes its own environ; none reads the real os.environ."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from streamlake.config import LIBRDKAFKA_LOG, REGISTRY_DEFAULTS, ProducerConfig
from streamlake.errors import ConfigurationError
from streamlake.redaction import is_secret, redact

ENV = {
    "STREAMLAKE_BOOTSTRAP_SERVERS": "broker-1:9092,broker-2:9092",
    "STREAMLAKE_SCHEMA_REGISTRY_URL": "http://registry:8081",
}

SECRETS = {
    "sasl.password": "kafka-pw-1f9e",
    "ssl.key.password": "key-pw-77ab",
    "basic.auth.user.info": "svc:registry-pw-3c2d",
    "bearer.auth.token": "eyJ-token-90af",
}


def config(**overrides: object) -> ProducerConfig:
    return ProducerConfig.from_env(ENV, **overrides)


# --- from_env --------------------------------------------------------------------------------


def test_from_env_reads_the_connection_variables():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "STREAMLAKE_SCHEMAS_DIR": "/etc/streamlake/avro",
            "STREAMLAKE_PRODUCER_SERVICE": "orders-gateway",
        }
    )

    assert cfg.bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert cfg.schema_registry_url == "http://registry:8081"
    assert cfg.schemas_dir == Path("/etc/streamlake/avro")
    assert cfg.producer_service == "orders-gateway"
    assert cfg.kafka == {}
    assert cfg.registry == {}


def test_from_env_defaults_the_schemas_dir_and_the_producer_service():
    cfg = ProducerConfig.from_env(ENV)

    assert cfg.schemas_dir == Path("avro")
    assert cfg.producer_service == "ingestion-api"
    assert cfg.registry_timeout_s == 30.0


def test_streamlake_kafka_variables_become_lowercase_dotted_librdkafka_properties():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "STREAMLAKE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "STREAMLAKE_KAFKA_SASL_MECHANISM": "PLAIN",
            "STREAMLAKE_KAFKA_SASL_PASSWORD": "pw",
            "STREAMLAKE_KAFKA_LINGER_MS": "20",
        }
    )

    assert cfg.kafka == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.password": "pw",
        "linger.ms": "20",
    }
    assert cfg.registry == {}


def test_streamlake_registry_variables_become_registry_client_properties():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "STREAMLAKE_REGISTRY_BASIC_AUTH_USER_INFO": "user:pw",
            "STREAMLAKE_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE": "USER_INFO",
        }
    )

    assert cfg.registry == {
        "basic.auth.user.info": "user:pw",
        "basic.auth.credentials.source": "USER_INFO",
    }
    assert cfg.kafka == {}


def test_unrelated_variables_are_ignored():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "KAFKA_LINGER_MS": "1",
            "STREAMLAKE_KAFKAX_ACKS": "0",
            "streamlake_kafka_acks": "0",
            "PATH": "/usr/bin",
        }
    )

    assert cfg.kafka == {}
    assert cfg.registry == {}


def test_overrides_win_over_the_environment():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "STREAMLAKE_SCHEMAS_DIR": "/env/avro",
            "STREAMLAKE_PRODUCER_SERVICE": "from-env",
        },
        bootstrap_servers="flag:9092",
        schema_registry_url="http://flag:8081",
        schemas_dir=Path("/flag/avro"),
        producer_service="from-flag",
        registry_timeout_s=5.0,
    )

    assert cfg.bootstrap_servers == "flag:9092"
    assert cfg.schema_registry_url == "http://flag:8081"
    assert cfg.schemas_dir == Path("/flag/avro")
    assert cfg.producer_service == "from-flag"
    assert cfg.registry_timeout_s == 5.0


def test_an_override_of_none_leaves_the_environment_value():
    cfg = ProducerConfig.from_env(
        {**ENV, "STREAMLAKE_PRODUCER_SERVICE": "from-env"},
        bootstrap_servers=None,
        producer_service=None,
    )

    assert cfg.bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert cfg.producer_service == "from-env"


def test_kafka_and_registry_overrides_merge_over_the_environment_properties():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "STREAMLAKE_KAFKA_LINGER_MS": "20",
            "STREAMLAKE_KAFKA_COMPRESSION_TYPE": "lz4",
            "STREAMLAKE_REGISTRY_BASIC_AUTH_USER_INFO": "env:pw",
        },
        kafka={"linger.ms": "50", "acks": "1"},
        registry={"basic.auth.user.info": "flag:pw", "ssl.ca.location": "/ca.pem"},
    )

    assert cfg.kafka == {"linger.ms": "50", "compression.type": "lz4", "acks": "1"}
    assert cfg.registry == {"basic.auth.user.info": "flag:pw", "ssl.ca.location": "/ca.pem"}


def test_from_env_does_not_modify_the_environ_or_the_override_dicts():
    environ = {**ENV, "STREAMLAKE_KAFKA_LINGER_MS": "20"}
    kafka = {"acks": "1"}

    ProducerConfig.from_env(environ, kafka=kafka)

    assert environ == {**ENV, "STREAMLAKE_KAFKA_LINGER_MS": "20"}
    assert kafka == {"acks": "1"}


# --- missing settings ------------------------------------------------------------------------
# Each setting is checked by whatever needs it: a Kafka-only command runs
# without a registry URL, and a registry-only one without bootstrap servers.

NO_SERVERS = (
    "no Kafka bootstrap servers: set STREAMLAKE_BOOTSTRAP_SERVERS or "
    "--bootstrap-servers (e.g. 127.0.0.1:9092)"
)
NO_REGISTRY = (
    "no schema registry URL: set STREAMLAKE_SCHEMA_REGISTRY_URL or "
    "--schema-registry-url (e.g. http://127.0.0.1:8081)"
)


@pytest.mark.parametrize("conf", ["kafka_conf", "connection_conf"])
def test_missing_bootstrap_servers_says_which_variable_or_flag_to_set(conf):
    cfg = ProducerConfig.from_env({"STREAMLAKE_SCHEMA_REGISTRY_URL": "http://registry:8081"})

    with pytest.raises(ConfigurationError) as caught:
        getattr(cfg, conf)()

    assert str(caught.value) == NO_SERVERS
    assert cfg.registry_conf() == {**REGISTRY_DEFAULTS, "url": "http://registry:8081"}


def test_missing_registry_url_says_which_variable_or_flag_to_set():
    cfg = ProducerConfig.from_env({"STREAMLAKE_BOOTSTRAP_SERVERS": "broker:9092"})

    with pytest.raises(ConfigurationError) as caught:
        cfg.registry_conf()

    assert str(caught.value) == NO_REGISTRY
    assert cfg.kafka_conf()["bootstrap.servers"] == "broker:9092"
    assert cfg.connection_conf() == {"bootstrap.servers": "broker:9092", "logger": LIBRDKAFKA_LOG}


def test_empty_variables_count_as_missing():
    cfg = ProducerConfig.from_env(
        {"STREAMLAKE_BOOTSTRAP_SERVERS": "", "STREAMLAKE_SCHEMA_REGISTRY_URL": ""}
    )

    with pytest.raises(ConfigurationError) as servers:
        cfg.kafka_conf()
    with pytest.raises(ConfigurationError) as registry:
        cfg.registry_conf()

    assert str(servers.value) == NO_SERVERS
    assert str(registry.value) == NO_REGISTRY


def test_a_kafka_property_does_not_stand_in_for_the_bootstrap_servers_setting():
    cfg = ProducerConfig.from_env({"STREAMLAKE_KAFKA_BOOTSTRAP_SERVERS": "broker:9092"})

    with pytest.raises(ConfigurationError) as caught:
        cfg.kafka_conf()

    assert str(caught.value) == NO_SERVERS


def test_a_flag_can_supply_what_the_environment_lacks():
    cfg = ProducerConfig.from_env(
        {}, bootstrap_servers="flag:9092", schema_registry_url="http://flag:8081"
    )

    assert cfg.kafka_conf()["bootstrap.servers"] == "flag:9092"
    assert cfg.registry_conf() == {**REGISTRY_DEFAULTS, "url": "http://flag:8081"}


# --- kafka_conf, connection_conf, registry_conf ---------------------------------------------------


def test_kafka_conf_has_the_durable_low_latency_defaults():
    assert config().kafka_conf() == {
        "acks": "all",
        "enable.idempotence": "true",
        "linger.ms": "5",
        "message.timeout.ms": "30000",
        "partitioner": "murmur2_random",
        "client.id": "ingestion-api",
        "bootstrap.servers": "broker-1:9092,broker-2:9092",
        "logger": LIBRDKAFKA_LOG,
    }


def test_kafka_conf_uses_the_producer_service_as_client_id():
    assert config(producer_service="orders-gateway").kafka_conf()["client.id"] == "orders-gateway"


def test_user_properties_win_over_the_defaults():
    cfg = ProducerConfig.from_env(
        {**ENV, "STREAMLAKE_KAFKA_LINGER_MS": "50", "STREAMLAKE_KAFKA_CLIENT_ID": "custom"},
        kafka={"message.timeout.ms": "120000", "compression.type": "zstd"},
    )

    conf = cfg.kafka_conf()

    assert conf["linger.ms"] == "50"
    assert conf["client.id"] == "custom"
    assert conf["message.timeout.ms"] == "120000"
    assert conf["compression.type"] == "zstd"
    assert conf["acks"] == "all"
    assert conf["enable.idempotence"] == "true"


def test_kafka_conf_extras_win_over_everything():
    cfg = config(kafka={"client.id": "custom"})

    conf = cfg.kafka_conf(**{"client.id": "ingestion-api-dlq", "linger.ms": "0"})

    assert conf["client.id"] == "ingestion-api-dlq"
    assert conf["linger.ms"] == "0"


def test_the_bootstrap_servers_setting_wins_over_a_kafka_property():
    cfg = config(kafka={"bootstrap.servers": "elsewhere:9092"})

    assert cfg.kafka_conf()["bootstrap.servers"] == "broker-1:9092,broker-2:9092"
    assert cfg.connection_conf()["bootstrap.servers"] == "broker-1:9092,broker-2:9092"


def test_connection_conf_has_connection_and_security_settings_but_no_producer_defaults():
    cfg = config(kafka={"security.protocol": "SSL", "ssl.ca.location": "/ca.pem"})

    assert cfg.connection_conf() == {
        "security.protocol": "SSL",
        "ssl.ca.location": "/ca.pem",
        "bootstrap.servers": "broker-1:9092,broker-2:9092",
        "logger": LIBRDKAFKA_LOG,
    }


def test_registry_conf_adds_the_url_to_the_registry_properties():
    cfg = config(registry={"basic.auth.user.info": "u:p", "url": "http://ignored:1"})

    assert cfg.registry_conf() == {
        **REGISTRY_DEFAULTS,
        "basic.auth.user.info": "u:p",
        "url": "http://registry:8081",
    }


# --- secrets and immutability ----------------------------------------------------------------


def test_repr_never_shows_a_secret_value():
    cfg = config(
        kafka={
            "sasl.password": SECRETS["sasl.password"],
            "ssl.key.password": SECRETS["ssl.key.password"],
        },
        registry={
            "basic.auth.user.info": SECRETS["basic.auth.user.info"],
            "bearer.auth.token": SECRETS["bearer.auth.token"],
        },
    )

    text = repr(cfg)

    for secret in SECRETS.values():
        assert secret not in text
    assert str(cfg) == text
    assert "'sasl.password': '***'" in text
    assert "'ssl.key.password': '***'" in text
    assert "'basic.auth.user.info': '***'" in text
    assert "'bearer.auth.token': '***'" in text


def test_repr_never_shows_secrets_read_from_the_environment():
    cfg = ProducerConfig.from_env(
        {
            **ENV,
            "STREAMLAKE_KAFKA_SASL_PASSWORD": SECRETS["sasl.password"],
            "STREAMLAKE_REGISTRY_BEARER_AUTH_TOKEN": SECRETS["bearer.auth.token"],
        }
    )

    assert SECRETS["sasl.password"] not in repr(cfg)
    assert SECRETS["bearer.auth.token"] not in repr(cfg)


def test_repr_shows_the_non_secret_settings():
    cfg = config(
        producer_service="orders-gateway",
        schemas_dir=Path("/srv/avro"),
        kafka={"security.protocol": "SASL_SSL", "sasl.username": "svc-orders"},
        registry={"ssl.ca.location": "/ca.pem"},
    )

    assert repr(cfg) == (
        "ProducerConfig(bootstrap_servers='broker-1:9092,broker-2:9092', "
        "schema_registry_url='http://registry:8081', schemas_dir='/srv/avro', "
        "producer_service='orders-gateway', "
        "kafka={'security.protocol': 'SASL_SSL', 'sasl.username': 'svc-orders'}, "
        "registry={'ssl.ca.location': '/ca.pem'})"
    )


def test_repr_never_shows_a_password_embedded_in_the_registry_url():
    # The registry client accepts credentials in the URL's user info
    # (basic.auth.credentials.source=URL); repr must not print them.
    cfg = ProducerConfig.from_env(
        {**ENV, "STREAMLAKE_SCHEMA_REGISTRY_URL": "https://svc:url-pw-5e1b@registry:8081"}
    )

    assert "url-pw-5e1b" not in repr(cfg)


def test_kafka_conf_and_registry_conf_still_carry_the_secrets():
    cfg = config(
        kafka={"sasl.password": SECRETS["sasl.password"]},
        registry={"basic.auth.user.info": SECRETS["basic.auth.user.info"]},
    )

    assert cfg.kafka_conf()["sasl.password"] == SECRETS["sasl.password"]
    assert cfg.registry_conf()["basic.auth.user.info"] == SECRETS["basic.auth.user.info"]


@pytest.mark.parametrize(
    "name",
    [
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "basic.auth.user.info",
        "bearer.auth.token",
        "sasl.oauthbearer.client.secret",
        "bearer.auth.client.secret",
        "ssl.key.pem",
        "SASL.PASSWORD",
    ],
)
def test_secret_property_names_are_recognised(name):
    assert is_secret(name)


@pytest.mark.parametrize(
    "name",
    ["sasl.username", "security.protocol", "ssl.ca.location", "linger.ms", "url"],
)
def test_ordinary_property_names_are_not_secret(name):
    assert not is_secret(name)


def test_redact_masks_only_the_secrets_and_leaves_the_input_alone():
    conf = {"sasl.username": "svc", "sasl.password": "pw", "linger.ms": 5}

    assert redact(conf) == {"sasl.username": "svc", "sasl.password": "***", "linger.ms": 5}
    assert conf["sasl.password"] == "pw"


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("bootstrap_servers", "other:9092"),
        ("schema_registry_url", "http://other:8081"),
        ("producer_service", "other"),
        ("kafka", {}),
    ],
)
def test_the_config_is_frozen(attribute, value):
    cfg = config()
    before = getattr(cfg, attribute)

    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cfg, attribute, value)
    assert getattr(cfg, attribute) is before
