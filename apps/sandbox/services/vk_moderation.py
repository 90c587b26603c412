"""VK moderation, injectable: mark an item rejected, or reject the next N items by name.

A rejected item stays in the market, and market.get / getById describe the verdict in
``reject_info`` (docs/vk.md#market-item). VK re-moderates an item when its content changes, so
an edit of the name, description or photos lifts the rejection (and the rules are consulted
again); a price or stock change does not.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from apps.sandbox.models import VkMarketItem, VkModerationRule

from .vk_ids import ITEM

# What VK shows when it gives no specific reason (texts of the sandbox, in VK's manner).
DEFAULT_TITLE = "Товар отклонён модерацией"
DEFAULT_DESCRIPTION = (
    "Товар не соответствует правилам размещения товаров ВКонтакте. "
    "Исправьте карточку товара, и она будет проверена повторно."
)
INFO_LINK = "https://vk.com/faq19125"
SUPPORT_LINK = "https://vk.com/support?act=new"
REJECTED = 2  # moderation_status of a rejected item
# Fields whose change sends the item back to moderation.
CONTENT_FIELDS = frozenset({"title", "description"})


def reject_info(item: VkMarketItem) -> dict[str, Any] | None:
    """The ``reject_info`` object of a rejected item, None for an accepted one."""
    if item.rejected_at is None:
        return None
    return {
        "title": item.reject_title or DEFAULT_TITLE,
        "description": item.reject_description or DEFAULT_DESCRIPTION,
        "moderation_status": REJECTED,
        "info_link": INFO_LINK,
        "write_to_support_link": SUPPORT_LINK,
        "in_progress": False,
        "buttons": [],
    }


def _item(item_id: int) -> VkMarketItem:
    item = VkMarketItem.objects.filter(pk=ITEM.pk(item_id)).first()
    if item is None:
        raise LookupError(f"no VK item {item_id}")
    return item


def reject_item(item_id: int, *, title: str = "", description: str = "") -> VkMarketItem:
    """Moderation rejects the item ``item_id`` (VK's item id); LookupError if there is none."""
    item = _item(item_id)
    _mark(item, title, description)
    item.save(update_fields=["rejected_at", "reject_title", "reject_description"])
    return item


def accept_item(item_id: int) -> VkMarketItem:
    """Lift a rejection (as if VK moderation accepted the item after all)."""
    item = _item(item_id)
    item.rejected_at, item.reject_title, item.reject_description = None, "", ""
    item.save(update_fields=["rejected_at", "reject_title", "reject_description"])
    return item


def _mark(item: VkMarketItem, title: str, description: str) -> None:
    item.rejected_at = timezone.now()
    item.reject_title = title[:200]
    item.reject_description = description


def add_rule(
    name_contains: str, *, count: int | None = 1, title: str = "", description: str = ""
) -> VkModerationRule:
    """Reject the next ``count`` added or re-moderated items whose name contains the text
    (case-insensitive; ``count=None``: all of them until the rule is deleted)."""
    if not name_contains.strip():
        raise ValueError("name_contains is required")
    if count is not None and count < 1:
        raise ValueError("count must be at least 1 (or omitted for 'until cleared')")
    return VkModerationRule.objects.create(
        name_contains=name_contains.strip(),
        remaining=count,
        title=title,
        description=description,
    )


def list_rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule.pk,
            "name_contains": rule.name_contains,
            "remaining": rule.remaining,
            "title": rule.title,
            "description": rule.description,
        }
        for rule in VkModerationRule.objects.order_by("pk")
    ]


def clear_rules() -> int:
    deleted, _by_model = VkModerationRule.objects.all().delete()
    return deleted


def moderate(item: VkMarketItem, changed: set[str] | None = None) -> None:
    """Run moderation on a new item (``changed`` None) or an edited one; saves the verdict.

    Costs one query when there are no rules, so benchmarks are not slowed down.
    """
    if changed is not None and not (changed & CONTENT_FIELDS or "photos" in changed):
        return
    verdict = _matching_rule(item.title)
    if verdict is None and item.rejected_at is None:
        return
    if verdict is None:
        item.rejected_at, item.reject_title, item.reject_description = None, "", ""
    else:
        _mark(item, verdict.title, verdict.description)
    item.save(update_fields=["rejected_at", "reject_title", "reject_description"])


def _matching_rule(title: str) -> VkModerationRule | None:
    """The first live rule matching ``title``, with one use consumed (a conditional UPDATE, so
    two processes never both take the last use)."""
    live = Q(remaining__isnull=True) | Q(remaining__gt=0)
    for rule in VkModerationRule.objects.filter(live).order_by("pk"):
        if rule.name_contains.casefold() not in title.casefold():
            continue
        if rule.remaining is None:
            return rule
        if VkModerationRule.objects.filter(pk=rule.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        ):
            VkModerationRule.objects.filter(pk=rule.pk, remaining=0).delete()
            return rule
    return None
