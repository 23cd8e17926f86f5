"""Shared builders for the reliability suite: topics read back by
`readback.Topics` (catalogs and producers come from tests/conftest.py).

Every scenario here stops or starts servers of a stack run by scripts/stack
(`stack.control`), so run this suite against a stack of its own when other
suites share the default one (see docs/reliability.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.readback import Topics


@pytest.fixture
def topics(stack: Any) -> Topics:
    return Topics(stack.bootstrap_servers, group_prefix="rel")
