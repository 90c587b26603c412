"""django-axes hooks: one lockout key per address, and a translated 429 page."""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.models import normalize_email_address

# axes stores the key in CharField(max_length=255) columns (AccessAttempt, AccessLog, ...);
# MariaDB refuses a longer value, which used to turn a long login into a 500.
AXES_USERNAME_MAX_LENGTH = 255


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The login as axes should count it: "Ivan@Mail.ru " and "ivan@mail.ru" are one account.

    Axes calls this with the credentials passed to authenticate() (key ``username``), with the
    ones it builds itself on a successful login (key ``AXES_USERNAME_FORM_FIELD``, also
    ``username``), or with none, in which case the login form's POST data is read.

    The forms reject logins over 254 characters, but lower-casing can lengthen a value
    ("İ" becomes two characters) and other callers of authenticate() may not bound theirs, so
    the key is cut to what axes can store. Two logins sharing their first 255 characters share
    a lockout counter, which is harmless.
    """
    raw = credentials.get("username") if credentials else request.POST.get("username")
    if not isinstance(raw, str):
        return None
    return normalize_email_address(raw)[:AXES_USERNAME_MAX_LENGTH] or None


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """429 with a page that says when logging in will work again.

    Every attempt during a lockout restarts the cooldown (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_
    LOCKOUT), and this page answers exactly such an attempt, so the lock ends one cooldown from now.
    """
    cool_off = get_cool_off(request) or timedelta(0)
    minutes = max(1, round(cool_off.total_seconds() / 60))
    context = {"retry_minutes": minutes, "retry_at": timezone.now() + cool_off}
    return render(request, "accounts/locked_out.html", context, status=429)
