"""Merchant sync pages: settings, preview, enable/disable, sync now, resume, history, one run.

Every page works on request.user's own config and jobs; a job is fetched through the user, so
another merchant's id is a 404. Nothing here talks to VK except through services (the preview,
which only reads) and pages.categories (a read, cached).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import audit
from apps.connections.vk_link import usable_vk_connection
from apps.sync import explain, notify, pages, services, tasks
from apps.sync.core import types as core
from apps.sync.forms import AUDITED_FIELDS, SyncSettingsForm
from apps.sync.models import SyncConfig, SyncJob

PAGE_SIZE = 50
STATE_FIELDS = ("is_enabled", "confirmed_at", "paused_reason")
ACTIONS = frozenset(action.value for action in core.Action)


def _explained(reason: str | None, *, on_sync_page: bool = False) -> str:
    found = explain.run_reason(reason or "", on_sync_page=on_sync_page)
    return f"{found.title} {found.advice}" if found else ""


# --- settings ---------------------------------------------------------------------------------


def _settings_form(request: HttpRequest, config: SyncConfig, data=None) -> SyncSettingsForm:
    categories = pages.categories(usable_vk_connection(request.user))
    form = SyncSettingsForm(
        data, instance=config, stores=pages.stores(config),
        categories=pages.category_choices(categories, config),
    )
    form.categories_loaded = categories is not None
    return form


def _not_ready(user, config: SyncConfig) -> str:
    """The first thing missing before sync may be switched on ("" when nothing is)."""
    if not user.is_email_confirmed:
        return "email_not_confirmed"
    try:
        services.check_ready(user, config, require_enabled=False)
    except services.NotReady as exc:
        return exc.code
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    config = services.config_for(request.user)
    # Taken before validation: a ModelForm writes the submitted values into its instance.
    before = audit.snapshot(config, AUDITED_FIELDS)
    form = _settings_form(request, config, request.POST or None)
    if request.method == "POST" and form.is_valid():
        stores_before = pages.included_store_names(config)
        config = form.save()
        pages.save_stores(config, form.cleaned_data["stores"], form.store_names)
        changes = audit.changes_between(
            {**before, "stores": stores_before},
            {**audit.snapshot(config, AUDITED_FIELDS),
             "stores": pages.included_store_names(config)},
        )
        if changes:
            audit.record_request(request, "sync.settings", subject=request.user, obj=config,
                                 changes=changes)
        messages.success(request, _("Sync settings saved."))
        for warning in pages.template_warnings(config.description_template):
            messages.warning(request, warning)
        return redirect("sync:settings")
    values = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    if form.is_bound:  # the form wrote its (rejected) values into config: show what is saved
        config = SyncConfig.objects.get(pk=config.pk)
    choices = pages.stores(config)
    last_job = pages.latest_job(request.user)
    missing = _not_ready(request.user, config)
    return render(request, "sync/settings.html", {
        "config": config,
        "form": form,
        "stores": choices,
        "default_store": pages.default_store(choices),
        "example": pages.example(request.user, pages.settings_with(config, values)),
        "not_ready": missing,
        "not_ready_text": explain.run_reason(missing, on_sync_page=True),
        "running": pages.is_running(request.user, config),
        "last_job": last_job,
        "last_reason": explain.run_reason(last_job.error_code, on_sync_page=True)
        if last_job else None,
        "paused_by_failures": notify.paused_by_failures(config),
    })


@login_required
@require_POST
def example(request: HttpRequest) -> JsonResponse:
    """The description example for the values being typed (the settings page's script)."""
    config = services.config_for(request.user)
    form = SyncSettingsForm(request.POST, instance=SyncConfig(user=request.user), stores=[],
                            categories=[("", "")])
    form.is_valid()
    values = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    found = pages.example(request.user, pages.settings_with(config, values))
    errors = [str(e) for e in form.errors.get("description_template", [])]
    if found is None:
        return JsonResponse({"available": False, "errors": errors})
    return JsonResponse({
        "available": True,
        "product": found.product,
        "price": found.price,
        "description": found.description,
        "warnings": found.warnings,
        "errors": errors,
    })


# --- preview ----------------------------------------------------------------------------------


def _plan_or_message(request: HttpRequest):
    """(loaded, plan) or (None, the reason in words)."""
    try:
        return services.preview(request.user), ""
    except services.RunStopped as exc:
        return None, _explained(exc.code)


@login_required
@require_GET
def preview(request: HttpRequest) -> HttpResponse:
    found, problem = _plan_or_message(request)
    context: dict = {"problem": problem}
    if found is not None:
        loaded, plan = found
        action = request.GET.get("action", "")
        action = action if action in ACTIONS else ""
        shown = [core.Action(action)] if action else [*pages.PREVIEW_ACTIONS, *pages.OTHER_ACTIONS]
        page = Paginator(plan.of(*shown), PAGE_SIZE).get_page(request.GET.get("page"))
        counts = plan.counts()
        context.update({
            "tiles": pages.count_tiles(counts),
            "unchanged": counts[core.Action.UNCHANGED],
            "action": action,
            "query": f"action={action}" if action else "",
            "page": page,
            "rows": pages.preview_rows(list(page.object_list), loaded.names,
                                       loaded.group_names, request.user),
            "albums": plan.albums,
            "writes": plan.writes,
        })
    return render(request, "sync/preview.html", context)


# --- switching on and off ----------------------------------------------------------------------


def _record_state(request: HttpRequest, action: str, config: SyncConfig, before: dict) -> None:
    after = audit.snapshot(config, STATE_FIELDS)
    audit.record_request(request, action, subject=request.user, obj=config,
                         changes=audit.changes_between(before, after))


@login_required
@require_http_methods(["GET", "POST"])
def enable(request: HttpRequest) -> HttpResponse:
    """Switch sync on. The first time, a page with the preview counts asks to confirm."""
    config = services.config_for(request.user)
    missing = _not_ready(request.user, config)
    if missing:
        messages.error(request, _("Sync cannot be switched on yet: %(reason)s")
                       % {"reason": _explained(missing, on_sync_page=True)})
        return redirect("sync:settings")
    first = config.confirmed_at is None
    if request.method == "GET" or (first and request.POST.get("confirm") != "1"):
        if not first:
            return redirect("sync:settings")
        found, problem = _plan_or_message(request)
        tiles = pages.count_tiles(found[1].counts()) if found is not None else None
        return render(request, "sync/enable_confirm.html",
                      {"tiles": tiles, "problem": problem, "config": config})
    before = audit.snapshot(config, STATE_FIELDS)
    config.is_enabled = True
    config.confirmed_at = config.confirmed_at or timezone.now()
    config.save(update_fields=["is_enabled", "confirmed_at", "updated_at"])
    _record_state(request, "sync.enable", config, before)
    tasks.request_sync(request.user.pk, SyncJob.Trigger.ENABLE)
    messages.success(request, _("Sync is on. The first run has started; it then runs every "
                                "hour and after every change in Evotor."))
    return redirect("sync:jobs")


@login_required
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    config = services.config_for(request.user)
    before = audit.snapshot(config, STATE_FIELDS)
    config.is_enabled = False
    config.save(update_fields=["is_enabled", "updated_at"])
    _record_state(request, "sync.disable", config, before)
    messages.success(request, _("Sync is off. Goods already in VK stay as they are."))
    return redirect("sync:settings")


@login_required
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    config = services.config_for(request.user)
    if not config.is_paused:
        messages.info(request, _("Sync is not paused."))
        return redirect("sync:settings")
    if config.paused_by_staff:
        # Support paused it for a reason the merchant may not see (an incident, abuse):
        # support lifts it, in the admin.
        messages.error(request, _("Sync was paused by EvoSync support: write to support to "
                                  "resume it."))
        return redirect("sync:settings")
    before = audit.snapshot(config, STATE_FIELDS)
    services.resume(config)
    config.refresh_from_db()
    _record_state(request, "sync.resume", config, before)
    if config.is_enabled:
        tasks.request_sync(request.user.pk, SyncJob.Trigger.RESUME)
    messages.success(request, _("Sync is resumed."))
    return redirect("sync:settings")


@login_required
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    config = services.config_for(request.user)
    try:
        services.check_ready(request.user, config)
    except services.NotReady as exc:
        messages.error(request, _explained(exc.code, on_sync_page=True))
        return redirect("sync:settings")
    if pages.is_running(request.user, config):
        messages.info(request, _("A sync is already running; it picks up your latest changes "
                                 "too. Watch it below."))
        return redirect("sync:jobs")
    tasks.request_sync(request.user.pk, SyncJob.Trigger.MANUAL)
    messages.success(request, _("Sync started."))
    job = pages.latest_job(request.user)
    return redirect("sync:job", pk=job.pk) if job is not None else redirect("sync:jobs")


# --- history ----------------------------------------------------------------------------------


@login_required
@require_GET
def jobs(request: HttpRequest) -> HttpResponse:
    runs = SyncJob.objects.filter(user=request.user).defer("only_product_ids")
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    for job in page:
        job.duration_text = pages.duration_text(job.duration)
        job.summary = pages.run_summary(job)
        job.reason = explain.run_reason(job.error_code)
    return render(request, "sync/jobs.html", {"page": page})


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(SyncJob, pk=pk, user=request.user)
    return render(request, "sync/job.html", {
        "job": job,
        "reason": explain.run_reason(job.error_code),
        "duration": pages.duration_text(job.duration),
        "counts": pages.run_counts(job),
        "groups": pages.error_groups(job),
        "progress": pages.progress(job),
    })


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_object_or_404(SyncJob, pk=pk, user=request.user)
    return JsonResponse(pages.progress(job))


@login_required
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(SyncJob, pk=pk, user=request.user)
    failed = pages.failed_product_ids(job)
    if not failed:
        messages.info(request, _("This run has no failed items to retry."))
        return redirect("sync:job", pk=job.pk)
    config = services.config_for(request.user)
    try:
        services.check_ready(request.user, config)
    except services.NotReady as exc:
        messages.error(request, _explained(exc.code))
        return redirect("sync:job", pk=job.pk)
    tasks.request_sync(request.user.pk, SyncJob.Trigger.RETRY, only=failed)
    messages.success(request, ngettext("Retrying %(count)d failed item.",
                                       "Retrying %(count)d failed items.", len(failed))
                     % {"count": len(failed)})
    return redirect("sync:jobs")
