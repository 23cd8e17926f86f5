"""The catalog loader: the shipped avro/ folder, the dataset.toml defaults, and
one CatalogError naming the offending file for every kind of malformed input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fastavro
import pytest

from streamlake.catalog import COMPATIBILITY_LEVELS, load_catalog
from streamlake.codec import Codec
from streamlake.errors import CatalogError, ConfigurationError

ROOT = Path(__file__).resolve().parents[2]

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "test",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "amount", "type": "double"},
    ],
}


def record(*fields: dict, key_type: object = "string") -> dict:
    return {
        "type": "record",
        "name": "Order",
        "namespace": "test",
        "fields": [{"name": "order_id", "type": key_type}, *fields],
    }


def make_dataset(
    root: Path,
    name: str = "orders",
    *,
    toml: str | None = 'key_field = "order_id"\n',
    versions: dict[str, object] | None = None,
) -> Path:
    """A dataset folder under `root`; `versions` maps file names to a schema
    (written as JSON) or raw text (written as is)."""
    folder = root / name
    folder.mkdir(parents=True)
    if toml is not None:
        (folder / "dataset.toml").write_text(toml)
    for file_name, schema in ({"v1.avsc": ORDER} if versions is None else versions).items():
        text = schema if isinstance(schema, str) else json.dumps(schema)
        (folder / file_name).write_text(text)
    return folder


def catalog_error(root: Path) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    return caught.value


# --- the shipped catalog ---------------------------------------------------------------------


def test_the_shipped_catalog_holds_orders_and_customers():
    catalog = load_catalog(ROOT / "avro")

    assert sorted(catalog) == ["customers", "orders"]
    assert len(catalog) == 2
    assert catalog.root == ROOT / "avro"


def test_the_shipped_orders_dataset_has_two_backward_versions_keyed_by_order_id():
    orders = load_catalog(ROOT / "avro")["orders"]

    assert orders.name == "orders"
    assert orders.key_field == "order_id"
    assert orders.compatibility == "BACKWARD"
    assert orders.partitions == 3
    assert orders.raw_topic == "raw.orders"
    assert orders.dlq_topic == "dlq.orders"
    assert orders.value_subject == "raw.orders-value"
    assert [v.version for v in orders.versions] == [1, 2]
    assert [v.label for v in orders.versions] == ["v1", "v2"]
    assert [v.path for v in orders.versions] == [
        ROOT / "avro" / "orders" / "v1.avsc",
        ROOT / "avro" / "orders" / "v2.avsc",
    ]
    assert orders.latest is orders.versions[1]
    assert orders.path == ROOT / "avro" / "orders"


def test_the_shipped_customers_dataset_is_full_with_six_partitions():
    customers = load_catalog(ROOT / "avro")["customers"]

    assert customers.key_field == "customer_id"
    assert customers.compatibility == "FULL"
    assert customers.partitions == 6
    assert customers.raw_topic == "raw.customers"
    assert customers.dlq_topic == "dlq.customers"
    assert customers.value_subject == "raw.customers-value"
    assert [v.version for v in customers.versions] == [1]


def test_a_version_keeps_the_file_json_and_registers_it_as_compact_json():
    v2 = load_catalog(ROOT / "avro")["orders"].version(2)
    on_disk = json.loads((ROOT / "avro" / "orders" / "v2.avsc").read_text())

    assert v2.dataset == "orders"
    assert v2.schema == on_disk
    assert v2.schema_str == json.dumps(on_disk, separators=(",", ":"))
    assert [f["name"] for f in v2.schema["fields"]] == [
        "order_id",
        "customer_id",
        "amount",
        "event_time",
        "currency",
    ]


def test_dataset_version_looks_up_by_number_and_is_none_out_of_range():
    orders = load_catalog(ROOT / "avro")["orders"]

    assert orders.version(1) is orders.versions[0]
    assert orders.version(2) is orders.versions[1]
    assert orders.version(0) is None
    assert orders.version(3) is None
    assert orders.version(-1) is None


# --- dataset.toml settings -------------------------------------------------------------------


def test_a_dataset_toml_with_only_key_field_gets_the_documented_defaults(tmp_path):
    make_dataset(tmp_path, "payments", toml='key_field = "order_id"\n')

    payments = load_catalog(tmp_path)["payments"]

    assert payments.key_field == "order_id"
    assert payments.compatibility == "BACKWARD"
    assert payments.partitions == 3
    assert payments.raw_topic == "raw.payments"
    assert payments.dlq_topic == "dlq.payments"
    assert payments.value_subject == "raw.payments-value"
    # None: decided from the cluster when the topics are created (kafka/topics.py).
    assert payments.replication_factor is None
    assert payments.min_insync_replicas is None


def test_replication_factor_and_min_insync_replicas_can_be_declared(tmp_path):
    make_dataset(
        tmp_path, toml='key_field = "order_id"\nreplication_factor = 5\nmin_insync_replicas = 3\n'
    )

    orders = load_catalog(tmp_path)["orders"]

    assert (orders.replication_factor, orders.min_insync_replicas) == (5, 3)


def test_min_insync_replicas_above_the_replication_factor_names_the_file(tmp_path):
    folder = make_dataset(
        tmp_path, toml='key_field = "order_id"\nreplication_factor = 2\nmin_insync_replicas = 3\n'
    )

    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: min_insync_replicas 3 exceeds replication_factor 2: "
        "no write could ever be acknowledged"
    )


def test_topic_names_partitions_and_compatibility_can_be_overridden(tmp_path):
    make_dataset(
        tmp_path,
        toml=(
            'key_field = "order_id"\n'
            'compatibility = "FORWARD_TRANSITIVE"\n'
            "partitions = 12\n"
            'raw_topic = "ingest.orders.v1"\n'
            'dlq_topic = "ingest.orders.dead"\n'
        ),
    )

    orders = load_catalog(tmp_path)["orders"]

    assert orders.compatibility == "FORWARD_TRANSITIVE"
    assert orders.partitions == 12
    assert orders.raw_topic == "ingest.orders.v1"
    assert orders.dlq_topic == "ingest.orders.dead"
    assert orders.value_subject == "ingest.orders.v1-value"


@pytest.mark.parametrize("level", COMPATIBILITY_LEVELS)
def test_every_registry_compatibility_level_is_accepted(tmp_path, level):
    make_dataset(tmp_path, toml=f'key_field = "order_id"\ncompatibility = "{level}"\n')

    assert load_catalog(tmp_path)["orders"].compatibility == level


@pytest.mark.parametrize("key_type", ["string", "int", "long"])
def test_a_key_field_may_be_a_string_an_int_or_a_long(tmp_path, key_type):
    make_dataset(tmp_path, versions={"v1.avsc": record(key_type=key_type)})

    assert load_catalog(tmp_path)["orders"].latest.schema["fields"][0]["type"] == key_type


def test_datasets_are_loaded_in_name_order_and_hidden_folders_and_files_are_ignored(tmp_path):
    make_dataset(tmp_path, "zeta")
    make_dataset(tmp_path, "alpha")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "junk.avsc").write_text("not json")
    (tmp_path / "README.md").write_text("the catalog")
    (tmp_path / "zeta" / "NOTES.md").write_text("not a schema")

    assert list(load_catalog(tmp_path)) == ["alpha", "zeta"]


def test_versions_are_ordered_by_number_not_by_file_name(tmp_path):
    versions = {f"v{n}.avsc": record({"name": f"f{n}", "type": "string"}) for n in range(1, 12)}
    make_dataset(tmp_path, versions=versions)

    orders = load_catalog(tmp_path)["orders"]

    assert [v.version for v in orders.versions] == list(range(1, 12))
    assert orders.latest.path.name == "v11.avsc"
    assert orders.latest.schema["fields"][1]["name"] == "f11"


def test_load_catalog_accepts_a_string_path(tmp_path):
    make_dataset(tmp_path)

    assert load_catalog(str(tmp_path)).root == tmp_path


# --- malformed schema files ------------------------------------------------------------------


def test_bad_json_in_a_schema_file_names_the_file(tmp_path):
    folder = make_dataset(tmp_path, versions={"v1.avsc": '{"type": "record",'})

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert error.dataset == "orders"
    assert str(error).startswith(f"{folder / 'v1.avsc'}: not valid JSON: ")


def test_a_schema_file_that_is_not_utf8_names_the_file(tmp_path):
    folder = make_dataset(tmp_path, versions={})
    (folder / "v1.avsc").write_bytes(b'{"type": "record", "doc": "\xff"}')

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert str(error).startswith(f"{folder / 'v1.avsc'}: not UTF-8: ")


def test_an_unknown_avro_type_names_the_file_and_the_type(tmp_path):
    folder = make_dataset(
        tmp_path, versions={"v1.avsc": record({"name": "amount", "type": "decimalish"})}
    )

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert str(error).startswith(f"{folder / 'v1.avsc'}: not a valid Avro schema: ")
    assert "decimalish" in str(error)


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        (
            {"type": "record", "fields": [{"name": "order_id", "type": "string"}]},
            "Name None must be a string",
        ),
        (
            record({"name": "amount"}),
            'Type property "None" not a valid Avro schema',
        ),
        (
            record({"name": "tier", "type": {"type": "enum", "name": "T", "symbols": ["A", "A"]}}),
            "Type property",
        ),
        (
            record({"name": "n", "type": "int", "default": "seven"}),
            "Default value <seven> must match schema type: int",
        ),
    ],
    ids=["record-without-name", "field-without-type", "duplicate-enum-symbol", "bad-default"],
)
def test_an_invalid_avro_schema_names_the_file_and_the_reason(tmp_path, schema, reason):
    folder = make_dataset(tmp_path, versions={"v1.avsc": schema})

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert str(error).startswith(f"{folder / 'v1.avsc'}: not a valid Avro schema: ")
    assert reason in str(error)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "enum", "name": "Order", "symbols": ["A"]},
        '"string"',
        ["null", "string"],
        {"type": "array", "items": "string"},
    ],
    ids=["enum", "primitive", "union", "array"],
)
def test_a_top_level_type_other_than_record_names_the_file(tmp_path, schema):
    folder = make_dataset(tmp_path, versions={"v1.avsc": schema})

    error = catalog_error(tmp_path)

    assert str(error) == (
        f"{folder / 'v1.avsc'}: the top-level type must be a record (events are JSON objects)"
    )


def test_a_record_without_fields_is_a_catalog_error_naming_the_file(tmp_path):
    # fastavro accepts a record with no "fields"; the loader must still report
    # the file instead of leaking a KeyError.
    folder = make_dataset(tmp_path, versions={"v1.avsc": {"type": "record", "name": "Order"}})

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"


@pytest.mark.parametrize(
    "schema",
    [
        record({"name": "amount", "type": "double"}, {"name": "amount", "type": "string"}),
        {**ORDER, "name": "1Order"},
        record({"name": "unit-price", "type": "double"}),
    ],
    ids=["duplicate-field-name", "record-name-starting-with-a-digit", "field-name-with-dash"],
)
def test_avro_the_registry_would_refuse_is_rejected_when_the_catalog_loads(tmp_path, schema):
    # The Avro specification (and the Java parser behind the schema registry)
    # rejects these; loading must catch them before startup registers them.
    folder = make_dataset(tmp_path, versions={"v1.avsc": schema})

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert "not a valid Avro schema" in str(error)


# --- key field -------------------------------------------------------------------------------


def test_a_key_field_missing_from_a_later_version_names_that_version(tmp_path):
    without_key = {**ORDER, "fields": [{"name": "amount", "type": "double"}]}
    folder = make_dataset(tmp_path, versions={"v1.avsc": ORDER, "v2.avsc": without_key})

    error = catalog_error(tmp_path)

    assert error.path == folder / "v2.avsc"
    assert str(error) == (
        f"{folder / 'v2.avsc'}: key field 'order_id' (from dataset.toml) "
        "is not a field of this schema"
    )


@pytest.mark.parametrize(
    ("key_type", "shown"),
    [
        (["null", "string"], '["null", "string"]'),
        ("double", '"double"'),
        ("bytes", '"bytes"'),
        ({"type": "enum", "name": "K", "symbols": ["A"]}, '{"type": "enum", "name": "K", '),
    ],
    ids=["nullable-string", "double", "bytes", "enum"],
)
def test_a_key_field_of_another_type_names_the_file_and_the_type(tmp_path, key_type, shown):
    folder = make_dataset(tmp_path, versions={"v1.avsc": record(key_type=key_type)})

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert str(error).startswith(f"{folder / 'v1.avsc'}: key field 'order_id' has type {shown}")
    assert str(error).endswith("; a key field must be required and one of string, int, long")


def test_a_nullable_key_field_gives_the_exact_message(tmp_path):
    folder = make_dataset(tmp_path, versions={"v1.avsc": record(key_type=["null", "string"])})

    assert str(catalog_error(tmp_path)) == (
        f'{folder / "v1.avsc"}: key field \'order_id\' has type ["null", "string"]; '
        "a key field must be required and one of string, int, long"
    )


# --- malformed dataset.toml ------------------------------------------------------------------


def test_a_missing_dataset_toml_names_where_it_belongs(tmp_path):
    folder = make_dataset(tmp_path, toml=None)

    error = catalog_error(tmp_path)

    assert error.path == folder / "dataset.toml"
    assert error.dataset == "orders"
    assert str(error) == (
        f"{folder / 'dataset.toml'}: missing: every dataset folder declares at least key_field here"
    )


def test_an_empty_dataset_folder_asks_for_its_dataset_toml(tmp_path):
    folder = tmp_path / "orders"
    folder.mkdir()

    error = catalog_error(tmp_path)

    assert error.path == folder / "dataset.toml"


def test_bad_toml_names_the_file(tmp_path):
    folder = make_dataset(tmp_path, toml='key_field = "order_id\n')

    error = catalog_error(tmp_path)

    assert error.path == folder / "dataset.toml"
    assert str(error).startswith(f"{folder / 'dataset.toml'}: not valid TOML: ")


def test_a_dataset_toml_that_is_not_utf8_names_the_file(tmp_path):
    folder = make_dataset(tmp_path, toml=None)
    (folder / "dataset.toml").write_bytes(b'key_field = "order_id" # \xff\n')

    error = catalog_error(tmp_path)

    assert str(error).startswith(f"{folder / 'dataset.toml'}: not valid TOML: ")


def test_an_unknown_key_in_dataset_toml_is_named_with_the_allowed_keys(tmp_path):
    folder = make_dataset(tmp_path, toml='key_field = "order_id"\nretention = "7d"\nkey = 1\n')

    error = catalog_error(tmp_path)

    assert str(error) == (
        f"{folder / 'dataset.toml'}: unknown key(s) ['key', 'retention']; allowed: "
        "['compatibility', 'dlq_topic', 'json_encoding', 'key_field', 'min_insync_replicas', "
        "'partitions', 'raw_topic', 'replication_factor', 'subject_strategy']"
    )


@pytest.mark.parametrize(
    "toml",
    ['compatibility = "FULL"\n', 'key_field = ""\n', "key_field = 7\n", ""],
    ids=["absent", "empty", "not-a-string", "empty-file"],
)
def test_a_missing_key_field_names_the_dataset_toml(tmp_path, toml):
    folder = make_dataset(tmp_path, toml=toml)

    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: key_field is required: "
        "the name of the field holding the business id"
    )


@pytest.mark.parametrize("level", ["backward", "STRICT", "", "FULL-TRANSITIVE"])
def test_an_invalid_compatibility_level_names_the_file_and_the_levels(tmp_path, level):
    folder = make_dataset(tmp_path, toml=f'key_field = "order_id"\ncompatibility = "{level}"\n')

    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: compatibility {level!r} is not one of BACKWARD, "
        "BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE"
    )


@pytest.mark.parametrize("setting", ["partitions", "replication_factor", "min_insync_replicas"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [("0", "0"), ("-3", "-3"), ('"3"', "'3'"), ("true", "True"), ("1.5", "1.5")],
)
def test_counts_in_dataset_toml_must_be_positive_integers(tmp_path, setting, value, shown):
    folder = make_dataset(tmp_path, toml=f'key_field = "order_id"\n{setting} = {value}\n')

    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: {setting} must be a positive integer, not {shown}"
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [("raw_topic", '"raw orders"'), ("dlq_topic", '"dlq/orders"'), ("raw_topic", "5")],
)
def test_an_invalid_topic_name_names_the_file(tmp_path, setting, value):
    folder = make_dataset(tmp_path, toml=f'key_field = "order_id"\n{setting} = {value}\n')

    shown = repr(json.loads(value))
    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: {setting} {shown} is not a valid Kafka topic name"
    )


# --- folder layout ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["version1.avsc", "v0.avsc", "v01.avsc", "V1.avsc", "v1.b.avsc"])
def test_a_badly_named_schema_file_is_named(tmp_path, name):
    folder = make_dataset(tmp_path, versions={"v1.avsc": ORDER, name: ORDER})

    error = catalog_error(tmp_path)

    assert error.path == folder / name
    assert str(error) == f"{folder / name}: schema files are named v1.avsc, v2.avsc, ..."


def test_a_version_gap_names_the_folder_and_the_missing_file(tmp_path):
    folder = make_dataset(tmp_path, versions={"v1.avsc": ORDER, "v3.avsc": ORDER})

    error = catalog_error(tmp_path)

    assert error.path == folder
    assert str(error) == (
        f"{folder}: version gap: v2.avsc missing; versions are numbered from 1 without gaps"
    )


def test_a_catalog_starting_at_v2_reports_v1_missing(tmp_path):
    folder = make_dataset(tmp_path, versions={"v2.avsc": ORDER, "v4.avsc": ORDER})

    assert str(catalog_error(tmp_path)) == (
        f"{folder}: version gap: v1.avsc, v3.avsc missing; "
        "versions are numbered from 1 without gaps"
    )


def test_a_dataset_folder_without_schemas_asks_for_v1(tmp_path):
    folder = make_dataset(tmp_path, versions={})

    error = catalog_error(tmp_path)

    assert error.path == folder
    assert str(error) == f"{folder}: no schema versions: add v1.avsc"


def test_an_empty_schemas_directory_says_one_folder_per_dataset(tmp_path):
    error = catalog_error(tmp_path)

    assert error.path == tmp_path
    assert str(error) == f"{tmp_path}: no datasets: expected one folder per dataset"


def test_a_missing_schemas_directory_says_how_to_point_at_one(tmp_path):
    missing = tmp_path / "nowhere"

    error = catalog_error(missing)

    assert error.path == missing
    assert str(error) == f"{missing}: schemas directory not found (set --schemas-dir)"


def test_a_file_given_as_schemas_directory_is_not_found(tmp_path):
    file = tmp_path / "avro"
    file.write_text("")

    assert str(catalog_error(file)) == f"{file}: schemas directory not found (set --schemas-dir)"


def test_a_dataset_folder_with_a_space_in_its_name_is_named(tmp_path):
    folder = make_dataset(tmp_path, "my orders")

    error = catalog_error(tmp_path)

    assert error.path == folder
    assert str(error) == (
        f"{folder}: a dataset folder name may hold only letters, digits, '.', '_' and '-'"
    )


def test_one_bad_dataset_fails_the_whole_catalog(tmp_path):
    make_dataset(tmp_path, "alpha")
    folder = make_dataset(tmp_path, "beta", toml='key_field = "nope"\n')

    error = catalog_error(tmp_path)

    assert error.path == folder / "v1.avsc"
    assert error.dataset == "beta"


# --- shared named types (avro/_types) ----------------------------------------------------
ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.acme.common",
    "fields": [
        {"name": "city", "type": "string"},
        {"name": "country", "type": "com.acme.common.Country"},
    ],
}
COUNTRY = {
    "type": "enum",
    "name": "Country",
    "namespace": "com.acme.common",
    "symbols": ["DE", "FR"],
}
SHIPPED = record({"name": "ship_to", "type": "com.acme.common.Address"})


def write_types(root: Path, *schemas: dict) -> Path:
    folder = root / "_types"
    folder.mkdir(parents=True, exist_ok=True)
    for schema in schemas:
        (folder / f"{schema['namespace']}.{schema['name']}.avsc").write_text(json.dumps(schema))
    return folder


def compact(schema: dict) -> str:
    return json.dumps(schema, separators=(",", ":"))


def test_a_version_uses_a_shared_type_by_full_name_with_what_it_uses_first(tmp_path):
    # Issue 14: this used to be "not a valid Avro schema".
    write_types(tmp_path, ADDRESS, COUNTRY)
    make_dataset(tmp_path, versions={"v1.avsc": SHIPPED})

    catalog = load_catalog(tmp_path)

    (version,) = catalog["orders"].versions
    assert version.references == ("com.acme.common.Address",)
    assert version.named_types == (compact(COUNTRY), compact(ADDRESS))
    assert set(catalog.types) == {"com.acme.common.Address", "com.acme.common.Country"}
    assert catalog.types["com.acme.common.Address"].references == ("com.acme.common.Country",)
    assert catalog.types["com.acme.common.Country"].path == tmp_path / "_types" / (
        "com.acme.common.Country.avsc"
    )
    assert [d.name for d in catalog.users("com.acme.common.Country")] == ["orders"]


def test_a_shared_type_may_be_named_relative_to_the_schemas_namespace(tmp_path):
    write_types(tmp_path, {**COUNTRY, "namespace": "test"})
    make_dataset(tmp_path, versions={"v1.avsc": record({"name": "country", "type": "Country"})})

    (version,) = load_catalog(tmp_path)["orders"].versions

    assert version.references == ("test.Country",)


def test_a_version_without_shared_types_references_none(tmp_path):
    write_types(tmp_path, COUNTRY)
    make_dataset(tmp_path)

    catalog = load_catalog(tmp_path)

    assert (catalog["orders"].latest.references, catalog["orders"].latest.named_types) == ((), ())
    assert catalog.users("com.acme.common.Country") == []


def test_an_unknown_type_says_where_a_shared_type_would_be_defined(tmp_path):
    folder = make_dataset(tmp_path, versions={"v1.avsc": SHIPPED})

    error = catalog_error(tmp_path)

    assert str(error) == (
        f"{folder / 'v1.avsc'}: not a valid Avro schema: unknown type "
        f"'com.acme.common.Address'; a shared type is defined in "
        f"{tmp_path / '_types' / 'com.acme.common.Address.avsc'}"
    )


def test_a_shared_type_file_named_otherwise_than_its_type_is_refused(tmp_path):
    folder = write_types(tmp_path)
    (folder / "Address.avsc").write_text(json.dumps(ADDRESS))
    make_dataset(tmp_path)

    error = catalog_error(tmp_path)

    assert error.path == folder / "Address.avsc"
    assert "named after the type's full name (com.acme.common.Address.avsc)" in str(error)


def test_shared_types_using_each_other_in_a_cycle_are_refused(tmp_path):
    a = {"type": "record", "name": "A", "namespace": "x", "fields": [{"name": "b", "type": "x.B"}]}
    b = {"type": "record", "name": "B", "namespace": "x", "fields": [{"name": "a", "type": "x.A"}]}
    write_types(tmp_path, a, b)
    make_dataset(tmp_path)

    assert "shared types use each other in a cycle: x.A -> x.B -> x.A" in str(
        catalog_error(tmp_path)
    )


def test_a_shared_type_file_that_is_not_a_named_type_is_refused(tmp_path):
    folder = write_types(tmp_path)
    (folder / "x.Y.avsc").write_text('"string"')
    make_dataset(tmp_path)

    assert catalog_error(tmp_path).path == folder / "x.Y.avsc"


# --- json_encoding and subject_strategy -----------------------------------------------------
def test_json_encoding_defaults_to_natural_and_may_be_avro(tmp_path):
    make_dataset(tmp_path, "a")
    make_dataset(tmp_path, "b", toml='key_field = "order_id"\njson_encoding = "avro"\n')

    catalog = load_catalog(tmp_path)

    assert (catalog["a"].json_encoding, catalog["b"].json_encoding) == ("natural", "avro")


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("json_encoding", "json", "natural, avro"),
        ("subject_strategy", "RecordNameStrategy", "topic, record, topic_record"),
    ],
)
def test_an_unknown_json_encoding_or_subject_strategy_names_the_choices(
    tmp_path, key, value, allowed
):
    folder = make_dataset(tmp_path, toml=f'key_field = "order_id"\n{key} = "{value}"\n')

    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: {key} {value!r} is not one of {allowed}"
    )


@pytest.mark.parametrize(
    ("strategy", "subject"),
    [
        ("topic", "raw.orders-value"),
        ("record", "test.Order"),
        ("topic_record", "raw.orders-test.Order"),
    ],
)
def test_the_value_subject_follows_the_subject_strategy(tmp_path, strategy, subject):
    make_dataset(tmp_path, toml=f'key_field = "order_id"\nsubject_strategy = "{strategy}"\n')

    dataset = load_catalog(tmp_path)["orders"]

    assert (dataset.subject_strategy, dataset.value_subject) == (strategy, subject)


def two_on_one_topic(root: Path, strategies: tuple[str, str]) -> None:
    for name, strategy, record_name in zip(("a", "b"), strategies, ("A", "B"), strict=True):
        make_dataset(
            root,
            name,
            toml=f'key_field = "order_id"\nraw_topic = "raw.events"\n'
            f'subject_strategy = "{strategy}"\n',
            versions={"v1.avsc": {**ORDER, "name": record_name}},
        )


def test_a_raw_topic_shared_under_the_topic_strategy_is_refused_at_load_time(tmp_path):
    # Issue 14: this passed `schemas check`, then the second dataset was
    # rejected at register and all its events went to the DLQ.
    two_on_one_topic(tmp_path, ("record", "topic"))

    assert str(catalog_error(tmp_path)) == (
        f"{tmp_path}: datasets a, b share raw_topic 'raw.events', but b use(s) "
        'subject_strategy "topic" (one subject, raw.events-value, per topic): set '
        'subject_strategy = "record" or "topic_record" in each of their dataset.toml'
    )


def test_datasets_share_a_raw_topic_under_record_strategies(tmp_path):
    two_on_one_topic(tmp_path, ("record", "topic_record"))

    catalog = load_catalog(tmp_path)

    assert [catalog[n].value_subject for n in "ab"] == ["test.A", "raw.events-test.B"]


def test_two_datasets_whose_subjects_coincide_are_refused(tmp_path):
    for name in ("a", "b"):
        make_dataset(tmp_path, name, toml='key_field = "order_id"\nsubject_strategy = "record"\n')

    assert str(catalog_error(tmp_path)) == (
        f"{tmp_path}: datasets a, b would share the subject test.Order: give their records "
        'different full names or use subject_strategy = "topic_record"'
    )


def test_a_record_strategy_needs_one_record_name_across_versions(tmp_path):
    folder = make_dataset(
        tmp_path,
        toml='key_field = "order_id"\nsubject_strategy = "record"\n',
        versions={"v1.avsc": ORDER, "v2.avsc": {**ORDER, "name": "Order2"}},
    )

    assert str(catalog_error(tmp_path)) == (
        f"{folder / 'dataset.toml'}: subject_strategy 'record' names the subject after the "
        "record, but the versions' records are named test.Order, test.Order2: keep one full "
        "name for all"
    )


# --- pinned versions ---------------------------------------------------------------------------
def test_pinning_a_version_the_catalog_lacks_is_a_configuration_error(tmp_path):
    make_dataset(tmp_path)
    dataset = load_catalog(tmp_path)["orders"]

    with pytest.raises(ConfigurationError) as caught:
        dataset.pinned(9)

    assert caught.value.message == "orders has no schema version v9; the catalog has v1"
    assert dataset.pinned(None) is dataset.pinned(1) is dataset.latest


def test_the_codec_compiles_a_versions_shared_types(tmp_path):
    # The encoder gets SchemaVersion.named_types; its bytes are the reference
    # Avro writer's with the same types known.
    write_types(tmp_path, ADDRESS, COUNTRY)
    make_dataset(tmp_path, versions={"v1.avsc": SHIPPED})
    (version,) = load_catalog(tmp_path)["orders"].versions
    event = {"order_id": "ORD-1", "ship_to": {"city": "Lyon", "country": "FR"}}

    value, key = Codec(version, 7, key_field="order_id").encode(json.dumps(event))

    named: dict = {}
    for text in version.named_types:
        fastavro.parse_schema(json.loads(text), named_schemas=named)
    expected = io.BytesIO()
    fastavro.schemaless_writer(expected, fastavro.parse_schema(SHIPPED, named_schemas=named), event)
    assert (value, key) == (b"\x00\x00\x00\x00\x07" + expected.getvalue(), b"ORD-1")
