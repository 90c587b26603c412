"""The fake Evotor cloud API under /sandbox/evotor/ (docs/evotor.md#read-endpoints, E1–E7)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from apps.sandbox.models import EvotorAccount, SandboxConfig, SandboxFault
from apps.sandbox.services import evotor, faults
from apps.sandbox.services.config import get_config

EndpointBody = Callable[..., dict[str, Any]]


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(
        data,
        status=status,
        content_type=evotor.CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def _error(exc: evotor.EvotorError) -> JsonResponse:
    return _json(exc.body, exc.status)


def endpoint(target: str) -> Callable[[EndpointBody], Callable[..., HttpResponse]]:
    """GET (and HEAD) only; then faults, Accept, token, rate limit (X-RateLimit-* on every
    answer) and the body. ``target`` names the endpoint for fault injection."""

    def decorator(body: EndpointBody) -> Callable[..., HttpResponse]:
        @csrf_exempt  # a 405 for POST, not a CSRF page: this is an API
        @wraps(body)
        def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                response = _json({"code": "method_not_allowed", "message": "Use GET"}, 405)
                response["Allow"] = "GET, HEAD"
                return response
            config = get_config()
            fault = faults.take_fault(SandboxFault.EVOTOR, target)
            faults.before(fault)
            if fault is not None and fault.http_status:
                return _injected(fault.http_status)
            response = _answer(request, config, body, kwargs)
            faults.after(fault, config)
            return response

        return view

    return decorator


def _answer(
    request: HttpRequest, config: SandboxConfig, body: EndpointBody, kwargs: dict[str, str]
) -> HttpResponse:
    try:
        evotor.check_accept(request.headers.get("Accept", ""))
        account = evotor.authenticate(request.headers)
    except evotor.EvotorError as exc:
        return _error(exc)
    window = evotor.count_request(account, config)
    if window.exceeded:
        response = _json({"code": "rate_limit_exceeded", "message": "Rate Limit Exceeded"}, 429)
    else:
        try:
            response = _json(body(request, account, **kwargs))
        except evotor.EvotorError as exc:
            response = _error(exc)
    for header, value in evotor.rate_headers(window).items():
        response[header] = value
    return response


def _injected(status: int) -> JsonResponse:
    response = _json({"code": "injected_fault", "message": f"Injected HTTP {status}"}, status)
    if status == 429:
        response["X-RateLimit-Limit"] = "0"
        response["X-RateLimit-Remaining"] = "0"
        response["X-RateLimit-Reset"] = "1"
    return response


@endpoint("stores")
def stores(request: HttpRequest, account: EvotorAccount) -> dict[str, Any]:
    return evotor.stores_page(account, request.GET)


@endpoint("store")
def store(request: HttpRequest, account: EvotorAccount, store_id: str) -> dict[str, Any]:
    return evotor.evotor_json.store_json(evotor.get_store(account, store_id), account.user_id)


@endpoint("product-groups")
def product_groups(request: HttpRequest, account: EvotorAccount, store_id: str) -> dict[str, Any]:
    return evotor.groups_page(evotor.get_store(account, store_id), request.GET)


@endpoint("product-group")
def product_group(
    request: HttpRequest, account: EvotorAccount, store_id: str, group_id: str
) -> dict[str, Any]:
    return evotor.get_group(evotor.get_store(account, store_id), group_id)


@endpoint("products")
def products(request: HttpRequest, account: EvotorAccount, store_id: str) -> dict[str, Any]:
    return evotor.products_page(evotor.get_store(account, store_id), request.GET)


@endpoint("product")
def product(
    request: HttpRequest, account: EvotorAccount, store_id: str, product_id: str
) -> dict[str, Any]:
    return evotor.get_product(evotor.get_store(account, store_id), product_id)


@endpoint("images")
def product_images(
    request: HttpRequest, account: EvotorAccount, store_id: str, product_id: str
) -> dict[str, Any]:
    def image_url(image_id: str) -> str:
        return request.build_absolute_uri(reverse("sandbox:evotor-image", args=[image_id]))

    return evotor.product_images(evotor.get_store(account, store_id), product_id, image_url)


def image_file(request: HttpRequest, image_id: str) -> HttpResponse:
    """Evotor's image host: public URLs, no token (the client must not send one here)."""
    content = evotor.image_bytes(image_id)
    if content is None:
        raise Http404("no such image")
    return HttpResponse(content, content_type="image/png")
