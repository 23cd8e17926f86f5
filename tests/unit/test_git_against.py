"""`check_against`: the catalog compared with the one released at a git ref,
on throwaway repositories (a commit is a release; the working tree is the change)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from streamlake.catalog import load_catalog
from streamlake.compatibility import Problem, check_against
from streamlake.errors import ConfigurationError
from tests.clihelpers import git, git_env

ID = {"name": "id", "type": "string"}
AMOUNT = {"name": "amount", "type": "double"}
AMOUNT_TOO = {"name": "amount_too", "type": "double"}
CURRENCY = {"name": "currency", "type": ["null", "string"], "default": None}


def record(*fields: dict) -> dict:
    return {"type": "record", "name": "Order", "fields": [ID, *fields]}


def write(repo: Path, dataset: str, *versions: dict, level: str = "BACKWARD") -> None:
    folder = repo / "avro" / dataset
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.toml").write_text(f'key_field = "id"\ncompatibility = "{level}"\n')
    for number, schema in enumerate(versions, start=1):
        (folder / f"v{number}.avsc").write_text(json.dumps(schema, indent=2))


def release(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "release")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository whose main branch released orders v1, v2 (BACKWARD)."""
    git_env(monkeypatch, tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, "orders", record(AMOUNT), record(AMOUNT, CURRENCY))
    release(repo)
    return repo


def against(repo: Path, ref: str = "main") -> list[Problem]:
    return check_against(load_catalog(repo / "avro"), ref)


def test_an_unchanged_catalog_passes(repo):
    assert against(repo) == []


def test_a_released_version_reformatted_passes(repo):
    path = repo / "avro" / "orders" / "v1.avsc"
    schema = json.loads(path.read_text())
    path.write_text(json.dumps(dict(reversed(schema.items())), indent=8) + "\n\n")

    assert against(repo) == []


def test_a_released_version_changed_is_an_error(repo):
    path = repo / "avro" / "orders" / "v1.avsc"
    path.write_text(json.dumps(record({**AMOUNT, "doc": "in cents"})))

    assert against(repo) == [
        Problem(
            path=path,
            dataset="orders",
            rule="CHANGED_AFTER_RELEASE",
            detail=(
                "v1 differs from the one released at main; released versions are immutable: "
                "revert it and add v3.avsc instead"
            ),
        )
    ]


def test_a_released_version_removed_is_an_error(repo):
    (repo / "avro" / "orders" / "v2.avsc").unlink()

    assert against(repo) == [
        Problem(
            path=repo / "avro" / "orders" / "v2.avsc",
            dataset="orders",
            rule="VERSION_REMOVED",
            detail="v2 is released at main; released versions must stay",
        )
    ]


def test_a_released_dataset_removed_is_an_error(repo):
    write(repo, "customers", record())
    release(repo)
    shutil.rmtree(repo / "avro" / "customers")

    assert against(repo) == [
        Problem(
            path=repo / "avro" / "customers",
            dataset="customers",
            rule="DATASET_REMOVED",
            detail="released at main; a released dataset must stay in the catalog",
        )
    ]


def test_a_new_compatible_version_passes(repo):
    write(repo, "orders", record(AMOUNT), record(AMOUNT, CURRENCY), record(CURRENCY))
    assert against(repo) == []


def test_a_new_incompatible_version_is_an_error(repo):
    write(
        repo,
        "orders",
        record(AMOUNT),
        record(AMOUNT, CURRENCY),
        record({"name": "amount", "type": "string"}, CURRENCY),
    )

    assert against(repo) == [
        Problem(
            path=repo / "avro" / "orders" / "v3.avsc",
            dataset="orders",
            rule="BACKWARD",
            reader="v3",
            writer="v2",
            field="amount",
            detail="type double -> string",
        )
    ]


def test_a_new_version_is_checked_against_the_released_content_not_the_edited_one(repo):
    # v2 is edited so that v3 reads it, but the registry holds v2 as released.
    as_string = {"name": "amount", "type": "string"}
    write(repo, "orders", record(AMOUNT), record(as_string, CURRENCY), record(as_string, CURRENCY))

    assert [(p.rule, p.path.name, p.reader, p.writer, p.detail) for p in against(repo)] == [
        (
            "CHANGED_AFTER_RELEASE",
            "v2.avsc",
            None,
            None,
            "v2 differs from the one released at main; released versions are immutable: "
            "revert it and add v4.avsc instead",
        ),
        ("BACKWARD", "v3.avsc", "v3", "v2", "type double -> string"),
    ]


def test_released_pairs_are_not_checked_again(repo):
    # Loosened to NONE and back: the released v1 -> v2 pair is the registry's business now.
    write(repo, "legacy", record(AMOUNT), record(), level="NONE")
    release(repo)
    write(repo, "legacy", record(AMOUNT), record(), record(), level="FORWARD")

    assert against(repo) == []


def test_a_new_dataset_is_checked_on_its_own(repo):
    write(repo, "customers", record(), record({"name": "email", "type": "string"}))

    assert against(repo) == [
        Problem(
            path=repo / "avro" / "customers" / "v2.avsc",
            dataset="customers",
            rule="BACKWARD",
            reader="v2",
            writer="v1",
            field="email",
            detail="has no default and is not in v1",
        )
    ]


def test_a_catalog_absent_at_the_ref_is_all_new(repo):
    git(repo, "checkout", "-q", "--orphan", "before-catalog")
    git(repo, "rm", "-q", "-r", "--cached", "avro")
    git(repo, "commit", "-q", "--allow-empty", "-m", "no catalog yet")
    write(repo, "orders", record(AMOUNT), record(AMOUNT, CURRENCY), record(AMOUNT, AMOUNT_TOO))

    assert [(p.rule, p.path.name, p.field) for p in against(repo, "before-catalog")] == [
        ("BACKWARD", "v3.avsc", "amount_too")
    ]


def test_the_catalog_may_live_below_the_repository_root(repo):
    (repo / "schemas").mkdir()
    git(repo, "mv", "avro", "schemas/avro")
    release(repo)
    (repo / "schemas" / "avro" / "orders" / "v2.avsc").unlink()

    problems = check_against(load_catalog(repo / "schemas" / "avro"), "main", repo_root=repo)

    assert [(p.rule, p.path) for p in problems] == [
        ("VERSION_REMOVED", repo / "schemas" / "avro" / "orders" / "v2.avsc")
    ]


def test_a_catalog_outside_the_repository_is_a_configuration_error(repo, tmp_path):
    write(tmp_path / "elsewhere", "orders", record(AMOUNT))

    with pytest.raises(ConfigurationError, match="is not inside the git repository"):
        check_against(load_catalog(tmp_path / "elsewhere" / "avro"), "main", repo_root=repo)


def test_an_unknown_ref_says_to_fetch_it(repo):
    with pytest.raises(
        ConfigurationError, match=r"unknown git ref 'origin/main'.*git fetch origin main"
    ):
        against(repo, "origin/main")


def test_outside_a_git_repository_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    write(tmp_path / "export", "orders", record(AMOUNT))

    with pytest.raises(ConfigurationError, match="is not in a git repository"):
        check_against(load_catalog(tmp_path / "export" / "avro"), "main")


# --- shared types (avro/_types) ------------------------------------------------------------
ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.acme.common",
    "fields": [{"name": "city", "type": "string"}],
}
SHIP_TO = {"name": "ship_to", "type": "com.acme.common.Address"}


def write_address(repo: Path, *extra_fields: dict) -> None:
    folder = repo / "avro" / "_types"
    folder.mkdir(parents=True, exist_ok=True)
    schema = {**ADDRESS, "fields": [*ADDRESS["fields"], *extra_fields]}
    (folder / "com.acme.common.Address.avsc").write_text(json.dumps(schema, indent=2))


@pytest.fixture
def shared(repo):
    """`repo` whose release also has two datasets using a shared Address."""
    write_address(repo)
    write(repo, "shipments", record(SHIP_TO), level="FORWARD")
    write(repo, "returns", record(SHIP_TO), record(SHIP_TO, CURRENCY))
    release(repo)
    return repo


def test_an_unchanged_shared_type_passes(shared):
    assert against(shared) == []


def test_a_compatible_change_of_a_shared_type_passes(shared):
    write_address(shared, {"name": "zip", "type": ["null", "string"], "default": None})
    assert against(shared) == []


def test_a_breaking_change_of_a_shared_type_is_checked_against_every_dataset_using_it(shared):
    # Every version of returns (BACKWARD) is registered again with the new
    # Address, each checked against the latest before it: v1 with a zip
    # without default cannot read the released v2. shipments (FORWARD) can.
    # Removing city instead breaks shipments only.
    write_address(shared, {"name": "zip", "type": "string"})

    assert sorted(str(p) for p in against(shared)) == [
        f"{shared / 'avro/returns/v2.avsc'}: BACKWARD: v1 cannot read v2: field "
        "ship_to.zip: has no default and is not in v2",
    ]

    (shared / "avro" / "_types" / "com.acme.common.Address.avsc").write_text(
        json.dumps(
            {**ADDRESS, "fields": [{"name": "zip", "type": ["null", "string"], "default": None}]}
        )
    )
    problems = {(p.dataset, p.rule) for p in against(shared)}
    assert problems == {("shipments", "FORWARD")}
