"""blocking_reason (the catalog page's cheap check) says what build_payload would refuse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.sync.core import types as core
from apps.sync.core.transform import blocking_reason, build_payload

NAMES = ["", "   ", "\x01\x02", "\x01 a", " \t\nМолоко", "Хлеб", "\x7f", "\u00a0", "a\x00"]
PRICES = [None, Decimal(0), Decimal("-1"), Decimal("0.004"), Decimal("99.90"),
          Decimal("1000000000")]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("price", PRICES)
def test_blocking_reason_matches_build_payload(name, price):
    product = core.Product(id="p1", store_id="s1", name=name, price=price)
    settings = core.SyncSettings(category_id=1)
    built = build_payload(product, None, core.Store("s1", "Shop"), settings)
    expected = built if isinstance(built, core.Reason) else None
    assert blocking_reason(product, settings) == expected
