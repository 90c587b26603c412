"""Merchant pages for Evotor and VK connections."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Both services at a glance; for now, what comes next (the connections issue fills it in)."""
    return render(request, "connections/overview.html")
