"""The sync against the sandbox over real HTTP: what a merchant sees in VK after each run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalog.models import Product
from apps.sandbox.models import VkAlbum, VkMarketItem, VkPhoto
from apps.sandbox.services.seed import change_product
from apps.sandbox.services.world import make_vk_world
from apps.sync.models import AlbumLink, ProductLink, SyncConfig, SyncFilter, SyncJob
from apps.sync.tests.conftest import connect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _kopecks(rubles) -> int:
    return int(Decimal(rubles) * 100)


def test_first_sync_publishes_every_product_with_its_own_photo_and_albums(shop, catalog):
    job = shop.sync()

    assert job.status == SyncJob.Status.SUCCESS, job.error_summary
    assert job.items_created == 5 and job.items_failed == 0
    items = list(shop.items())
    assert sorted(i.sku for i in items) == sorted(p.evotor_id for p in catalog.values())
    coffee = shop.item(catalog["coffee"])
    assert coffee.title == "Кофе по-венски 0,3"
    assert coffee.price == _kopecks("149.90")
    assert "Кофе по-венски 0,3" in coffee.description and "149,90" in coffee.description
    assert coffee.category_id == 20001
    photos = VkPhoto.objects.filter(item__in=items, position=0)
    assert photos.count() == 5 and len({p.sha for p in photos}) == 5
    albums = {a.title: set(a.items.values_list("sku", flat=True))
              for a in VkAlbum.objects.filter(group=shop.group)}
    assert albums == {
        "Напитки": {catalog["coffee"].evotor_id, catalog["tea"].evotor_id},
        "Выпечка": {catalog["croissant"].evotor_id, catalog["bun"].evotor_id},
    }
    assert AlbumLink.objects.filter(user=shop.user, vk_album_id__isnull=False).count() == 2
    assert set(ProductLink.objects.values_list("state", flat=True)) == {"published"}


def test_a_resync_with_nothing_changed_writes_nothing(shop, catalog):
    shop.sync()
    before = {i.pk: i.updated_at for i in shop.items()}

    job = shop.sync()

    assert job.status == SyncJob.Status.SUCCESS
    assert (job.items_created, job.items_updated, job.items_hidden, job.items_deleted) == (0,) * 4
    assert job.vk_requests == 1  # one market.get page, no write
    assert {i.pk: i.updated_at for i in shop.items()} == before


def test_a_price_change_in_evotor_is_one_edit(shop, catalog):
    shop.sync()
    change_product(catalog["tea"], price=Decimal("95.50"))

    job = shop.sync()

    assert job.items_updated == 1 and job.items_created == 0
    assert job.vk_requests == 2  # read + one execute with the edit
    assert shop.item(catalog["tea"]).price == _kopecks("95.50")
    assert shop.items().count() == 5


def test_a_price_change_does_not_ask_evotor_about_the_image_again(shop, catalog):
    shop.sync()
    link = ProductLink.objects.get(evotor_product_id=catalog["tea"].evotor_id)
    checked = link.image_checked_at
    change_product(catalog["tea"], price=Decimal("95.50"))

    assert shop.sync().items_updated == 1

    link.refresh_from_db()
    assert checked is not None and link.image_checked_at == checked  # the photo stays


def test_a_product_removed_in_evotor_is_hidden_by_default(shop, catalog):
    shop.sync()
    evotor_id = catalog["bun"].evotor_id
    catalog["bun"].delete()

    job = shop.sync(full_refresh=True)

    assert job.items_hidden == 1
    item = shop.items().get(sku=evotor_id)
    assert item.is_hidden and not item.is_removed


def test_a_product_removed_in_evotor_is_deleted_when_the_merchant_chose_so(shop, catalog):
    shop.config.removal = "delete"
    shop.config.save()
    shop.sync()
    evotor_id = catalog["bun"].evotor_id
    catalog["bun"].delete()

    job = shop.sync(full_refresh=True)

    assert job.items_deleted == 1
    assert not shop.items().filter(sku=evotor_id).exists()
    assert ProductLink.objects.get(evotor_product_id=evotor_id).state == "deleted"


def test_an_item_deleted_by_hand_in_vk_comes_back(shop, catalog):
    shop.sync()
    shop.item(catalog["tea"]).delete()

    job = shop.sync()

    assert job.items_created == 1
    assert shop.items().filter(sku=catalog["tea"].evotor_id).count() == 1


def test_out_of_stock_goods_are_hidden_and_come_back_when_stocked(shop, catalog):
    shop.sync()
    change_product(catalog["croissant"], quantity=Decimal(0))
    assert shop.sync().items_hidden == 1
    assert shop.item(catalog["croissant"]).is_hidden

    change_product(catalog["croissant"], quantity=Decimal(7))
    job = shop.sync()

    assert job.items_updated == 1
    assert not shop.item(catalog["croissant"]).is_hidden


def test_out_of_stock_goods_stay_visible_with_zero_stock_when_chosen(shop, catalog):
    shop.config.out_of_stock = "zero"
    shop.config.save()
    change_product(catalog["croissant"], quantity=Decimal(0))

    shop.sync()

    item = shop.item(catalog["croissant"])
    assert not item.is_hidden and item.stock_amount == 0


def test_goods_not_allowed_for_sale_are_hidden(shop, catalog):
    shop.sync()
    change_product(catalog["water"], allow_to_sell=False)

    job = shop.sync()

    assert job.items_hidden == 1 and shop.item(catalog["water"]).is_hidden


def test_excluding_a_group_takes_its_items_down(shop, catalog):
    shop.sync()
    bakery = Product.objects.get(evotor_id=catalog["bun"].evotor_id).group_evotor_id
    SyncFilter.objects.create(config=shop.config, entity_type="group", entity_id=bakery,
                              filter_mode="exclude")

    job = shop.sync()

    assert job.items_hidden == 2
    assert shop.item(catalog["bun"]).is_hidden and shop.item(catalog["croissant"]).is_hidden
    assert not shop.item(catalog["coffee"]).is_hidden


def test_switching_community_leaves_the_old_one_alone(shop, catalog):
    shop.sync()
    old = {i.pk: (i.title, i.is_hidden, i.updated_at) for i in shop.items()}
    new_world = make_vk_world()
    connection = shop.user.vk_connection
    connection.group_id, connection.access_token = new_world.group_id, new_world.access_token
    connection.save()

    job = shop.sync()

    assert job.items_created == 5
    assert VkMarketItem.objects.filter(group=new_world.group).count() == 5
    assert {i.pk: (i.title, i.is_hidden, i.updated_at) for i in shop.items()} == old


def test_a_second_merchant_never_touches_the_firsts_items(shop, catalog, other_merchant):
    shop.sync()
    other = connect(other_merchant)
    other.product(name="Пирожок с капустой", price=60)

    other.sync()

    assert other.items().count() == 1
    assert shop.items().count() == 5


def test_a_renamed_group_renames_its_album(shop, catalog):
    from apps.sandbox.models import EvotorProductGroup

    shop.sync()
    EvotorProductGroup.objects.filter(name="Выпечка").update(name="Свежая выпечка",
                                                              updated_at=timezone.now())

    shop.sync()

    titles = set(VkAlbum.objects.filter(group=shop.group).values_list("title", flat=True))
    assert titles == {"Напитки", "Свежая выпечка"}


def test_an_emptied_album_is_removed(shop, catalog):
    shop.sync()
    bakery = Product.objects.get(evotor_id=catalog["bun"].evotor_id).group_evotor_id
    SyncFilter.objects.create(config=shop.config, entity_type="group", entity_id=bakery,
                              filter_mode="exclude")

    shop.sync()

    assert set(VkAlbum.objects.filter(group=shop.group).values_list("title", flat=True)) == {
        "Напитки"
    }
    assert not AlbumLink.objects.filter(evotor_group_id=bakery).exists()


def test_the_album_cap_stops_new_albums_but_publishes_every_item(shop, catalog):
    shop.group.max_albums = 1
    shop.group.save()

    job = shop.sync()

    assert job.items_created == 5 and job.error_code == "albums_capped"
    assert VkAlbum.objects.filter(group=shop.group).count() == 1


def test_the_item_cap_keeps_what_is_published_and_says_why(shop, catalog):
    shop.group.max_items = 3
    shop.group.save()

    job = shop.sync()

    assert job.status == SyncJob.Status.PARTIAL
    assert job.items_created == 3 and job.items_failed + job.items_skipped >= 2
    assert job.item_errors.filter(code="vk:1405").exists()
    assert shop.items().count() == 3


def test_a_run_out_of_time_hands_over_to_a_continuation(shop, catalog):
    continued = []

    job = shop.sync(deadline=0.0, on_continue=lambda: continued.append(True))

    assert job.error_code == "continued" and continued == [True]
    assert not SyncConfig.objects.get(pk=shop.config.pk).lease_owner
    finished = shop.sync()
    assert finished.status == SyncJob.Status.SUCCESS
    assert shop.items().count() == 5


def test_a_moderation_rejection_is_reported_with_its_reason(shop, catalog):
    from apps.sandbox.services import vk_moderation

    vk_moderation.add_rule("Круассан", count=1, title="Товар отклонён",
                           description="Фото не соответствует товару")

    shop.sync()  # VK moderates after market.add: the next read shows the verdict
    job = shop.sync()

    assert job.status == SyncJob.Status.PARTIAL and job.items_failed == 1
    error = job.item_errors.get(code="vk:moderation")
    assert error.evotor_product_id == catalog["croissant"].evotor_id
    assert "Фото не соответствует" in error.message


def test_an_evotor_image_becomes_the_items_photo_and_is_asked_for_once(shop, catalog):
    from apps.sandbox.models import EvotorProductImage
    from apps.sync.core import transform

    EvotorProductImage.objects.create(product=catalog["coffee"], evotor_id="img-coffee-1",
                                      file_size=4096)

    shop.sync()

    link = ProductLink.objects.get(evotor_product_id=catalog["coffee"].evotor_id)
    assert link.image_url.endswith("/images/img-coffee-1") and link.image_checked_at
    assert link.photo_key == transform.photo_key(
        "Кофе по-венски 0,3", "Напитки", "Магазин на Ленина", link.image_url
    )
    checked = link.image_checked_at
    assert shop.sync().items_updated == 0
    link.refresh_from_db()
    assert link.image_checked_at == checked  # nothing changed in Evotor: not asked again
