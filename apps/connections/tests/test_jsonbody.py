"""The shared JSON parser of Evotor's webhooks: odd input is InvalidJson, never another error."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from apps.connections import jsonbody


def test_parses_ordinary_json_as_json_does():
    body = b'{"price": 1190.5, "quantity": -3, "name": "\\u041a\\u043e\\u0444\\u0435", "ok": true}'
    assert jsonbody.loads(body) == {"price": 1190.5, "quantity": -3, "name": "Кофе", "ok": True}


@pytest.mark.parametrize("raw", [b"[" * 10_000, b'{"a":' * 5_000, b"[" * 65 + b"]" * 65])
def test_deep_nesting_is_refused_before_parsing(raw):
    with pytest.raises(jsonbody.InvalidJson, match="nested deeper than 64"):
        jsonbody.loads(raw)


def test_nesting_up_to_the_limit_is_fine_and_brackets_in_strings_do_not_count():
    assert jsonbody.loads(b"[" * 64 + b"]" * 64) == json.loads("[" * 64 + "]" * 64)
    assert jsonbody.loads(json.dumps({"name": "[[[" * 100 + '\\"{{'})) == {
        "name": "[[[" * 100 + '\\"{{'
    }


@pytest.mark.parametrize("raw", [b"[NaN]", b"[Infinity]", b'{"a": -Infinity}'])
def test_nan_and_infinity_literals_are_refused(raw):
    with pytest.raises(jsonbody.InvalidJson):
        jsonbody.loads(raw)


def test_numbers_beyond_float_are_kept_exact_and_stored_as_text():
    parsed = jsonbody.loads(b'{"price": 1e5000, "id": 123456789012345678901234567890}')
    assert parsed == {"price": Decimal("1e5000"),
                      "id": Decimal("123456789012345678901234567890")}
    stored = jsonbody.storable({"wrap": [parsed], "n": 2.5})
    assert stored == {"wrap": [{"price": "1E+5000", "id": "123456789012345678901234567890"}],
                      "n": 2.5}
    json.dumps(stored, allow_nan=False)  # what a JSONField needs


@pytest.mark.parametrize("raw", [b"[1e99999999]", b"[" + b"9" * 20_000 + b"]"])
def test_absurd_numbers_are_refused(raw):
    with pytest.raises(jsonbody.InvalidJson, match="out of range"):
        jsonbody.loads(raw)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"{broken", b"", "[1,]"])
def test_invalid_text_is_invalid_json(raw):
    with pytest.raises(jsonbody.InvalidJson, match="not valid JSON"):
        jsonbody.loads(raw)
