"""Phone numbers: Russian numbers in any common notation become +7XXXXXXXXXX; others E.164.

Merchants type their number the way they say it: "8 916 123-45-67", "+7 (916) 123 45 67",
"79161234567" or just "9161234567". All of those are one number, and uniqueness is checked on
the normalised form, so the same merchant cannot sign up twice by changing the punctuation.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Digits plus the punctuation people use when writing a number down; letters and the rest are
# rejected rather than silently dropped ("8 916 CALL-ME" is not a number). ASCII digits only:
# Python's \d also matches "١٢٣" and other scripts' digits, which were stored as typed, so one
# number could be registered twice. Full-width digits and no-break spaces are folded by NFKC.
_ALLOWED = re.compile(r"^\+?[0-9\s().\-]+$")
E164_MIN_DIGITS = 8
E164_MAX_DIGITS = 15

INVALID_MESSAGE = _(
    "Enter a Russian phone number, for example +7 916 123-45-67 or 8 916 123-45-67, "
    "or an international number starting with +."
)


def normalize_phone(raw: str) -> str:
    """Return the number as +7XXXXXXXXXX (Russia) or +<8–15 digits>; raise ValidationError."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text or not _ALLOWED.match(text):
        raise ValidationError(INVALID_MESSAGE, code="invalid")
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+"):
        return _international(digits)
    # Without a "+": a Russian number, with the trunk prefix 8, the country code 7, or neither.
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10:
        return "+7" + digits
    raise ValidationError(INVALID_MESSAGE, code="invalid")


def _international(digits: str) -> str:
    if digits.startswith("7") and len(digits) != 11:
        raise ValidationError(
            _("A number starting with +7 has exactly 10 digits after +7."), code="invalid"
        )
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS or digits.startswith("0"):
        raise ValidationError(INVALID_MESSAGE, code="invalid")
    return "+" + digits
