"""A catalog of complex schemas for the codegen tests, and one event in it
twice: as an instance of the generated classes and as natural JSON.

Dataset ``events``: v1 holds every Avro type codegen maps (nested and
recursive records, a record referring to the top-level one, enums with
symbols Python cannot use as names, a union of records, maps, arrays, every
logical type, fixed, bytes, defaults of each kind, fields named like Python
keywords and like the types they shadow); v2 changes ``Address``, so it is
two classes. Imported as ``tests.codegen_corpus``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

from tests.clihelpers import write_catalog

ADDRESS = {
    "type": "record",
    "name": "Address",
    "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": ["null", "string"], "default": None},
    ],
}
ADDRESS_V2 = {
    **ADDRESS,
    "fields": [*ADDRESS["fields"], {"name": "country", "type": "string", "default": "FR"}],
}
STATUS = {
    "type": "enum",
    "name": "Status",
    "doc": "Where the event is in its life.",
    "symbols": ["NEW", "DONE", "None", "class", "_hidden", "name"],
}


def _ts(logical: str) -> dict[str, str]:
    return {"type": "long", "logicalType": logical}


def events_schema(address: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Event",
        "namespace": "com.acme.events",
        "doc": 'Every Avro type codegen maps, with "quotes" and a \\ backslash.',
        "fields": [
            {"name": "event_id", "type": "string"},
            {"name": "at", "type": _ts("timestamp-millis")},
            {"name": "at_micros", "type": _ts("timestamp-micros")},
            {"name": "local_at", "type": _ts("local-timestamp-millis")},
            {"name": "local_at_micros", "type": _ts("local-timestamp-micros")},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "time", "type": {"type": "int", "logicalType": "time-millis"}},
            {"name": "time_us", "type": {"type": "long", "logicalType": "time-micros"}},
            {
                "name": "price",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
            },
            {
                "name": "price_fixed",
                "type": {
                    "type": "fixed",
                    "name": "Money",
                    "size": 8,
                    "logicalType": "decimal",
                    "precision": 18,
                    "scale": 4,
                },
            },
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "digest", "type": {"type": "fixed", "name": "Md5", "size": 16}},
            {"name": "payload", "type": "bytes"},
            {"name": "count", "type": "int"},
            {"name": "total", "type": "long"},
            {"name": "ratio", "type": "float"},
            {"name": "score", "type": "double"},
            {"name": "ok", "type": "boolean"},
            {"name": "status", "type": STATUS},
            {"name": "shipping", "type": address},
            {"name": "billing", "type": ["null", "Address"], "default": None},
            {
                "name": "payment",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "Card",
                        "fields": [
                            {"name": "number", "type": "string"},
                            {"name": "type", "type": "string", "default": "visa"},
                        ],
                    },
                    {
                        "type": "record",
                        "name": "Iban",
                        "fields": [
                            {"name": "iban", "type": "string"},
                            {"name": "bic", "type": "string"},
                        ],
                    },
                ],
                "default": None,
            },
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
            {
                "name": "attributes",
                "type": {"type": "map", "values": ["null", "long"]},
                "default": {},
            },
            {
                "name": "lines",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Line",
                        "fields": [
                            {"name": "sku", "type": "string"},
                            {"name": "qty", "type": "int", "default": 1},
                            {
                                "name": "from",
                                "type": "string",
                                "default": "web",
                                "doc": "A keyword.",
                            },
                        ],
                    },
                },
            },
            {
                "name": "matrix",
                "type": {
                    "type": "array",
                    "items": {"type": "map", "values": {"type": "array", "items": "double"}},
                },
                "default": [{"a": [1.5, 2]}],
            },
            {
                "name": "tree",
                "type": {
                    "type": "record",
                    "name": "TreeNode",
                    "fields": [
                        {"name": "label", "type": "string"},
                        {
                            "name": "children",
                            "type": {"type": "array", "items": "TreeNode"},
                            "default": [],
                        },
                    ],
                },
            },
            {"name": "parent", "type": ["null", "Event"], "default": None},
            {"name": "created", "type": _ts("timestamp-millis"), "default": 1700000000123},
            {"name": "created_local", "type": _ts("local-timestamp-micros"), "default": 1},
            {
                "name": "created_day",
                "type": {"type": "int", "logicalType": "date"},
                "default": 19000,
            },
            {
                "name": "alarm",
                "type": {"type": "long", "logicalType": "time-micros"},
                "default": 3723000004,
            },
            {
                "name": "fee",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
                "default": "\u0004\u00d2",
            },
            {
                "name": "ref",
                "type": {"type": "string", "logicalType": "uuid"},
                "default": "123e4567-e89b-12d3-a456-426614174000",
            },
            {"name": "level", "type": "Status", "default": "None"},
            {"name": "home", "type": "Address", "default": {"street": "Main St"}},
            {"name": "raw", "type": "bytes", "default": "\u00ff\u0000"},
            {"name": "ratio_default", "type": "double", "default": 2},
            {
                "name": "date",
                "type": ["null", {"type": "int", "logicalType": "date"}],
                "default": None,
            },
            {"name": "list", "type": {"type": "array", "items": "long"}, "default": [1, 2]},
            {"name": "int", "type": "int", "default": 0},
            {"name": "Address", "type": ["null", "Address"], "default": None},
            {"name": "class", "type": "string", "default": "x"},
            {
                "name": "box",
                "type": {
                    "type": "record",
                    "name": "Box",
                    "fields": [
                        {
                            "name": "items",
                            "type": [{"type": "array", "items": "long"}, "null"],
                            "default": [],
                        }
                    ],
                },
                "default": {"items": [1, 2]},
            },
            {
                "name": "first_list",
                "type": [{"type": "array", "items": "string"}, "null"],
                "default": ["a"],
            },
            {"name": "__secret", "type": "string", "default": "s"},
            {"name": "ClassVar", "type": "int", "default": 0},
        ],
    }


EVENTS_V1 = events_schema(ADDRESS)
EVENTS_V2 = events_schema(ADDRESS_V2)


def write_corpus(schemas_dir: Path, **settings: Any) -> Path:
    """The corpus catalog under `schemas_dir`: events v1 and v2 (`settings`
    go to dataset.toml, e.g. raw_topic)."""
    return write_catalog(
        schemas_dir,
        EVENTS_V1,
        EVENTS_V2,
        dataset="events",
        key_field="event_id",
        **settings,
    )


AT = dt.datetime(2026, 1, 21, 10, 0, 0, 123000, tzinfo=dt.UTC)
LOCAL_AT = dt.datetime(2026, 1, 21, 11, 0, 0, 123456)


def sample_event(events: ModuleType, event_id: str = "E-1") -> Any:
    """An EventsV1 of the generated module `events`, every required field set
    and a few defaults overridden."""
    return events.EventsV1(
        event_id=event_id,
        at=AT,
        at_micros=AT.replace(microsecond=123456),
        local_at=LOCAL_AT.replace(microsecond=123000),
        local_at_micros=LOCAL_AT,
        day=dt.date(2026, 2, 28),
        time=dt.time(23, 59, 59, 999000),
        time_us=dt.time(0, 0, 0, 1),
        price=Decimal("199.99"),
        price_fixed=Decimal("-12.3400"),
        id=UUID("0b9e5f0e-3f0c-4a8e-9a39-6d7a4a2f1c55"),
        digest=bytes(range(16)),
        payload=b"\x00\xffbinary",
        count=-(2**31),
        total=2**63 - 1,
        ratio=0.5,
        score=-1.25e-300,
        ok=True,
        status=events.Status.class_,
        shipping=events.Address(street="1 Rue", zip="75001"),
        payment=events.Iban(iban="FR76", bic="BNPAFRPP"),
        tags=["a", "é"],
        attributes={"k": 1, "n": None},
        lines=[events.Line(sku="A", qty=2, from_="app"), events.Line(sku="B")],
        tree=events.TreeNode(
            label="root",
            children=[events.TreeNode(label="leaf", children=[events.TreeNode(label="x")])],
        ),
        date=dt.date(1969, 12, 31),
        list=[],
        int=7,
        Address=events.Address(street="2 Rue"),
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# The same event in natural JSON, every field spelled out (defaults too).
SAMPLE_JSON: dict[str, Any] = {
    "event_id": "E-1",
    "at": "2026-01-21T10:00:00.123Z",
    "at_micros": "2026-01-21T10:00:00.123456Z",
    "local_at": "2026-01-21T11:00:00.123",
    "local_at_micros": "2026-01-21T11:00:00.123456",
    "day": "2026-02-28",
    "time": "23:59:59.999",
    "time_us": "00:00:00.000001",
    "price": "199.99",
    "price_fixed": "-12.3400",
    "id": "0b9e5f0e-3f0c-4a8e-9a39-6d7a4a2f1c55",
    "digest": b64(bytes(range(16))),
    "payload": b64(b"\x00\xffbinary"),
    "count": -(2**31),
    "total": 2**63 - 1,
    "ratio": 0.5,
    "score": -1.25e-300,
    "ok": True,
    "status": "class",
    "shipping": {"street": "1 Rue", "zip": "75001"},
    "billing": None,
    "payment": {"iban": "FR76", "bic": "BNPAFRPP"},
    "tags": ["a", "é"],
    "attributes": {"k": 1, "n": None},
    "lines": [{"sku": "A", "qty": 2, "from": "app"}, {"sku": "B", "qty": 1, "from": "web"}],
    "matrix": [{"a": [1.5, 2.0]}],
    "tree": {
        "label": "root",
        "children": [{"label": "leaf", "children": [{"label": "x", "children": []}]}],
    },
    "parent": None,
    "created": "2023-11-14T22:13:20.123Z",
    "created_local": "1970-01-01T00:00:00.000001",
    "created_day": "2022-01-08",
    "alarm": "01:02:03.000004",
    "fee": "12.34",
    "ref": "123e4567-e89b-12d3-a456-426614174000",
    "level": "None",
    "home": {"street": "Main St", "zip": None},
    "raw": b64(b"\xff\x00"),
    "ratio_default": 2.0,
    "date": "1969-12-31",
    "list": [],
    "int": 7,
    "Address": {"street": "2 Rue", "zip": None},
    "class": "x",
    "box": {"items": [1, 2]},
    "first_list": ["a"],
    "__secret": "s",
    "ClassVar": 0,
}
SAMPLE_JSON_TEXT = json.dumps(SAMPLE_JSON, ensure_ascii=False)
