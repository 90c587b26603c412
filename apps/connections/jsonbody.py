"""Parsing JSON bodies from outside (Evotor's webhooks) without letting odd input become a 500.

``json.loads`` alone fails three ways that are not ``JSONDecodeError``: deep nesting raises
RecursionError, ``1e5000`` becomes ``inf`` (which no JSON column accepts), and an integer of more
than 4300 digits raises a plain ValueError. Here deep nesting and the NaN/Infinity literals are
refused, a number too big for a float or an int of sane length is kept exact as ``Decimal`` (the
typed parsers then judge it, e.g. "price out of range"), and ``storable()`` turns the result back
into plain JSON for a JSONField.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

MAX_DEPTH = 64
# Longer integer literals are read as Decimal: int() refuses more than 4300 digits, and no id or
# amount Evotor sends is that long.
_MAX_INT_DIGITS = 18
# Beyond this exponent even Decimal arithmetic overflows (abs(), comparisons under the context).
_MAX_EXPONENT = 9999
# A JSON string literal (escapes included), removed before counting brackets.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class InvalidJson(ValueError):
    """The body is not JSON we accept; ``str()`` is a short English reason for the sender."""


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest array/object nesting in ``text``; stops counting once past ``limit``."""
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number")


def _big_number(literal: str) -> Decimal:
    number = Decimal(literal)
    if abs(number.adjusted()) > _MAX_EXPONENT:
        raise InvalidJson("a number is out of range")
    return number


def _parse_int(literal: str) -> int | Decimal:
    return int(literal) if len(literal.lstrip("-")) <= _MAX_INT_DIGITS else _big_number(literal)


def _parse_float(literal: str) -> float | Decimal:
    number = float(literal)
    return number if math.isfinite(number) else _big_number(literal)


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON document. Raises InvalidJson for anything unusable."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidJson("body is not valid JSON") from None
    if nesting_depth(text, max_depth) > max_depth:
        raise InvalidJson(f"body is nested deeper than {max_depth} levels")
    try:
        return json.loads(
            text, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_refuse_constant
        )
    except (json.JSONDecodeError, RecursionError):
        # RecursionError only if the scan above was fooled (it never is by valid JSON).
        raise InvalidJson("body is not valid JSON") from None


def storable(value: Any) -> Any:
    """``value`` from loads() as plain JSON types, for a JSONField (which cannot hold Decimal):
    a number only Decimal could hold is kept as its exact text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value
