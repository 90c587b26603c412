"""Catalog refresh: read the merchant's Evotor catalog and make the cache match it.

Everything is fetched first and applied in one transaction, so a failure on any page leaves the
previous cache exactly as it was (and the run records why). Rows are bulk-upserted in batches
(``bulk_create(update_conflicts=True)``: ON CONFLICT on SQLite, ON DUPLICATE KEY on MariaDB);
every row written gets the run's ``fetched_at`` stamp, so after a *full* refresh whatever still
has an older stamp is gone from Evotor and is marked removed in one UPDATE per table.

Incremental runs ask Evotor only for what changed since each store's watermark (the highest
``updated_at`` seen). ``since`` never reports deletions, hence a full run at least daily.

One refresh per merchant at a time: a run holds the merchant's RefreshLease, claimed, renewed
and released with conditional UPDATEs (the row count says who won), the same mechanism as the
sync's lease. The lease expires if its holder dies; the next run that claims it marks the dead
run's record failed. The pages' "refreshing now" reads the same lease (browse.refresh_status).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db import connection as db_connection
from django.utils import timezone

from apps.catalog import rows
from apps.catalog.models import CatalogRefresh, Product, ProductGroup, RefreshLease, Store
from apps.catalog.signals import catalog_changed
from apps.connections import providers
from apps.connections.clients import (
    ApiError,
    AuthError,
    EvotorClient,
    EvotorProduct,
    EvotorProductGroup,
    EvotorStore,
    PaymentRequiredError,
)
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import ConnectionState, EvotorConnection
from apps.connections.services import set_state

logger = logging.getLogger(__name__)

FULL_REFRESH_EVERY = timedelta(hours=24)
BATCH_SIZE = 1000
# A run renews its lease as it fetches (at most every RENEW_AFTER): a killed worker delays the
# merchant's next refresh by at most LEASE_DURATION.
LEASE_DURATION = timedelta(minutes=10)
RENEW_AFTER = timedelta(seconds=60)
INTERRUPTED = "interrupted: the process running this refresh stopped before it finished"


class RefreshSkipped(Exception):
    """No refresh ran: no usable Evotor connection, or one is already running."""


class LeaseLost(Exception):
    """The run's lease expired and another run took it: this one must not write."""


@dataclass
class FetchedStore:
    store: EvotorStore
    groups: list[EvotorProductGroup] = field(default_factory=list)
    products: list[EvotorProduct] = field(default_factory=list)


@dataclass
class Fetched:
    stores: list[FetchedStore] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def usable_connection(user) -> EvotorConnection:
    connection = EvotorConnection.objects.filter(user=user).first()
    if connection is None or not connection.is_usable:
        raise RefreshSkipped("no usable Evotor connection")
    return connection


def claim_lease(user_id: int, owner: str, *, now: datetime | None = None) -> bool:
    """Take the merchant's refresh lease if it is free or expired. True: the caller holds it."""
    now = now or timezone.now()
    expires_at = now + LEASE_DURATION
    won = RefreshLease.objects.free(now).filter(pk=user_id).update(
        owner=owner, expires_at=expires_at
    )
    if won == 1:
        return True
    if RefreshLease.objects.filter(pk=user_id).exists():
        return False
    try:  # the merchant's first refresh: the row is created already claimed
        with transaction.atomic():
            RefreshLease.objects.create(user_id=user_id, owner=owner, expires_at=expires_at)
    except IntegrityError:  # another run created it first, and holds it
        return False
    return True


def renew_lease(user_id: int, owner: str, *, now: datetime | None = None) -> bool:
    """Extend the lease; False when it was lost (expired and claimed by another run)."""
    now = now or timezone.now()
    kept = RefreshLease.objects.filter(pk=user_id, owner=owner).update(
        expires_at=now + LEASE_DURATION
    )
    return kept == 1


def release_lease(user_id: int, owner: str) -> None:
    """Give the lease back; only its holder can (a run that lost it releases nothing)."""
    RefreshLease.objects.filter(pk=user_id, owner=owner).update(owner="", expires_at=None)


def refresh_catalog(user, *, full: bool = False, client: EvotorClient | None = None):
    """Refresh one merchant's cache; returns the CatalogRefresh record of the run.

    Raises RefreshSkipped when there is nothing to do. Provider errors do not raise: they are
    recorded on the run, and an authorisation error marks the Evotor connection revoked.
    """
    connection = usable_connection(user)
    owner = secrets.token_hex(16)
    if not claim_lease(user.pk, owner):
        raise RefreshSkipped("a refresh is already running")
    try:
        # We hold the lease, so no other run is alive: one still marked running died.
        CatalogRefresh.objects.filter(user=user, status=CatalogRefresh.Status.RUNNING).update(
            status=CatalogRefresh.Status.FAILED, error=INTERRUPTED, finished_at=timezone.now()
        )
        full = full or _full_refresh_due(user)
        run = CatalogRefresh.objects.create(user=user, full=full)
        _run(run, connection, client, full, _heartbeat(user.pk, owner))
        return run
    finally:
        release_lease(user.pk, owner)


def _heartbeat(user_id: int, owner: str) -> Callable[[], None]:
    """Renews the lease (when RENEW_AFTER has passed); raises LeaseLost once it is gone."""
    renewed = timezone.now()

    def beat(force: bool = False) -> None:
        nonlocal renewed
        now = timezone.now()
        if not force and now - renewed < RENEW_AFTER:
            return
        if not renew_lease(user_id, owner, now=now):
            raise LeaseLost("the refresh took too long and another run took over")
        renewed = now

    return beat


def _full_refresh_due(user) -> bool:
    last_full = (
        CatalogRefresh.objects.filter(user=user, full=True, status=CatalogRefresh.Status.SUCCESS)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return last_full is None or timezone.now() - last_full >= FULL_REFRESH_EVERY


def _run(run: CatalogRefresh, connection: EvotorConnection, client, full: bool, beat) -> None:
    try:
        client = client or providers.evotor_client(connection.cloud_token)
        watermarks = {} if full else _watermarks(run.user_id)
        fetched = fetch_catalog(client, watermarks, heartbeat=beat)
        beat(force=True)  # still ours: apply (a run that lost the lease writes nothing)
        apply_catalog(run, fetched, watermarks)
        run.status = CatalogRefresh.Status.SUCCESS
    except (AuthError, PaymentRequiredError, TokenDecryptionError) as exc:
        _fail(run, exc)
        set_state(connection, ConnectionState.REVOKED, str(exc))
    except (ApiError, LeaseLost) as exc:
        _fail(run, exc)
    except Exception as exc:  # a bug or a database error: recorded, then raised
        _fail(run, exc)
        raise
    finally:
        if client is not None:
            run.evotor_requests = client.requests_made
        run.finished_at = timezone.now()
        run.save()
    if run.status == CatalogRefresh.Status.SUCCESS and (run.products or run.removed):
        catalog_changed.send(CatalogRefresh, user_id=run.user_id, product_ids=[])


def _fail(run: CatalogRefresh, exc: Exception) -> None:
    run.status = CatalogRefresh.Status.FAILED
    run.error = str(exc)[:2000]
    logger.warning("catalog refresh %s for user %s failed: %s", run.pk, run.user_id, run.error)


def _watermarks(user_id: int) -> dict[str, tuple[datetime | None, datetime | None]]:
    return {
        evotor_id: (products, groups)
        for evotor_id, products, groups in Store.objects.filter(user_id=user_id).values_list(
            "evotor_id", "products_watermark", "groups_watermark"
        )
    }


def fetch_catalog(
    client: EvotorClient, watermarks: dict, *, heartbeat: Callable[[], None] | None = None
) -> Fetched:
    """Every store with its groups and products (only changes where a watermark is known).

    ``heartbeat`` is called after every page (the refresh renews its lease there).
    """
    beat = heartbeat or (lambda: None)
    fetched = Fetched()
    for page in client.iter_store_pages():
        fetched.skipped.extend(page.skipped)
        beat()
        for store in page.items:
            products_since, groups_since = watermarks.get(store.id, (None, None))
            entry = FetchedStore(store)
            for group_page in client.iter_product_group_pages(store.id, since=groups_since):
                entry.groups.extend(group_page.items)
                fetched.skipped.extend(group_page.skipped)
                beat()
            for product_page in client.iter_product_pages(store.id, since=products_since):
                entry.products.extend(product_page.items)
                fetched.skipped.extend(product_page.skipped)
                beat()
            fetched.stores.append(entry)
    return fetched


def _newest(current: datetime | None, objects) -> datetime | None:
    stamps = [o.updated_at for o in objects if o.updated_at is not None]
    if current is not None:
        stamps.append(current)
    return max(stamps, default=None)


@transaction.atomic
def apply_catalog(run: CatalogRefresh, fetched: Fetched, previous: dict) -> None:
    """``previous``: the watermarks the fetch used (empty on a full run)."""
    user_id, started, full = run.user_id, run.started_at, run.full
    stores = []
    for entry in fetched.stores:
        old_products, old_groups = previous.get(entry.store.id, (None, None))
        marks = (_newest(old_products, entry.products), _newest(old_groups, entry.groups))
        stores.append((entry.store, marks))
    run.stores, removed_stores = _write(
        Store, user_id, stores, lambda item, now: rows.store_row(user_id, item[0], now, item[1]),
        key=lambda item: item[0], full=full, started=started,
    )
    store_pks = dict(Store.objects.filter(user_id=user_id).values_list("evotor_id", "pk"))
    groups = [(store_pks[e.store.id], g) for e in fetched.stores for g in e.groups]
    run.groups, _ = _write(
        ProductGroup, user_id, groups, lambda item, now: rows.group_row(user_id, *item, now),
        key=lambda item: item[1], full=full, started=started,
    )
    products = [(store_pks[e.store.id], p) for e in fetched.stores for p in e.products]
    run.products, run.removed = _write(
        Product, user_id, products, lambda item, now: rows.product_row(user_id, *item, now),
        key=lambda item: item[1], full=full, started=started, skipped=fetched.skipped,
    )
    run.skipped = len(fetched.skipped)


def _write(model, user_id, items, make_row, *, key, full, started, skipped=None):
    """Upsert one table's ``items``; on a full run mark the rest removed. -> (written, removed)

    Never writes an object older than the cached one (a webhook may have brought a newer version
    while we were fetching), and never marks removed a row written after the run started.
    """
    latest = _newest_per_id(items, key)
    cached = model.objects.select_for_update().filter(user_id=user_id)
    if not full:
        cached = cached.filter(evotor_id__in=list(latest))
    known = {
        evotor_id: (updated_at, removed_at)
        for evotor_id, updated_at, removed_at in cached.values_list(
            "evotor_id", "evotor_updated_at", "removed_at"
        )
    }
    now, to_write = timezone.now(), []
    for evotor_id, item in latest.items():
        if evotor_id in known and _older(key(item).updated_at, known[evotor_id][0]):
            continue
        try:
            to_write.append(make_row(item, now))
        except rows.UnstorableProduct as exc:
            skipped.append(f"{evotor_id}: {exc}")
    upsert(model, to_write)
    if not full:
        return len(to_write), 0
    gone = [eid for eid, (_, gone_at) in known.items() if gone_at is None and eid not in latest]
    return len(to_write), _mark_removed(model, user_id, sorted(gone), started, now)


def _newest_per_id(items, key) -> dict:
    """A cursor race can repeat an object across pages: keep its newest version."""
    latest: dict = {}
    for item in items:
        obj = key(item)
        if obj.id not in latest or _older(key(latest[obj.id]).updated_at, obj.updated_at):
            latest[obj.id] = item
    return latest


def _mark_removed(model, user_id: int, evotor_ids: list[str], started, now) -> int:
    removed = 0
    for start in range(0, len(evotor_ids), BATCH_SIZE):
        removed += model.objects.filter(
            user_id=user_id,
            evotor_id__in=evotor_ids[start : start + BATCH_SIZE],
            removed_at__isnull=True,
            fetched_at__lt=started,
        ).update(removed_at=now)
    return removed


def _older(candidate: datetime | None, than: datetime | None) -> bool:
    return candidate is not None and than is not None and candidate < than


def upsert(model: type[models.Model], objects: list) -> None:
    """Insert or update by (user, evotor_id), in batches."""
    if not objects:
        return
    options = {"update_conflicts": True, "update_fields": rows.updatable_fields(model)}
    if db_connection.features.supports_update_conflicts_with_target:
        options["unique_fields"] = ["user", "evotor_id"]  # MariaDB infers it from the unique key
    for start in range(0, len(objects), BATCH_SIZE):
        model.objects.bulk_create(objects[start : start + BATCH_SIZE], **options)
