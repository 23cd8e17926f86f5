"""The evolution gate per compatibility level: which changes each level accepts,
and how a rejected one is explained (file, levels, versions, field, change)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from streamlake.catalog import Dataset, load_catalog
from streamlake.compatibility import (
    Problem,
    check_catalog,
    check_dataset,
    describe_incompatibility,
)
from streamlake.errors import CatalogError

ROOT = Path(__file__).resolve().parents[2]

ID = {"name": "id", "type": "string"}
TIER = {"type": "enum", "name": "Tier", "symbols": ["FREE", "PRO", "GOLD"]}


def record(*fields: dict, name: str = "Order", **extra) -> dict:
    return {"type": "record", "name": name, "namespace": "test", "fields": [ID, *fields], **extra}


def field(name: str, type_, **extra) -> dict:
    return {"name": name, "type": type_, **extra}


def dataset(tmp_path: Path, level: str, *versions: dict, name: str = "orders") -> Dataset:
    folder = tmp_path / "avro" / name
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(f'key_field = "id"\ncompatibility = "{level}"\n')
    for number, schema in enumerate(versions, start=1):
        (folder / f"v{number}.avsc").write_text(json.dumps(schema, indent=2))
    return load_catalog(tmp_path / "avro")[name]


def problem(ds: Dataset, version: int, reader: int, writer: int, field: str | None, detail: str):
    return Problem(
        path=ds.path / f"v{version}.avsc",
        dataset=ds.name,
        rule=ds.compatibility,
        reader=f"v{reader}",
        writer=f"v{writer}",
        field=field,
        detail=detail,
    )


# BACKWARD: the new version reads the previous one.


def test_backward_accepts_a_new_field_with_a_default(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(),
        record(field("currency", ["null", "string"], default=None)),
    )
    assert check_dataset(ds) == []


def test_backward_rejects_a_new_field_without_default(tmp_path):
    ds = dataset(tmp_path, "BACKWARD", record(), record(field("currency", "string")))

    assert check_dataset(ds) == [
        problem(ds, 2, 2, 1, "currency", "has no default and is not in v1")
    ]


def test_backward_accepts_a_removed_field(tmp_path):
    ds = dataset(tmp_path, "BACKWARD", record(field("amount", "double")), record())
    assert check_dataset(ds) == []


def test_backward_rejects_a_changed_type(tmp_path):
    ds = dataset(
        tmp_path, "BACKWARD", record(field("amount", "double")), record(field("amount", "string"))
    )
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "amount", "type double -> string")]


def test_backward_accepts_a_type_promotion(tmp_path):
    ds = dataset(tmp_path, "BACKWARD", record(field("qty", "int")), record(field("qty", "long")))
    assert check_dataset(ds) == []


def test_backward_rejects_a_removed_enum_symbol(tmp_path):
    fewer = {**TIER, "symbols": ["FREE", "PRO"]}
    ds = dataset(tmp_path, "BACKWARD", record(field("tier", TIER)), record(field("tier", fewer)))
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "tier", "enum symbol GOLD removed")]


def test_backward_rejects_a_rename_without_alias(tmp_path):
    ds = dataset(
        tmp_path, "BACKWARD", record(field("amount", "double")), record(field("total", "double"))
    )
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "total", "has no default and is not in v1")]


def test_backward_accepts_a_rename_with_the_old_name_as_alias(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("amount", "double")),
        record(field("total", "double", aliases=["amount"])),
    )
    assert check_dataset(ds) == []


def test_backward_accepts_a_widened_union(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("note", ["null", "string"])),
        record(field("note", ["null", "string", "long"])),
    )
    assert check_dataset(ds) == []


def test_backward_rejects_a_narrowed_union(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("note", ["null", "string", "long"])),
        record(field("note", ["null", "string"])),
    )
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "note", "union member long removed")]


def test_backward_rejects_an_optional_field_made_required(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("note", ["null", "string"], default=None)),
        record(field("note", "string")),
    )
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "note", "type [null, string] -> string")]


def test_backward_names_the_nested_field_that_changed(tmp_path):
    def address(city_type: str) -> dict:
        return {"type": "record", "name": "Address", "fields": [field("city", city_type)]}

    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("address", ["null", address("string")], default=None)),
        record(field("address", ["null", address("long")], default=None)),
    )
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "address.city", "type string -> long")]


def test_backward_names_a_field_inside_array_items(tmp_path):
    def lines(qty_type: str) -> dict:
        line = {"type": "record", "name": "Line", "fields": [field("qty", qty_type)]}
        return field("lines", {"type": "array", "items": line})

    ds = dataset(tmp_path, "BACKWARD", record(lines("int")), record(lines("string")))
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "lines[].qty", "type int -> string")]


def test_backward_explains_a_named_type_for_each_field_using_it(tmp_path):
    def addresses(city_type: str) -> list[dict]:
        address = {"type": "record", "name": "Address", "fields": [field("city", city_type)]}
        return [field("billing", address), field("shipping", "test.Address")]

    ds = dataset(tmp_path, "BACKWARD", record(*addresses("string")), record(*addresses("long")))
    assert check_dataset(ds) == [
        problem(ds, 2, 2, 1, "billing.city", "type string -> long"),
        problem(ds, 2, 2, 1, "shipping.city", "type string -> long"),
    ]


def test_backward_explains_a_recursive_type_without_looping(tmp_path):
    def chain(value_type: str) -> dict:
        node = {
            "type": "record",
            "name": "Node",
            "fields": [field("value", value_type), field("next", ["null", "Node"])],
        }
        return field("chain", node)

    ds = dataset(tmp_path, "BACKWARD", record(chain("int")), record(chain("string")))
    assert check_dataset(ds) == [problem(ds, 2, 2, 1, "chain.value", "type int -> string")]


def test_backward_reports_each_change_of_a_version_in_field_order(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("amount", "double"), field("tier", TIER)),
        record(
            field("amount", "string"),
            field("tier", {**TIER, "symbols": ["FREE"]}),
            field("currency", "string"),
        ),
    )
    assert check_dataset(ds) == [
        problem(ds, 2, 2, 1, "amount", "type double -> string"),
        problem(ds, 2, 2, 1, "tier", "enum symbols PRO, GOLD removed"),
        problem(ds, 2, 2, 1, "currency", "has no default and is not in v1"),
    ]


def test_backward_rejects_a_renamed_record_and_accepts_it_with_an_alias(tmp_path):
    renamed = dataset(tmp_path / "a", "BACKWARD", record(), record(name="Purchase"))
    aliased = dataset(
        tmp_path / "b", "BACKWARD", record(), record(name="Purchase", aliases=["test.Order"])
    )

    assert check_dataset(renamed) == [
        problem(renamed, 2, 2, 1, None, "record name test.Order -> test.Purchase")
    ]
    assert check_dataset(aliased) == []


def test_backward_checks_only_against_the_previous_version(tmp_path):
    # v2 drops `note`, v3 brings it back as an int: v3 reads v2 (default) but not v1.
    ds = dataset(
        tmp_path,
        "BACKWARD",
        record(field("note", "string")),
        record(),
        record(field("note", "int", default=0)),
    )
    assert check_dataset(ds) == []


# BACKWARD_TRANSITIVE: the new version reads every earlier one.


def test_backward_transitive_rejects_a_version_that_cannot_read_an_older_one(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD_TRANSITIVE",
        record(field("note", "string")),
        record(),
        record(field("note", "int", default=0)),
    )
    assert check_dataset(ds) == [problem(ds, 3, 3, 1, "note", "type string -> int")]


def test_backward_transitive_accepts_optional_fields_added_one_by_one(tmp_path):
    ds = dataset(
        tmp_path,
        "BACKWARD_TRANSITIVE",
        record(),
        record(field("a", ["null", "string"], default=None)),
        record(field("a", ["null", "string"], default=None), field("b", "long", default=0)),
    )
    assert check_dataset(ds) == []


# FORWARD: the previous version reads the new one.


def test_forward_accepts_a_new_field_without_default(tmp_path):
    ds = dataset(tmp_path, "FORWARD", record(), record(field("currency", "string")))
    assert check_dataset(ds) == []


def test_forward_rejects_a_removed_field_without_default(tmp_path):
    ds = dataset(tmp_path, "FORWARD", record(field("amount", "double")), record())
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "amount", "has no default and is not in v2")]


def test_forward_accepts_a_removed_field_that_had_a_default(tmp_path):
    ds = dataset(tmp_path, "FORWARD", record(field("amount", "double", default=0.0)), record())
    assert check_dataset(ds) == []


def test_forward_rejects_a_type_promotion(tmp_path):
    ds = dataset(tmp_path, "FORWARD", record(field("qty", "int")), record(field("qty", "long")))
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "qty", "type int -> long")]


def test_forward_rejects_an_added_enum_symbol(tmp_path):
    fewer = {**TIER, "symbols": ["FREE", "PRO"]}
    ds = dataset(tmp_path, "FORWARD", record(field("tier", fewer)), record(field("tier", TIER)))
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "tier", "enum symbol GOLD added")]


def test_forward_rejects_a_rename_even_with_an_alias(tmp_path):
    # Aliases are read from the reader schema only, and here the reader is v1.
    ds = dataset(
        tmp_path,
        "FORWARD",
        record(field("amount", "double")),
        record(field("total", "double", aliases=["amount"])),
    )
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "amount", "has no default and is not in v2")]


def test_forward_rejects_a_widened_union(tmp_path):
    ds = dataset(
        tmp_path,
        "FORWARD",
        record(field("note", ["null", "string"])),
        record(field("note", ["null", "string", "long"])),
    )
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "note", "union member long added")]


def test_forward_rejects_a_required_field_made_optional(tmp_path):
    ds = dataset(
        tmp_path,
        "FORWARD",
        record(field("note", "string")),
        record(field("note", ["null", "string"], default=None)),
    )
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "note", "type string -> [null, string]")]


def test_forward_names_map_values_that_changed(tmp_path):
    def attrs(values: str) -> dict:
        return field("attrs", {"type": "map", "values": values})

    ds = dataset(tmp_path, "FORWARD", record(attrs("int")), record(attrs("long")))
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "attrs{}", "type int -> long")]


def test_forward_accepts_a_narrowed_union(tmp_path):
    ds = dataset(
        tmp_path,
        "FORWARD",
        record(field("note", ["null", "string", "long"])),
        record(field("note", ["null", "string"])),
    )
    assert check_dataset(ds) == []


# FORWARD_TRANSITIVE: every earlier version reads the new one.

# v2 gives `note` a default, so v3 may drop it for v2 readers, but v1 readers still need it.
NOTE_GETS_A_DEFAULT_THEN_GOES = (
    record(field("note", "string")),
    record(field("note", "string", default="")),
    record(),
)


def test_forward_checks_only_against_the_previous_version(tmp_path):
    ds = dataset(tmp_path, "FORWARD", *NOTE_GETS_A_DEFAULT_THEN_GOES)
    assert check_dataset(ds) == []


def test_forward_transitive_rejects_a_version_an_older_one_cannot_read(tmp_path):
    ds = dataset(tmp_path, "FORWARD_TRANSITIVE", *NOTE_GETS_A_DEFAULT_THEN_GOES)
    assert check_dataset(ds) == [problem(ds, 3, 1, 3, "note", "has no default and is not in v3")]


def test_forward_transitive_accepts_new_fields_added_one_by_one(tmp_path):
    ds = dataset(
        tmp_path,
        "FORWARD_TRANSITIVE",
        record(),
        record(field("a", "string")),
        record(field("a", "string"), field("b", "long")),
    )
    assert check_dataset(ds) == []


# FULL: both directions, against the previous version.


def test_full_accepts_a_new_field_with_a_default(tmp_path):
    ds = dataset(
        tmp_path, "FULL", record(), record(field("currency", ["null", "string"], default=None))
    )
    assert check_dataset(ds) == []


def test_full_rejects_a_new_field_without_default_in_the_backward_direction(tmp_path):
    ds = dataset(tmp_path, "FULL", record(), record(field("currency", "string")))
    assert check_dataset(ds) == [
        problem(ds, 2, 2, 1, "currency", "has no default and is not in v1")
    ]


def test_full_rejects_a_changed_type_in_both_directions(tmp_path):
    ds = dataset(
        tmp_path, "FULL", record(field("amount", "double")), record(field("amount", "string"))
    )
    assert check_dataset(ds) == [
        problem(ds, 2, 2, 1, "amount", "type double -> string"),
        problem(ds, 2, 1, 2, "amount", "type double -> string"),
    ]


def test_full_rejects_an_added_enum_symbol_unless_the_old_enum_has_a_default(tmp_path):
    fewer = {**TIER, "symbols": ["FREE", "PRO"]}
    plain = dataset(
        tmp_path / "a", "FULL", record(field("tier", fewer)), record(field("tier", TIER))
    )
    defaulted = dataset(
        tmp_path / "b",
        "FULL",
        record(field("tier", {**fewer, "default": "FREE"})),
        record(field("tier", {**TIER, "default": "FREE"})),
    )

    assert check_dataset(plain) == [problem(plain, 2, 1, 2, "tier", "enum symbol GOLD added")]
    assert check_dataset(defaulted) == []


def test_full_rejects_a_resized_fixed_in_both_directions(tmp_path):
    def digest(size: int) -> dict:
        return field("digest", {"type": "fixed", "name": "Digest", "size": size})

    ds = dataset(tmp_path, "FULL", record(digest(16)), record(digest(32)))
    assert check_dataset(ds) == [
        problem(ds, 2, 2, 1, "digest", "fixed size 16 -> 32"),
        problem(ds, 2, 1, 2, "digest", "fixed size 16 -> 32"),
    ]


def test_full_rejects_a_rename_with_alias_that_only_backward_accepts(tmp_path):
    ds = dataset(
        tmp_path,
        "FULL",
        record(field("amount", "double")),
        record(field("total", "double", aliases=["amount"])),
    )
    assert check_dataset(ds) == [problem(ds, 2, 1, 2, "amount", "has no default and is not in v2")]


# FULL_TRANSITIVE: both directions, against every earlier version.


def test_full_checks_only_against_the_previous_version(tmp_path):
    ds = dataset(tmp_path, "FULL", *NOTE_GETS_A_DEFAULT_THEN_GOES)
    assert check_dataset(ds) == []


def test_full_transitive_rejects_a_version_incompatible_with_an_older_one(tmp_path):
    ds = dataset(tmp_path, "FULL_TRANSITIVE", *NOTE_GETS_A_DEFAULT_THEN_GOES)
    assert check_dataset(ds) == [problem(ds, 3, 1, 3, "note", "has no default and is not in v3")]


def test_full_transitive_accepts_optional_fields_added_one_by_one(tmp_path):
    ds = dataset(
        tmp_path,
        "FULL_TRANSITIVE",
        record(),
        record(field("a", ["null", "string"], default=None)),
        record(field("a", ["null", "string"], default=None), field("b", "long", default=0)),
    )
    assert check_dataset(ds) == []


# NONE: anything goes.


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(record(field("amount", "string")), id="type changed"),
        pytest.param(record(field("amount", "double"), field("x", "int")), id="field added"),
    ],
)
def test_none_accepts_any_change(tmp_path, new):
    ds = dataset(tmp_path, "NONE", record(field("amount", "double")), new)
    assert check_dataset(ds) == []


# The catalog, the reusable explanation, and how a problem reads.


def test_the_shipped_catalog_checks_clean():
    assert check_catalog(load_catalog(ROOT / "avro")) == []


def test_check_catalog_checks_every_dataset_in_name_order(tmp_path):
    orders = dataset(tmp_path, "BACKWARD", record(), record(field("a", "int")), name="orders")
    accounts = dataset(tmp_path, "FORWARD", record(field("a", "int")), record(), name="accounts")

    assert check_catalog(load_catalog(tmp_path / "avro")) == [
        problem(accounts, 2, 1, 2, "a", "has no default and is not in v2"),
        problem(orders, 2, 2, 1, "a", "has no default and is not in v1"),
    ]


def test_describe_incompatibility_blames_the_newer_file_whichever_reads(tmp_path):
    ds = dataset(
        tmp_path, "NONE", record(field("amount", "double")), record(field("amount", "string"))
    )
    v1, v2 = ds.versions
    expected = problem(ds, 2, 1, 2, "amount", "type double -> string")

    assert describe_incompatibility(ds, v1, v2, "FORWARD") == [replace(expected, rule="FORWARD")]
    assert describe_incompatibility(ds, v1, v1, "BACKWARD") == []


def test_a_schema_the_avro_package_cannot_parse_is_a_catalog_error_at_load_time(tmp_path):
    # fastavro accepts this record name; the avro package (like the registry) does not.
    with pytest.raises(CatalogError, match=r"v2\.avsc: not a valid Avro schema: Order-2"):
        dataset(tmp_path, "BACKWARD", record(), record(name="Order-2"))


def test_a_problem_reads_as_one_line_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = Problem(
        path=tmp_path / "avro" / "orders" / "v3.avsc",
        dataset="orders",
        rule="BACKWARD",
        reader="v3",
        writer="v2",
        field="amount",
        detail="type double -> string",
    )
    removed = Problem(
        path=tmp_path.parent / "elsewhere" / "v2.avsc",
        dataset="orders",
        rule="VERSION_REMOVED",
        detail="v2 is released at origin/main; released versions must stay",
    )

    assert (
        str(found)
        == "avro/orders/v3.avsc: BACKWARD: v3 cannot read v2: field amount: type double -> string"
    )
    assert str(removed) == (
        f"{tmp_path.parent}/elsewhere/v2.avsc: VERSION_REMOVED: "
        "v2 is released at origin/main; released versions must stay"
    )
