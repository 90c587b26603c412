"""The fake VK ID under /sandbox/vkid/: the consent page and the token endpoint
(docs/vk.md#tokens-and-vk-id)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.sandbox.forms import VkIdConsentForm
from apps.sandbox.models import SandboxConfig, SandboxFault
from apps.sandbox.services import faults, vkid
from apps.sandbox.services.config import get_config
from apps.sandbox.services.world import make_vk_user


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """GET shows the consent page; its CSRF-protected POST (to the same URL, so the query
    string comes back with it) answers with a redirect to ``redirect_uri``."""
    try:
        auth = vkid.parse_authorize(request.GET)
    except vkid.AuthorizeError as exc:
        if not exc.redirect:
            return render(request, "sandbox/vkid_error.html", {"error": exc}, status=400)
        return _redirect_error(request, exc)
    form = VkIdConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["decision"] == VkIdConsentForm.DENY:
            return HttpResponseRedirect(vkid.deny(auth))
        user = form.cleaned_data["vk_user"] or make_vk_user(
            first_name="Демо", last_name="Пользователь"
        )
        return HttpResponseRedirect(vkid.grant(auth, user, get_config()))
    return render(request, "sandbox/vkid_authorize.html", {"auth": auth, "form": form})


def _redirect_error(request: HttpRequest, exc: vkid.AuthorizeError) -> HttpResponse:
    auth = vkid.AuthorizeRequest(
        client_id=request.GET.get("client_id", ""),
        redirect_uri=request.GET["redirect_uri"],
        state=request.GET.get("state", ""),
        code_challenge="",
        scopes=(),
    )
    return HttpResponseRedirect(
        auth.redirect_with(error=exc.error, error_description=exc.description, state=auth.state)
    )


@csrf_exempt  # server-to-server OAuth endpoint; the client authenticates with the grant
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """POST /oauth2/auth, form-encoded only: authorization_code (PKCE) or refresh_token."""
    config = get_config()
    fault = faults.take_fault(SandboxFault.VKID, "token")
    faults.before(fault)
    if fault is not None and fault.http_status:
        # Like a failing gateway: a bare status, no OAuth error body.
        return HttpResponse(f"Injected HTTP {fault.http_status}", status=fault.http_status)
    response = _token_response({key: request.POST[key] for key in request.POST}, config)
    faults.after(fault, config)
    return response


def _token_response(form: dict[str, str], config: SandboxConfig) -> JsonResponse:
    try:
        if not form:
            raise vkid.OAuthError("invalid_request", "a form-encoded body is required")
        return JsonResponse(vkid.token_request(form, config))
    except vkid.OAuthError as exc:
        body = {"error": exc.error, "error_description": exc.description}
        if form.get("state"):
            body["state"] = form["state"]
        return JsonResponse(body, status=exc.status)


@csrf_exempt  # server-to-server, like the token endpoint
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    """POST /oauth2/revoke: withdraw the application's rights (see vkid.end_grant)."""
    return _end_grant(request, "revoke")


@csrf_exempt
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """POST /oauth2/logout: end the user's session in the application (see vkid.end_grant)."""
    return _end_grant(request, "logout")


def _end_grant(request: HttpRequest, target: str) -> HttpResponse:
    fault = faults.take_fault(SandboxFault.VKID, target)
    faults.before(fault)
    if fault is not None and fault.http_status:
        return HttpResponse(f"Injected HTTP {fault.http_status}", status=fault.http_status)
    form = {key: request.POST[key] for key in request.POST}
    try:
        response = JsonResponse(vkid.end_grant(form))
    except vkid.OAuthError as exc:
        body = {"error": exc.error, "error_description": exc.description}
        response = JsonResponse(body, status=exc.status)
    faults.after(fault)
    return response
