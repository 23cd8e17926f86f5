"""Renders the schema-evolution gate's findings for people and for CI.

    text     one line per problem, then a summary line
    json     a list of objects: every `Problem` field, plus the line as "message"
    github   ``::error`` workflow commands, shown as annotations on the files
    junit    one testsuite, one testcase per dataset checked

Paths are shown relative to the working directory, which in CI is the
repository root, so that annotations land on the right files.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

from streamlake.compatibility import Problem
from streamlake.errors import ConfigurationError

FORMATS = ("text", "json", "github", "junit")
_SUITE = "streamlake.compatibility"


def render(problems: Sequence[Problem], checked: Sequence[str], fmt: str) -> str:
    """`problems` found in the datasets named in `checked`, rendered as `fmt`.

    A problem's dataset need not be in `checked` (a dataset removed since the
    ref compared with); it is counted and reported all the same.
    """
    renderers: dict[str, Callable[[Sequence[Problem], Sequence[str]], str]] = {
        "text": _text,
        "json": _json,
        "github": _github,
        "junit": _junit,
    }
    if fmt not in renderers:
        raise ConfigurationError(f"unknown report format {fmt!r}; one of {', '.join(FORMATS)}")
    return renderers[fmt](problems, checked)


def summary(problems: Sequence[Problem], checked: Sequence[str]) -> str:
    datasets = _datasets(problems, checked)
    if not problems:
        return f"OK: {_count(len(datasets), 'dataset')} checked, no problems"
    failing = len({problem.dataset for problem in problems})
    return f"{_count(len(problems), 'problem')} in {failing} of {_count(len(datasets), 'dataset')}"


def _text(problems: Sequence[Problem], checked: Sequence[str]) -> str:
    return "\n".join([*map(str, problems), summary(problems, checked)])


def _json(problems: Sequence[Problem], checked: Sequence[str]) -> str:
    return json.dumps(
        [
            {
                "path": problem.display_path,
                "dataset": problem.dataset,
                "rule": problem.rule,
                "reader": problem.reader,
                "writer": problem.writer,
                "field": problem.field,
                "detail": problem.detail,
                "message": str(problem),
            }
            for problem in problems
        ],
        indent=2,
    )


def _github(problems: Sequence[Problem], checked: Sequence[str]) -> str:
    return "\n".join(
        f"::error file={_property(problem.display_path)},title={_property(problem.rule)}"
        f"::{_data(str(problem))}"
        for problem in problems
    )


def _data(text: str) -> str:
    """A workflow command's message, escaped as the GitHub Actions toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value, where ':' and ',' are separators."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _junit(problems: Sequence[Problem], checked: Sequence[str]) -> str:
    datasets = _datasets(problems, checked)
    counts = {
        "tests": str(len(datasets)),
        "failures": str(len({problem.dataset for problem in problems})),
    }
    root = ET.Element("testsuites", {"name": "streamlake schema compatibility", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": _SUITE, **counts, "errors": "0"})
    for dataset in datasets:
        case = ET.SubElement(suite, "testcase", classname=_SUITE, name=dataset)
        found = [problem for problem in problems if problem.dataset == dataset]
        if found:
            failure = ET.SubElement(
                case,
                "failure",
                message=str(found[0]) if len(found) == 1 else _count(len(found), "problem"),
                type=",".join(dict.fromkeys(problem.rule for problem in found)),
            )
            failure.text = "\n".join(map(str, found))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _datasets(problems: Sequence[Problem], checked: Sequence[str]) -> list[str]:
    """`checked`, then any other dataset a problem names."""
    extra = sorted({problem.dataset for problem in problems} - set(checked))
    return [*dict.fromkeys(checked), *extra]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
