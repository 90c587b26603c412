"""Merchant pages for Evotor and VK connections.

No URL carries an id: every page works on request.user's own connections, fetched through the
user, so there is nothing another merchant could change in a URL (a missing one is a 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.connections import evotor_link, health, providers, vk_link
from apps.connections.explain import connection_problem
from apps.connections.forms import CommunityForm, EvotorTokenForm, VkTokenForm
from apps.connections.models import (
    ConnectionState,
    EvotorConnection,
    HealthCheckLog,
    VkConnection,
)
from apps.connections.services import CheckResult, connections_of

RECENT_EVENTS = 10
# Pages a Test button may send the merchant back to (never a URL taken from the request).
RETURN_PAGES = frozenset({"connections", "evotor", "vk"})


def _back(request: HttpRequest, default: str) -> HttpResponse:
    page = request.POST.get("next")
    return redirect(page if page in RETURN_PAGES else default)


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Both services at a glance, and what to do next."""
    evotor, vk = connections_of(request.user)
    events = HealthCheckLog.objects.filter(user=request.user)[:RECENT_EVENTS]
    return render(
        request, "connections/overview.html", {"evotor": evotor, "vk": vk, "events": events}
    )


def _report_check(request: HttpRequest, name: str, result: CheckResult) -> None:
    if result.ok:
        messages.success(request, _("%(service)s answered: the connection works.")
                         % {"service": name})
        return
    found = connection_problem(result.service, result.detail)
    words = {"service": name, "title": found.title, "advice": found.advice}
    if result.state == ConnectionState.REVOKED:
        messages.error(request, _("%(service)s refused access. %(title)s %(advice)s") % words)
    else:
        messages.warning(request, _("%(service)s check failed. %(title)s %(advice)s") % words)


def _disconnect_page(request: HttpRequest, service: str) -> HttpResponse:
    return render(request, "connections/disconnect.html", {"service": service})


# --- Evotor -------------------------------------------------------------------------------------


@sensitive_variables("token")
@sensitive_post_parameters("token")
@login_required
@require_http_methods(["GET", "POST"])
def evotor(request: HttpRequest) -> HttpResponse:
    """Status, Test, and connecting by a pasted cloud token."""
    form = EvotorTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        try:
            evotor_link.connect_evotor_manually(request.user, token)
        except evotor_link.EvotorLinkError as exc:
            form.add_error("token", str(exc))
        else:
            messages.success(request, _("Evotor is connected. The first catalog refresh has "
                                        "started."))
            return redirect("evotor")
    connection = EvotorConnection.objects.filter(user=request.user).first()
    vk = VkConnection.objects.filter(user=request.user).first()
    return render(request, "connections/evotor.html", {
        "connection": connection, "form": form, "next_step": _after_evotor(connection, vk),
        "connect_is_main": connection is None or connection.state == ConnectionState.REVOKED,
    })


def _after_evotor(evotor: EvotorConnection | None, vk: VkConnection | None) -> str:
    """What the merchant does once Evotor works: connect VK, choose the community, or choose
    what to publish ("" while Evotor itself is not working)."""
    if evotor is None or evotor.state == ConnectionState.REVOKED:
        return ""
    if vk is None or vk.state == ConnectionState.REVOKED:
        return "connect_vk"
    return "catalog" if vk.has_community else "community"


@login_required
@require_POST
def evotor_test(request: HttpRequest) -> HttpResponse:
    connection = get_object_or_404(EvotorConnection, user=request.user)
    _report_check(request, _("Evotor"), health.check_connection(connection, interactive=True))
    return _back(request, "evotor")


@login_required
@require_http_methods(["GET", "POST"])
def evotor_disconnect(request: HttpRequest) -> HttpResponse:
    connection = get_object_or_404(EvotorConnection, user=request.user)
    if request.method == "POST":
        evotor_link.disconnect_evotor(connection)
        messages.success(request, _("Evotor is disconnected."))
        return redirect("connections")
    return _disconnect_page(request, "evotor")


# --- VK -----------------------------------------------------------------------------------------


def _vk_page(
    request: HttpRequest,
    *,
    token_form: VkTokenForm | None = None,
    community_form: CommunityForm | None = None,
) -> HttpResponse:
    connection = VkConnection.objects.filter(user=request.user).first()
    communities, communities_error = [], ""
    picking = connection is not None and connection.is_usable and (
        not connection.has_community or "change" in request.GET or community_form is not None
    )
    if picking:
        try:
            communities = vk_link.admin_communities(connection)
        except vk_link.VkLinkError as exc:
            communities_error = str(exc)
    context = {
        "connection": connection,
        "picking": picking,
        "communities": communities,
        "communities_error": communities_error,
        "token_form": token_form or VkTokenForm(),
        "community_form": community_form or CommunityForm(),
        "vk_id_enabled": providers.vk_id_configured(),
        # Connecting is the next step only without a connection that still works.
        "connect_is_main": connection is None or connection.state == ConnectionState.REVOKED,
    }
    return render(request, "connections/vk.html", context)


@login_required
@require_GET
def vk(request: HttpRequest) -> HttpResponse:
    """Status, Test, connecting (VK ID or a pasted token) and choosing the community."""
    return _vk_page(request)


@login_required
@require_POST
def vk_connect(request: HttpRequest) -> HttpResponse:
    """Leave for VK ID; state and the PKCE verifier stay in the session."""
    if not providers.vk_id_configured():
        messages.error(request, _("Signing in with VK ID is not set up on this server."))
        return redirect("vk")
    return HttpResponseRedirect(vk_link.start_vk_id(request.session))


@login_required
@require_GET
def vk_callback(request: HttpRequest) -> HttpResponse:
    """VK ID sends the merchant back here with ``code``, ``state`` and ``device_id``."""
    try:
        connection = vk_link.finish_vk_id(request.user, request.session, request.GET)
    except vk_link.VkLinkError as exc:
        messages.error(request, str(exc))
        return redirect("vk")
    if connection.has_community:
        messages.success(request, _("VK is connected."))
    else:
        messages.success(request, _("VK is connected. Now choose the community to publish to."))
    return redirect("vk")


@sensitive_variables("token")
@sensitive_post_parameters("token")
@login_required
@require_POST
def vk_token(request: HttpRequest) -> HttpResponse:
    form = VkTokenForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data["token"]
        try:
            vk_link.connect_vk_manually(request.user, token)
        except vk_link.VkLinkError as exc:
            form.add_error("token", str(exc))
        else:
            messages.success(request, _("VK is connected."))
            return redirect("vk")
    return _vk_page(request, token_form=form)


@login_required
@require_POST
def vk_community(request: HttpRequest) -> HttpResponse:
    connection = get_object_or_404(VkConnection, user=request.user)
    form = CommunityForm(request.POST)
    if form.is_valid():
        try:
            vk_link.choose_community(connection, form.cleaned_data["community"])
        except vk_link.VkLinkError as exc:
            form.add_error("community", str(exc))
        else:
            messages.success(request, _("EvoSync will publish to “%(name)s”.")
                             % {"name": connection.group_name})
            return redirect("vk")
    return _vk_page(request, community_form=form)


@login_required
@require_POST
def vk_test(request: HttpRequest) -> HttpResponse:
    connection = get_object_or_404(VkConnection, user=request.user)
    _report_check(request, _("VK"), health.check_connection(connection, interactive=True))
    return _back(request, "vk")


@login_required
@require_http_methods(["GET", "POST"])
def vk_disconnect(request: HttpRequest) -> HttpResponse:
    connection = get_object_or_404(VkConnection, user=request.user)
    if request.method == "POST":
        vk_link.disconnect_vk(connection)
        messages.success(request, _("VK is disconnected."))
        return redirect("connections")
    return _disconnect_page(request, "vk")
