"""``{% sync_banners %}``: "sync is paused" / "the last runs failed" on every page, and
``{% url_if "name" as var %}`` for buttons whose page may not be mounted."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from apps.sync.models import SyncConfig, SyncJob
from apps.sync.notify import FAILING_AFTER, paused_by_failures, run_problem

register = template.Library()


@register.simple_tag
def url_if(name: str, *args: Any) -> str:
    """The URL, or "" when it does not resolve (the template then leaves the button out)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.inclusion_tag("partials/_sync_banner.html", takes_context=True)
def sync_banners(context: template.Context) -> dict[str, Any]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"config": None}
    try:
        config = user.sync_config  # cached on the user by the page that read it already
    except SyncConfig.DoesNotExist:
        return {"config": None}
    troubled = config.is_paused or (
        config.is_enabled and config.consecutive_failures >= FAILING_AFTER
    )
    if not troubled:
        return {"config": None}
    by_failures = paused_by_failures(config) or not config.is_paused
    # A pause for another reason (support) is not explained by the last failed run.
    job = SyncJob.objects.filter(user=user, status=SyncJob.Status.FAILED).first() \
        if by_failures else None
    return {"config": config, "by_failures": by_failures, "job": job,
            "problem": run_problem(job) if job else None, "request": context.get("request")}
