"""The package's shape: every module imports on its own (no import cycle
hides behind the order `streamlake/__init__.py` happens to import in), the
leaf modules import nothing else from the package, and `__all__` is exactly
what the package exports (as httpx's tests/test_exported_members.py checks).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

import streamlake

PACKAGE = Path(streamlake.__file__).parent
MODULES = sorted(
    ".".join(("streamlake", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )
    for path in PACKAGE.rglob("*.py")
)
LEAVES = {
    "streamlake.errors": set(),
    "streamlake.redaction": set(),
    "streamlake._logging": set(),
    "streamlake.config": {"streamlake.errors", "streamlake.redaction", "streamlake._logging"},
}


def test_the_module_list_covers_the_package():
    assert {"streamlake", "streamlake.registry", "streamlake.kafka.producer.producer"} <= set(
        MODULES
    )


IMPORT_EACH_ALONE = """
import importlib, sys, traceback, types
package_dir, *modules = sys.argv[1:]
failed = []
for module in modules:
    for name in [n for n in sys.modules if n == "streamlake" or n.startswith("streamlake.")]:
        del sys.modules[name]
    if module != "streamlake":
        # The package with an empty __init__: what it would import first
        # must not be what makes this module importable.
        package = types.ModuleType("streamlake")
        package.__path__ = [package_dir]
        sys.modules["streamlake"] = package
    try:
        importlib.import_module(module)
    except Exception:
        failed.append(f"{module}: {traceback.format_exc()}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone_with_an_empty_package_init():
    # One fresh interpreter; before each module every streamlake module is
    # forgotten and the package is an empty one, so each module is imported
    # first, not after what streamlake/__init__.py happens to import.
    # (Third-party packages stay loaded: cycles are about our own modules.)
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, str(PACKAGE), *MODULES],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _package_imports(module: str) -> set[str]:
    path = PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "streamlake" or name.startswith("streamlake.")}


@pytest.mark.parametrize("module", sorted(LEAVES))
def test_leaf_modules_import_only_other_leaves(module):
    assert _package_imports(module) <= LEAVES[module]


def test_registry_and_startup_do_not_import_the_producer_package():
    # The cycle of issue 15: registry -> kafka.producer.config -> the producer
    # package -> producer.py -> startup -> registry.
    for module in ("streamlake.registry", "streamlake.startup"):
        assert not any(
            name.startswith("streamlake.kafka.producer") for name in _package_imports(module)
        ), module


def test_all_is_exactly_what_the_package_exports():
    exported = {
        name
        for name, value in vars(streamlake).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(streamlake.__all__) == exported
    assert streamlake.__all__ == sorted(streamlake.__all__)


def test_every_exported_name_is_defined_by_the_package():
    for name in streamlake.__all__:
        assert getattr(streamlake, name).__module__.startswith("streamlake."), name


def test_no_tracked_file_is_one_git_ignores():
    # Issue 15: a build marker under the ignored scripts/target/ was committed.
    result = subprocess.run(
        ["git", "ls-files", "-ci", "--exclude-standard"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == ""
