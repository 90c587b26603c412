"""Phone normalisation: Russian numbers in any notation become +7XXXXXXXXXX; others E.164."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.forms import PhoneField
from apps.accounts.phone import normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "8 916 123-45-67",
        "+7 (916) 123 45 67",
        "79161234567",
        "9161234567",
        "89161234567",
        "+79161234567",
        " 8(916)123-45-67 ",
        "7.916.123.45.67",
    ],
)
def test_russian_numbers_in_any_common_format_normalise_to_plus7(raw):
    assert normalize_phone(raw) == "+79161234567"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("+49 30 1234567", "+49301234567"),
        ("+1 (212) 555-0100", "+12125550100"),
        ("+375 29 123-45-67", "+375291234567"),
        ("+12345678", "+12345678"),            # 8 digits: the shortest E.164 we accept
        ("+123456789012345", "+123456789012345"),  # 15 digits: E.164's maximum
    ],
)
def test_international_numbers_with_plus_are_kept_as_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "916-CALL-ME",
        "12345",                 # too short for anything
        "916123456",             # 9 digits, no +
        "991612345678",          # 12 digits, no +
        "+1234567",              # 7 digits after +
        "+1234567890123456",     # 16 digits after +
        "+0123456789",           # no country code starts with 0
        "++79161234567",
        "8 916 123 45 67 ext 2",
        "49301234567+",
    ],
)
def test_anything_else_is_a_clear_error(raw):
    with pytest.raises(ValidationError) as error:
        normalize_phone(raw)
    assert "+7 916 123-45-67" in str(error.value.messages[0])


@pytest.mark.parametrize("raw", ["+7 916 123 45 6", "+7 916 123 45 678"])
def test_plus7_with_the_wrong_number_of_digits_says_so(raw):
    with pytest.raises(ValidationError, match="ровно 10 цифр"):
        normalize_phone(raw)


def test_the_form_field_accepts_long_notations_and_cleans_to_the_normalised_form():
    field = PhoneField()
    assert field.clean("+7 (916) 123-45-67 ") == "+79161234567"
    assert field.widget.input_type == "tel" and "type" not in field.widget.attrs


def test_an_optional_field_leaves_empty_input_empty():
    field = PhoneField(required=False, empty_value=None)
    assert field.clean("") is None


@pytest.mark.parametrize("raw", ["+7 916 ١٢٣٤٥٦٧", "8 916 ۱۲۳۴۵۶۷", "８ ９１６ ௧௨௩ ４５ ６７"])
def test_digits_of_other_scripts_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


@pytest.mark.parametrize(
    "raw", ["８ ９１６ １２３-４５-６７", "+7\u00a0916\u00a0123\u00a045\u00a067"]
)
def test_full_width_digits_and_no_break_spaces_are_folded(raw):
    assert normalize_phone(raw) == "+79161234567"
