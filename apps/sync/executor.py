"""Apply a SyncPlan to VK, batch by batch, recording every outcome as it goes.

Writes go through ``execute`` (≤25 calls a request); after each request its outcomes are
committed (links, item errors, job counters) and the caller's ``checkpoint`` renews the lease,
so a run killed at any line loses at most one batch of work. Creation follows the idempotency
protocol of docs/architecture.md: the link is saved as ``creating`` before ``market.add`` and
the VK id committed right after VK answers; a later run adopts by sku whatever it finds.

Errors (docs/vk.md): per-item codes fail that item only (a SyncItemError row); anything that
concerns the whole run (token, market off, VK down after retries, captcha) is raised to the
caller once the batch's successes are recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.connections.clients import (
    ApiError,
    ItemError,
    TransientError,
    VkCall,
    VkCallResult,
    VkClient,
)
from apps.connections.clients import vk_calls as calls
from apps.connections.clients.vk_execute import MAX_CALLS_PER_EXECUTE
from apps.connections.clients.vk_types import VkAlbum
from apps.sync import images
from apps.sync.context import Loaded
from apps.sync.core import filters, transform
from apps.sync.core import types as core
from apps.sync.models import AlbumLink, ProductLink, SyncItemError, SyncJob
from apps.sync.uploads import ImageFetcher, PhotoRequest, upload_photos

log = logging.getLogger(__name__)

NOTHING_TO_CHANGE = "nothing to change"
ITEM_GONE, TOO_MANY_ITEMS, TOO_MANY_ALBUMS, ALBUM_FULL, ALBUM_GONE = 1403, 1405, 1407, 1406, 1402
ALREADY_IN_ALBUM = 1404
PHOTOS_PER_ROUND = 100  # photos uploaded before their items are added: bounds memory
ALBUM_ITEMS_PER_CALL = 100
JOB_COUNT_FIELDS = [
    "items_created", "items_updated", "items_hidden", "items_deleted", "items_skipped",
    "items_failed", "vk_requests", "photos_uploaded", "progress_done", "progress_total",
]
LINK_FIELDS = [
    "vk_item_id", "vk_photo_id", "photo_key", "album_group_id", "payload_hash", "published",
    "state", "last_error_code", "last_error", "attempts", "synced_at",
]


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    hidden: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    uploads: int = 0
    notes: list[str] = field(default_factory=list)


def published_of(payload: core.Payload) -> dict:
    """What the link remembers of a published payload (the differ compares against it)."""
    return transform.published_record(payload)


class Executor:
    def __init__(
        self,
        *,
        client: VkClient,
        group_id: int,
        job: SyncJob,
        loaded: Loaded,
        settings: core.SyncSettings,
        checkpoint: Callable[[], None],
        fetch_image: ImageFetcher | None = None,
        discover: Callable[[list[core.Product]], dict[str, str]] | None = None,
    ) -> None:
        self.client = client
        self.group_id = group_id
        self.job = job
        self.loaded = loaded
        self.settings = settings
        self.checkpoint = checkpoint
        self.fetch_image = fetch_image
        # Evotor images are asked for lazily, round by round, for the goods about to get a
        # photo (apps/sync/images.py): a first sync of 50,000 goods starts publishing at once.
        self.discover = discover
        self._checked: set[str] = set()
        self._image_urls: dict[str, str] = {}  # images found this run (product id → URL)
        self._photo_keys: dict[str, str] = {}  # what each photo uploaded this run shows
        self._groups = filters.GroupIndex(loaded.ctx.groups)
        self.tally = Tally()
        self.user_id = job.user_id
        self._albums_capped = False
        self._items_capped = False
        self._album_adds: dict[str, list[int]] = {}  # Evotor group → VK items to put in its album

    # --- the plan, in an order that keeps VK consistent at every batch boundary -------------

    def apply(self, plan: core.SyncPlan) -> Tally:
        self.tally.skipped = len(plan.of(core.Action.SKIP, core.Action.INVALID))
        self.job.progress_total = plan.writes
        albums = [a for a in plan.albums if a.action != core.AlbumAction.DELETE]
        self._album_writes(albums)
        self._adopt(plan.of(core.Action.ADOPT))
        self._simple(plan.of(core.Action.DELETE_DUPLICATE), self._delete_duplicate_call, None)
        edits = plan.of(core.Action.UPDATE, core.Action.SHOW, core.Action.MOVE_ALBUM)
        edits += [op for op in plan.of(core.Action.ADOPT) if op.changes or op.unhide]
        self._edits(edits)
        self._simple(plan.of(core.Action.HIDE), self._hide_call, self._hidden)
        self._simple(plan.of(core.Action.DELETE), self._delete_call, self._deleted)
        self._creates(plan.of(core.Action.CREATE))
        self._album_membership()
        self._album_writes([a for a in plan.albums if a.action == core.AlbumAction.DELETE])
        self._moderation()
        return self.tally

    # --- links -----------------------------------------------------------------------------

    def _ensure_links(self, product_ids: Iterable[str]) -> None:
        """Link rows for these goods, per round: a 50,000-product first sync never holds
        50,000 model instances at once."""
        self.loaded.links.ensure(product_ids)

    def _link(self, op: core.ItemOp) -> ProductLink:
        return self.loaded.links[op.product_id]

    def _save_links(self, links: Sequence[ProductLink], errors: Sequence[SyncItemError] = ()):
        self.job.progress_done = min(self.job.progress_total, self.job.progress_done + len(links))
        self._commit(links, errors)
        self.checkpoint()

    def _commit(self, links: Sequence[ProductLink], errors: Sequence[SyncItemError]) -> None:
        """Outcomes and the run's counts in one transaction: a worker killed at any line leaves
        a job whose counts say exactly what its committed links say."""
        job = self.job
        job.items_created, job.items_updated = self.tally.created, self.tally.updated
        job.items_hidden, job.items_deleted = self.tally.hidden, self.tally.deleted
        job.items_skipped, job.items_failed = self.tally.skipped, self.tally.failed
        job.vk_requests, job.photos_uploaded = self.client.requests_made, self.tally.uploads
        with transaction.atomic():
            if links:
                ProductLink.objects.bulk_update(links, LINK_FIELDS)
            if errors:
                SyncItemError.objects.bulk_create(errors)
            job.save(update_fields=JOB_COUNT_FIELDS)

    def _published(self, link: ProductLink, op: core.ItemOp, *, state=None) -> None:
        if op.payload is not None:
            # The album is remembered as it is in VK now; joining it is a later step.
            link.published = {
                **published_of(op.payload), "album_group_id": link.album_group_id or None
            }
            if op.product_id in self._photo_keys:  # the photo shows what was found this run
                link.published["photo_key"] = self._photo_keys[op.product_id]
            link.payload_hash = _rehash(link, self.settings)
        link.state = state or core.LinkState.PUBLISHED
        link.last_error_code = link.last_error = ""
        link.synced_at = timezone.now()

    def _failed(self, link: ProductLink, op: core.ItemOp, error: ApiError) -> SyncItemError:
        code = f"vk:{error.code}" if error.code is not None else f"vk:{error.kind}"
        link.last_error_code, link.last_error = code[:32], str(error.message)[:500]
        link.attempts += 1
        if link.vk_item_id is None and link.state != core.LinkState.CREATING:
            link.state = core.LinkState.FAILED
        self.tally.failed += 1
        return self._error_row(op.product_id, code, error.message, error.code)

    def _error_row(self, product_id: str, code: str, message: str, vk_code=None) -> SyncItemError:
        return SyncItemError(
            job=self.job,
            evotor_product_id=product_id,
            product_name=self.loaded.names.get(product_id, "")[:255],
            code=code[:32],
            vk_error_code=vk_code if isinstance(vk_code, int) else None,
            message=str(message)[:500],
        )

    # --- batches ---------------------------------------------------------------------------

    def _run(self, batch: list[VkCall]):
        """One execute request; whole-request failures raise (the caller stops the run)."""
        return self.client.execute(batch)

    def _simple(self, ops, make_call, on_ok) -> None:
        for start in range(0, len(ops), MAX_CALLS_PER_EXECUTE):
            chunk = ops[start : start + MAX_CALLS_PER_EXECUTE]
            self._ensure_links(op.product_id for op in chunk)
            results = self._run([make_call(op) for op in chunk])
            self._record(chunk, results, on_ok)

    def _record(self, ops, results, on_ok, on_gone=None) -> None:
        links, errors, stop = [], [], None
        for op, result in zip(ops, results, strict=True):
            error = result.error
            if op.action == core.Action.DELETE_DUPLICATE:
                # A second VK item of one product: its link describes the item we keep.
                if error is None or error.code == ITEM_GONE:
                    self.tally.deleted += 1
                elif not isinstance(error, ItemError | TransientError):
                    stop = stop or error
                continue
            link = self._link(op)
            if error is None or _nothing_to_change(error):
                if op.vk_item_id is not None and op.action != core.Action.DELETE:
                    link.vk_item_id = op.vk_item_id  # an adopted item the link learns now
                if on_ok is not None:
                    on_ok(link, op, result.value)
            elif error.code == ITEM_GONE:
                self._gone(link, op, on_gone)
            elif isinstance(error, ItemError | TransientError):
                errors.append(self._failed(link, op, error))
                if error.code == TOO_MANY_ITEMS:
                    # The community is full: keep what is published, stop adding (1405).
                    self._items_capped = True
                    self._note("items_capped")
            else:
                stop = stop or error
            links.append(link)
        self._save_links(links, errors)
        if stop is not None:
            raise stop

    def _gone(self, link: ProductLink, op: core.ItemOp, on_gone) -> None:
        """VK no longer has the item (deleted by hand): forget it; the next run re-creates
        it if it is still wanted."""
        link.vk_item_id, link.state, link.payload_hash = None, core.LinkState.DELETED, ""
        link.published, link.album_group_id = {}, ""
        if on_gone is not None:
            on_gone(link, op, None)

    def _hidden(self, link, op, _value) -> None:
        link.state = core.LinkState.HIDDEN
        link.synced_at = timezone.now()
        self.tally.hidden += 1

    def _deleted(self, link, op, _value) -> None:
        link.vk_item_id, link.state, link.payload_hash = None, core.LinkState.DELETED, ""
        link.published, link.album_group_id, link.vk_photo_id = {}, "", None
        link.synced_at = timezone.now()
        self.tally.deleted += 1

    def _hide_call(self, op: core.ItemOp) -> VkCall:
        return calls.market_edit(self.group_id, self._item_id(op), _fields(deleted=True))

    def _delete_call(self, op: core.ItemOp) -> VkCall:
        return calls.market_delete(self.group_id, self._item_id(op))

    def _delete_duplicate_call(self, op: core.ItemOp) -> VkCall:
        return calls.market_delete(self.group_id, op.vk_item_id)

    def _item_id(self, op: core.ItemOp) -> int:
        return op.vk_item_id or self._link(op).vk_item_id

    # --- adopt -----------------------------------------------------------------------------

    def _adopt(self, ops: list[core.ItemOp]) -> None:
        links = []
        self._ensure_links(op.product_id for op in ops)
        for op in ops:
            link = self._link(op)
            link.vk_item_id = op.vk_item_id
            if op.payload is None:
                link.state = core.LinkState.HIDDEN  # already hidden in VK, as it should be
                link.synced_at = timezone.now()
            else:
                if link.state == core.LinkState.CREATING:
                    # VK made the item but the run that asked never heard back (killed, reply
                    # lost): its creation is completed, and counted, here.
                    self.tally.created += 1
                if not (op.changes or op.unhide):
                    self._published(link, op)
                elif link.state == core.LinkState.CREATING:
                    link.state = core.LinkState.PUBLISHED
            links.append(link)
        if links:
            self._save_links(links)

    # --- edits (update, show, move, adopted with changes) ----------------------------------

    def _edits(self, ops: list[core.ItemOp]) -> None:
        for round_ops in _rounds(ops, PHOTOS_PER_ROUND):
            self._ensure_links(op.product_id for op in round_ops)
            # Evotor is asked about images only for goods that get a new photo (what the photo
            # shows changed): an edit of the price, stock or text never costs an Evotor request.
            with_photo = {op.product_id for op in round_ops if op.needs_photo}
            photo_ids = self._photos([op for op in round_ops if op.product_id in with_photo])
            for start in range(0, len(round_ops), MAX_CALLS_PER_EXECUTE):
                chunk = [
                    op for op in round_ops[start : start + MAX_CALLS_PER_EXECUTE]
                    if op.product_id not in with_photo or op.product_id in photo_ids
                ]
                if chunk:
                    batch = [self._edit_call(op, photo_ids.get(op.product_id)) for op in chunk]
                    self._record(chunk, self._run(batch), self._edited)
            self._end_round(round_ops)

    def _edit_call(self, op: core.ItemOp, photo_id: int | None) -> VkCall:
        payload, managed, changes = op.payload, self.settings.managed, set(op.changes)
        values: dict = {}
        if payload is not None:
            if "name" in changes:
                values["name"] = payload.name
            if "description" in changes:
                values["description"] = payload.description
            if "price" in changes:
                values["price"] = payload.price
            if "stock_amount" in changes and core.Field.STOCK in managed:
                # Back in stock: -1 is VK's "no stock count" (the item is simply available).
                stock = payload.stock_amount
                values["stock_amount"] = stock if stock is not None else -1
        if photo_id is not None:
            values["main_photo_id"] = photo_id
        if op.action == core.Action.SHOW or op.unhide:
            values["deleted"] = False
        if not values:
            # A pure album move: an empty edit would be "nothing to change"; touch nothing.
            values["deleted"] = False
        return calls.market_edit(self.group_id, self._item_id(op), _fields(**values))

    def _edited(self, link: ProductLink, op: core.ItemOp, _value) -> None:
        if op.product_id in self._photo_keys:
            link.photo_key = self._photo_keys[op.product_id]
            link.vk_photo_id = self._pending_photos.get(op.product_id, link.vk_photo_id)
        self._published(link, op)
        self._queue_album(link, op)
        if op.action != core.Action.MOVE_ALBUM or op.changes:
            self.tally.updated += 1

    # --- creates ---------------------------------------------------------------------------

    def _creates(self, ops: list[core.ItemOp]) -> None:
        for round_ops in _rounds(ops, PHOTOS_PER_ROUND):
            if self._items_capped:
                self._skip_capped(round_ops)
                continue
            self._ensure_links(op.product_id for op in round_ops)
            photo_ids = self._photos(round_ops)
            ready = [op for op in round_ops if op.product_id in photo_ids]
            for start in range(0, len(ready), MAX_CALLS_PER_EXECUTE):
                chunk = ready[start : start + MAX_CALLS_PER_EXECUTE]
                if self._items_capped:
                    self._skip_capped(chunk)
                    continue
                self._mark_creating(chunk)
                batch = [self._add_call(op, photo_ids[op.product_id]) for op in chunk]
                try:
                    results = self._run(batch)
                except TransientError as exc:
                    results = self._after_lost_adds(batch, exc)
                self._record(chunk, results, self._created)
            self._end_round(round_ops)

    def _end_round(self, round_ops: list[core.ItemOp]) -> None:
        """The round's outcomes are saved: its items join their albums now (a run killed later
        loses no album work of this round), and what the run held per item of the round is let
        go of, so that a first sync of 50,000 goods holds one round of them, not 50,000."""
        self._album_membership()
        done = [op.product_id for op in round_ops]
        for held in (self._photo_keys, self._pending_photos, self._image_urls):
            for product_id in done:
                held.pop(product_id, None)
        # A product has one op per plan, so it is never asked about again this run; the set
        # need not remember it.
        self._checked.difference_update(done)
        self.loaded.links.forget(done)

    def _after_lost_adds(self, batch: list[VkCall], lost: TransientError) -> list[VkCallResult]:
        """The reply to a batch of market.add never came (timeout, 5xx): VK may have created
        any of them. Read the community and take what carries our sku, instead of stopping
        the run; the rest stay 'creating' for the next run to adopt or add (never twice)."""
        try:
            items = self.client.get_item_states(self.group_id)
        except ApiError:
            raise lost from None
        by_sku: dict[str, int] = {}
        for item in sorted(items, key=lambda i: i.id):
            if item.sku and not item.is_removed:
                by_sku.setdefault(item.sku, item.id)
        return [
            VkCallResult(call, value=by_sku[call.params["sku"]])
            if call.params.get("sku") in by_sku
            else VkCallResult(call, error=lost)
            for call in batch
        ]

    def _mark_creating(self, ops: list[core.ItemOp]) -> None:
        """Saved before market.add: a run that finds it adopts by sku instead of adding."""
        links = [self._link(op) for op in ops]
        for link in links:
            link.state = core.LinkState.CREATING
        ProductLink.objects.bulk_update(links, ["state", "vk_photo_id", "photo_key"])

    def _add_call(self, op: core.ItemOp, photo_id: int) -> VkCall:
        payload = op.payload
        if payload is None:  # the differ always gives a CREATE its payload
            raise ValueError(f"CREATE of {op.product_id} without a payload")
        fields = _fields(
            name=payload.name,
            description=payload.description,
            category_id=self.settings.category_id,
            price=payload.price,
            main_photo_id=photo_id,
            sku=op.product_id[:50],
            stock_amount=payload.stock_amount,
        )
        return calls.market_add(self.group_id, fields)

    def _created(self, link: ProductLink, op: core.ItemOp, item_id: int) -> None:
        link.vk_item_id = item_id
        self._published(link, op)
        self._queue_album(link, op)
        self.tally.created += 1

    def _skip_capped(self, ops: list[core.ItemOp]) -> None:
        self.tally.skipped += len(ops)

    # --- photos ----------------------------------------------------------------------------

    @property
    def _pending_photos(self) -> dict[str, int]:
        return self.__dict__.setdefault("_photo_ids", {})

    def _photos(self, ops: list[core.ItemOp]) -> dict[str, int]:
        """Upload a photo for each op; returns product id → photo id (failures recorded)."""
        if not ops:
            return {}
        self._discover_for(ops)
        for op in ops:
            self._photo_keys[op.product_id] = self._photo_key(op)
        reusable = {
            op.product_id: self._link(op).vk_photo_id
            for op in ops
            if self._reusable_photo(op)
        }
        wanted = [op for op in ops if op.product_id not in reusable]
        requests = [self._photo_request(op) for op in wanted]
        result = upload_photos(self.client, self.group_id, requests, fetch=self.fetch_image)
        self.tally.uploads += result.uploads
        links, errors = [], []
        for op in wanted:
            link = self._link(op)
            if op.product_id in result.photo_ids:
                # Remembered before the item exists, so a crash before market.add does not
                # cost the upload again (the photo is attached to nothing yet).
                link.vk_photo_id = result.photo_ids[op.product_id]
                link.photo_key = self._photo_keys[op.product_id]
                self._pending_photos[op.product_id] = link.vk_photo_id
                links.append(link)
            elif op.product_id in result.errors:
                errors.append(self._failed(link, op, result.errors[op.product_id]))
                links.append(link)
        self._commit(links, errors)
        self.checkpoint()
        return {**reusable, **result.photo_ids}

    def _reusable_photo(self, op: core.ItemOp) -> bool:
        link = self._link(op)
        return (
            op.action == core.Action.CREATE
            and link.vk_item_id is None
            and link.vk_photo_id is not None
            and op.payload is not None
            and link.photo_key == self._photo_keys.get(op.product_id, op.payload.photo_key)
            and link.last_error_code != "vk:100"
        )

    def _photo_inputs(self, op: core.ItemOp) -> tuple[str, str, str, str]:
        """(name, group, store, image URL) the photo shows, as transform.build_payload sees
        them, with an image found this run taking the place of what the plan knew."""
        product = self._product(op.product_id)
        group = self._groups.get(product.store_id, product.group_id)
        return (
            op.payload.name if op.payload else product.name,
            group.name if group is not None and not group.removed else "",
            self.loaded.store_names.get(product.store_id, ""),
            self._image_urls.get(op.product_id, product.image_url),
        )

    def _photo_key(self, op: core.ItemOp) -> str:
        return transform.photo_key(*self._photo_inputs(op))

    def _photo_request(self, op: core.ItemOp) -> PhotoRequest:
        name, group, store, image_url = self._photo_inputs(op)
        return PhotoRequest(op.product_id, name, group, store, image_url)

    def _discover_for(self, ops: list[core.ItemOp]) -> dict[str, str]:
        """Ask Evotor about the images of these goods where due; product id → URL for those
        whose image differs from what the plan assumed."""
        if self.discover is None or core.Field.PHOTO not in self.settings.managed:
            return {}
        due = []
        self.loaded.links.require(op.product_id for op in ops)
        for op in ops:
            product = self._product(op.product_id)
            link = self.loaded.links.get(op.product_id)
            if op.product_id in self._checked or op.payload is None:
                continue
            self._checked.add(op.product_id)
            if images.is_due(product, link, self.loaded.updated.get(op.product_id)):
                due.append(product)
        if not due:
            return {}
        found = self.discover(due)
        self._image_urls.update(found)
        self.checkpoint()
        return found

    def _product(self, product_id: str) -> core.Product:
        index = self.__dict__.get("_products")
        if index is None:  # built once: setdefault would build it on every call
            index = self.__dict__["_products"] = {p.id: p for p in self.loaded.ctx.products}
        return index[product_id]

    # --- albums ----------------------------------------------------------------------------

    def _queue_album(self, link: ProductLink, op: core.ItemOp) -> None:
        if op.to_album_group and link.vk_item_id is not None:
            self._album_adds.setdefault(op.to_album_group, []).append(link.vk_item_id)
            self._moves[link.vk_item_id] = (op.from_album, link.evotor_product_id)

    @property
    def _moves(self) -> dict[int, tuple[int | None, str]]:
        return self.__dict__.setdefault("_move_map", {})

    def _album_writes(self, ops: list[core.AlbumOp]) -> None:
        creates = [op for op in ops if op.action == core.AlbumAction.CREATE]
        if creates:
            self._adopt_albums(creates)
        for start in range(0, len(ops), MAX_CALLS_PER_EXECUTE):
            window = ops[start : start + MAX_CALLS_PER_EXECUTE]
            chunk = [op for op in window if self._album_todo(op)]
            if not chunk:
                continue
            self._album_rows_before(chunk)
            results = self._run([self._album_call(op) for op in chunk])
            self._album_results(chunk, results)

    def _album_todo(self, op: core.AlbumOp) -> bool:
        if op.action != core.AlbumAction.CREATE:
            return True
        link = self.loaded.albums.get(op.group_id)
        return not self._albums_capped and (link is None or link.vk_album_id is None)

    def _adopt_albums(self, creates: list[core.AlbumOp]) -> None:
        """An album link without an id may mean a lost addAlbum reply: find it by title."""
        if not any(op.group_id in self.loaded.albums for op in creates):
            return
        by_title: dict[str, VkAlbum] = {a.title: a for a in self.client.get_albums(self.group_id)}
        for op in creates:
            link = self.loaded.albums.get(op.group_id)
            if link is not None and link.vk_album_id is None and op.title in by_title:
                link.vk_album_id = by_title[op.title].id
                link.save(update_fields=["vk_album_id", "updated_at"])

    def _album_rows_before(self, ops: list[core.AlbumOp]) -> None:
        for op in ops:
            if op.action == core.AlbumAction.CREATE and op.group_id not in self.loaded.albums:
                self.loaded.albums[op.group_id], _ = AlbumLink.objects.get_or_create(
                    user_id=self.user_id, vk_group_id=self.group_id, evotor_group_id=op.group_id,
                    defaults={"title": op.title[:128]},
                )

    def _album_call(self, op: core.AlbumOp) -> VkCall:
        link = self.loaded.albums.get(op.group_id)
        album_id = op.vk_album_id or (link.vk_album_id if link else None)
        if op.action == core.AlbumAction.CREATE:
            return calls.market_add_album(self.group_id, op.title[:128])
        if op.action == core.AlbumAction.RENAME:
            return calls.market_edit_album(self.group_id, album_id, op.title[:128])
        return calls.market_delete_album(self.group_id, album_id)

    def _album_results(self, ops: list[core.AlbumOp], results) -> None:
        stop = None
        for op, result in zip(ops, results, strict=True):
            link = self.loaded.albums.get(op.group_id)
            error = result.error
            if error is None or _nothing_to_change(error):
                self._album_ok(op, link, result.value)
            elif error.code == TOO_MANY_ALBUMS:
                self._albums_capped = True
                self._note("albums_capped")
            elif error.code == ALBUM_GONE and link is not None:
                link.delete()
                self.loaded.albums.pop(op.group_id, None)
            elif not isinstance(error, ItemError | TransientError):
                stop = stop or error
            else:
                log.info("album %s of user %s: %s", op.group_id, self.user_id, error)
        self.checkpoint()
        if stop is not None:
            raise stop

    def _album_ok(self, op: core.AlbumOp, link: AlbumLink | None, value) -> None:
        if link is None:
            return
        if op.action == core.AlbumAction.CREATE:
            link.vk_album_id, link.title = int(value), op.title[:128]
            link.save(update_fields=["vk_album_id", "title", "updated_at"])
        elif op.action == core.AlbumAction.RENAME:
            link.title = op.title[:128]
            link.save(update_fields=["title", "updated_at"])
        else:
            link.delete()
            self.loaded.albums.pop(op.group_id, None)

    def _album_membership(self) -> None:
        """Move the queued items into their albums (called at the end of every round, so the
        queue holds one round at most), then forget the queue."""
        queued, moves = self._album_adds, dict(self._moves)
        self._album_adds = {}
        self._moves.clear()
        removals = [
            calls.market_remove_from_album(self.group_id, item_id, [from_album])
            for item_id, (from_album, _pid) in moves.items()
            if from_album
        ]
        adds: list[tuple[str, list[int], VkCall]] = []
        for group_id, item_ids in queued.items():
            album = self.loaded.albums.get(group_id)
            if album is None or album.vk_album_id is None:
                continue
            for start in range(0, len(item_ids), ALBUM_ITEMS_PER_CALL):
                chunk = item_ids[start : start + ALBUM_ITEMS_PER_CALL]
                call = calls.market_add_to_album(self.group_id, chunk, [album.vk_album_id])
                adds.append((group_id, chunk, call))
        batch = removals + [call for _g, _i, call in adds]
        for start in range(0, len(batch), MAX_CALLS_PER_EXECUTE):
            results = self._run(batch[start : start + MAX_CALLS_PER_EXECUTE])
            done: list[tuple[str, list[int]]] = []
            for offset, result in enumerate(results):
                index = start + offset - len(removals)
                if index < 0:
                    continue
                group_id, chunk, _call = adds[index]
                if result.error is None or result.error.code == ALREADY_IN_ALBUM:
                    done.append((group_id, chunk))
                elif not isinstance(result.error, ItemError | TransientError):
                    raise result.error
                elif result.error.code == ALBUM_FULL:
                    self._note("album_full")
            self._remember_albums(done, moves)  # before the checkpoint, which may stop the run
            self.checkpoint()

    def _remember_albums(
        self, done: list[tuple[str, list[int]]], moves: dict[int, tuple[int | None, str]]
    ) -> None:
        joined = [
            (group_id, moves[item_id][1]) for group_id, item_ids in done for item_id in item_ids
        ]
        for start in range(0, len(joined), 1000):  # links let go of are read back 1,000 a time
            chunk = joined[start : start + 1000]
            self.loaded.links.require(product_id for _group, product_id in chunk)
            links = []
            for group_id, product_id in chunk:
                link = self.loaded.links[product_id]
                link.album_group_id = group_id
                link.published = {**link.published, "album_group_id": group_id}
                link.payload_hash = _rehash(link, self.settings)
                links.append(link)
            ProductLink.objects.bulk_update(
                links, ["album_group_id", "published", "payload_hash"], batch_size=500
            )
            self.loaded.links.forget(product_id for _group, product_id in chunk)

    # --- moderation ------------------------------------------------------------------------

    def _moderation(self) -> None:
        """Items VK moderation rejected are failures the merchant must see, every run."""
        if not self.loaded.rejected:
            return
        by_item = self.loaded.links.item_owners()
        rows = [
            self._error_row(by_item[item_id], "vk:moderation", reason)
            for item_id, reason in self.loaded.rejected.items()
            if item_id in by_item
        ]
        if rows:
            SyncItemError.objects.bulk_create(rows)
            self.tally.failed += len(rows)

    def _note(self, code: str) -> None:
        if code not in self.tally.notes:
            self.tally.notes.append(code)


def _fields(**values):
    from apps.connections.clients import VkItemFields

    return VkItemFields(**values)


def _nothing_to_change(error: ApiError) -> bool:
    return error.code == 100 and NOTHING_TO_CHANGE in (error.message or "")


def _rounds(ops: list, size: int) -> list[list]:
    return [ops[i : i + size] for i in range(0, len(ops), size)]


def _rehash(link: ProductLink, settings: core.SyncSettings) -> str:
    """The hash of what the item shows now, from the link's published values: an album the
    item has not joined yet keeps the hash different from the wanted one, so it is retried."""
    values = link.published
    payload = core.Payload(
        name=values.get("name") or "",
        description=values.get("description") or "",
        price=Decimal(values.get("price") or "0"),
        photo_key=values.get("photo_key") or "",
        stock_amount=values.get("stock_amount"),
        album_group_id=values.get("album_group_id"),
    )
    return transform.payload_hash(payload, transform.managed_fields(settings))
