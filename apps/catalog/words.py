"""Evotor's codes as a merchant says them: product types, taxes, modifications, money.

Used by the product page and the CSV export. Unknown codes (Evotor adds types now and then)
are shown as they are rather than hidden.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from apps.catalog.models import Product, ProductGroup

PRODUCT_TYPES = {
    "NORMAL": gettext_lazy("Regular product"),
    # A context: "Service" is also a column header (a provider) with another translation.
    "SERVICE": pgettext_lazy("product type", "Service"),
    "ALCOHOL_MARKED": gettext_lazy("Alcohol, marked"),
    "ALCOHOL_NOT_MARKED": gettext_lazy("Alcohol, not marked"),
    "BEER_MARKED": gettext_lazy("Beer, marked"),
    "BEER_MARKED_KEG": gettext_lazy("Draught beer, marked"),
    "TOBACCO_MARKED": gettext_lazy("Tobacco, marked"),
    "TOBACCO_PRODUCTS_MARKED": gettext_lazy("Tobacco products, marked"),
    "SHOES_MARKED": gettext_lazy("Shoes, marked"),
    "MEDICINE_MARKED": gettext_lazy("Medicines, marked"),
    "TYRES_MARKED": gettext_lazy("Tyres, marked"),
    "PERFUME_MARKED": gettext_lazy("Perfume, marked"),
    "PHOTOS_MARKED": gettext_lazy("Cameras and flashes, marked"),
    "LIGHT_INDUSTRY_MARKED": gettext_lazy("Clothing and textiles, marked"),
    "DAIRY_MARKED": gettext_lazy("Dairy products, marked"),
    "WATER_MARKED": gettext_lazy("Bottled water, marked"),
    "JUICE_MARKED": gettext_lazy("Juice, marked"),
    "BIKE_MARKED": gettext_lazy("Bicycles, marked"),
    "WHEELCHAIRS_MARKED": gettext_lazy("Wheelchairs, marked"),
    "JEWELRY_MARKED": gettext_lazy("Jewellery, marked"),
    "FUR_MARKED": gettext_lazy("Fur, marked"),
    "ANTISEPTIC_MARKED": gettext_lazy("Antiseptics, marked"),
    "DIETARY_SUPPLEMENTS_MARKED": gettext_lazy("Dietary supplements, marked"),
    "MEDICAL_DEVICES_MARKED": gettext_lazy("Medical devices, marked"),
    "LOTTERY_TICKET": gettext_lazy("Lottery ticket"),
    "LOTTERY_PRIZE": gettext_lazy("Lottery prize"),
}

# Before 2019 VAT_18 meant 18 %; Evotor kept the code for today's 20 %
# (docs/evotor.md#product-types-and-taxes).
TAXES = {
    "NO_VAT": gettext_lazy("No VAT"),
    "VAT_0": gettext_lazy("VAT 0 %"),
    "VAT_5": gettext_lazy("VAT 5 %"),
    "VAT_7": gettext_lazy("VAT 7 %"),
    "VAT_10": gettext_lazy("VAT 10 %"),
    "VAT_10_110": gettext_lazy("VAT 10/110"),
    "VAT_18": gettext_lazy("VAT 20 %"),
    "VAT_18_118": gettext_lazy("VAT 20/120"),
    "VAT_20": gettext_lazy("VAT 20 %"),
    "VAT_20_120": gettext_lazy("VAT 20/120"),
}

# Sold by weight or volume: the price is per unit of measure.
WEIGHT_UNITS = frozenset({"кг", "г", "гр", "л", "мл"})


def product_type(product: Product) -> str:
    words = PRODUCT_TYPES.get(product.type)
    text = str(words) if words is not None else product.type
    unit = product.measure_name.strip().rstrip(".").casefold()
    if unit in WEIGHT_UNITS and not product.is_service:
        text = _("%(type)s, sold by weight") % {"type": text}
    return text


def tax(code: str) -> str:
    words = TAXES.get(code)
    return str(words) if words is not None else code


def money(value: Decimal | None) -> str:
    """"1 234 ₽", "1 234,50 ₽" (separators of the active language); "" for no value."""
    if value is None:
        return ""
    places = 0 if value == value.to_integral_value() else 2
    return f"{number_format(value, places, force_grouping=True)}\u00a0₽"


def quantity(value: Decimal | None, unit: str) -> str:
    if value is None:
        return ""
    places = max(0, -int(value.normalize().as_tuple().exponent))
    return f"{number_format(value, places, force_grouping=True)} {unit}".strip()


def modifications(product: Product, group: ProductGroup | None) -> list[tuple[str, str]]:
    """(attribute name, value name) of a modification, from its group's attributes; ids the
    group does not name are left out rather than shown as UUIDs."""
    attributes = group.attributes if group is not None else []
    by_id = {a.get("id"): a for a in attributes if isinstance(a, dict)}
    found = []
    for attribute_id, choice_id in (product.attributes_choices or {}).items():
        attribute = by_id.get(attribute_id)
        if not attribute:
            continue
        names = {c.get("id"): c.get("name") for c in attribute.get("choices") or []}
        if names.get(choice_id):
            found.append((str(attribute.get("name") or ""), str(names[choice_id])))
    return found


EXTRA_LABELS = {
    "alcocodes": gettext_lazy("EGAIS alcohol codes"),
    "alcohol_by_volume": gettext_lazy("Alcohol by volume, %"),
    "alcohol_product_kind_code": gettext_lazy("Alcohol kind code (FSRAR)"),
    "tare_volume": gettext_lazy("Tare volume, l"),
    "is_excisable": gettext_lazy("Excisable"),
    "is_age_limited": gettext_lazy("Age-restricted"),
    "classification_code": gettext_lazy("Classification code"),
    "quantity_in_package": gettext_lazy("Quantity in a package"),
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def extra_fields(product: Product) -> list[tuple[str, str]]:
    """The product's other Evotor fields, labelled in words; unknown keys are skipped."""
    return [
        (str(EXTRA_LABELS[key]), _value(value))
        for key, value in (product.extra or {}).items()
        if key in EXTRA_LABELS
    ]
