"""groups.getById, groups.get and market.getCategories (docs/vk.md#categories,
docs/vk.md#communities)."""

from __future__ import annotations

from apps.sandbox.services.world import make_vk_community, make_vk_token, make_vk_user


def test_get_by_id_with_market_answers_groups_and_profiles(api, vk):
    body = api.ok("groups.getById", group_id=vk.group_id, fields="market,description")

    assert set(body) == {"groups", "profiles"}
    [group] = body["groups"]
    assert group["id"] == vk.group_id and group["name"] == "Кофейня у Ленина"
    assert group["screen_name"] == f"club{vk.group_id}"
    assert (group["is_admin"], group["admin_level"], group["is_closed"], group["type"]) == (
        1,
        3,
        0,
        "group",
    )
    assert group["market"]["enabled"] == 1
    assert group["market"]["currency"] == {"id": 643, "name": "RUB", "title": "₽"}
    assert "description" in group


def test_get_by_id_by_screen_name_and_old_versions_get_an_array(api, vk):
    body = api.ok("groups.getById", group_ids=f"club{vk.group_id}", v="5.131")

    assert isinstance(body, list) and body[0]["id"] == vk.group_id


def test_a_disabled_market_shows_enabled_0_and_a_stranger_is_no_admin(api, vk):
    vk.group.market_enabled = False
    vk.group.save()
    stranger = make_vk_token(user=make_vk_user()).token

    [group] = api.ok("groups.getById", token=stranger, group_id=vk.group_id, fields="market")[
        "groups"
    ]

    assert group["market"] == {"enabled": 0}
    assert group["is_admin"] == 0 and "admin_level" not in group


def test_get_by_id_of_an_unknown_community_is_100(api):
    error = api.error("groups.getById", group_id="no_such_screen_name")

    assert error["error_code"] == 100


def test_get_by_id_works_with_a_community_token_but_not_without_one(api, vk):
    community = make_vk_token(group=vk.group).token

    assert api.ok("groups.getById", token=community, group_id=vk.group_id)["groups"]
    assert api.error("groups.getById", token=None, group_id=vk.group_id)["error_code"] == 15


def test_groups_get_admin_lists_managed_communities_with_market(api, vk):
    make_vk_community(name="Чужое")  # not managed: not listed
    editor_of = make_vk_community(name="Где я редактор", manager=vk.user, admin_level=2)

    admin_only = api.ok("groups.get", filter="admin", extended=1, fields="market")
    editor = api.ok("groups.get", filter="editor", extended=1, fields="market")

    assert admin_only["count"] == 1 and admin_only["items"][0]["market"]["enabled"] == 1
    assert {g["id"] for g in editor["items"]} == {vk.group_id, editor_of.vk_id}
    assert api.ok("groups.get", filter="admin")["items"] == [vk.group_id]


def test_groups_get_admin_needs_the_groups_scope(api, vk):
    token = make_vk_token(user=vk.user, scopes="market").token

    error = api.error("groups.get", token=token, filter="admin")

    assert (error["error_code"], error["error_msg"]) == (
        7,
        "Permission to perform this action is denied",
    )


def test_categories_are_a_tree_with_known_ids(api):
    body = api.ok("market.getCategories", count=1000, offset=0)

    sections = body["items"]
    children = {c["id"]: c["name"] for s in sections for c in s["children"]}
    assert children[20173] == "Батарейки"
    assert all({"id", "name"} <= set(c) for s in sections for c in s["children"])


def test_categories_refuse_a_community_token(api, vk):
    error = api.error("market.getCategories", token=make_vk_token(group=vk.group).token)

    assert error["error_code"] == 27
