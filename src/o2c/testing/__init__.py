"""Test kits for o2c adapters (they need the ``dev`` extra: pytest and hypothesis).

* :mod:`o2c.testing.storage_contract`: :class:`StorageContract`, the tests every
  :class:`o2c.ports.Storage` adapter must pass.
* :mod:`o2c.testing.gateway_contract`: :class:`GatewayContract`, the tests every
  :class:`o2c.ports.PaymentGateway` adapter must pass.
"""

from __future__ import annotations

import pytest

# Registered before the contract module is imported, so that its asserts report
# the compared values like asserts in test files do.
pytest.register_assert_rewrite("o2c.testing.storage_contract")
pytest.register_assert_rewrite("o2c.testing.gateway_contract")

from o2c.testing.gateway_contract import GatewayContract  # noqa: E402
from o2c.testing.storage_contract import StorageContract  # noqa: E402

__all__ = ["GatewayContract", "StorageContract"]
