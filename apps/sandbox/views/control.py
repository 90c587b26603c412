"""/sandbox/control/…: fault injection and world switches for scripts and tests.

Allowed with the ``X-Sandbox-Control-Token`` header (the token is printed by ``sandbox_seed``
and ``sandbox_fault token``) or for a signed-in staff user, who must then pass CSRF like any
other form post. The whole tree exists only where the sandbox is mounted (SANDBOX_ENABLED).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from apps.sandbox.services import control, faults, vk_moderation

TOKEN_HEADER = "X-Sandbox-Control-Token"  # noqa: S105 - a header name
Handler = Callable[..., dict[str, Any] | list[Any]]


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    # The view is csrf_exempt so that token-authenticated scripts need no cookie; a session
    # (staff) caller gets the ordinary CSRF check here instead.
    return CsrfViewMiddleware(lambda _request: HttpResponse()).process_view(request, None, (), {})


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data
    return {key: request.POST[key] for key in request.POST}


def control_endpoint(*methods: str) -> Callable[[Handler], Callable[..., HttpResponse]]:
    def decorator(handler: Handler) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return JsonResponse({"error": "method not allowed"}, status=405)
            if not control.token_ok(request.headers.get(TOKEN_HEADER)):
                if not (request.user.is_authenticated and request.user.is_staff):
                    return JsonResponse(
                        {"error": "control token or staff login required"}, status=403
                    )
                failure = _csrf_failure(request)
                if failure is not None:
                    return failure
            try:
                result = handler(request, _payload(request), **kwargs)
            except (ValueError, json.JSONDecodeError) as exc:
                return JsonResponse({"error": str(exc)}, status=400)
            except LookupError as exc:
                return JsonResponse({"error": str(exc).strip("'\"")}, status=404)
            return JsonResponse(result, safe=False)

        return view

    return decorator


@control_endpoint("GET", "POST", "DELETE")
def fault_list(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any] | list[Any]:
    if request.method == "POST":
        return control.add_fault(payload)
    if request.method == "DELETE":
        return {"deleted": faults.clear_faults(request.GET.get("service"))}
    return faults.list_faults()


@control_endpoint("GET", "POST")
def config(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.configure(payload if request.method == "POST" else {})


@control_endpoint("POST")
def vk_token_revoke(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.revoke_vk_token(payload)


@control_endpoint("POST")
def vk_token_expire(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.expire_vk_token(payload)


@control_endpoint("POST")
def vk_market(request: HttpRequest, payload: dict[str, Any], group_id: int) -> dict[str, Any]:
    return control.set_market(group_id, payload)


@control_endpoint("POST")
def vk_caps(request: HttpRequest, payload: dict[str, Any], group_id: int) -> dict[str, Any]:
    return control.set_caps(group_id, payload)


@control_endpoint("POST")
def vk_item_reject(request: HttpRequest, payload: dict[str, Any], item_id: int) -> dict[str, Any]:
    return control.reject_item(item_id, payload)


@control_endpoint("GET", "POST", "DELETE")
def vk_moderation_rules(
    request: HttpRequest, payload: dict[str, Any]
) -> dict[str, Any] | list[Any]:
    if request.method == "POST":
        return control.add_moderation_rule(payload)
    if request.method == "DELETE":
        return {"deleted": vk_moderation.clear_rules()}
    return vk_moderation.list_rules()


@control_endpoint("POST")
def evotor_token_revoke(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.revoke_evotor_token(payload)


@control_endpoint("POST")
def evotor_install(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.install(payload)


@control_endpoint("POST")
def evotor_uninstall(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.uninstall(payload)


@control_endpoint("POST")
def evotor_event(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.send_event(payload)


@control_endpoint("POST")
def evotor_touch(request: HttpRequest, payload: dict[str, Any]) -> dict[str, Any]:
    return control.touch(payload)
