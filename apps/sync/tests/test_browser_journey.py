"""A new merchant's whole path in a real browser, from the sign-up form to the VK storefront.

Chromium (the Debian package) driven by Playwright against the live server, whose sandbox
stands in for Evotor, VK and VK ID (issue 12, proof 7). Nothing is made for the merchant
beforehand: the sandbox holds an Evotor account with a small coffee-shop catalogue and a VK user
who manages an empty community, as Evotor and VK would. The merchant

1. signs up with e-mail and password, opens the confirmation link from the e-mail, logs in;
2. connects Evotor with the cloud token the sandbox's Evotor shows for the installed app;
3. connects VK through the sandbox's VK ID consent page and chooses the community;
4. sees the catalogue, chooses the VK category, switches sync on (confirming);
5. opens the community's storefront in the sandbox: every product, with its price and a photo.

A screenshot of every step goes to $EVOSYNC_SCREENSHOTS (default: a temporary directory), for a
person to look at. Django-Q runs tasks inline in tests (Q_CLUSTER sync=True): the catalogue
refresh runs inside the POST that connects Evotor, the first sync inside the one that enables it.
Every wait is on something the page shows (a URL, an element), never a fixed pause.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import User
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from apps.sandbox.models import EvotorProductImage, VkMarketItem, VkPhoto
from apps.sandbox.services.images import evotor_image_size
from apps.sandbox.services.vk_objects import money_text
from apps.sandbox.services.world import (
    evotor_uuid,
    make_evotor_account,
    make_group,
    make_product,
    make_store,
    make_vk_community,
    make_vk_user,
)
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.tests.browser import BROWSER_TEST_MARKS

EMAIL = "olga.ivanova@example.com"
PASSWORD = "amber-Tundra-kettle-7"
CATEGORY = "20001"

pytestmark = BROWSER_TEST_MARKS

# What the sandbox's Evotor holds for the merchant: name → (price, group, has an Evotor photo).
PRODUCTS = {
    "Кофе по-венски 0,3": (Decimal("149.90"), "Напитки", True),
    "Чай чёрный с бергамотом": (Decimal("90"), "Напитки", False),
    "Круассан с миндалём": (Decimal("120"), "Выпечка", False),
    "Булочка с корицей": (Decimal("75"), "Выпечка", False),
    "Вода питьевая 0,5": (Decimal("50"), None, False),
}


@pytest.fixture
def vk_id(sandbox, settings):
    """VK ID goes through the sandbox too: "Connect with VK ID" is shown and comes back here."""
    settings.VK_ID_CLIENT_ID = "evosync-sandbox"
    settings.VK_ID_REDIRECT_URI = f"{sandbox}/vk/callback"
    return sandbox


@pytest.fixture
def providers_world():
    """The merchant's Evotor account (one store, two groups, five products, one with a photo)
    and the VK user who manages an empty community — plus a community of someone else's."""
    account = make_evotor_account()
    store = make_store(account, name="Кофейня на Ленина")
    groups = {name: make_group(store, name=name) for name in ("Напитки", "Выпечка")}
    for name, (price, group, photo) in PRODUCTS.items():
        product = make_product(store, name=name, price=price,
                               parent_id=groups[group].evotor_id if group else None)
        if photo:
            image_id = evotor_uuid()
            EvotorProductImage.objects.create(
                product=product, evotor_id=image_id, file_size=evotor_image_size(image_id),
                created_at=timezone.now(), updated_at=timezone.now(),
            )
    vk_user = make_vk_user(first_name="Ольга", last_name="Иванова")
    community = make_vk_community(name="Кофейня «У Ольги»", manager=vk_user)
    make_vk_community(name="Чужое сообщество")  # exists, but Ольга does not manage it
    return account, vk_user, community


def test_a_new_merchant_goes_from_sign_up_to_items_in_the_vk_storefront(
    vk_id, providers_world, browser_page, shots
):
    from playwright.sync_api import expect

    account, vk_user, community = providers_world
    page, base = browser_page, vk_id
    step = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"journey-{next(step):02d}-{name}.png"), full_page=True)

    def submit(form: str) -> None:
        page.click(f"{form} button[type=submit]")

    # 1. Sign up: the form, then "check your inbox"; the confirmation e-mail has the link.
    page.goto(f"{base}/register")
    page.fill("#id_first_name", "Ольга")
    page.fill("#id_last_name", "Иванова")
    page.fill("#id_email", EMAIL)
    page.fill("#id_phone", "+7 (903) 555-12-34")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    shot("sign-up")
    submit("form[action='/register']")
    page.wait_for_url(f"{base}/register/sent")
    shot("check-your-inbox")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    link = re.search(r"https?://\S+/confirm-email/\S+", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    user = User.objects.get(email=EMAIL)
    assert not user.is_email_confirmed

    # 2. The link, opened in the same browser (the e-mail names the site it was sent from),
    #    confirms the address; the merchant then logs in and lands on the connections page.
    page.goto(f"{base}{urlsplit(link.group(0)).path}")
    user.refresh_from_db()
    assert user.is_email_confirmed
    if urlsplit(page.url).path == "/login" or page.locator("form[action='/login']").count():
        shot("confirmed-log-in")
        page.fill("input[name=username]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        submit("form[action='/login']")
    page.wait_for_url(f"{base}/connections")
    expect(page.locator("#next-connect-evotor")).to_be_visible()
    assert page.locator("#banner-unconfirmed-email").count() == 0
    shot("connections-empty")

    # 3. Evotor: the sandbox's Evotor shows the installed app's cloud token; the merchant
    #    copies it into EvoSync, which checks it and reads the catalogue at once.
    page.goto(f"{base}/sandbox/")
    card = page.locator(f"#account-{account.user_id}")
    card.locator("details summary").click()
    token_field = card.locator("input.sandbox-token")
    expect(token_field).to_be_visible()
    token = token_field.input_value()
    assert token == account.token
    shot("sandbox-evotor-token")
    page.goto(f"{base}/connections")
    page.click("#evotor-card a.btn-primary")
    page.wait_for_url(f"{base}/evotor")
    page.fill("#evotor-connect input[name=token]", token)
    submit("#evotor-connect form")
    expect(page.locator("#evotor-state")).to_have_attribute("data-state", "online")
    shot("evotor-connected")
    assert EvotorConnection.objects.get(user=user).evotor_user_id == account.user_id

    # 4. VK: "Connect with VK ID" leads to the sandbox's VK ID consent page; Ольга allows;
    #    back in EvoSync she picks her community (the other one is not offered).
    page.goto(f"{base}/connections")
    page.click("#vk-card a.btn-primary")
    page.wait_for_url(f"{base}/vk")
    submit("form[action='/vk/connect']")
    page.wait_for_url(re.compile(re.escape(f"{base}/sandbox/vkid/authorize?") + ".*"))
    page.select_option("select[name=vk_user]", str(vk_user.pk))
    shot("sandbox-vk-id-consent")
    page.click("button[name=decision][value=allow]")
    page.wait_for_url(f"{base}/vk")
    communities = page.locator("#vk-communities")
    expect(communities).to_contain_text("Кофейня «У Ольги»")
    assert "Чужое сообщество" not in communities.inner_text()
    shot("vk-choose-community")
    choose = f"form:has(input[name=community][value='{community.vk_id}']) button"
    communities.locator(choose).click()
    expect(page.locator("#vk-community")).to_contain_text("Кофейня «У Ольги»")
    expect(page.locator("#vk-state")).to_have_attribute("data-state", "online")
    shot("vk-connected")
    vk = VkConnection.objects.get(user=user)
    assert (vk.connection_type, vk.group_id, vk.vk_user_id) == (
        VkConnection.Type.VK_ID, community.vk_id, vk_user.vk_id)
    assert vk.state == ConnectionState.ONLINE

    # 5. Both connected: the overview sends the merchant to the catalogue, which lists the
    #    products the first refresh read from Evotor.
    page.goto(f"{base}/connections")
    page.click("#next-catalog a")
    page.wait_for_url(re.compile(re.escape(f"{base}/catalog") + r"/?$"))
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(len(PRODUCTS))
    table = page.locator("table").inner_text()
    for name in PRODUCTS:
        assert name in table, name
    assert "149,9" in table
    shot("catalog")

    # 6. Sync settings: no VK category yet, and the page says sync cannot start; the merchant
    #    chooses one, saves, switches sync on and confirms the five goods to create.
    page.goto(f"{base}/sync")
    expect(page.locator("#sync-not-ready")).to_be_visible()
    page.fill("#sync-category-filter", "коф")
    page.select_option("#id_vk_category_id", CATEGORY)
    shot("sync-settings")
    page.click("#sync-save")
    expect(page.locator("#sync-not-ready")).to_have_count(0)
    assert SyncConfig.objects.get(user=user).vk_category_id == int(CATEGORY)
    page.click("#sync-enable")
    page.wait_for_url(f"{base}/sync/enable")
    assert page.inner_text("#sync-counts [data-count=create]") == str(len(PRODUCTS))
    shot("sync-enable-confirm")
    page.click("#sync-confirm-enable")
    page.wait_for_url(f"{base}/sync/jobs")
    shot("sync-history")
    job = SyncJob.objects.get(user=user)
    assert job.status == SyncJob.Status.SUCCESS, job.error_summary
    assert (job.items_created, job.items_failed) == (len(PRODUCTS), 0)
    page.click(f"tr[data-job='{job.pk}'] a")
    page.wait_for_url(f"{base}/sync/jobs/{job.pk}")
    assert page.inner_text("#sync-job-counts [data-count=created]") == str(len(PRODUCTS))
    expect(page.locator("#sync-no-errors")).to_be_visible()
    shot("sync-run")

    # 7. The community's market in the sandbox: each product once, at its price, with a photo
    #    that loads (the Evotor photo for the coffee, a drawn product card for the rest).
    page.goto(f"{base}/sandbox/vk/club{community.vk_id}/market")
    cards = page.locator("article.card")
    expect(cards).to_have_count(len(PRODUCTS))
    shown = {}
    for index in range(len(PRODUCTS)):
        card = cards.nth(index)
        image = card.locator("img")
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("i => i.naturalWidth") > 0
        shown[card.locator(".sandbox-item-title").inner_text().strip()] = (
            card.locator(".fw-semibold").inner_text().strip())
    assert shown == {name: money_text(int(price * 100))
                     for name, (price, _group, _photo) in PRODUCTS.items()}
    shot("storefront")
    items = VkMarketItem.objects.filter(group__vk_id=community.vk_id, is_removed=False)
    photos = VkPhoto.objects.filter(item__in=items, position=0)
    assert photos.count() == len(PRODUCTS) and len({p.sha for p in photos}) == len(PRODUCTS)
    # Every item sits in the album of its Evotor group (the storefront's tabs).
    albums = {item.title: sorted(a.title for a in item.albums.all()) for item in items}
    assert albums == {name: [group] if group else [] for name, (_price, group, _photo)
                      in PRODUCTS.items()}
    assert page.errors == []
