"""One merchant's sync: preconditions, lease, catalog refresh, VK read-back, plan, execute, record.

Shared by the tasks, ``manage.py sync_user``, the pages and the admin. Remote calls never run
inside a transaction; outcomes are committed batch by batch (executor.py). The life of a run is
described in docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.services import RefreshSkipped, refresh_catalog
from apps.connections import providers
from apps.connections.clients import (
    ApiError,
    AuthError,
    CaptchaError,
    EvotorClient,
    PermanentError,
    RateLimitError,
    ResponseFormatError,
    TransientError,
    VkClient,
)
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from apps.connections.services import set_state
from apps.connections.vk_link import usable_vk_connection
from apps.connections.vk_tokens import ensure_fresh_vk_token
from apps.sync import images, lease
from apps.sync.context import Loaded, load
from apps.sync.core import engine
from apps.sync.core import types as core
from apps.sync.executor import Executor, Tally
from apps.sync.models import SyncConfig, SyncItemError, SyncJob

log = logging.getLogger(__name__)

MODERATION = "vk:moderation"
# VK's goods switched off (1438; 1525/1526 "market (services) disabled", which VK gives for the
# same state on some methods): the merchant switches them on in the community's settings.
MARKET_OFF_CODES = frozenset({1438, 1525, 1526})
# Goods on, but in the basic mode (docs/vk.md): the merchant must choose extended goods.
MARKET_BASIC = 1409
# The share of the task timeout a run may use before it hands over to a continuation.
DEADLINE_SHARE = 0.75

# The merchant whose sync is running in this context: its own catalog refresh must not
# trigger yet another run (catalog_changed receiver, apps/sync/receivers.py).
serving_user: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "serving_user", default=None
)


class RunStopped(Exception):
    """The run cannot go on. ``code`` is for the pages (explain.py), ``str()`` for operators."""

    def __init__(self, code: str, summary: str) -> None:
        super().__init__(summary)
        self.code = code


class NotReady(RunStopped):
    """A precondition is missing: nothing was attempted."""


def config_for(user: User) -> SyncConfig:
    config, _ = SyncConfig.objects.get_or_create(user=user)
    return config


# --- preconditions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    config: SyncConfig
    evotor: EvotorConnection
    vk: VkConnection


def check_ready(
    user: User, config: SyncConfig, *, require_enabled: bool = True, vk: VkConnection | None = None
) -> Ready:
    """Everything a run needs, or NotReady with the first missing thing. ``vk``: the usable VK
    connection when the caller has just read it."""
    if require_enabled and not config.is_enabled:
        raise NotReady("disabled", "sync is not enabled")
    if require_enabled and config.is_paused:
        raise NotReady("paused", f"sync is paused: {config.paused_reason}")
    evotor = EvotorConnection.objects.filter(user=user).first()
    if evotor is None or not evotor.is_usable:
        raise NotReady("evotor_not_connected", "no usable Evotor connection")
    vk = vk or usable_vk_connection(user)
    if vk is None:
        raise NotReady("vk_not_connected", "no usable VK connection with a community")
    if not config.vk_category_id:
        raise NotReady("no_category", "no VK category chosen")
    return Ready(config, evotor, vk)


# --- running ------------------------------------------------------------------------------------


@dataclass
class Clients:
    """Injected in tests and benchmarks; built from the connections otherwise."""

    vk: VkClient | None = None
    evotor: EvotorClient | None = None


def run_sync(
    user: User,
    trigger: str,
    *,
    full_refresh: bool = False,
    only: frozenset[str] | None = None,
    clients: Clients | None = None,
    task_id: str = "",
    deadline: float | None = None,
    on_continue: Callable[[], None] | None = None,
) -> SyncJob | None:
    """Run the merchant's sync under the lease; None when another run holds it (that run
    serves this trigger too). Runs again while triggers arrive during a pass."""
    config = config_for(user)
    owner = lease.new_owner()
    if not lease.claim(config.pk, owner):
        return None
    job = None
    try:
        while True:
            lease.start_serving(config.pk, owner, timezone.now())
            job = _pass(user, config, owner, trigger, full_refresh, only, clients, task_id,
                        deadline)
            if job.error_code == "continued":
                lease.force_release(config.pk, owner)
                if on_continue is not None:
                    on_continue()
                return job
            if lease.release(config.pk, owner) or not lease.holds(config.pk, owner):
                return job
            config.refresh_from_db()  # a trigger arrived during the pass: once more
            trigger, only, full_refresh = config.requested_trigger or trigger, None, False
    except BaseException:
        lease.force_release(config.pk, owner)
        raise


def _pass(user, config, owner, trigger, full_refresh, only, clients, task_id, deadline) -> SyncJob:
    """One pass: ``config`` as read when the lease was taken (or after the previous pass)."""
    vk = usable_vk_connection(user)
    job = SyncJob.objects.create(
        user=user, triggered_by=trigger, status=SyncJob.Status.RUNNING, task_id=task_id[:64],
        vk_group_id=vk.group_id if vk else None,
        only_product_ids=sorted(only) if only else None,
    )
    close_interrupted(user, job)
    started = time.monotonic()
    try:
        ready = check_ready(user, config, require_enabled=trigger != SyncJob.Trigger.COMMAND,
                            vk=vk)
        tally = _work(user, ready, job, owner, full_refresh, only, clients or Clients(),
                      started, deadline)
        _finish(job, tally, SyncJob.Status.PARTIAL if tally.failed else SyncJob.Status.SUCCESS)
    except NotReady as exc:
        _finish(job, None, SyncJob.Status.SKIPPED, exc.code, str(exc))
    except Continued as exc:
        _finish(job, None, SyncJob.Status.SUCCESS, "continued", str(exc))
    except RunStopped as exc:
        _finish(job, None, SyncJob.Status.FAILED, exc.code, str(exc))
    _after_run(config, job)
    return job


class Continued(RunStopped):
    def __init__(self, tally: Tally) -> None:
        super().__init__("continued", "time budget used: a continuation run takes over")
        self.tally = tally


def _work(user, ready: Ready, job, owner, full_refresh, only, clients, started, deadline) -> Tally:
    _refresh_catalog(user, ready, full_refresh, clients)
    vk_conn = ready.vk
    budget = _budget(deadline)
    try:
        vk_conn = ensure_fresh_vk_token(vk_conn)
        client = clients.vk or providers.vk_client(vk_conn.access_token)
        carried, settled, mark = Tally(), set(), 0
        for attempt in range(retry_passes() + 1):
            executor = None
            try:
                loaded, plan = _plan(user, ready, client, clients, only)
                executor = Executor(
                    client=client, group_id=vk_conn.group_id, job=job, loaded=loaded,
                    settings=loaded.ctx.settings,
                    checkpoint=_checkpoint(job, ready, owner, started, budget),
                    fetch_image=_image_fetcher(ready.evotor, clients),
                    discover=_image_discovery(loaded, ready, clients),
                )
                executor.tally = carried
                tally = executor.apply(_without(plan, settled))
                stop = None
                if mark:
                    _moderation_once(job, tally, mark)
            except Continued:
                raise Continued(executor.tally if executor else carried) from None
            except TransientError as exc:
                if not _worth_again(exc):
                    raise
                tally, stop = (executor.tally if executor else carried), exc
            finally:
                job.vk_requests = client.requests_made
                if executor is not None:
                    job.photos_uploaded = executor.tally.uploads
                    _copy(job, executor.tally)
            again = _transient_failures(job)
            if not (stop or again) or attempt == retry_passes():
                break
            delay = retry_backoff() * 2 ** attempt
            if time.monotonic() - started + delay >= budget * RETRY_BUDGET_SHARE:
                break
            log.info("sync job %s: pass %s left %s transient failures%s; again in %.1fs",
                     job.pk, attempt + 1, len(again), f" ({stop})" if stop else "", delay)
            time.sleep(delay)
            settled |= _permanent_failures(job)
            carried, mark = _superseded(job, tally, again)
        if stop is not None:
            raise stop
        return tally
    except (ApiError, TokenDecryptionError) as exc:
        raise _stopped(exc, vk_conn) from exc


# --- passes again within a run (docs/architecture.md "Faults within a run") ------------------

# A pass again only while this share of the time budget is unused: a continuation run is the
# better place for a long outage.
RETRY_BUDGET_SHARE = 0.5
# An item error that says "try again": VK overloaded (1, 6, 9, 10), 5xx, timeout. Anything else
# (moderation, 100, 1408 ... and photo refusals) would fail the same way again.
TRANSIENT_ITEM_CODES = {"vk:1", "vk:6", "vk:9", "vk:10", f"vk:{TransientError.kind}"}


def retry_passes() -> int:
    """Extra passes a run makes when items failed only transiently (SYNC_RETRY_PASSES)."""
    return settings.SYNC_RETRY_PASSES


def retry_backoff() -> float:
    """Seconds before the first extra pass, doubled for each next (SYNC_RETRY_BACKOFF)."""
    return settings.SYNC_RETRY_BACKOFF


def _worth_again(exc: TransientError) -> bool:
    """A whole-run transient stop worth another pass now (not a quota of hours, code 29)."""
    return exc.retryable or not isinstance(exc, RateLimitError)


def _transient_failures(job: SyncJob) -> set[str]:
    return set(SyncItemError.objects.filter(job=job, code__in=TRANSIENT_ITEM_CODES)
               .values_list("evotor_product_id", flat=True))


def _permanent_failures(job: SyncJob) -> set[str]:
    """Goods that failed for a reason another pass would not change: left out of it."""
    return set(
        SyncItemError.objects.filter(job=job)
        .exclude(code__in=TRANSIENT_ITEM_CODES).exclude(code=MODERATION)
        .values_list("evotor_product_id", flat=True)
    )


def _superseded(job: SyncJob, tally: Tally, retried: set[str]) -> tuple[Tally, int]:
    """Before another pass: the errors of the goods it tries again go, and so does their
    count; what was created, updated, hidden or deleted stays counted. The tally the next pass
    adds to, and the last error row before it."""
    with transaction.atomic():
        SyncItemError.objects.filter(
            job=job, code__in=TRANSIENT_ITEM_CODES, evotor_product_id__in=retried
        ).delete()
        failed = SyncItemError.objects.filter(job=job).count()
        job.items_failed, job.progress_done = failed, 0
        job.save(update_fields=["items_failed", "progress_done"])
    mark = SyncItemError.objects.filter(job=job).order_by("-pk").values_list("pk", flat=True)
    return replace(tally, failed=failed, notes=list(tally.notes)), mark.first() or -1


def _moderation_once(job: SyncJob, tally: Tally, mark: int) -> None:
    """Every completed pass reports moderation's refusals: the latest report stands alone."""
    if not SyncItemError.objects.filter(job=job, code=MODERATION, pk__gt=mark).exists():
        return
    with transaction.atomic():
        gone, _ = SyncItemError.objects.filter(job=job, code=MODERATION, pk__lte=mark).delete()
        tally.failed -= gone
        job.items_failed = tally.failed
        job.save(update_fields=["items_failed"])


def _without(plan: core.SyncPlan, settled: set[str]) -> core.SyncPlan:
    if not settled:
        return plan
    return core.SyncPlan(items=[op for op in plan.items if op.product_id not in settled],
                         albums=plan.albums)


def _plan(user, ready: Ready, client: VkClient, clients: Clients, only):
    items = client.get_item_states(ready.vk.group_id)
    loaded = load(ready.config, ready.vk.group_id, vk_items=items, now=timezone.now(), only=only)
    del items  # the context holds its own copies: let these go before planning (memory)
    return loaded, engine.plan_sync(loaded.ctx)


def preview(user: User) -> tuple[Loaded, core.SyncPlan]:
    """The plan the next run would apply, from the cache and VK's current items; writes nothing
    to VK. Raises NotReady or RunStopped."""
    config = config_for(user)
    ready = check_ready(user, config, require_enabled=False)
    vk_conn = ready.vk
    try:
        vk_conn = ensure_fresh_vk_token(vk_conn)
        client = providers.vk_client(vk_conn.access_token, interactive=True)
        items = client.get_item_states(vk_conn.group_id)
    except (ApiError, TokenDecryptionError) as exc:
        raise _stopped(exc, vk_conn, record=False) from exc
    loaded = load(config, vk_conn.group_id, vk_items=items, now=timezone.now())
    return loaded, engine.plan_sync(loaded.ctx)


@contextlib.contextmanager
def quietly(user: User) -> Iterator[None]:
    """Catalog changes inside this block start no sync (the caller handles them)."""
    token = serving_user.set(user.pk)
    try:
        yield
    finally:
        serving_user.reset(token)


def _refresh_catalog(user, ready: Ready, full: bool, clients: Clients) -> None:
    try:
        with quietly(user):
            refresh = refresh_catalog(user, full=full, client=clients.evotor)
    except RefreshSkipped:
        return
    if refresh.status == refresh.Status.SUCCESS:
        return
    ready.evotor.refresh_from_db()
    if ready.evotor.state == ConnectionState.REVOKED:
        raise RunStopped("evotor_revoked", f"Evotor refused the token: {refresh.error}")


def _evotor_client(connection: EvotorConnection, clients: Clients) -> EvotorClient | None:
    if clients.evotor is not None:
        return clients.evotor
    try:
        return providers.evotor_client(connection.cloud_token)
    except (TokenDecryptionError, ValueError):
        return None


def _image_fetcher(connection: EvotorConnection, clients: Clients):
    client = _evotor_client(connection, clients)
    return client.download_image if client is not None else None


def _image_discovery(loaded: Loaded, ready: Ready, clients: Clients):
    client = _evotor_client(ready.evotor, clients)
    if client is None:
        return None
    return lambda products: images.discover(loaded, products, ready, client)


def _budget(deadline: float | None) -> float:
    return deadline if deadline is not None else settings.Q_TASK_TIMEOUT * DEADLINE_SHARE


def _checkpoint(job: SyncJob, ready: Ready, owner: str, started: float, budget: float):
    def checkpoint() -> None:
        # The executor saved the job's counts with the outcomes they count (Executor._commit).
        if not lease.renew(ready.config.pk, owner):
            raise RunStopped("lease_lost", "another run took over the lease")
        if not VkConnection.objects.filter(pk=ready.vk.pk, group_id=ready.vk.group_id).exists():
            raise RunStopped("community_changed", "the VK community changed during the run")
        if time.monotonic() - started > budget:
            raise Continued(Tally())

    return checkpoint


COUNT_FIELDS = [
    "items_created", "items_updated", "items_hidden", "items_deleted", "items_skipped",
    "items_failed", "vk_requests", "photos_uploaded",
]


def _copy(job: SyncJob, tally: Tally) -> None:
    job.items_created, job.items_updated = tally.created, tally.updated
    job.items_hidden, job.items_deleted = tally.hidden, tally.deleted
    job.items_skipped, job.items_failed = tally.skipped, tally.failed


def _stopped(exc: Exception, vk_conn: VkConnection, *, record: bool = True) -> RunStopped:
    """Classify a whole-run failure; a refused token, a market switched off or in the basic
    mode marks the VK connection so the pages and the health job show it."""
    detail = str(exc)
    if isinstance(exc, AuthError | TokenDecryptionError):
        if record:
            set_state(vk_conn, ConnectionState.REVOKED, detail)
        return RunStopped("vk_auth", detail)
    if isinstance(exc, CaptchaError):
        return RunStopped("vk_captcha", detail)
    code = getattr(exc, "code", None)
    if isinstance(exc, PermanentError) and code in MARKET_OFF_CODES:
        if record:
            set_state(vk_conn, ConnectionState.OFFLINE, "The market (Товары) is switched off.")
        return RunStopped("market_disabled", detail)
    if isinstance(exc, PermanentError) and code == MARKET_BASIC:
        if record:  # the code in the text: the pages explain it as VK's error 1409
            set_state(vk_conn, ConnectionState.OFFLINE,
                      "The goods are in the basic mode; extended goods are needed (code 1409).")
        return RunStopped("market_basic", detail)
    if isinstance(exc, ResponseFormatError):
        return RunStopped("vk_bad_reply", detail)
    if isinstance(exc, TransientError):
        return RunStopped("vk_unavailable", detail)
    return RunStopped("vk_error", detail)


def _finish(
    job: SyncJob, tally: Tally | None, status: str, code: str = "", summary: str = ""
) -> None:
    """``tally`` None: the counts already on the job (copied as the run went) stand."""
    if tally is not None:
        _copy(job, tally)
    if tally is not None and tally.notes and not code:
        code = tally.notes[0]
        summary = ", ".join(tally.notes)
    job.status, job.error_code, job.error_summary = status, code[:32], summary[:500]
    job.finished_at = timezone.now()
    if status in (SyncJob.Status.SUCCESS, SyncJob.Status.PARTIAL):
        job.progress_done = job.progress_total
    job.save()
    log.info("sync job %s for user %s: %s %s", job.pk, job.user_id, status, summary)


def _after_run(config: SyncConfig, job: SyncJob) -> None:
    if job.status == SyncJob.Status.SKIPPED:
        return
    now = timezone.now()
    if job.status != SyncJob.Status.FAILED:
        SyncConfig.objects.filter(pk=config.pk).update(last_run_at=now, consecutive_failures=0)
    else:
        SyncConfig.objects.filter(pk=config.pk).update(
            last_run_at=now, consecutive_failures=F("consecutive_failures") + 1
        )
        limit = settings.SYNC_MAX_CONSECUTIVE_FAILURES
        reason = f"{limit} failed runs in a row; the last: {job.error_summary}"[:300]
        SyncConfig.objects.filter(
            pk=config.pk, consecutive_failures__gte=limit, paused_reason=""
        ).update(paused_reason=reason, paused_at=now)
    try:  # one e-mail per incident; it must never fail the run it reports on
        from apps.sync.notify import notify_after_run

        notify_after_run(config.pk, job)
    except Exception:
        log.exception("Incident e-mail after sync job %s failed", job.pk)


def close_interrupted(user: User, current: SyncJob) -> int:
    """Runs left 'running' by a killed worker. Safe: we hold the lease, so none is alive."""
    return (
        SyncJob.objects.filter(user=user, status__in=[SyncJob.Status.RUNNING,
                                                      SyncJob.Status.PENDING])
        .exclude(pk=current.pk)
        .update(
            status=SyncJob.Status.FAILED,
            error_code="interrupted",
            error_summary="the worker stopped before the run finished",
            finished_at=timezone.now(),
        )
    )


# --- switching on and off -------------------------------------------------------------------------


def pause(config: SyncConfig, reason: str) -> None:
    SyncConfig.objects.filter(pk=config.pk).update(paused_reason=reason[:300],
                                                   paused_at=timezone.now())


def resume(config: SyncConfig) -> None:
    SyncConfig.objects.filter(pk=config.pk).update(paused_reason="", paused_at=None,
                                                   consecutive_failures=0)


def stop_for_user(user: User) -> None:
    """account_deleting: no further run; VK items stay where they are."""
    SyncConfig.objects.filter(user=user).update(is_enabled=False, requested_at=None)
