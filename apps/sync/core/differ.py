"""Wanted state vs. what exists in VK → one ItemOp per product (plus duplicate deletions).

Two inputs describe what exists: the links (what we believe we published) and, when VK was read
this run, the VK items themselves, which then win (docs/architecture.md, "Sync semantics"):
an item deleted by hand is re-created, an item with our sku that no link knows is adopted
instead of added again, and extra items with one sku are deleted so a product never shows twice.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .transform import FIELD_KEYS, managed_fields, payload_hash, price_text, published_values
from .types import (
    Action,
    Field,
    ItemOp,
    Link,
    LinkState,
    Payload,
    Reason,
    Removal,
    SyncSettings,
    VkItem,
)

# Link states whose vk_item_id names an item that should exist. CREATING counts once it has an
# id: the executor commits the id right after market.add answers.
_ITEM_STATES = frozenset({LinkState.PUBLISHED, LinkState.HIDDEN, LinkState.FAILED})
_KNOWN_STATES = _ITEM_STATES | {LinkState.CREATING}


class WantKind(enum.Enum):
    VISIBLE = "visible"
    WITHDRAWN = "withdrawn"  # removed from Evotor or filtered out: the removal policy applies
    HIDDEN = "hidden"  # not for sale / out of stock: hide, never delete (it comes back)
    INVALID = "invalid"  # wanted but cannot be published: hide what exists, report why


@dataclass(frozen=True, slots=True)
class Want:
    product_id: str
    kind: WantKind
    reason: Reason = Reason.PUBLISHED
    payload: Payload | None = None  # set for VISIBLE only


@dataclass(frozen=True, slots=True)
class Current:
    """The VK item a product's op acts on, as the links and (if read) VK tell."""

    item_id: int | None = None
    hidden: bool = False
    adopted: bool = False  # the link does not know item_id yet (orphan, or a CREATING link)
    duplicates: tuple[int, ...] = ()


def needs_vk_read(links: tuple[Link, ...]) -> bool:
    """Whether a plan must not be made from the links alone: an add may have happened unseen."""
    return any(
        link.state is LinkState.CREATING
        or (link.state is LinkState.FAILED and link.vk_item_id is None)
        for link in links
    )


def _known_item(link: Link | None) -> int | None:
    if link is None or link.state not in _KNOWN_STATES:
        return None
    return link.vk_item_id


class ItemView:
    """Resolves each product's VK item; built once per plan."""

    def __init__(
        self, vk_items: tuple[VkItem, ...] | None, links: Mapping[str, Link], ours: set[str]
    ) -> None:
        self._links = links
        self._read = vk_items is not None
        self._live = {item.id: item for item in vk_items or () if not item.removed}
        self._owner = _owners(links, self._live, ours)
        self._by_sku: dict[str, list[int]] = {}
        for item in sorted(self._live.values(), key=lambda item: item.id):
            if item.sku in ours:
                self._by_sku.setdefault(item.sku, []).append(item.id)

    def current(self, product_id: str) -> Current:
        link = self._links.get(product_id)
        known = _known_item(link)
        if known is not None and self._owner.get(known) != product_id:
            known = None  # another product's link holds this item
        if self._read:
            return self._from_vk(product_id, link, known if known in self._live else None)
        return _from_link(link) if known is not None else Current()

    def _from_vk(self, product_id: str, link: Link | None, known: int | None) -> Current:
        candidates = [
            item_id
            for item_id in self._by_sku.get(product_id, [])
            if self._owner.get(item_id, product_id) == product_id
        ]
        keep = known if known is not None else (candidates[0] if candidates else None)
        if keep is None:
            return Current()
        return Current(
            item_id=keep,
            hidden=self._live[keep].hidden,
            adopted=link is None or known is None or link.state is LinkState.CREATING,
            duplicates=tuple(item_id for item_id in candidates if item_id != keep),
        )


def _owners(
    links: Mapping[str, Link], live: Mapping[int, VkItem], ours: set[str]
) -> dict[int, str]:
    """Item → the one product allowed to act on it, so two products never act on one item.

    A link's item is its product's, unless VK shows the item's sku naming another product of
    ours: the sku is the key every add writes, a stale or crossed link is not. Should two links
    still know one item, the lower product id keeps it.
    """
    owners: dict[int, str] = {}
    for pid in sorted(links):
        item_id = _known_item(links[pid])
        if item_id is None or item_id in owners:
            continue
        sku = live[item_id].sku if item_id in live else None
        if sku is None or sku == pid or sku not in ours:
            owners[item_id] = pid
    return owners


def _from_link(link: Link | None) -> Current:
    """VK not read: trust the link."""
    if link is None or link.vk_item_id is None:
        return Current()
    if link.state in _ITEM_STATES:
        return Current(item_id=link.vk_item_id, hidden=link.state is LinkState.HIDDEN)
    if link.state is LinkState.CREATING:
        return Current(item_id=link.vk_item_id, adopted=True)
    return Current()


# --- classification ---------------------------------------------------------------------------


def diff_product(
    want: Want,
    current: Current,
    link: Link | None,
    settings: SyncSettings,
    album_ids: Mapping[str, int],
) -> list[ItemOp]:
    """The ops for one product: its main op, preceded by deletions of duplicate VK items."""
    ops = [
        ItemOp(Action.DELETE_DUPLICATE, want.product_id, reason=want.reason, vk_item_id=item_id)
        for item_id in current.duplicates
    ]
    if current.item_id is None:
        ops.append(_nothing_in_vk(want, settings))
    elif want.kind is WantKind.VISIBLE and want.payload is not None:
        ops.append(_keep(want.product_id, want.payload, current, link, settings, album_ids))
    else:
        ops.append(_withdraw(want, current, settings))
    return ops


def _nothing_in_vk(want: Want, settings: SyncSettings) -> ItemOp:
    if want.kind is WantKind.INVALID:
        return ItemOp(Action.INVALID, want.product_id, reason=want.reason)
    if want.kind is not WantKind.VISIBLE or want.payload is None:
        return ItemOp(Action.SKIP, want.product_id, reason=want.reason)
    payload = want.payload
    return ItemOp(
        Action.CREATE,
        want.product_id,
        payload=payload,
        needs_photo=True,
        to_album_group=payload.album_group_id,
        payload_hash=payload_hash(payload, managed_fields(settings)),
    )


def _withdraw(want: Want, current: Current, settings: SyncSettings) -> ItemOp:
    pid, item_id, reason = want.product_id, current.item_id, want.reason
    if want.kind is WantKind.WITHDRAWN and settings.removal is Removal.DELETE:
        return ItemOp(Action.DELETE, pid, reason=reason, vk_item_id=item_id)
    if not current.hidden:
        return ItemOp(Action.HIDE, pid, reason=reason, vk_item_id=item_id)
    if current.adopted:  # already hidden: only the link has to learn about it
        return ItemOp(Action.ADOPT, pid, reason=reason, vk_item_id=item_id)
    quiet = Action.INVALID if want.kind is WantKind.INVALID else Action.UNCHANGED
    return ItemOp(quiet, pid, reason=reason, vk_item_id=item_id)


def _prior(link: Link | None, current: Current) -> tuple[str, dict | None, str | None]:
    """(hash, published values, album group) the item is known to carry.

    An adopted orphan carries nothing we know of; a CREATING link's item was made from what
    that link recorded.
    """
    if link is None or (current.adopted and link.state is not LinkState.CREATING):
        return "", None, None
    return link.payload_hash, link.published, link.album_group_id


def _normalised(key: str, value: object) -> object:
    if key != "price" or value is None:
        return value
    try:
        return price_text(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return value


def field_changes(
    payload: Payload, published: dict | None, managed: frozenset[Field]
) -> tuple[tuple[str, ...], dict]:
    """Managed keys (albums aside) whose published value differs, with their old values."""
    new = published_values(payload)
    changes: list[str] = []
    old: dict = {}
    for field, key in FIELD_KEYS.items():
        if field not in managed or field is Field.ALBUMS:
            continue
        before = (published or {}).get(key)
        if not published or _normalised(key, before) != new[key]:
            changes.append(key)
            old[key] = before
    return tuple(changes), old


def _album_move(
    payload: Payload, prior_group: str | None, managed: frozenset[Field], album_ids: Mapping
) -> tuple[bool, int | None]:
    """(whether the item changes album, the VK album it leaves)."""
    if Field.ALBUMS not in managed:
        return False, None
    # An album that no longer exists in VK holds nothing: the item has to join the new one.
    current_group = prior_group if prior_group in album_ids else None
    return payload.album_group_id != current_group, album_ids.get(current_group or "")


def _keep(
    product_id: str,
    payload: Payload,
    current: Current,
    link: Link | None,
    settings: SyncSettings,
    album_ids: Mapping,
) -> ItemOp:
    """A wanted item that exists: show it, adopt it, edit what changed, or leave it."""
    managed = managed_fields(settings)
    new_hash = payload_hash(payload, managed)
    prior_hash, published, prior_group = _prior(link, current)
    changes, old = ((), {})
    if new_hash != prior_hash:
        changes, old = field_changes(payload, published, managed)
    moves, from_album = _album_move(payload, prior_group, managed, album_ids)
    if moves:
        changes, old = (*changes, "album_group_id"), {**old, "album_group_id": prior_group}
    action = _keep_action(current, changes)
    if action is Action.UNCHANGED:  # nothing to apply: no payload held for it
        return ItemOp(Action.UNCHANGED, product_id, vk_item_id=current.item_id)
    return ItemOp(
        action,
        product_id,
        vk_item_id=current.item_id,
        payload=payload,
        changes=changes,
        old=old,
        needs_photo="photo_key" in changes,
        from_album=from_album if moves else None,
        to_album_group=payload.album_group_id if moves else None,
        payload_hash=new_hash,
        unhide=current.hidden,
    )


def _keep_action(current: Current, changes: tuple[str, ...]) -> Action:
    if current.adopted:
        return Action.ADOPT
    if current.hidden:
        return Action.SHOW
    if not changes:
        return Action.UNCHANGED
    return Action.MOVE_ALBUM if changes == ("album_group_id",) else Action.UPDATE
