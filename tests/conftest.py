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
