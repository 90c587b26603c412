"""Tolerant coercion of provider JSON into Python values.

Providers send nulls, empty strings, ints where floats are expected and the odd unknown key.
These helpers never raise on such input: they return ``None`` (or an empty value) instead, and the
typed parsers decide what is really required. The one exception is :func:`required_id`, because an
object without an identity cannot be used at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_KOPECKS = Decimal(100)
_CENTS = Decimal("0.01")
# Epoch values above this are milliseconds (1e11 s would be the year 5138).
_EPOCH_MS_THRESHOLD = 100_000_000_000


class MalformedPayload(ValueError):
    """A provider object is unusable (e.g. has no id); clients turn it into ResponseFormatError."""


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty mapping."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty list."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def opt_str(value: Any) -> str | None:
    """A non-empty string, or None for null, "", whitespace or non-scalar values."""
    if isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
        return None
    text = str(value)
    return text if text.strip() else None


def text(value: Any) -> str:
    """Like :func:`opt_str`, but "" instead of None (for fields that are required text)."""
    return opt_str(value) or ""


def str_tuple(value: Any) -> tuple[str, ...]:
    """The non-empty strings of a JSON array (nulls and "" dropped)."""
    return tuple(s for s in (opt_str(v) for v in as_list(value)) if s is not None)


def int_tuple(value: Any) -> tuple[int, ...]:
    """The integers of a JSON array (unparseable entries dropped)."""
    return tuple(i for i in (to_int(v) for v in as_list(value)) if i is not None)


def to_decimal(value: Any) -> Decimal | None:
    """Exact Decimal from an int, float or numeric string (``Decimal(str(x))``: 123.12 stays)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        raw = str(value)
    elif isinstance(value, str):
        raw = value.strip().replace(",", ".")
    else:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_int(value: Any) -> int | None:
    """An int from an int, a bool (VK's 0/1 flags), an integral float or a digit string."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_bool(value: Any) -> bool | None:
    """True/False from JSON booleans, VK's 0/1 ints, or "true"/"false"/"1"/"0" strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    return None


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from Evotor's ``2018-09-11T16:18:35.397+0000`` (or ISO, or epoch)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        # Python 3.11+ reads "+0000" (no colon, Evotor's form), "Z" and fractional seconds.
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_epoch(value: Any) -> datetime | None:
    """Aware UTC datetime from Unix seconds (VK) or milliseconds (Evotor events)."""
    number = to_decimal(value)
    if number is None:
        return None
    seconds = float(number) / 1000 if abs(number) >= _EPOCH_MS_THRESHOLD else float(number)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def to_epoch_ms(moment: datetime) -> int:
    """Evotor's ``since`` value: Unix epoch milliseconds of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("since must be an aware datetime (UTC)")
    return int(moment.timestamp() * 1000)


def kopecks_to_rubles(value: Any) -> Decimal | None:
    """VK reply prices are strings in hundredths ("149990"); return rubles (Decimal("1499.90"))."""
    minor = to_decimal(value)
    if minor is None:
        return None
    return (minor / _KOPECKS).quantize(_CENTS)


def required_id(data: Mapping[str, Any], key: str = "id") -> str:
    """The object's identifier as a string; raise MalformedPayload when it is missing."""
    ident = opt_str(data.get(key))
    if ident is None:
        raise MalformedPayload(f"object without {key!r}")
    return ident.strip()


def required_int_id(data: Mapping[str, Any], key: str = "id") -> int:
    """An integer identifier (VK); raise MalformedPayload when missing or not a number."""
    ident = to_int(data.get(key))
    if ident is None:
        raise MalformedPayload(f"object without integer {key!r}")
    return ident
