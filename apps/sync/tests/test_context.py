"""The links a run loads: read as rows, made into model instances only when the run acts on them."""

from __future__ import annotations

import pytest

from apps.sync.context import LinkRows, load
from apps.sync.models import ProductLink, SyncConfig

pytestmark = pytest.mark.django_db

GROUP = 555


def _links(user, count: int) -> None:
    ProductLink.objects.bulk_create(
        ProductLink(user=user, vk_group_id=GROUP, evotor_product_id=f"p{n}", vk_item_id=100 + n,
                    state="published", published={"name": f"Товар {n}"})
        for n in range(count)
    )


def test_a_link_is_the_saved_row_and_is_made_once(merchant):
    _links(merchant, 3)
    config = SyncConfig.objects.create(user=merchant, vk_category_id=1)
    loaded = load(config, GROUP, vk_items=None, now=None)

    link = loaded.links["p1"]

    assert link == ProductLink.objects.get(evotor_product_id="p1")
    assert (link.vk_item_id, link.published, link._state.adding) == (101, {"name": "Товар 1"},
                                                                      False)
    assert loaded.links["p1"] is link
    assert {c.product_id for c in loaded.ctx.links} == {"p0", "p1", "p2"} == set(loaded.links)
    assert "p9" not in loaded.links and loaded.links.get("p9") is None


def test_forgotten_links_are_read_back_with_what_was_saved(merchant, django_assert_num_queries):
    _links(merchant, 3)
    links = LinkRows(merchant.pk, GROUP, ProductLink.objects.values_list(
        "evotor_product_id", "vk_item_id"
    ))
    for pid in ("p0", "p1"):
        links[pid].payload_hash = f"saved-{pid}"
        links[pid].save()
    links.forget(["p0", "p1"])

    assert "p0" in links and len(links) == 3
    assert links.item_owners() == {100: "p0", 101: "p1", 102: "p2"}
    with django_assert_num_queries(1):
        links.require(["p0", "p1", "p2"])
    assert [links[pid].payload_hash for pid in ("p0", "p1")] == ["saved-p0", "saved-p1"]


def test_load_holds_no_link_instance_and_reads_the_ones_acted_on_together(
    merchant, django_assert_num_queries
):
    _links(merchant, 5)
    config = SyncConfig.objects.create(user=merchant, vk_category_id=1)
    loaded = load(config, GROUP, vk_items=None, now=None)
    assert loaded.links.item_owners() == {100 + n: f"p{n}" for n in range(5)}

    with django_assert_num_queries(1):
        loaded.links.require(["p1", "p3", "p9"])
    with django_assert_num_queries(0):
        assert [loaded.links[pid].vk_item_id for pid in ("p1", "p3")] == [101, 103]


def test_a_link_deleted_meanwhile_is_no_longer_known(merchant):
    _links(merchant, 2)
    config = SyncConfig.objects.create(user=merchant, vk_category_id=1)
    loaded = load(config, GROUP, vk_items=None, now=None)
    ProductLink.objects.filter(evotor_product_id="p1").delete()

    loaded.links.require(["p0", "p1"])

    assert "p1" not in loaded.links and loaded.links.get("p1") is None
    assert set(loaded.links) == {"p0"}


def test_published_values_share_their_keys_across_links(merchant):
    _links(merchant, 2)
    config = SyncConfig.objects.create(user=merchant, vk_category_id=1)
    first, second = load(config, GROUP, vk_items=None, now=None).ctx.links

    assert first.published == {"name": "Товар 0"} and second.published == {"name": "Товар 1"}
    assert next(iter(first.published)) is next(iter(second.published))
