"""groups.getById, groups.get and market.getCategories (docs/vk.md#categories,
docs/vk.md#communities)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from apps.sandbox.models import VkAlbum, VkGroup, VkGroupManager, VkToken

from . import vk_objects
from .vk_categories import category_tree
from .vk_common import VkContext
from .vk_errors import VkApiError, param
from .vk_ids import ALBUM

# groups.getById answers {"groups", "profiles"} from 5.199 on; older versions got a bare array.
OBJECT_REPLY_SINCE = (5, 199)
GROUPS_GET_MAX = 1000
# "club123" / "public123" / "event123" are VK's default screen names for a community id.
_DEFAULT_SCREEN_NAME = re.compile(r"^(?:club|public|event)(\d+)$")
ADMIN_FILTERS = {"admin": 3, "editor": 2, "moder": 1}


def get_by_id(ctx: VkContext) -> Any:
    """Ids or screen names in ``group_ids`` / ``group_id``; 100 for one that does not exist."""
    refs = ctx.params.str_list("group_ids") or ctx.params.str_list("group_id")
    if not refs:
        raise param("group_ids", "is undefined")
    groups = [_resolve(ref) for ref in refs]
    fields = set(ctx.params.str_list("fields"))
    levels = _levels(ctx.token, groups)
    main_albums = _main_albums(groups) if "market" in fields else {}
    rendered = [
        vk_objects.group_json(
            group,
            fields=fields,
            admin_level=levels.get(group.pk, 0),
            main_album_id=main_albums.get(group.pk),
        )
        for group in groups
    ]
    if ctx.version < OBJECT_REPLY_SINCE:
        return rendered
    return {"groups": rendered, "profiles": []}


def _resolve(ref: str) -> VkGroup:
    ref = ref.strip().lstrip("-")
    match = _DEFAULT_SCREEN_NAME.match(ref)
    lookup = ref if not match else match.group(1)
    if lookup.isdigit():
        group = VkGroup.objects.filter(vk_id=int(lookup)).first()
    else:
        group = VkGroup.objects.filter(screen_name=lookup).first()
    if group is None:
        raise param("group_ids")
    return group


def _levels(token: VkToken, groups: list[VkGroup]) -> dict[int, int]:
    if token.user_id is None:
        return {}
    rows = VkGroupManager.objects.filter(user_id=token.user_id, group__in=groups)
    return dict(rows.values_list("group_id", "admin_level"))


def _main_albums(groups: list[VkGroup]) -> dict[int, int]:
    rows = VkAlbum.objects.filter(group__in=groups, is_main=True).values_list("group_id", "pk")
    return {group_pk: ALBUM.public(album_pk) for group_pk, album_pk in rows}


def get_groups(ctx: VkContext) -> dict[str, Any]:
    """groups.get for the token's user; ``filter=admin`` needs the ``groups`` scope (7)."""
    params = ctx.params
    filters = set(params.str_list("filter"))
    managed = VkGroupManager.objects.filter(user_id=ctx.token.user_id)
    wanted_levels = [ADMIN_FILTERS[f] for f in filters if f in ADMIN_FILTERS]
    if wanted_levels:
        if not ctx.token.has_scope("groups"):
            raise VkApiError(7)
        managed = managed.filter(Q(admin_level__gte=min(wanted_levels)))
    count = params.int("count", default=GROUPS_GET_MAX, minimum=0, maximum=GROUPS_GET_MAX)
    offset = params.int("offset", default=0, minimum=0)
    rows = managed.select_related("group").order_by("group__vk_id")
    total = rows.count()
    page = list(rows[offset : offset + count])
    if not params.flag("extended"):
        return {"count": total, "items": [row.group.vk_id for row in page]}
    fields = set(params.str_list("fields"))
    groups = [row.group for row in page]
    main_albums = _main_albums(groups) if "market" in fields else {}
    items = [
        vk_objects.group_json(
            row.group,
            fields=fields,
            admin_level=row.admin_level,
            main_album_id=main_albums.get(row.group.pk),
        )
        for row in page
    ]
    return {"count": total, "items": items}


def get_categories(ctx: VkContext) -> dict[str, Any]:
    """The 5.199 tree; ``count``/``offset`` of the old flat API are accepted and ignored."""
    return category_tree()
