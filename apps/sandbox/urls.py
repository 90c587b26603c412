"""The sandbox's URL map (mounted at /sandbox/ only when SANDBOX_ENABLED)."""

from django.urls import path

from apps.sandbox.views import control, evotor, pages, vk, vkid

app_name = "sandbox"

_store = "evotor/stores/<str:store_id>"

urlpatterns = [
    # Pages for people: the sandbox home and each community's storefront
    path("", pages.home, name="home"),
    path("actions/install", pages.install, name="home-install"),
    path("actions/product-change", pages.product_change, name="home-product-change"),
    path("vk/club<int:group_id>", pages.vk_club, name="vk-club"),
    path("vk/club<int:group_id>/market", pages.vk_market, name="vk-market"),
    # Evotor cloud: EVOTOR_API_URL=<site>/sandbox/evotor
    path("evotor/stores", evotor.stores, name="evotor-stores"),
    path(f"{_store}", evotor.store, name="evotor-store"),
    path(f"{_store}/product-groups", evotor.product_groups, name="evotor-product-groups"),
    path(
        f"{_store}/product-groups/<str:group_id>", evotor.product_group, name="evotor-product-group"
    ),
    path(f"{_store}/products", evotor.products, name="evotor-products"),
    path(f"{_store}/products/<str:product_id>", evotor.product, name="evotor-product"),
    path(
        f"{_store}/products/<str:product_id>/images",
        evotor.product_images,
        name="evotor-product-images",
    ),
    path("evotor/images/<str:image_id>", evotor.image_file, name="evotor-image"),
    # VK API: VK_API_URL=<site>/sandbox/vk
    path("vk/", vk.root, name="vk-root"),
    path("vk/method/<str:name>", vk.method, name="vk-method"),
    path("vk/upload", vk.upload, name="vk-upload"),
    path("vk/photo/<int:photo_id>.jpg", vk.photo, name="vk-photo"),
    # VK ID: VK_ID_URL=<site>/sandbox/vkid
    path("vkid/authorize", vkid.authorize, name="vkid-authorize"),
    path("vkid/oauth2/auth", vkid.token, name="vkid-token"),
    path("vkid/oauth2/revoke", vkid.revoke, name="vkid-revoke"),
    path("vkid/oauth2/logout", vkid.logout, name="vkid-logout"),
    # Control (control token or staff)
    path("control/faults", control.fault_list, name="control-faults"),
    path("control/config", control.config, name="control-config"),
    path("control/vk/tokens/revoke", control.vk_token_revoke, name="control-vk-token-revoke"),
    path("control/vk/tokens/expire", control.vk_token_expire, name="control-vk-token-expire"),
    path("control/vk/groups/<int:group_id>/market", control.vk_market, name="control-vk-market"),
    path("control/vk/groups/<int:group_id>/caps", control.vk_caps, name="control-vk-caps"),
    path("control/vk/items/<int:item_id>/reject", control.vk_item_reject, name="control-vk-reject"),
    path(
        "control/vk/moderation/rules",
        control.vk_moderation_rules,
        name="control-vk-moderation-rules",
    ),
    path(
        "control/evotor/tokens/revoke",
        control.evotor_token_revoke,
        name="control-evotor-token-revoke",
    ),
    path("control/evotor/install", control.evotor_install, name="control-evotor-install"),
    path("control/evotor/uninstall", control.evotor_uninstall, name="control-evotor-uninstall"),
    path("control/evotor/events", control.evotor_event, name="control-evotor-events"),
    path("control/evotor/touch", control.evotor_touch, name="control-evotor-touch"),
]
