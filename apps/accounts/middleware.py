"""Per-request language and time zone from the signed-in user's profile."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from apps.accounts.models import DEFAULT_TIME_ZONE


class UserPreferencesMiddleware:
    """Activates the user's language and time zone; anonymous visitors get Moscow time.

    Sits after AuthenticationMiddleware and LocaleMiddleware: LocaleMiddleware has already chosen
    a language from the cookie or Accept-Language, which is right for visitors; a signed-in user's
    saved language wins over it (the footer switch saves into the profile, see views.set_language).
    Both activations are thread-local, so every request sets them afresh.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
            timezone.activate(_zone(user.time_zone))
        else:
            timezone.activate(_zone(DEFAULT_TIME_ZONE))
        return self.get_response(request)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    # Forms validate the zone; a value written around them (a shell, a bad import) must not turn
    # every page of that user into a server error.
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
