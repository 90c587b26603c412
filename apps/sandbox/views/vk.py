"""The fake VK API under /sandbox/vk/: ``method/<name>``, the photo upload server, photo files."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.sandbox.models import SandboxFault
from apps.sandbox.services import faults, vk_dispatch, vk_photos
from apps.sandbox.services.vk_errors import injected

_FILE_FIELD = re.compile(r"^file(\d*)$")


def _json(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _api_root(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sandbox:vk-root")).rstrip("/")


@csrf_exempt  # API endpoint: callers authenticate with access_token, not cookies
def method(request: HttpRequest, name: str) -> HttpResponse:
    """GET or form/multipart POST. A JSON body is not read — VK does not accept JSON either, so
    such a call looks like one without parameters (docs/vk.md#what-the-sandbox-enforces)."""
    params = {key: request.GET[key] for key in request.GET}
    if request.method == "POST":
        params.update({key: request.POST[key] for key in request.POST})
    token = params.get("access_token") or _bearer(request)
    fault = faults.take_fault(SandboxFault.VK, name)
    faults.before(fault)
    if fault is not None and fault.http_status:
        return HttpResponse(f"Injected HTTP {fault.http_status}", status=fault.http_status)
    if fault is not None and fault.error_code:
        echo = vk_dispatch.request_params(name, params, bool(token))
        return _json({"error": injected(fault.error_code, fault.captcha_style).as_error(echo)})
    response = _json(vk_dispatch.handle(name, params, token, _api_root(request)))
    faults.after(fault)
    return response


def _bearer(request: HttpRequest) -> str | None:
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _field_order(name: str) -> int:
    """``file`` first, then ``file1``, ``file2``, … in numeric (not string) order."""
    match = _FILE_FIELD.match(name)
    return int(match.group(1) or 0) if match else 10**6


@csrf_exempt
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """The upload server behind ``upload_url``: multipart ``file`` (bulk: ``file1``..``fileN``).
    Refusals are HTTP 200 with ``error``/``error_msg``, as VK's upload hosts answer."""
    fault = faults.take_fault(SandboxFault.VK, "upload", wildcard=False)
    faults.before(fault)
    if fault is not None and fault.http_status:
        return HttpResponse(f"Injected HTTP {fault.http_status}", status=fault.http_status)
    names = sorted(request.FILES, key=_field_order)
    files = [vk_photos.UploadFile(name, request.FILES[name].read()) for name in names]
    try:
        response = _json(vk_photos.receive_upload(request.GET.get("token", ""), files))
    except vk_photos.UploadRefused as exc:
        response = _json({"error": "invalid_photo", "error_msg": str(exc)})
    faults.after(fault)
    return response


@require_GET
def photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    """The photo "CDN": a small JPEG rendition of what was uploaded."""
    content = vk_photos.thumbnail_bytes(photo_id)
    if content is None:
        raise Http404("no such photo")
    return HttpResponse(content, content_type="image/jpeg")


def root(request: HttpRequest) -> HttpResponse:
    """The API root has nothing to show; it exists so URLs can be built from it."""
    return _json({"error": {"error_code": 3, "error_msg": "Unknown method passed"}})
