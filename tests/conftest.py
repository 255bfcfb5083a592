"""Shared test configuration: hypothesis profiles and the shared samples folder.

Hypothesis profiles (select with ``HYPOTHESIS_PROFILE``):

* ``dev`` (default): quick, random.
* ``ci``: what ``.ci/run`` uses; derandomized so a red CI is reproducible.
* ``long``: many examples, for a soak before a release
  (``HYPOTHESIS_PROFILE=long make test``; see docs/testing.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REPO_ROOT = Path(__file__).resolve().parents[1]


def _samples_root() -> Path:
    configured = os.environ.get("O2C_SAMPLES")
    if configured:
        return Path(configured)
    return REPO_ROOT.parent / "shared" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The shared sample files (never copied into the repo).

    Skips where the folder is absent, unless ``O2C_REQUIRE_SAMPLES=1`` (set by
    ``.ci/run``), in which case a missing folder fails the test.
    """
    root = _samples_root()
    if not root.is_dir():
        if os.environ.get("O2C_REQUIRE_SAMPLES") == "1":
            pytest.fail(f"O2C_REQUIRE_SAMPLES=1 but no samples at {root}")
        pytest.skip(f"shared samples not found at {root}")
    return root


# -- the card-data tap (see tests/card_tap.py and tests/unit/test_card_data.py) --------

LAST_TEST = "test_card_data.py::test_nothing_o2c_wrote_in_the_suite_holds_card_data"


def pytest_configure(config: pytest.Config) -> None:
    """Scan everything o2c writes from the first test on."""
    from tests import card_tap

    card_tap.install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The card-data verdict runs after every other test."""
    last = [item for item in items if item.nodeid.endswith(LAST_TEST)]
    items[:] = [item for item in items if item not in last] + last


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """Findings name the test that wrote them."""
    from tests.card_tap import TAP

    TAP.context = item.nodeid
    try:
        return (yield)
    finally:
        TAP.context = ""
