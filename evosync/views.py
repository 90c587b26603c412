from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from evosync.health import health_report


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database (and Redis, if configured) answer; 503 otherwise."""
    with translation.override("en"):  # for machines: cluster states in one language
        healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def home(request: HttpRequest) -> HttpResponse:
    """Merchants start at their connections; everyone else at the login page."""
    return redirect("connections" if request.user.is_authenticated else "login")
