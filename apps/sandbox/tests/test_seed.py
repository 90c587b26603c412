"""``sandbox_seed``: a realistic catalogue, fast, and the touch mode for incremental benchmarks."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.sandbox.models import (
    EvotorAccount,
    EvotorProduct,
    EvotorProductGroup,
    EvotorProductImage,
    EvotorStore,
    VkToken,
)
from apps.sandbox.services.seed import seed, touch_products


@pytest.fixture
def seeded(db):
    return seed(stores=2, groups=40, products=1200, seed=7)


def test_json_output_is_exactly_the_scripts_contract(db, capsys):
    call_command("sandbox_seed", "--stores", "2", "--groups", "4", "--products", "10", "--json")

    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"evotor", "vk"}
    assert set(data["evotor"]) == {"token", "user_id", "store_ids"}
    assert set(data["vk"]) == {"user_token", "group_id"}
    account = EvotorAccount.objects.get(token=data["evotor"]["token"])
    assert account.user_id == data["evotor"]["user_id"]
    assert sorted(data["evotor"]["store_ids"]) == sorted(
        EvotorStore.objects.filter(account=account).values_list("evotor_id", flat=True)
    )
    token = VkToken.objects.get(token=data["vk"]["user_token"])
    assert token.user.managed.get().vk_id == data["vk"]["group_id"]


def test_text_output_says_what_a_demo_needs(db, capsys, settings):
    settings.EVOTOR_API_URL = "http://127.0.0.1:8000/sandbox/evotor"  # what `make run` prints
    call_command("sandbox_seed", "--products", "3", "--groups", "1")

    out = capsys.readouterr().out
    result = EvotorAccount.objects.get()
    assert result.token in out and result.user_id in out
    assert "X-Sandbox-Control-Token" in out and "/sandbox/evotor" in out


def test_counts_are_split_over_the_stores(seeded):
    assert seeded.products == 1200 and seeded.groups == 40
    for store in seeded.stores:
        assert store.products.count() == 600
        assert store.groups.count() == 20


def test_the_catalogue_has_the_quirks_real_payloads_have(seeded):
    products = EvotorProduct.objects.all()

    assert products.filter(type="SERVICE", quantity__isnull=True, cost_price__isnull=True).exists()
    assert (
        products.filter(measure_name="кг").exists() and products.filter(measure_name="л").exists()
    )
    assert products.filter(quantity__lt=0).exists()
    assert products.filter(allow_to_sell=False).exists()
    assert (
        products.filter(description="").exists()
        and products.filter(description__isnull=True).exists()
    )
    assert products.filter(article_number="").exists()
    assert products.exclude(type__in=["NORMAL", "SERVICE", "ALCOHOL_NOT_MARKED"]).exists()
    assert products.filter(attributes_choices__isnull=False).exists()
    assert (
        products.filter(price=Decimal(0)).exists()
        or products.filter(name__in=["Чай", "Сок", "Хлеб"]).exists()
    )
    assert EvotorProductGroup.objects.filter(attributes__isnull=False).exists()
    assert EvotorProductGroup.objects.filter(parent_id__isnull=False).exists()
    assert EvotorProductImage.objects.exists()
    assert any("а" <= ch <= "я" for ch in products.first().name.lower())


def test_modifications_point_at_their_groups_attributes(seeded):
    variant = EvotorProduct.objects.filter(attributes_choices__isnull=False).first()
    group = EvotorProductGroup.objects.get(store=variant.store, evotor_id=variant.parent_id)

    [(attribute_id, choice_id)] = variant.attributes_choices.items()
    assert group.attributes[0]["id"] == attribute_id
    assert choice_id in {c["id"] for c in group.attributes[0]["choices"]}


def test_seeding_is_bulk_not_a_query_per_row(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(60):
        seed(stores=2, groups=100, products=3000, seed=1)

    assert EvotorProduct.objects.count() == 3000


def test_the_seeded_world_answers_over_the_apis(seeded, client):
    data = seeded.as_json()
    store_id = data["evotor"]["store_ids"][0]

    products = client.get(
        f"/sandbox/evotor/stores/{store_id}/products",
        headers={"Authorization": f"Bearer {data['evotor']['token']}"},
    ).json()
    group = client.post(
        "/sandbox/vk/method/groups.getById",
        {
            "group_id": data["vk"]["group_id"],
            "fields": "market",
            "v": "5.199",
            "access_token": data["vk"]["user_token"],
        },
    ).json()

    assert len(products["items"]) == 600
    assert group["response"]["groups"][0]["market"]["enabled"] == 1


def test_reseeding_the_same_ids_replaces_the_catalogue(db):
    first = seed(
        products=20,
        groups=3,
        evotor_user_id="01-000000000000077",
        evotor_token="tok-1",
        vk_group_id=101,
        vk_token="vk-1",
    )
    second = seed(
        products=5,
        groups=1,
        evotor_user_id="01-000000000000077",
        evotor_token="tok-2",
        vk_group_id=101,
        vk_token="vk-1",
    )

    assert first.account.pk == second.account.pk
    assert EvotorProduct.objects.count() == 5
    assert EvotorAccount.objects.get().token == "tok-2"
    assert second.vk.group.vk_id == 101 and second.vk.token.token == "vk-1"


def test_touch_changes_that_share_and_since_finds_exactly_them(seeded, client):
    before = {p.pk: p.price for p in EvotorProduct.objects.all()}

    result = touch_products(10, account=seeded.account, seed=3)

    assert result.touched == 120
    changed = EvotorProduct.objects.filter(evotor_id__in=result.product_ids)
    assert all(p.price == before[p.pk] + 1 for p in changed)
    token = seeded.account.token
    found = set()
    for store in seeded.stores:
        body = client.get(
            f"/sandbox/evotor/stores/{store.evotor_id}/products",
            {"since": result.since},
            headers={"Authorization": token},
        ).json()
        found |= {item["id"] for item in body["items"]}
    assert found == set(result.product_ids)


def test_touch_from_the_command(seeded, capsys):
    call_command("sandbox_seed", "--touch-percent", "1", "--json")

    assert json.loads(capsys.readouterr().out)["touched"] == 12


def test_bad_arguments_are_command_errors(db):
    with pytest.raises(CommandError):
        call_command("sandbox_seed", "--stores", "0")
    with pytest.raises(CommandError):
        call_command("sandbox_seed", "--touch-percent", "150")
