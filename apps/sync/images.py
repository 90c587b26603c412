"""Which Evotor products have an image (docs/evotor.md#product-images-e7), asked only when needed.

Evotor lists a product's images on a separate endpoint, one request per product. The executor
asks, round by round, only for goods about to get a new photo (created, or what their photo
shows changed) that Evotor changed since we last looked — never one request per product per run,
and never for an edit that keeps the photo (a new price). What we learn is kept on the
ProductLink.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from apps.connections.clients import (
    ApiError,
    AuthError,
    EvotorClient,
    NotFoundError,
    PaymentRequiredError,
)
from apps.sync.context import Loaded
from apps.sync.core import types as core
from apps.sync.models import ProductLink

log = logging.getLogger(__name__)


def is_due(product: core.Product, link: ProductLink | None, updated: datetime | None) -> bool:
    """Whether Evotor should be asked about this product's image now."""
    if product.image_url and (link is None or not link.image_checked_at):
        return False  # Evotor sent the image with the product itself
    if link is None or link.image_checked_at is None:
        return True
    return updated is not None and updated > link.image_checked_at


def discover(
    loaded: Loaded, products: list[core.Product], ready, client: EvotorClient | None
) -> dict[str, str]:
    """Ask Evotor for these products' images; product id → image URL ("" = none) for those
    whose answer differs from what the context believed."""
    if client is None or not products:
        return {}
    loaded.links.ensure(p.id for p in products)
    changed: dict[str, str] = {}
    checked: list[ProductLink] = []
    now = timezone.now()
    for product in products:
        try:
            images = client.list_product_images(product.store_id, product.id)
        except NotFoundError:
            images = []
        except (AuthError, PaymentRequiredError) as exc:
            # No product.image:read right: cards for everyone, and do not ask again per product.
            log.info("Evotor images unavailable for user %s: %s", ready.config.user_id, exc)
            _mark_all(loaded, products, now, checked)
            break
        except ApiError as exc:
            log.info("Evotor images of user %s not checked this run: %s", ready.config.user_id,
                     exc)
            break
        url = next((i.url for i in images if i.url), "")[:1000]
        link = loaded.links[product.id]
        link.image_url, link.image_checked_at = url, now
        checked.append(link)
        if url != product.image_url:
            changed[product.id] = url
    ProductLink.objects.bulk_update(checked, ["image_url", "image_checked_at"], batch_size=500)
    return changed


def _mark_all(loaded: Loaded, products, now, checked: list[ProductLink]) -> None:
    done = {link.pk for link in checked}
    for product in products:
        link = loaded.links[product.id]
        if link.pk not in done:
            link.image_checked_at = now
            checked.append(link)
