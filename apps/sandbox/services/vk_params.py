"""Reading VK method parameters the way VK does: strings in, lists comma-separated, 0/1 flags.

Every problem becomes error 100 naming the parameter (docs/vk.md#errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from .vk_errors import param


class Params:
    """Typed access to one call's parameters."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = dict(raw)

    def has(self, name: str) -> bool:
        return name in self.raw

    def str(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None or (required and value.strip() == ""):
            if required:
                raise param(name, "is undefined")
            return default
        return value

    def int(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        raw = self.str(name, required=required)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise param(name, "not integer") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise param(name, "is invalid")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.int(name, minimum=0, maximum=1)
        return default if value is None else bool(value)

    def int_list(
        self, name: str, *, required: bool = False, max_items: int | None = None
    ) -> list[int]:
        raw = self.str(name, required=required) or ""
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if required and not parts:
            raise param(name, "is undefined")
        if max_items is not None and len(parts) > max_items:
            raise param(name, "is invalid")
        try:
            return [int(p) for p in parts]
        except ValueError:
            raise param(name, "not integer") from None

    def str_list(self, name: str, *, required: bool = False) -> list[str]:
        raw = self.str(name, required=required) or ""
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if required and not parts:
            raise param(name, "is undefined")
        return parts

    def money(self, name: str) -> int | None:
        """A price in currency units ("1499.90") as kopecks; VK's range is 0..999 999 999 999."""
        raw = self.str(name)
        if raw is None or raw.strip() == "":
            return None
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise param(name, "is invalid") from None
        if not value.is_finite() or value < 0 or value > Decimal("999999999999"):
            raise param(name, "is invalid")
        return int((value * 100).to_integral_value())
