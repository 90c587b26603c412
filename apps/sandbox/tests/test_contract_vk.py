"""Contract: the real VkClient against the sandbox over real HTTP (live_server).

Every client method and every error class: items, albums, photos (single and bulk), categories,
communities, execute batching with partial failures, and the retry rules (6 retried, 5 not).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.connections.clients import (
    ApiError,
    AuthError,
    CaptchaError,
    ItemError,
    PermanentError,
    RateLimiterRegistry,
    RateLimitError,
    RetryPolicy,
    TransientError,
    VkClient,
    VkItemFields,
    VkPhotoFile,
    vk_calls,
)
from apps.sandbox.models import VkMarketItem, VkPhoto
from apps.sandbox.services import vk_moderation
from apps.sandbox.services.vk_ids import PHOTO
from apps.sandbox.services.world import (
    inject_fault,
    make_vk_item,
    make_vk_token,
    sample_image,
    set_config,
)

pytestmark = pytest.mark.e2e

TAKEN = "photo not found or already assigned to another item"


@pytest.fixture
def make_client(sandbox_url, vk, no_sleep):
    def build(token: str | None = None, **options) -> VkClient:
        options.setdefault("sleep", no_sleep)
        options.setdefault("timeout", 10.0)
        # A registry of its own: the process-wide limiter must not carry pacing between tests.
        options.setdefault("limiters", RateLimiterRegistry())
        return VkClient(token or vk.access_token, base_url=f"{sandbox_url}/vk", **options)

    return build


@pytest.fixture
def client(make_client) -> VkClient:
    return make_client()


@pytest.fixture
def photo_id(client, vk):
    def upload() -> int:
        photo = VkPhotoFile(sample_image(800, 800), filename="card.jpg")
        return client.upload_product_photo(vk.group_id, photo).photo_id

    return upload


def _fields(photo: int, **overrides) -> VkItemFields:
    values = {
        "name": "Кофе по-венски 0,3",
        "description": "Ароматный кофе с шапкой сливок",
        "category_id": 20001,
        "price": Decimal("1499.90"),
        "main_photo_id": photo,
        "sku": "evotor-1",
    }
    values.update(overrides)
    return VkItemFields(**values)


# --- community, categories -------------------------------------------------------------------


def test_reads_the_community_and_the_users_admin_communities(client, vk):
    group = client.get_group(vk.group_id)
    by_name = client.get_group(vk.group.screen_name)
    admin = client.get_admin_groups()

    assert group.id == vk.group_id and group.is_admin and group.admin_level == 3
    assert group.market is not None and group.market.enabled and group.market.currency_id == 643
    assert by_name.id == vk.group_id
    assert [g.id for g in admin] == [vk.group_id]


def test_an_unknown_community_is_refused_with_100(client):
    # VK answers 100 for an unknown id or screen name. The client's docstring promises a
    # PermanentError but its code table makes every 100 an ItemError; either way it is an
    # ApiError with code 100, which is what the product has to branch on.
    with pytest.raises(ApiError) as caught:
        client.get_group("no_such_community")
    assert caught.value.code == 100 and not caught.value.retryable


def test_categories_are_flattened_from_the_tree(client):
    categories = {c.id: c for c in client.get_categories()}

    assert categories[20173].name == "Батарейки"
    assert categories[20001].is_leaf


# --- items -------------------------------------------------------------------------------------


def test_item_lifecycle(client, vk, photo_id):
    item_id = client.add_item(vk.group_id, _fields(photo_id(), old_price=Decimal("2000")))

    [item] = client.get_items(vk.group_id)
    assert item.id == item_id and item.sku == "evotor-1" and item.availability == 0
    assert item.price.amount == Decimal("1499.90") and item.price.amount_minor == 149990
    assert item.price.old_amount_minor == 200000 and item.category.id == 20001
    assert len(item.photos) == 1

    client.edit_item(vk.group_id, item_id, VkItemFields(price=Decimal("10"), deleted=True))
    [edited] = client.get_items_by_id(vk.group_id, [item_id])
    assert edited.price.amount_minor == 1000 and edited.availability == 2

    client.delete_item(vk.group_id, item_id)
    assert client.get_items_by_id(vk.group_id, [item_id])[0].availability == 1
    client.restore_item(vk.group_id, item_id)
    with pytest.raises(ItemError) as caught:
        client.restore_item(vk.group_id, item_id)
    assert caught.value.code == 1518


def test_nothing_to_change_and_unknown_items_are_item_errors(client, vk, photo_id):
    fields = _fields(photo_id())
    item_id = client.add_item(vk.group_id, fields)

    with pytest.raises(ItemError) as unchanged:
        client.edit_item(vk.group_id, item_id, fields)
    with pytest.raises(ItemError) as missing:
        client.delete_item(vk.group_id, 987654)

    assert unchanged.value.code == 100 and "nothing to change" in unchanged.value.message
    assert missing.value.code == 1403


def test_validation_errors_are_item_errors(client, vk, photo_id):
    with pytest.raises(ItemError) as caught:
        client.add_item(vk.group_id, _fields(photo_id(), name="Чай"))

    assert caught.value.code == 100 and "at least 4 letters" in caught.value.message


def test_the_item_cap_is_an_item_error(client, vk, photo_id):
    vk.group.max_items = 0
    vk.group.save()

    with pytest.raises(ItemError) as caught:
        client.add_item(vk.group_id, _fields(photo_id()))
    assert caught.value.code == 1405


def test_get_items_pages_through_execute(client, make_client, vk):
    VkMarketItem.objects.bulk_create(
        VkMarketItem(
            group=vk.group, title=f"Товар {i}", description="Описание товара", category_id=20001
        )
        for i in range(450)
    )

    items = client.get_items(vk.group_id)
    plain_pages = list(make_client().iter_item_pages(vk.group_id))

    assert len({item.id for item in items}) == 450
    assert client.requests_made == 2  # the first page, then one execute with two pages
    assert [len(page.items) for page in plain_pages] == [200, 200, 50]


# --- photos ------------------------------------------------------------------------------------


def test_a_photo_reused_on_a_second_item_is_refused(client, vk, photo_id):
    photo = photo_id()
    client.add_item(vk.group_id, _fields(photo))

    with pytest.raises(ItemError) as caught:
        client.add_item(vk.group_id, _fields(photo, sku="evotor-2"))

    assert caught.value.code == 100 and TAKEN in caught.value.message
    assert VkMarketItem.objects.count() == 1


def test_bulk_photo_upload(client, vk):
    files = [VkPhotoFile(sample_image(500 + 100 * i, 600)) for i in range(3)]

    saved = client.upload_product_photos_bulk(vk.group_id, files)

    assert [VkPhoto.objects.get(pk=PHOTO.pk(s.photo_id)).width for s in saved] == [500, 600, 700]


def test_an_image_the_upload_server_refuses_is_an_item_error(client, vk):
    with pytest.raises(ItemError):
        client.upload_product_photo(vk.group_id, VkPhotoFile(sample_image(300, 300)))


# --- albums ------------------------------------------------------------------------------------


def test_album_lifecycle(client, vk):
    items = [make_vk_item(vk.group).vk_id for _ in range(2)]
    album_id = client.add_album(vk.group_id, "Напитки")

    client.add_to_album(vk.group_id, items, [album_id])
    with pytest.raises(ItemError) as again:
        client.add_to_album(vk.group_id, items, [album_id])
    client.edit_album(vk.group_id, album_id, "Горячие напитки")
    client.remove_from_album(vk.group_id, items[0], [album_id])
    [album] = client.get_albums(vk.group_id)
    client.delete_album(vk.group_id, album_id)

    assert again.value.code == 1404
    assert (album.id, album.title, album.count) == (album_id, "Горячие напитки", 1)
    assert client.get_albums(vk.group_id) == []


# --- execute -----------------------------------------------------------------------------------


def test_execute_of_25_calls_with_3_failures_maps_each_result_to_its_call(client, vk):
    items = [make_vk_item(vk.group) for _ in range(22)]
    batch = [
        vk_calls.market_edit(vk.group_id, item.vk_id, VkItemFields(price=Decimal("77.70")))
        for item in items
    ]
    batch.insert(3, vk_calls.market_edit(vk.group_id, 999999, VkItemFields(price=Decimal(1))))
    batch.insert(10, vk_calls.market_delete(vk.group_id, 999998))
    batch.insert(20, vk_calls.market_edit(vk.group_id, items[0].vk_id, VkItemFields(name="Ой")))

    results = client.execute(batch)

    assert client.requests_made == 1
    assert [r.call for r in results] == batch
    failed = {i: r.error for i, r in enumerate(results) if not r.ok}
    assert sorted(failed) == [3, 10, 20]
    assert [(type(e), e.code) for e in failed.values()] == [
        (ItemError, 1403),
        (ItemError, 1403),
        (ItemError, 100),
    ]
    assert failed[3].method == "market.edit" and failed[10].method == "market.delete"
    assert VkMarketItem.objects.filter(price=7770).count() == 22


def test_a_transient_inner_failure_is_resent_in_a_new_batch(client, vk):
    items = [make_vk_item(vk.group) for _ in range(3)]
    inject_fault("vk", "market.delete", count=1, error_code=6)
    batch = [vk_calls.market_delete(vk.group_id, item.vk_id) for item in items]

    results = client.execute(batch)

    assert all(r.ok for r in results)
    assert client.requests_made == 2
    assert VkMarketItem.objects.filter(is_removed=True).count() == 3


# --- error classes and retries -----------------------------------------------------------------


def test_error_6_is_retried_and_then_succeeds(client, vk, no_sleep):
    inject_fault("vk", "groups.getById", count=1, error_code=6)

    assert client.get_group(vk.group_id).id == vk.group_id
    assert client.requests_made == 2 and len(no_sleep.calls) >= 1


def test_the_real_rate_limit_answers_6_and_the_client_backs_off(make_client, vk, no_sleep):
    set_config(vk_user_rate=2, vk_rate_window=3600)
    client = make_client(retry=RetryPolicy(max_attempts=2))

    client.get_group(vk.group_id)
    client.get_group(vk.group_id)
    with pytest.raises(RateLimitError) as caught:
        client.get_group(vk.group_id)

    assert caught.value.code == 6 and client.requests_made == 4


def test_error_5_is_an_auth_error_without_retry(client, vk):
    vk.token.is_revoked = True
    vk.token.save()

    with pytest.raises(AuthError) as caught:
        client.get_group(vk.group_id)
    assert caught.value.code == 5 and client.requests_made == 1


def test_an_expired_token_is_an_auth_error(client, vk):
    vk.token.expires_at = timezone.now()
    vk.token.save()

    with pytest.raises(AuthError) as caught:
        client.get_items(vk.group_id)
    assert "expired" in caught.value.message


def test_a_community_token_is_refused_with_27(make_client, vk):
    client = make_client(token=make_vk_token(group=vk.group).token)

    with pytest.raises(AuthError) as caught:
        client.get_items(vk.group_id)
    assert caught.value.code == 27


def test_a_disabled_market_is_a_permanent_error(client, vk, photo_id):
    photo = photo_id()
    vk.group.market_enabled = False
    vk.group.save()

    with pytest.raises(PermanentError) as caught:
        client.add_item(vk.group_id, _fields(photo))
    assert caught.value.code == 1438


def test_a_captcha_is_raised_not_retried(client, vk):
    inject_fault("vk", "market.get", count=1, error_code=14)

    with pytest.raises(CaptchaError) as caught:
        client.get_items(vk.group_id)
    assert caught.value.captcha_sid and client.requests_made == 1


def test_error_10_is_retried_until_the_attempts_run_out(client, vk):
    inject_fault("vk", "groups.getById", count=None, error_code=10)

    with pytest.raises(TransientError):
        client.get_group(vk.group_id)
    assert client.requests_made == RetryPolicy().max_attempts


def test_an_http_502_on_a_read_is_retried(client, vk):
    inject_fault("vk", "market.get", count=1, http_status=502)

    assert client.get_items(vk.group_id) == []
    assert client.requests_made == 2


def test_a_lost_reply_of_market_add_is_not_repeated(make_client, vk, photo_id, hanging_sandbox):
    photo = photo_id()
    inject_fault("vk", "market.add", count=1, timeout=True)
    client = make_client(timeout=(2.0, hanging_sandbox / 4))

    with pytest.raises(TransientError) as caught:
        client.add_item(vk.group_id, _fields(photo, sku="evotor-77"))

    assert not caught.value.retryable and client.requests_made == 1
    # VK did create it: the sync must adopt it by sku rather than add it again.
    assert VkMarketItem.objects.get().sku == "evotor-77"


def test_the_current_captcha_shape_reaches_the_client_as_redirect_uri(client, vk):
    inject_fault("vk", "market.get", count=1, error_code=14, captcha_style="redirect")

    with pytest.raises(CaptchaError) as caught:
        client.get_items(vk.group_id)

    assert caught.value.redirect_uri.startswith("https://id.vk.com/not_robot_captcha?")
    assert caught.value.captcha_sid is None and client.requests_made == 1


def test_a_moderation_rejection_reaches_the_client_as_reject_info(client, vk):
    rejected = make_vk_item(vk.group)
    accepted = make_vk_item(vk.group)
    vk_moderation.reject_item(rejected.vk_id, title="Запрещённый товар")

    by_id = {i.id: i for i in client.get_items(vk.group_id)}
    [again] = client.get_items_by_id(vk.group_id, [rejected.vk_id])

    assert by_id[accepted.vk_id].reject_info is None
    info = by_id[rejected.vk_id].reject_info
    assert info is not None and (info.title, info.moderation_status) == ("Запрещённый товар", 2)
    assert again.reject_info == info
