"""Apply one Evotor change event (ProductEvent, ProductGroupEvent, StoreEvent) to the cache.

Evotor redelivers with exponential back-off, so an old "updated" can arrive after a newer one:
an event older than what the cache holds is ignored rather than rolling the product back.
One event carries one object, so an object that cannot be cached (ids longer than the columns,
numbers out of range) rejects the whole event: BadEvent, and nothing is written.

A product change, the bulk of the traffic (docs/evotor.md#product-change-webhook), is one
conditional UPDATE when the product is cached already: "this product, in this store, unless the
cache holds a newer version". The row lock it takes also orders two versions arriving at once.
Only when it matches nothing (a new product, a stale event, a product in another store) do the
separate staleness check, store lookup and upsert run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.catalog import rows
from apps.catalog.models import Product, ProductGroup, Store
from apps.catalog.services import upsert
from apps.catalog.signals import catalog_changed
from apps.connections.clients import parse_product, parse_product_group, parse_store
from apps.connections.clients.parsing import MalformedPayload

ACTIONS = {"created", "updated", "removed"}


class BadEvent(ValueError):
    """The event cannot be applied: its payload is not what Evotor documents."""


@dataclass(frozen=True)
class AppliedEvent:
    product_ids: list[str]
    changed: bool


def apply_event(user_id: int, event_type: str, action: str, payload: dict) -> AppliedEvent:
    """Raises BadEvent for a malformed payload; unknown types never reach here."""
    handler = {
        "ProductEvent": _product_event,
        "ProductGroupEvent": _group_event,
        "StoreEvent": _store_event,
    }[event_type]
    if action not in ACTIONS:
        raise BadEvent(f"unknown action {action!r}")
    try:
        # No savepoint inside a caller's transaction (the webhook's): a BadEvent leaves it
        # anyway, and the round trips count at hundreds of deliveries a second.
        with transaction.atomic(savepoint=False):
            applied = handler(user_id, action, payload)
    except (MalformedPayload, rows.UnstorableObject) as exc:
        raise BadEvent(str(exc)) from exc
    if applied.changed and applied.product_ids:
        transaction.on_commit(
            lambda: catalog_changed.send(Product, user_id=user_id, product_ids=applied.product_ids)
        )
    return applied


def _store_pk(user_id: int, store_id: Any) -> int:
    if not isinstance(store_id, str) or not store_id:
        raise BadEvent("payload has no store_id")
    rows.check_ids(store_id=store_id)
    # A change can arrive before the first refresh has cached the store; the next refresh names it.
    store, _ = Store.objects.get_or_create(
        user_id=user_id, evotor_id=store_id, defaults={"name": store_id}
    )
    return store.pk


def _is_stale(model, user_id: int, evotor_id: str, updated_at) -> bool:
    if updated_at is None:
        return False
    cached = (
        model.objects.filter(user_id=user_id, evotor_id=evotor_id)
        .values_list("evotor_updated_at", flat=True)
        .first()
    )
    return cached is not None and cached > updated_at


def _mark_removed(model, user_id: int, evotor_id: str) -> bool:
    return bool(
        model.objects.filter(user_id=user_id, evotor_id=evotor_id, removed_at__isnull=True).update(
            removed_at=timezone.now()
        )
    )


@cache
def _update_statement(vendor: str, fresh: bool) -> tuple[str, tuple]:
    """The UPDATE of :func:`_update_cached` and the fields it sets, from the models' metadata.

    Written out rather than built by the ORM on every delivery: compiling a 20-column UPDATE
    with a subquery costs several times the statement itself at hundreds of deliveries a
    second. ``vendor`` keys the quoting; ``fresh`` adds the "not newer in the cache" condition.
    """
    quote, product, store = connection.ops.quote_name, Product._meta, Store._meta
    fields = tuple(
        product.get_field(name) for name in rows.updatable_fields(Product) if name != "store"
    )

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    # Names from the models' metadata, every value a parameter (hence the noqa: S608).
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    store_key = f"{column(store, 'user')} = %s AND {column(store, 'evotor_id')} = %s"
    store_table, store_pk_column = quote(store.db_table), column(store, "id")
    store_pk = f"(SELECT {store_pk_column} FROM {store_table} WHERE {store_key})"  # noqa: S608
    where = (
        f"{column(product, 'user')} = %s AND {column(product, 'evotor_id')} = %s"
        f" AND {column(product, 'store')} = {store_pk}"
    )
    if fresh:  # as _is_stale: only a newer cached version wins
        updated_at = column(product, "evotor_updated_at")
        where += f" AND ({updated_at} IS NULL OR {updated_at} <= %s)"
    sql = f"UPDATE {quote(product.db_table)} SET {assignments} WHERE {where}"  # noqa: S608
    return sql, fields


def _update_cached(row: Product, store_id: str) -> bool:
    """Overwrite the cached product with ``row`` in one UPDATE if it is cached in the store
    ``store_id`` and not newer than ``row``. False when nothing matched."""
    stamp = row.evotor_updated_at
    sql, fields = _update_statement(connection.vendor, stamp is not None)
    # Values adapted as the ORM's UPDATE adapts them (JSON, decimals, time zones).
    params = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    params += [row.user_id, row.evotor_id, row.user_id, store_id]
    if stamp is not None:
        params.append(Product._meta.get_field("evotor_updated_at").get_db_prep_value(
            stamp, connection
        ))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Rows matched, changed or not: SQLite counts them so, MariaDB connections use FOUND_ROWS.
        return cursor.rowcount == 1


def _product_event(user_id: int, action: str, payload: dict) -> AppliedEvent:
    product = parse_product(payload)
    rows.check_ids(id=product.id, parent_id=product.parent_id)
    if action == "removed":
        return AppliedEvent([product.id], _mark_removed(Product, user_id, product.id))
    store_id = product.store_id or payload.get("store_id")
    row = rows.product_row(user_id, None, product, timezone.now())
    if isinstance(store_id, str) and 0 < len(store_id) <= rows.ID_LENGTH and _update_cached(
        row, store_id
    ):
        return AppliedEvent([product.id], True)
    if _is_stale(Product, user_id, product.id, product.updated_at):
        return AppliedEvent([product.id], False)
    row.store_id = _store_pk(user_id, store_id)
    upsert(Product, [row])
    return AppliedEvent([product.id], True)


def _group_event(user_id: int, action: str, payload: dict) -> AppliedEvent:
    group = parse_product_group(payload)
    rows.check_ids(id=group.id, parent_id=group.parent_id)
    if action == "removed":
        return AppliedEvent([], _mark_removed(ProductGroup, user_id, group.id))
    if _is_stale(ProductGroup, user_id, group.id, group.updated_at):
        return AppliedEvent([], False)
    store_pk = _store_pk(user_id, group.store_id or payload.get("store_id"))
    upsert(ProductGroup, [rows.group_row(user_id, store_pk, group, timezone.now())])
    return AppliedEvent([], True)


def _store_event(user_id: int, action: str, payload: dict) -> AppliedEvent:
    store = parse_store(payload)
    rows.check_ids(id=store.id)
    if action == "removed":
        return AppliedEvent([], _mark_removed(Store, user_id, store.id))
    existing = Store.objects.filter(user_id=user_id, evotor_id=store.id).first()
    marks = (existing.products_watermark, existing.groups_watermark) if existing else (None, None)
    upsert(Store, [rows.store_row(user_id, store, timezone.now(), marks)])
    return AppliedEvent([], True)
