"""Evotor product → what its VK item should show: price, name, description, photo key, hash.

Pure and Decimal-only (docs/architecture.md, "Sync semantics"). Every limit here is VK's:
name 4..100 and description ≥ 10 in VK-length (see :mod:`.text`), price ≤ 999 999 999.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from .text import cut, squash, strip_links, tidy_lines, vk_length
from .types import (
    ALL_FIELDS,
    Decision,
    Field,
    Group,
    OutOfStock,
    Payload,
    Product,
    Reason,
    Rounding,
    Store,
    SyncSettings,
)

MAX_PRICE = Decimal("999999999")
NAME_MAX = 100
NAME_MIN = 4
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 4000
_KOPECK = Decimal("0.01")
_RUBLE = Decimal(1)

# Measures that make a product "weight goods": its price is per unit and the card says so.
WEIGHT_MEASURES = frozenset(
    {"кг", "г", "гр", "л", "мл", "м", "м2", "м²", "м3", "м³", "пог. м", "пог.м", "пог м"}
)

# The keys of Link.published, one per managed field (also what payload_hash covers).
FIELD_KEYS: dict[Field, str] = {
    Field.NAME: "name",
    Field.DESCRIPTION: "description",
    Field.PRICE: "price",
    Field.PHOTO: "photo_key",
    Field.STOCK: "stock_amount",
    Field.ALBUMS: "album_group_id",
}


# --- price ------------------------------------------------------------------------------------


def _ceil(amount: Decimal, step: Decimal) -> Decimal:
    return (amount / step).to_integral_value(rounding=ROUND_CEILING) * step


def _round(amount: Decimal, rounding: Rounding) -> Decimal:
    if rounding is Rounding.RUBLES:
        return amount.quantize(_RUBLE, rounding=ROUND_HALF_UP)
    if rounding is Rounding.TENS:
        return _ceil(amount, Decimal(10))
    if rounding is Rounding.NINETY_NINE:
        rubles = _ceil(amount, _RUBLE)
        hundreds = max(_ceil(rubles - 99, Decimal(100)), Decimal(0))
        return hundreds + 99
    return amount.quantize(_KOPECK, rounding=ROUND_HALF_UP)


def vk_price(price: Decimal, settings: SyncSettings) -> Decimal:
    """Evotor price with the markup (may be negative) and rounding, never below the minimum."""
    marked_up = price * (1 + settings.markup_percent / 100)
    rounded = _round(marked_up, settings.rounding)
    # Ceiling, so a minimum with fractions of a kopeck is still never undercut.
    floor = max(settings.min_price, Decimal(0)).quantize(_KOPECK, rounding=ROUND_CEILING)
    return max(rounded.quantize(_KOPECK, rounding=ROUND_HALF_UP), floor)


def format_price(price: Decimal) -> str:
    """Russian style: "1 299" for whole rubles, "1 299,50" otherwise."""
    amount = price.quantize(_KOPECK, rounding=ROUND_HALF_UP)
    rubles = int(amount)
    kopecks = int((amount - rubles) * 100)
    grouped = f"{rubles:,}".replace(",", " ")
    return grouped if kopecks == 0 else f"{grouped},{abs(kopecks):02d}"


def price_text(price: Decimal) -> str:
    """The price as stored in Link.published and hashed: "1299.00"."""
    return str(Decimal(price).quantize(_KOPECK, rounding=ROUND_HALF_UP))


# --- stock and measure ------------------------------------------------------------------------


def is_out_of_stock(product: Product) -> bool:
    """Quantity ≤ 0 and not a service; an unknown quantity counts as in stock."""
    return product.quantity is not None and product.quantity <= 0 and not product.is_service


def _measure(product: Product) -> str:
    return squash(product.measure_name).rstrip(".")


def is_weight(product: Product) -> bool:
    return _measure(product).casefold() in WEIGHT_MEASURES


def unit_suffix(product: Product) -> str:
    """" за 1 кг" for weight goods, "" otherwise."""
    return f" за 1 {_measure(product)}" if is_weight(product) else ""


# --- name -------------------------------------------------------------------------------------


def _with_modification(name: str, product: Product) -> str:
    values = [squash(value) for _attribute, value in product.attributes]
    values = [value for value in values if value]
    if not values:
        return name
    suffix = f"({', '.join(values)})"
    return name if name.endswith(suffix) else f"{name} {suffix}"


def _pad_name(name: str, product: Product) -> str:
    measure = _measure(product)
    if measure and vk_length(f"{name} ({measure})") <= NAME_MAX:
        name = f"{name} ({measure})"
    while vk_length(name) < NAME_MIN:
        name += "…"
    return name


def item_name(product: Product) -> str:
    """The VK item name, 4..100 VK-length; "" when Evotor has no name (the item is invalid)."""
    base = squash(product.name)
    if not base:
        return ""
    name = cut(_with_modification(base, product), NAME_MAX)
    return name if vk_length(name) >= NAME_MIN else _pad_name(name, product)


# --- description ------------------------------------------------------------------------------

_PLACEHOLDER_RE = re.compile(r"\{(name|price|measure|article|description|store)\}")


@functools.lru_cache(maxsize=64)
def _template_lines(template: str) -> tuple[tuple[str, ...], ...]:
    """Each line split into text, placeholder, text, …: parsed once per template, not once
    per product."""
    template = template.replace("\r\n", "\n").replace("\r", "\n")
    return tuple(tuple(_PLACEHOLDER_RE.split(line)) for line in template.split("\n"))


def _render_line(parts: tuple[str, ...], values: dict[str, str]) -> str | None:
    """The line with placeholders filled; None when it had some and all came out empty."""
    if len(parts) == 1:
        return parts[0]
    filled = [values[key] for key in parts[1::2]]
    if not any(filled):
        return None
    pieces = [parts[0]]
    for value, text in zip(filled, parts[2::2], strict=True):
        pieces += (value, text)
    return "".join(pieces)


def render_template(template: str, values: dict[str, str]) -> str:
    """Plain substitution, not str.format: merchants' templates may hold other braces."""
    lines = (_render_line(parts, values) for parts in _template_lines(template))
    return "\n".join(line for line in lines if line is not None)


def _ensure_minimum(text: str, name: str, store_name: str) -> str:
    for extra in (name, f"Товар магазина «{store_name}»" if store_name else "", "Товар магазина"):
        if vk_length(text) >= DESCRIPTION_MIN:
            break
        if extra and extra not in text:
            text = tidy_lines(f"{text}\n\n{extra}")
    return text


def description(product: Product, store_name: str, price: Decimal, settings: SyncSettings) -> str:
    """The VK description from the merchant's template: no outside links, 10..4000 long."""
    values = _description_values(product, item_name(product), store_name, price)
    return _render_description(values, settings.description_template)


def _description_values(product: Product, name: str, store_name: str, price: Decimal) -> dict:
    return {
        "name": name,
        "price": format_price(price),
        "measure": unit_suffix(product),
        "article": squash(product.article),
        "description": product.description.strip(),
        "store": squash(store_name),
    }


def _render_description(values: dict[str, str], template: str) -> str:
    rendered = render_template(template, values)
    if values["measure"] and "{measure}" not in template:
        # Weight goods must say what the price is for, whatever the template forgot.
        rendered += f"\nЦена{values['measure']}"
    text = tidy_lines(strip_links(rendered))
    text = _ensure_minimum(
        text, tidy_lines(strip_links(values["name"])), tidy_lines(strip_links(values["store"]))
    )
    return cut(text, DESCRIPTION_MAX)


# Rendering a description is most of a plan's work, and most goods are as they were: a link
# remembers, next to the published description, a key of that text and what it was rendered
# from (Link.published[DESCRIPTION_KEY]); when the key still matches, the text is taken as it
# is. Bump the version whenever _render_description (or text.py) would render differently.
DESCRIPTION_VERSION = "description-v1"
DESCRIPTION_KEY = "description_key"


def description_key(values: dict[str, str], template: str, text: str) -> str:
    return _digest([DESCRIPTION_VERSION, template, values, text])


def _description_of(
    values: dict[str, str], template: str, published: dict | None
) -> tuple[str, str]:
    """(description, its key): the published text when its key says it is what these values
    render to, else a fresh rendering."""
    if published:
        text, key = published.get("description"), published.get(DESCRIPTION_KEY)
        if isinstance(text, str) and key and key == description_key(values, template, text):
            return text, key
    text = _render_description(values, template)
    return text, description_key(values, template, text)


# --- photo key, hash, payload -----------------------------------------------------------------


# json.dumps with these options would build a new encoder on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(parts: object) -> str:
    return hashlib.sha256(_ENCODER.encode(parts).encode("utf-8")).hexdigest()


def photo_key(name: str, group_name: str, store_name: str, image_url: str) -> str:
    """What the photo shows: the Evotor image, or a card of name/group/store.

    No price on the card: a price change must not cost a new upload (VK refuses one photo on
    two items, so every item has its own and re-uploads are slow). Versioned so a new card
    design can force new photos by bumping "card-v1".
    """
    if image_url:
        return _digest(["image-v1", image_url])
    return _digest(["card-v1", name, group_name, store_name])


def published_record(payload: Payload) -> dict:
    """What a link remembers of a published payload: every field's value and the key of its
    description (see DESCRIPTION_KEY)."""
    values = published_values(payload)
    if payload.description_key:
        values[DESCRIPTION_KEY] = payload.description_key
    return values


def published_values(payload: Payload, fields: frozenset[Field] = ALL_FIELDS) -> dict:
    """JSON-safe values of ``fields`` as stored in Link.published (keys from FIELD_KEYS)."""
    values: dict[str, object] = {
        "name": payload.name,
        "description": payload.description,
        "price": price_text(payload.price),
        "photo_key": payload.photo_key,
        "stock_amount": payload.stock_amount,
        "album_group_id": payload.album_group_id,
    }
    return {key: values[key] for field, key in FIELD_KEYS.items() if field in fields}


def payload_hash(payload: Payload, managed: frozenset[Field]) -> str:
    """sha256 over the managed fields' values only; stable across processes and runs."""
    return _digest(["payload-v1", published_values(payload, managed)])


def managed_fields(settings: SyncSettings) -> frozenset[Field]:
    """The fields the sync manages; albums count only while albums are switched on."""
    if settings.albums:
        return settings.managed
    return settings.managed - {Field.ALBUMS}


def album_title(group_name: str) -> str:
    return cut(squash(group_name), 128) or "Без названия"


def _checked_price(product: Product, settings: SyncSettings) -> Decimal | Reason:
    if product.price is None or product.price <= 0:
        return Reason.NO_PRICE
    price = vk_price(product.price, settings)
    if price <= 0:
        return Reason.NO_PRICE
    return Reason.PRICE_TOO_HIGH if price > MAX_PRICE else price


def blocking_reason(product: Product, settings: SyncSettings) -> Reason | None:
    """The reason ``build_payload`` would give for an included product, without building the
    payload (the description alone costs a millisecond: the catalog page asks this of every
    product to count what will be published)."""
    price = _checked_price(product, settings)
    if isinstance(price, Reason):
        return price
    return None if _has_name(product.name) else Reason.NO_NAME


def _has_name(name: str) -> bool:
    """``squash(name) != ""`` (item_name is "" exactly then), mostly without squashing."""
    head = name.lstrip()[:1]
    if head and unicodedata.category(head) != "Cc":
        return True
    return bool(squash(name))


def build_payload(
    product: Product,
    group: Group | None,
    store: Store | None,
    settings: SyncSettings,
    decision: Decision | None = None,
    published: dict | None = None,
) -> Payload | Reason:
    """The wanted VK item, or the reason it cannot (or must not) be published. ``published``:
    what the product's link last published, whose description is reused when still right."""
    if decision is not None and not decision.included:
        return decision.reason
    price = _checked_price(product, settings)
    if isinstance(price, Reason):
        return price
    name = item_name(product)
    if not name:
        return Reason.NO_NAME
    store_name = store.name if store else ""
    live_group = group if group is not None and not group.removed else None
    zero_stock = settings.out_of_stock is OutOfStock.ZERO and is_out_of_stock(product)
    text, key = _description_of(
        _description_values(product, name, store_name, price), settings.description_template,
        published,
    )
    return Payload(
        name=name,
        description=text,
        price=price,
        photo_key=photo_key(name, live_group.name if live_group else "", store_name,
                            product.image_url),
        stock_amount=0 if zero_stock else None,
        album_group_id=live_group.id
        if live_group and Field.ALBUMS in managed_fields(settings)
        else None,
        description_key=key,
    )
