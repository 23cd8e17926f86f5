"""Read-only access to the git history of the schema catalog, through the git CLI.

`compatibility.check_against` reads the catalog as released at a ref (e.g.
``origin/main``) with these few calls. Each git failure becomes a
`ConfigurationError` that says what to do about it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

from streamlake.errors import ConfigurationError


def toplevel(start: Path) -> Path:
    """The root of the git work tree holding `start`."""
    result = _run(start, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise ConfigurationError(
            f"{start} is not in a git repository ({_stderr(result)}); comparing with a git ref "
            "needs a clone of the repository, not an export of its files"
        )
    return Path(result.stdout.decode().strip())


def relative_dir(directory: Path, root: Path) -> PurePosixPath:
    """`directory` as a path inside the repository at `root`, as git spells it."""
    resolved = directory.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ConfigurationError(f"{directory} is not inside the git repository at {root}")
    return PurePosixPath(resolved.relative_to(root.resolve()).as_posix())


def list_files(root: Path, ref: str, directory: PurePosixPath) -> list[str]:
    """Repository paths of every file under `directory` at `ref`."""
    _verify_ref(root, ref)
    result = _run(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", str(directory))
    if result.returncode != 0:
        raise ConfigurationError(f"git ls-tree {ref} failed: {_stderr(result)}")
    return [path for path in result.stdout.decode().split("\0") if path]


def show(root: Path, ref: str, path: str) -> str:
    """The content of the file at repository path `path` at `ref`."""
    result = _run(root, "show", f"{ref}:{path}")
    if result.returncode != 0:
        raise ConfigurationError(f"git show {ref}:{path} failed: {_stderr(result)}")
    return result.stdout.decode()


def _verify_ref(root: Path, ref: str) -> None:
    # Checked up front so that an unknown ref, usually a ref a shallow CI
    # checkout did not fetch, is told apart from a catalog absent at that ref.
    if ref.startswith("-"):
        raise ConfigurationError(f"{ref!r} is not a git ref")
    result = _run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if result.returncode != 0:
        remote, _, branch = ref.partition("/")
        fetch = f"git fetch {remote} {branch}" if branch else f"git fetch origin {ref}"
        raise ConfigurationError(
            f"unknown git ref {ref!r}: fetch it first, e.g. `{fetch}` "
            "(in GitHub Actions, check out with fetch-depth: 0)"
        )


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if not cwd.is_dir():
        raise ConfigurationError(f"{cwd} is not a directory")
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise ConfigurationError("git is not installed or not on PATH") from None


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode(errors="replace").strip()
