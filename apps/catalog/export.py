"""CSV export of the filtered product list, for Excel in a Russian locale.

Excel opens a CSV by double-click with the system's list separator (";" in Russian Windows) and
guesses the encoding unless a BOM says UTF-8; hence both. Decimal commas likewise.

Every text cell comes from the merchant's Evotor catalog, which anyone at a till can type into;
a cell starting with "=", "+", "-", "@" (or a tab or CR, which Excel skips before them) would be
run as a formula when the file is opened, so such cells get a leading apostrophe (OWASP's advice
for CSV injection). Our own numbers and dates are left alone: "-5" must stay a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog import words
from apps.catalog.models import Product


class _Echo:
    def write(self, value: str) -> str:
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    """A cell Excel shows as the text it is, never as a formula."""
    value = value or ""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f").replace(".", ",")


def _local(moment) -> str:
    # In the merchant's time zone (activated per request), to the second.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def header() -> list[str]:
    return [
        _("Store"), _("Evotor id"), _("Name"), _("Code"), _("Article"), _("Barcodes"),
        _("Price"), _("Cost price"), _("Quantity"), _("Unit"), _("Type"), _("Tax"),
        _("Allowed to sell"), _("Group id"), _("Updated in Evotor"), _("Removed"),
    ]


def row(product: Product) -> list[str]:
    texts = map(_text, [
        product.store.name, product.evotor_id, product.name, product.code,
        product.article_number, " ".join(product.barcodes),
    ])
    return [
        *texts, _number(product.price), _number(product.cost_price), _number(product.quantity),
        _text(product.measure_name), _text(words.product_type(product)),
        _text(words.tax(product.tax)),
        _("yes") if product.allow_to_sell else _("no"),
        _text(product.group_evotor_id),
        _local(product.evotor_updated_at),
        _local(product.removed_at),
    ]


def csv_lines(products: Iterable[Product]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow(header())
    for product in products:
        yield writer.writerow(row(product))
