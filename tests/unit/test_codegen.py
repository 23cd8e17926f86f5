"""`streamlake schemas codegen`: the generated module for the repo's catalog and
for a corpus of complex schemas (tests/codegen_corpus.py), imported, used, and
checked with ``mypy --strict`` and ruff in subprocesses; naming rules; and
``--check`` as a CI gate on fresh, stale and missing files."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import importlib.util
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import fastavro
import pytest

from streamlake.catalog import Catalog, load_catalog
from streamlake.codec import Codec
from streamlake.codegen import generate, stale, version_class_name
from streamlake.errors import CatalogError
from streamlake.typed_events import event_dataset, event_dict
from tests.clihelpers import ORDERS_V1, ROOT, invoke, write_catalog
from tests.codegen_corpus import (
    ADDRESS,
    EVENTS_V1,
    SAMPLE_JSON,
    SAMPLE_JSON_TEXT,
    sample_event,
    write_corpus,
)

pytestmark = pytest.mark.filterwarnings("ignore::avro.errors.IgnoredLogicalType")


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve string annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's catalog and the corpus, each generated into a module, in one folder."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "catalog_events.py").write_text(generate(load_catalog(ROOT / "avro")))
    corpus = write_corpus(folder / "avro").parent
    (folder / "corpus_events.py").write_text(generate(load_catalog(corpus)))
    return folder


@pytest.fixture(scope="module")
def catalog_events(generated: Path) -> ModuleType:
    return load_module(generated / "catalog_events.py", "catalog_events")


@pytest.fixture(scope="module")
def events(generated: Path) -> ModuleType:
    return load_module(generated / "corpus_events.py", "corpus_events")


def test_the_catalog_gets_one_class_per_dataset_version_that_knows_both(
    catalog_events: ModuleType,
) -> None:
    catalog = load_catalog(ROOT / "avro")
    expected = {
        version_class_name(name, v.version): (name, v.version)
        for name, dataset in catalog.items()
        for v in dataset.versions
    }
    assert expected == {
        "CustomersV1": ("customers", 1),
        "OrdersV1": ("orders", 1),
        "OrdersV2": ("orders", 2),
    }
    for class_name, (dataset, version) in expected.items():
        cls = getattr(catalog_events, class_name)
        assert (cls.__streamlake_dataset__, cls.__streamlake_version__) == (dataset, version)
        fields = [f.name for f in dataclasses.fields(cls)]
        assert fields == [f["name"] for f in catalog[dataset].version(version).schema["fields"]]
    order = catalog_events.OrdersV2(order_id="O-1", customer_id="C-1", amount=9.5, event_time="t")
    assert event_dataset(order) == ("orders", 2)
    assert order.currency is None
    assert catalog_events.Tier("PRO") is catalog_events.Tier.PRO


def test_generated_classes_are_frozen_slotted_and_keyword_only(catalog_events: ModuleType) -> None:
    order = catalog_events.OrdersV1(order_id="O-1", customer_id="C-1", amount=1.0, event_time="t")
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.amount = 2.0
    assert not hasattr(order, "__dict__")
    with pytest.raises(TypeError):
        catalog_events.OrdersV1("O-1", "C-1", 1.0, "t")


def test_the_generated_modules_pass_mypy_strict_and_ruff_and_mypy_catches_misuse(
    generated: Path,
) -> None:
    (generated / "good_usage.py").write_text(GOOD_USAGE)
    (generated / "bad_usage.py").write_text(BAD_USAGE)
    modules = ["catalog_events.py", "corpus_events.py", "good_usage.py", "bad_usage.py"]
    # The repo's cache keeps the standard library's stubs warm between runs.
    cache = ["--cache-dir", str(ROOT / ".mypy_cache")]
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *cache, "--no-error-summary", *modules],
        cwd=generated,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    errors = [line for line in mypy.stdout.splitlines() if ": error:" in line]
    assert [e for e in errors if not e.startswith("bad_usage.py:")] == []
    flagged = {int(e.split(":")[1]) for e in errors}
    expected = {n for n, line in enumerate(BAD_USAGE.splitlines(), 1) if line.endswith("# error")}
    assert flagged == expected, mypy.stdout
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        ruff = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "catalog_events.py", "corpus_events.py"],
            cwd=generated,
            capture_output=True,
            text=True,
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    project = ["--config", str(ROOT / "pyproject.toml")]
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *project, "catalog_events.py", "corpus_events.py"],
        cwd=generated,
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout


GOOD_USAGE = """\
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from catalog_events import OrdersV2
from corpus_events import Address, EventsV1, Iban, Line, Status, TreeNode

from streamlake.typed_events import TypedEvent


def dataset_of(event: TypedEvent) -> tuple[str, int]:
    return type(event).__streamlake_dataset__, type(event).__streamlake_version__


event = EventsV1(
    event_id="E-1",
    at=dt.datetime.now(dt.UTC),
    at_micros=dt.datetime.now(dt.UTC),
    local_at=dt.datetime(2026, 1, 1),
    local_at_micros=dt.datetime(2026, 1, 1),
    day=dt.date(2026, 1, 1),
    time=dt.time(1, 2),
    time_us=dt.time(1, 2),
    price=Decimal("1.00"),
    price_fixed=Decimal("1.0000"),
    id=UUID(int=1),
    digest=bytes(16),
    payload=b"",
    count=1,
    total=2,
    ratio=0.5,
    score=1.0,
    ok=False,
    status=Status.None_,
    shipping=Address(street="s"),
    payment=Iban(iban="i", bic="b"),
    lines=[Line(sku="A", from_="x")],
    tree=TreeNode(label="t", children=[TreeNode(label="u")]),
    parent=None,
    date=None,
)
created: dt.datetime = event.created
fee: Decimal = event.fee
matrix: list[dict[str, list[float]]] = event.matrix
order = OrdersV2(order_id="o", customer_id="c", amount=1, event_time="t")
print(dataset_of(event), dataset_of(order))
"""

BAD_USAGE = """\
from corpus_events import Address, Line, Status, TreeNode

Address(street=1)  # error
Address(street="s", zip=2)  # error
Line(sku="A", qty="2")  # error
TreeNode(label="t", children=[Address(street="s")])  # error
status: Status = "NEW"  # error
Line(sku="A").sku = "B"  # error
"""


def test_field_types_follow_avro_types_logical_types_included(events: ModuleType) -> None:
    hints = events.EventsV1.__annotations__
    assert {name: hints[name] for name in EXPECTED_TYPES} == EXPECTED_TYPES


EXPECTED_TYPES = {
    "event_id": "str",
    "at": "datetime",
    "at_micros": "datetime",
    "local_at": "datetime",
    "local_at_micros": "datetime",
    "day": "_date",  # the field named `date` shadows the type: an alias
    "time": "_time",
    "time_us": "_time",
    "price": "Decimal",
    "price_fixed": "Decimal",
    "id": "UUID",
    "digest": "bytes",
    "payload": "bytes",
    "count": "_int",
    "total": "_int",
    "ratio": "float",
    "score": "float",
    "ok": "bool",
    "status": "Status",
    "shipping": "_Address",
    "billing": "_Address | None",
    "payment": "Card | Iban | None",
    "tags": "_list[str]",
    "attributes": "dict[str, _int | None]",
    "lines": "_list[Line]",
    "matrix": "_list[dict[str, _list[float]]]",
    "tree": "TreeNode",
    "parent": "EventsV1 | None",
}


def test_defaults_come_from_the_schema_and_mutable_ones_are_fresh_per_instance(
    events: ModuleType,
) -> None:
    a, b = sample_event(events), sample_event(events)
    assert a.billing is None and a.parent is None
    assert a.created == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.UTC)
    assert a.created_local == dt.datetime(1970, 1, 1, 0, 0, 0, 1)
    assert a.created_day == dt.date(2022, 1, 8)
    assert a.alarm == dt.time(1, 2, 3, 4)
    assert a.fee == Decimal("12.34") and a.fee.as_tuple().exponent == -2
    assert a.ref == UUID("123e4567-e89b-12d3-a456-426614174000")
    assert a.level is events.Status.None_
    assert a.home == events.Address(street="Main St", zip=None)
    assert a.raw == b"\xff\x00"
    assert a.ratio_default == 2.0 and isinstance(a.ratio_default, float)
    assert a.matrix == [{"a": [1.5, 2.0]}]
    assert a.lines[1] == events.Line(sku="B", qty=1, from_="web")
    assert a.class_ == "x"
    assert a.box == events.Box(items=[1, 2]) and a.first_list == ["a"]
    assert a.matrix is not b.matrix and a.home is not b.home and a.box is not b.box
    assert events.EventsV1.__dataclass_fields__["tags"].default_factory() == []


def test_a_python_object_of_the_corpus_maps_to_its_natural_json_under_avro_names(
    events: ModuleType,
) -> None:
    plain = event_dict(sample_event(events))
    assert list(plain) == [f["name"] for f in EVENTS_V1["fields"]]
    assert plain["lines"][0] == {"sku": "A", "qty": 2, "from": "app"}
    assert plain["class"] == "x" and plain["status"] == "class"
    # Name mangling and the ClassVar annotation would break these two names.
    assert (sample_event(events)._secret, sample_event(events).ClassVar_) == ("s", 0)
    # A soft keyword is a valid name: not renamed.
    assert [f.name for f in dataclasses.fields(events.Card)] == ["number", "type"]
    assert json.loads(json.dumps(plain, default=_natural)) == SAMPLE_JSON


def _natural(value: object) -> object:
    """Python's own conversions, as the codec's natural dialect reads them."""
    if isinstance(value, dt.datetime | dt.time):
        millis = value.microsecond % 1000 == 0 and value.microsecond
        text = value.isoformat(timespec="milliseconds" if millis else "auto")
        return text.replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(value)


def test_enum_symbols_python_cannot_use_get_a_trailing_underscore_and_keep_their_value(
    events: ModuleType,
) -> None:
    members = {m.name: m.value for m in events.Status}
    assert members == {
        "NEW": "NEW",
        "DONE": "DONE",
        "None_": "None",
        "class_": "class",
        "hidden_": "_hidden",
        "name": "name",
    }
    assert "Where the event is in its life." in events.Status.__doc__


def test_one_definition_in_several_versions_is_one_class_a_changed_one_another(
    events: ModuleType,
) -> None:
    v1, v2 = events.EventsV1.__annotations__, events.EventsV2.__annotations__
    assert v1["lines"] == v2["lines"] == "_list[Line]"
    assert (v1["shipping"], v2["shipping"]) == ("_Address", "AddressEventsV2")
    assert [f.name for f in dataclasses.fields(events.AddressEventsV2)] == [
        "street",
        "zip",
        "country",
    ]
    assert v2["parent"] == "EventsV2 | None"  # each version's recursion is its own class


def test_records_with_one_short_name_in_two_namespaces_are_named_by_full_name(
    tmp_path: Path,
) -> None:
    for dataset, namespace in (("a", "com.a"), ("b", "com.b")):
        schema = {
            **ORDERS_V1,
            "namespace": namespace,
            "fields": [*ORDERS_V1["fields"], _address_field()],
        }
        write_catalog(tmp_path, schema, dataset=dataset)
    module = generate(load_catalog(tmp_path))
    assert "class ComAAddress:" in module and "class ComBAddress:" in module
    assert "class Address" not in module
    assert "    shipping: ComAAddress\n" in module and "    shipping: ComBAddress\n" in module


def _address_field() -> dict[str, Any]:
    return {"name": "shipping", "type": ADDRESS}


def test_dataset_names_become_class_names_part_by_part() -> None:
    assert version_class_name("orders", 2) == "OrdersV2"
    assert version_class_name("click-stream.web_v", 1) == "ClickStreamWebVV1"
    assert version_class_name("3p", 1) == "Dataset3pV1"


def test_generation_is_deterministic_whatever_the_catalog_order() -> None:
    catalog = load_catalog(ROOT / "avro")
    reversed_catalog = Catalog(catalog.root, dict(reversed(list(catalog.datasets.items()))))
    assert generate(catalog) == generate(reversed_catalog) == generate(load_catalog(ROOT / "avro"))


def test_a_union_default_for_another_than_the_first_branch_is_a_catalog_error(
    tmp_path: Path,
) -> None:
    late = {"name": "n", "type": ["null", "string"], "default": "x"}
    write_catalog(tmp_path, {**ORDERS_V1, "fields": [*ORDERS_V1["fields"], late]})
    with pytest.raises(
        CatalogError,
        match=r'Order.n: default "x" is not null: a union\'s default is for its first branch',
    ):
        generate(load_catalog(tmp_path))


def test_a_default_that_does_not_fit_its_field_is_a_catalog_error_naming_the_field(
    tmp_path: Path,
) -> None:
    bad = {
        **ORDERS_V1,
        "fields": [
            *ORDERS_V1["fields"],
            {"name": "n", "type": {"type": "fixed", "name": "F", "size": 2}, "default": "abc"},
        ],
    }
    write_catalog(tmp_path, bad)
    with pytest.raises(
        CatalogError,
        match=r'v1.avsc: orders v1: io.streamlake.orders.Order.n: default "abc" is not exactly 2',
    ):
        generate(load_catalog(tmp_path))


def test_a_shared_type_of_avro_types_used_by_several_versions_is_one_class(
    tmp_path: Path,
) -> None:
    (tmp_path / "_types").mkdir()
    address = {**ADDRESS, "namespace": "com.acme.types"}
    (tmp_path / "_types" / "com.acme.types.Address.avsc").write_text(json.dumps(address))
    fields = [*ORDERS_V1["fields"], {"name": "shipping", "type": "com.acme.types.Address"}]
    schema = {**ORDERS_V1, "fields": fields}
    write_catalog(tmp_path, schema, schema)
    catalog = load_catalog(tmp_path)
    assert catalog["orders"].latest.named_types  # the catalog resolved the reference
    module = generate(catalog)
    assert module.count("class Address:") == 1
    assert module.count("    shipping: Address\n") == 2


def test_event_dataset_answers_only_for_instances_of_generated_classes(
    catalog_events: ModuleType,
) -> None:
    order = catalog_events.OrdersV1(order_id="O-1", customer_id="C-1", amount=1.0, event_time="t")
    assert event_dataset(order) == ("orders", 1)
    for other in (catalog_events.OrdersV1, {"order_id": "O-1"}, '{"order_id": "O-1"}', object()):
        assert event_dataset(other) is None
    with pytest.raises(TypeError, match="expected a dataclass instance, got type"):
        event_dict(catalog_events.OrdersV1)


# --- the CLI -------------------------------------------------------------------
@pytest.fixture
def in_tmp_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_catalog(tmp_path / "avro")
    return tmp_path


def codegen(*args: str) -> tuple[int, str, str]:
    result = invoke(["--schemas-dir", "avro", "schemas", "codegen", *args])
    return result.exit_code, result.stdout, result.stderr


def test_codegen_writes_streamlake_events_py_by_default_and_check_passes_on_it(
    in_tmp_catalog: Path,
) -> None:
    assert codegen() == (0, "wrote streamlake_events.py\n", "")
    assert (in_tmp_catalog / "streamlake_events.py").read_text() == generate(load_catalog("avro"))
    assert codegen("--check") == (0, "streamlake_events.py is up to date\n", "")


def test_check_fails_on_a_stale_file_and_says_what_differs(in_tmp_catalog: Path) -> None:
    assert codegen("--out", "events.py")[0] == 0
    # Someone adds v3 to avro/ but does not regenerate.
    v3 = {
        **ORDERS_V1,
        "fields": [*ORDERS_V1["fields"], {"name": "note", "type": "string", "default": ""}],
    }
    (in_tmp_catalog / "avro" / "orders" / "v3.avsc").write_text(json.dumps(v3))
    code, out, err = codegen("--out", "events.py", "--check")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == "+ OrdersV3: missing from events.py"
    assert "~ the module header: differs" in err
    assert err.endswith(
        "error: events.py is stale: run streamlake schemas codegen --out events.py\n"
    )
    before = (in_tmp_catalog / "events.py").read_text()
    (in_tmp_catalog / "events.py").write_text(before.replace("amount: float", "amount: int", 1))
    code, _, err = codegen("--out", "events.py", "--check")
    assert (
        code == 1 and "~ OrdersV1: differs\n    -    amount: int\n    +    amount: float\n" in err
    )


def test_check_ignores_formatting_but_not_a_missing_or_broken_file(in_tmp_catalog: Path) -> None:
    codegen("--out", "events.py")
    path = in_tmp_catalog / "events.py"
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--line-length", "60", str(path)],
        check=True,
        capture_output=True,
    )
    assert codegen("--out", "events.py", "--check")[0] == 0
    path.write_text("class Broken(:\n")
    assert stale(path, generate(load_catalog("avro")))[0].startswith(f"{path} is not valid Python")
    code, _, err = codegen("--out", "absent.py", "--check")
    assert code == 1 and err.startswith("absent.py does not exist\n")


def test_codegen_configuration_mistakes_exit_2_with_one_line(in_tmp_catalog: Path) -> None:
    (in_tmp_catalog / "avro" / "orders" / "v2.avsc").write_text("{not json")
    code, _, err = codegen()
    assert code == 2 and err.startswith("error: avro/orders/v2.avsc: not valid JSON")
    (in_tmp_catalog / "avro" / "orders" / "v2.avsc").unlink()
    code, _, err = codegen("--out", "no/such/dir/events.py")
    assert code == 2
    assert err == (
        "error: cannot write no/such/dir/events.py: No such file or directory; "
        "choose another --out\n"
    )


def test_a_nested_record_referring_to_the_top_level_one_is_a_class_per_version(
    tmp_path: Path,
) -> None:
    item = {
        "type": "record",
        "name": "Item",
        "fields": [{"name": "parent", "type": ["null", "Order"], "default": None}],
    }
    schema = {**ORDERS_V1, "fields": [*ORDERS_V1["fields"], {"name": "item", "type": item}]}
    write_catalog(tmp_path, schema, schema)
    module = generate(load_catalog(tmp_path))
    assert "class Item:\n" in module and "class ItemOrdersV2:\n" in module
    assert "    parent: OrdersV1 | None = None\n" in module
    assert "    parent: OrdersV2 | None = None\n" in module


def test_without_ruff_the_module_is_unformatted_but_the_same_for_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog(write_corpus(tmp_path / "avro").parent)
    formatted = tmp_path / "formatted.py"
    formatted.write_text(generate(catalog))
    monkeypatch.setattr("shutil.which", lambda *_args, **_kwargs: None)
    unformatted = generate(catalog)
    assert unformatted != formatted.read_text()
    assert stale(formatted, unformatted) == []


# --- encoding: a generated instance is its natural JSON ------------------------
def codec_for(catalog: Catalog, dataset: str, version: int) -> Codec:
    return Codec(catalog[dataset].version(version), 41, key_field=catalog[dataset].key_field)


def test_generated_catalog_instances_encode_to_the_bytes_of_their_natural_json(
    catalog_events: ModuleType,
) -> None:
    catalog = load_catalog(ROOT / "avro")
    cases = [
        (
            catalog_events.OrdersV2(
                order_id="O-1", customer_id="C-1", amount=9.5, event_time="t", currency="EUR"
            ),
            '{"order_id": "O-1", "customer_id": "C-1", "amount": 9.5, "event_time": "t",'
            ' "currency": "EUR"}',
        ),
        (
            catalog_events.OrdersV1(order_id="O-2", customer_id="C-1", amount=0.0, event_time="t"),
            '{"order_id": "O-2", "customer_id": "C-1", "amount": 0.0, "event_time": "t"}',
        ),
        (
            catalog_events.CustomersV1(
                customer_id="C-1", email="a@b", tier=catalog_events.Tier.PRO, updated_at="t"
            ),
            '{"customer_id": "C-1", "email": "a@b", "country": null, "tier": "PRO",'
            ' "updated_at": "t"}',
        ),
    ]
    for instance, natural in cases:
        dataset, version = event_dataset(instance)
        codec = codec_for(catalog, dataset, version)
        assert codec.encode(instance) == codec.encode(natural)


def test_the_corpus_instance_encodes_to_the_bytes_of_its_natural_json(
    events: ModuleType, generated: Path
) -> None:
    codec = codec_for(load_catalog(generated / "avro"), "events", 1)
    value, key = codec.encode(SAMPLE_JSON_TEXT)
    assert codec.encode(event_dict(sample_event(events))) == (value, key)
    assert key == b"E-1" and value[:5] == b"\x00\x00\x00\x00\x29"
    # fastavro reads those bytes back as the instance's own values.
    body = io.BytesIO(value[5:])
    assert fastavro.schemaless_reader(body, fastavro.parse_schema(EVENTS_V1), None) == event_dict(
        sample_event(events)
    )


def test_the_corpus_instance_itself_encodes_like_its_natural_json(
    events: ModuleType, generated: Path
) -> None:
    codec = codec_for(load_catalog(generated / "avro"), "events", 1)
    assert codec.encode(sample_event(events)) == codec.encode(SAMPLE_JSON_TEXT)
