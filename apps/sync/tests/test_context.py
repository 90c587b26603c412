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
    links = LinkRows(ProductLink.objects.values_list(*[
        f.attname for f in ProductLink._meta.concrete_fields
    ]))
    for pid in ("p0", "p1"):
        links[pid].payload_hash = f"saved-{pid}"
        links[pid].save()
    links.forget(["p0", "p1"])

    assert "p0" in links and len(links) == 3
    assert links.item_owners() == {100: "p0", 101: "p1", 102: "p2"}
    with django_assert_num_queries(1):
        links.require(["p0", "p1", "p2"])
    assert [links[pid].payload_hash for pid in ("p0", "p1")] == ["saved-p0", "saved-p1"]
