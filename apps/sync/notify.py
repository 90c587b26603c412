"""Sync incident e-mails: once when runs start failing, once when sync pauses itself, once when it
recovers, never once per run (docs/architecture.md#pausing-and-incident-e-mails).

The incident the merchant last heard about is kept on ``SyncConfig.incident_state``; moving it
is claimed with a conditional UPDATE (exactly one row changed), so of two workers finishing runs
at once exactly one sends. A failed send gives the claim back: the next run tries again.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.accounts.emails import absolute_url, send_email
from apps.sync.explain import run_reason
from apps.sync.models import SyncConfig, SyncJob

log = logging.getLogger(__name__)

# Runs that must fail in a row before "sync is failing" is worth an e-mail: a single failure
# is usually a passing VK or Evotor hiccup that the next hourly run does not meet again.
FAILING_AFTER = 2
FAILING, PAUSED = "failing", "paused"
EMAILS = {FAILING: "sync_failing", PAUSED: "sync_paused", "": "sync_recovered"}


def paused_by_failures(config: SyncConfig) -> bool:
    """Sync paused itself after too many failed runs (services._after_run), as opposed to a
    pause for another reason (EvoSync support in the admin), which says nothing of failures."""
    return config.is_paused and (
        config.consecutive_failures >= settings.SYNC_MAX_CONSECUTIVE_FAILURES
    )


def incident_of(config: SyncConfig) -> str:
    if config.is_paused:
        return PAUSED
    return FAILING if config.consecutive_failures >= FAILING_AFTER else ""


def _url(name: str, *args, fallback: str) -> str:
    try:
        return absolute_url(reverse(name, args=args))
    except NoReverseMatch:  # the sync pages are not mounted (yet)
        return absolute_url(fallback)


def run_problem(job: SyncJob):
    """The run's one-line reason in words (the /sync pages' mapping), or None."""
    if not job.error_code:
        return None
    return run_reason(job.error_code)


def notify_after_run(config_pk: int, job: SyncJob) -> str | None:
    """E-mail the merchant if this run opened, escalated or closed an incident. Returns the
    e-mail's name when one was sent."""
    if job.status == SyncJob.Status.SKIPPED:
        return None
    config = SyncConfig.objects.select_related("user").filter(pk=config_pk).first()
    if config is None:
        return None
    before, now_state = config.incident_state, incident_of(config)
    if now_state == before or (not now_state and job.status == SyncJob.Status.FAILED):
        return None
    stamp = timezone.now()
    claimed = SyncConfig.objects.filter(pk=config.pk, incident_state=before).update(
        incident_state=now_state, incident_notified_at=stamp
    )
    if claimed != 1:
        return None
    name = EMAILS[now_state]
    try:
        send_email(config.user, name, _context(config, job))
    except Exception:  # SMTP of any kind: give the claim back so that a later run retries
        log.exception("Could not e-mail user %s about sync incident %r", config.user_id, name)
        SyncConfig.objects.filter(pk=config.pk, incident_state=now_state,
                                  incident_notified_at=stamp).update(incident_state=before)
        return None
    log.info("Emailed user %s: %s", config.user_id, name)
    return name


def _context(config: SyncConfig, job: SyncJob) -> dict:
    return {
        "failures": config.consecutive_failures,
        "problem": run_problem(job),
        "job": job,
        "job_url": _url("sync:job", job.pk, fallback=f"/sync/jobs/{job.pk}"),
        "settings_url": _url("sync:settings", fallback="/sync"),
    }
