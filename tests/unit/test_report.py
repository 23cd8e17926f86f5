"""The gate's report in each format: text for people, json, GitHub annotations, JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from streamlake._report import render
from streamlake.compatibility import Problem
from streamlake.errors import ConfigurationError

TYPE_CHANGED = Problem(
    path=Path("avro/orders/v3.avsc"),
    dataset="orders",
    rule="BACKWARD",
    reader="v3",
    writer="v2",
    field="amount",
    detail="type double -> string",
)
REMOVED = Problem(
    path=Path("avro/customers"),
    dataset="customers",
    rule="DATASET_REMOVED",
    detail="released at origin/main; a released dataset must stay in the catalog",
)
TYPE_CHANGED_LINE = (
    "avro/orders/v3.avsc: BACKWARD: v3 cannot read v2: field amount: type double -> string"
)


@pytest.fixture(autouse=True)
def in_a_repository_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_text_is_one_line_per_problem_and_a_summary():
    assert render([TYPE_CHANGED, REMOVED], ["orders", "users"], "text").splitlines() == [
        TYPE_CHANGED_LINE,
        "avro/customers: DATASET_REMOVED: "
        "released at origin/main; a released dataset must stay in the catalog",
        "2 problems in 2 of 3 datasets",
    ]


def test_text_without_problems_says_what_was_checked():
    assert render([], ["orders"], "text") == "OK: 1 dataset checked, no problems"


def test_json_lists_every_field_and_the_line():
    assert json.loads(render([TYPE_CHANGED, REMOVED], ["orders"], "json")) == [
        {
            "path": "avro/orders/v3.avsc",
            "dataset": "orders",
            "rule": "BACKWARD",
            "reader": "v3",
            "writer": "v2",
            "field": "amount",
            "detail": "type double -> string",
            "message": TYPE_CHANGED_LINE,
        },
        {
            "path": "avro/customers",
            "dataset": "customers",
            "rule": "DATASET_REMOVED",
            "reader": None,
            "writer": None,
            "field": None,
            "detail": "released at origin/main; a released dataset must stay in the catalog",
            "message": str(REMOVED),
        },
    ]


def test_github_is_one_error_annotation_per_problem():
    assert render([TYPE_CHANGED, REMOVED], ["orders"], "github").splitlines() == [
        f"::error file=avro/orders/v3.avsc,title=BACKWARD::{TYPE_CHANGED_LINE}",
        f"::error file=avro/customers,title=DATASET_REMOVED::{REMOVED}",
    ]


def test_github_escapes_separators_in_properties_and_newlines_everywhere():
    odd = Problem(
        path=Path("avro/a,b:c/v2.avsc"),
        dataset="a,b:c",
        rule="FULL",
        reader="v2",
        writer="v1",
        field="note",
        detail="100% sure,\r\nreally: yes",
    )

    assert render([odd], ["a,b:c"], "github") == (
        "::error file=avro/a%2Cb%3Ac/v2.avsc,title=FULL::"
        "avro/a,b:c/v2.avsc: FULL: v2 cannot read v1: field note: 100%25 sure,%0D%0Areally: yes"
    )


def test_junit_has_one_testcase_per_dataset_and_failures_with_the_problem_lines():
    second = replace(TYPE_CHANGED, reader="v2", writer="v3")

    root = ET.fromstring(render([TYPE_CHANGED, second, REMOVED], ["orders", "users"], "junit"))

    [suite] = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    assert (root.get("tests"), root.get("failures")) == ("3", "2")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["orders", "users", "customers"]
    orders = cases["orders"].find("failure")
    assert (orders.get("type"), orders.get("message")) == ("BACKWARD", "2 problems")
    assert orders.text.splitlines() == [TYPE_CHANGED_LINE, str(second)]
    assert cases["users"].find("failure") is None
    removed = cases["customers"].find("failure")
    assert (removed.get("type"), removed.get("message"), removed.text) == (
        "DATASET_REMOVED",
        str(REMOVED),
        str(REMOVED),
    )


def test_junit_without_problems_passes_every_testcase():
    suite = ET.fromstring(render([], ["orders", "users"], "junit")).find("testsuite")

    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert [case.find("failure") for case in suite] == [None, None]


def test_an_unknown_format_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown report format 'xml'"):
        render([], [], "xml")
