"""django-axes hooks: one lockout key per address, and a translated 429 page."""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.models import normalize_email_address


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The login as axes should count it: "Ivan@Mail.ru " and "ivan@mail.ru" are one account.

    Axes calls this with the credentials passed to authenticate() (key ``username``), with the
    ones it builds itself on a successful login (key ``AXES_USERNAME_FORM_FIELD``, also
    ``username``), or with none, in which case the login form's POST data is read.
    """
    if credentials:
        raw = credentials.get("username")
    else:
        raw = request.POST.get("username")
    return normalize_email_address(raw) or None


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
