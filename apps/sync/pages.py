"""What the sync pages show, computed from the database and the engine (no HTTP handling here).

The views stay thin: readiness checklist, VK categories (cached), which stores feed the
community, the description example, preview rows with old → new, and a run's failures grouped
by cause.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext

from apps.accounts.models import User
from apps.catalog.models import Product, Store
from apps.connections import providers
from apps.connections.clients import ApiError
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import VkConnection
from apps.connections.vk_tokens import ensure_fresh_vk_token
from apps.sync import explain, lease
from apps.sync.context import settings_of
from apps.sync.core import filters, text, transform
from apps.sync.core import types as core
from apps.sync.models import SyncConfig, SyncFilter, SyncItemError, SyncJob

log = logging.getLogger(__name__)

CATEGORY_CACHE_SECONDS = 24 * 60 * 60

# --- readiness -----------------------------------------------------------------------------------


def is_running(user: User, config: SyncConfig) -> bool:
    """A run holds the lease, or one of the merchant's jobs is still marked running."""
    return lease.is_running(config) or SyncJob.objects.filter(
        user=user, status=SyncJob.Status.RUNNING
    ).exists()


def latest_job(user: User) -> SyncJob | None:
    return SyncJob.objects.filter(user=user).first()


# --- VK categories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    section: str  # the path above the category, " › "-joined; "" at the top level


def _category_key(group_id: int) -> str:
    return f"sync:vk-categories:{group_id}"


def categories(connection: VkConnection | None) -> list[Category] | None:
    """The selectable (leaf) categories of market.getCategories, cached a day per community;
    None when VK cannot be asked (no connection) or refused."""
    if connection is None or connection.group_id is None:
        return None
    key = _category_key(connection.group_id)
    cached = cache.get(key)
    if cached is not None:
        return [Category(*row) for row in cached]
    try:
        connection = ensure_fresh_vk_token(connection)
        client = providers.vk_client(connection.access_token, interactive=True)
        found = client.get_categories()
    except (ApiError, TokenDecryptionError) as exc:
        log.info("VK categories of community %s unavailable: %s", connection.group_id, exc)
        return None
    rows = [
        (c.id, c.name, " › ".join(c.path[:-1])) for c in found if c.is_leaf and c.name
    ]
    if rows:
        cache.set(key, rows, CATEGORY_CACHE_SECONDS)
    return [Category(*row) for row in rows]


def category_choices(found: list[Category] | None, config: SyncConfig) -> list:
    """Choices for a <select> with an optgroup per section; the saved one stays choosable."""
    blank = ("", _("— choose a category —"))
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for category in found or ():
        groups[category.section].append((category.id, category.name))
    known = {c.id for c in found or ()}
    if config.vk_category_id and config.vk_category_id not in known:
        saved = config.vk_category_name or str(config.vk_category_id)
        groups[_("Chosen earlier")].append((config.vk_category_id, saved))
    return [blank, *((section or _("Other"), items) for section, items in groups.items())]


# --- stores --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreChoice:
    id: str  # Evotor id
    name: str
    published: bool
    included: bool  # an include filter names it


def stores(config: SyncConfig) -> list[StoreChoice]:
    """The merchant's stores in name order, each with whether it feeds the community now.

    Decided by the engine's own filter code: one stand-in product per store and only the
    store filters, so the page can never disagree with a run.
    """
    rows = list(
        Store.objects.filter(user_id=config.user_id, removed_at__isnull=True)
        .order_by("name", "evotor_id")
        .values_list("evotor_id", "name")
    )
    modes = dict(
        SyncFilter.objects.filter(config=config, entity_type=SyncFilter.EntityType.STORE)
        .values_list("entity_id", "filter_mode")
    )
    ctx = core.SyncContext(
        settings=core.SyncSettings(category_id=0),
        stores=tuple(core.Store(evotor_id, name) for evotor_id, name in rows),
        groups=(),
        products=tuple(
            core.Product(id=evotor_id, store_id=evotor_id, name=name, price=None)
            for evotor_id, name in rows
        ),
        filters=tuple(
            core.Filter(core.FilterType.STORE, entity_id, core.FilterMode(mode))
            for entity_id, mode in modes.items()
        ),
    )
    decisions = filters.decide(ctx)
    return [
        StoreChoice(evotor_id, name, decisions[evotor_id].included,
                    modes.get(evotor_id) == SyncFilter.Mode.INCLUDE)
        for evotor_id, name in rows
    ]


def default_store(choices: list[StoreChoice]) -> StoreChoice | None:
    """The store published when none is chosen: the first by name (core.filters)."""
    first = filters.default_store_id(core.Store(c.id, c.name) for c in choices)
    return next((c for c in choices if c.id == first), None)


def included_store_names(config: SyncConfig) -> str:
    """The stores an include filter names, for the audit log ("" = the default store)."""
    return ", ".join(sorted(
        SyncFilter.objects.filter(config=config, entity_type=SyncFilter.EntityType.STORE,
                                  filter_mode=SyncFilter.Mode.INCLUDE)
        .values_list("entity_name", flat=True)
    ))


@transaction.atomic
def save_stores(config: SyncConfig, chosen: list[str], names: dict[str, str]) -> None:
    """Include exactly the chosen stores; none chosen: no include filter (the default store).
    A store excluded elsewhere and chosen here is included: the merchant said so last."""
    store_filters = SyncFilter.objects.filter(config=config,
                                              entity_type=SyncFilter.EntityType.STORE)
    store_filters.filter(filter_mode=SyncFilter.Mode.INCLUDE).exclude(
        entity_id__in=chosen
    ).delete()
    for evotor_id in chosen:
        SyncFilter.objects.update_or_create(
            config=config, entity_type=SyncFilter.EntityType.STORE, entity_id=evotor_id,
            defaults={"filter_mode": SyncFilter.Mode.INCLUDE,
                      "entity_name": names.get(evotor_id, "")[:255]},
        )


# --- the description example ---------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    product: str  # the sample product's name
    price: str  # "1 299 ₽"
    description: str
    warnings: list[str] = field(default_factory=list)


def sample_product(user: User) -> tuple[core.Product, str] | None:
    """One of the merchant's own products for the example: one with a description and a
    price if there is one, and not excluded itself or by its own group (a cheap check: nested
    groups and stores are left to the preview)."""
    excluded = _excluded_ids(user)
    products = (
        Product.objects.filter(user=user, removed_at__isnull=True)
        .exclude(group_evotor_id__in=excluded["group"])
        .exclude(evotor_id__in=excluded["product"])
        .select_related("store")
    )
    row = (
        products.exclude(description="").filter(price__gt=0).order_by("name").first()
        or products.filter(price__gt=0).order_by("name").first()
        or products.order_by("name").first()
    )
    if row is None:
        return None
    product = core.Product(
        id=row.evotor_id, store_id=row.store.evotor_id, name=row.name, price=row.price,
        group_id=row.group_evotor_id or None, quantity=row.quantity,
        measure_name=row.measure_name, type=row.type, description=row.description,
        article=row.article_number, code=row.code,
    )
    return product, row.store.name


def _excluded_ids(user: User) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    rows = SyncFilter.objects.filter(
        config__user=user, filter_mode=SyncFilter.Mode.EXCLUDE,
        entity_type__in=[SyncFilter.EntityType.GROUP, SyncFilter.EntityType.PRODUCT],
    ).values_list("entity_type", "entity_id")
    for kind, entity_id in rows:
        found[kind].append(entity_id)
    return found


def template_warnings(template: str) -> list[str]:
    found = []
    if text.has_outside_link(template):
        found.append(_("The template holds a web address. VK refuses links in descriptions "
                       "(error 1408), so EvoSync removes them."))
    unknown = sorted(set(_UNKNOWN_RE.findall(template)) - set(PLACEHOLDERS))
    if unknown:
        found.append(_("Not a placeholder, shown as typed: %(names)s. Available: %(known)s.")
                     % {"names": ", ".join(f"{{{n}}}" for n in unknown),
                        "known": ", ".join(f"{{{n}}}" for n in PLACEHOLDERS)})
    return found


PLACEHOLDERS = ("name", "price", "measure", "article", "description", "store")
_UNKNOWN_RE = re.compile(r"\{([A-Za-z_]\w*)\}")


def example(user: User, settings: core.SyncSettings) -> Example | None:
    """The description (and price) one of the merchant's products would get in VK."""
    sample = sample_product(user)
    if sample is None:
        return None
    product, store_name = sample
    warnings = template_warnings(settings.description_template)
    if product.price is None or product.price <= 0:
        price = Decimal(0)
    else:
        price = transform.vk_price(product.price, settings)
    if text.has_outside_link(product.description):
        warnings.append(_("This product's description in Evotor holds a web address: EvoSync "
                          "removes it."))
    return Example(
        product=product.name,
        price=f"{transform.format_price(price)} ₽{transform.unit_suffix(product)}",
        description=transform.description(product, store_name, price, settings),
        warnings=warnings,
    )


def settings_with(config: SyncConfig, values: dict) -> core.SyncSettings:
    """The saved settings with the form's (valid) price and template values over them."""
    base = settings_of(config)
    changes = {}
    for name in ("markup_percent", "min_price", "description_template"):
        if name in values and values[name] is not None:
            changes[name] = values[name]
    if values.get("rounding"):
        changes["rounding"] = core.Rounding(values["rounding"])
    return replace(base, **changes)


# --- preview -------------------------------------------------------------------------------------

# What the preview lists, in this order; UNCHANGED and SKIP are only counted.
PREVIEW_ACTIONS = (
    core.Action.CREATE, core.Action.UPDATE, core.Action.SHOW, core.Action.HIDE,
    core.Action.DELETE, core.Action.INVALID,
)
OTHER_ACTIONS = (core.Action.MOVE_ALBUM, core.Action.ADOPT, core.Action.DELETE_DUPLICATE)


@dataclass
class Change:
    field: str  # translated field name
    old: str
    new: str


@dataclass
class PreviewRow:
    action: str
    product_id: str
    name: str
    product_pk: int | None = None
    reason: str = ""
    changes: list[Change] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return action_label(self.action)


def field_label(key: str) -> str:
    return {
        "name": _("name"), "description": _("description"), "price": _("price"),
        "photo_key": _("photo"), "stock_amount": _("stock"), "album_group_id": _("collection"),
    }.get(key, key)


def _shown(key: str, value, groups: dict[str, str]) -> str:
    if value is None or value == "":
        return "—"
    if key == "price":
        return f"{transform.format_price(Decimal(str(value)))} ₽"
    if key == "photo_key":
        return _("current picture")
    if key == "album_group_id":
        return groups.get(str(value), str(value))
    return str(value)


def _changes(op: core.ItemOp, groups: dict[str, str]) -> list[Change]:
    new = transform.published_values(op.payload) if op.payload is not None else {}
    if op.action == core.Action.CREATE and new:
        return [Change(field_label("price"), "", _shown("price", new.get("price"), groups))]
    result = []
    for key in op.changes:
        after = _shown(key, new.get(key), groups)
        if key == "photo_key":
            after = _("new picture")
        result.append(Change(field_label(key), _shown(key, op.old.get(key), groups), after))
    return result


def preview_rows(ops: list[core.ItemOp], names: dict[str, str], groups: dict[str, str],
                 user: User) -> list[PreviewRow]:
    """Rows for one page of ops; product pages looked up in one query."""
    pks = product_pks(user, [op.product_id for op in ops])
    return [
        PreviewRow(
            action=op.action.value,
            product_id=op.product_id,
            name=names.get(op.product_id) or op.product_id,
            product_pk=pks.get(op.product_id),
            reason=explain.reason(op.reason) if op.action == core.Action.INVALID
            or op.reason != core.Reason.PUBLISHED else "",
            changes=_changes(op, groups),
        )
        for op in ops
    ]


def product_pks(user: User, evotor_ids: list[str]) -> dict[str, int]:
    if not evotor_ids:
        return {}
    return dict(
        Product.objects.filter(user=user, evotor_id__in=set(evotor_ids))
        .values_list("evotor_id", "pk")
    )


# --- a run's failures ----------------------------------------------------------------------------


@dataclass
class FailedItem:
    product_id: str
    name: str
    message: str
    product_pk: int | None = None


@dataclass
class ErrorGroup:
    key: str
    explanation: explain.Explanation
    items: list[FailedItem] = field(default_factory=list)


def error_groups(job: SyncJob) -> list[ErrorGroup]:
    """The run's item errors grouped by cause, the largest group first."""
    rows = list(
        SyncItemError.objects.filter(job=job).values_list(
            "evotor_product_id", "product_name", "code", "message"
        )
    )
    pks = product_pks(job.user, [row[0] for row in rows])
    groups: dict[str, ErrorGroup] = {}
    for product_id, name, code, message in rows:
        key = explain.cause_key(code, message)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ErrorGroup(key, explain.item_error(code, message))
        group.items.append(FailedItem(product_id, name or product_id, _detail(code, message),
                                      pks.get(product_id)))
    return sorted(groups.values(), key=lambda g: -len(g.items))


def _detail(code: str, message: str) -> str:
    """VK's own words are shown only for moderation (they are the merchant's to read)."""
    return message if code == "vk:moderation" else ""


def failed_product_ids(job: SyncJob) -> list[str]:
    return sorted(set(
        SyncItemError.objects.filter(job=job).values_list("evotor_product_id", flat=True)
    ))


# --- numbers -------------------------------------------------------------------------------------


def duration_text(duration: timedelta | None) -> str:
    """A run's length as a person says it: "less than a second", "42 s", "2 min 5 s", "1 h 3 min"
    (the abbreviations do not decline, so no plural forms are needed)."""
    if duration is None:
        return ""
    seconds = max(int(duration.total_seconds()), 0)
    if seconds == 0:
        return _("less than a second")
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return (_("%(h)d h %(m)d min") if minutes else _("%(h)d h")) % {"h": hours, "m": minutes}
    if minutes:
        return (_("%(m)d min %(s)d s") if seconds else _("%(m)d min")) % {"m": minutes,
                                                                          "s": seconds}
    return _("%(s)d s") % {"s": seconds}


# What a run did, in the order the run page and the history show it: (field, words for a count).
# Each label agrees with its number ("1 item created", "5 items created"; in Russian «1 товар
# создан», «2 товара создано», «5 товаров создано»), so it is chosen with ngettext per count.
RUN_COUNTS = ("created", "updated", "hidden", "deleted", "skipped", "failed")


def run_count_label(name: str, count: int) -> str:
    # A context: "error" alone is a different message elsewhere (a state's name).
    forms = {
        "created": npgettext("run count", "item created", "items created", count),
        "updated": npgettext("run count", "item updated", "items updated", count),
        "hidden": npgettext("run count", "item hidden", "items hidden", count),
        "deleted": npgettext("run count", "item deleted", "items deleted", count),
        "skipped": npgettext("run count", "item skipped", "items skipped", count),
        "failed": npgettext("run count", "error", "errors", count),
    }
    return forms[name]


def run_counts(job: SyncJob) -> list[dict]:
    """The run's counts with their words, for the run page's tiles and the progress JSON."""
    return [
        {"name": name, "count": count, "label": run_count_label(name, count)}
        for name in RUN_COUNTS
        for count in (getattr(job, f"items_{name}"),)
    ]


def run_summary(job: SyncJob) -> list[tuple[str, bool]]:
    """The history's line for a run, as (words, is an error) parts: the counts that are not
    zero ("5 items created", "2 errors"), then, for a run that succeeded plainly, "no errors"
    (or "nothing changed" when it wrote nothing). A run that stopped has its reason shown
    beside its status instead."""
    parts = [(f"{c['count']} {c['label']}", c["name"] == "failed")
             for c in run_counts(job) if c["count"]]
    if job.status != SyncJob.Status.SUCCESS or job.error_code:
        return parts
    return [*parts, (str(_("no errors")) if parts else str(_("nothing changed")), False)]


def progress(job: SyncJob) -> dict:
    """The JSON the run page polls."""
    done, total = job.progress_done, job.progress_total
    finished = job.is_finished
    percent = 100 if finished else (min(100, round(done * 100 / total)) if total else 0)
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "finished": finished,
        "done": done,
        "total": total,
        "percent": percent,
        "counts": {c["name"]: c["count"] for c in run_counts(job)},
        "labels": {c["name"]: c["label"] for c in run_counts(job)},
    }


def action_label(action: str) -> str:
    return {
        "create": _("will be created"), "update": _("will be updated"),
        "show": _("will be shown again"), "hide": _("will be hidden"),
        "delete": _("will be deleted"), "invalid": _("cannot be published"),
        "unchanged": _("unchanged"), "move_album": _("change collection"),
        "adopt": _("found in VK, linked"), "delete_duplicate": _("duplicates to delete"),
    }.get(action, action)


_TONES = {"create": "success", "update": "primary", "show": "info", "hide": "secondary",
          "delete": "danger", "invalid": "warning"}


def planned_label(action: str, count: int) -> str:
    """The words under a preview tile's number, agreeing with it («1 товар будет создан»,
    «5 товаров будет создано»)."""
    forms = {
        "create": ngettext("item will be created", "items will be created", count),
        "update": ngettext("item will be updated", "items will be updated", count),
        "show": ngettext("item will be shown again", "items will be shown again", count),
        "hide": ngettext("item will be hidden", "items will be hidden", count),
        "delete": ngettext("item will be deleted", "items will be deleted", count),
        "invalid": ngettext("product cannot be published", "products cannot be published",
                            count),
    }
    return forms.get(action) or action_label(action)


def count_tiles(counts: dict[str, int]) -> list[dict]:
    """The preview's counts as tiles, in the order the page lists the actions: ``label`` names
    the kind (the filter pills), ``count_label`` goes with the number."""
    return [
        {"name": action.value, "label": action_label(action.value),
         "count_label": planned_label(action.value, counts.get(action.value, 0)),
         "tone": _TONES.get(action.value, "body"), "count": counts.get(action.value, 0)}
        for action in PREVIEW_ACTIONS
    ]
