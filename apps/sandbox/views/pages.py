"""The sandbox's own HTML pages: its home (who exists, buttons to play Evotor) and a read-only
storefront of each fake VK community.

Open to anyone who can reach them: the sandbox is mounted only in development and refused in
production (check evosync.E003). The actions are POST forms under Django's CSRF check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.sandbox.forms import InstallForm, ProductChangeForm
from apps.sandbox.models import OutboundDelivery, VkGroup
from apps.sandbox.services import home as home_data
from apps.sandbox.services.config import get_config
from apps.sandbox.services.storefront import storefront


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    def root(name: str) -> str:
        return request.build_absolute_uri(reverse(name)).rstrip("/")

    context = {
        "accounts": home_data.accounts(),
        "vk_users": home_data.vk_users(),
        "communities": home_data.communities(),
        "config": get_config(),
        "urls": {
            "EVOTOR_API_URL": root("sandbox:evotor-stores").removesuffix("/stores"),
            "VK_API_URL": root("sandbox:vk-root"),
            "VK_ID_URL": root("sandbox:vkid-authorize").removesuffix("/authorize"),
        },
        "deliveries": OutboundDelivery.objects.order_by("-created_at")[:5],
        "now": timezone.now(),
    }
    return render(request, "sandbox/home.html", context)


@require_POST
def install(request: HttpRequest) -> HttpResponse:
    form = InstallForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: home_data.install(
                form.cleaned_data["user_id"], new_token=form.cleaned_data["new_token"]
            ),
        )
    else:
        messages.error(request, _("The install form was not filled in correctly."))
    return redirect("sandbox:home")


@require_POST
def product_change(request: HttpRequest) -> HttpResponse:
    form = ProductChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        _run(request, lambda: home_data.change_price(data["product_id"], data["price"]))
    else:
        messages.error(request, _("Choose a product and a price of zero or more."))
    return redirect("sandbox:home")


def _run(request: HttpRequest, action: Callable[[], OutboundDelivery]) -> None:
    """Do the outbound call and say how it went; configuration gaps become a message."""
    try:
        record: OutboundDelivery = action()
    except (LookupError, ValueError) as exc:
        messages.error(request, str(exc).strip("'\""))
        return
    status = record.status_code if record.status_code is not None else record.error
    text = _("%(kind)s → %(url)s: %(status)s") % {
        "kind": record.kind,
        "url": record.url,
        "status": status,
    }
    (messages.success if record.delivered else messages.warning)(request, text)


@require_GET
def vk_club(request: HttpRequest, group_id: int) -> HttpResponse:
    """vk.com/club<id>: the community page; here it leads straight to its market."""
    return HttpResponseRedirect(reverse("sandbox:vk-market", args=[group_id]))


@require_GET
def vk_market(request: HttpRequest, group_id: int) -> HttpResponse:
    """vk.com/club<id>/market: the storefront, ``?album=<VK album id>&page=N``."""
    group = get_object_or_404(VkGroup, vk_id=group_id)
    try:
        album_id = int(request.GET.get("album") or 0) or None
    except ValueError:
        album_id = None
    shop = storefront(group, album_id=album_id, page_number=request.GET.get("page"))
    return render(request, "sandbox/storefront.html", {"shop": shop})
