"""Proof: a sync converges, truthfully, while VK fails one call in five and moderation rejects.

    .venv/bin/python bench/proof_faults.py            # 500 products
    .venv/bin/python bench/proof_faults.py --quick    # 100 products (CI)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync_proofs .venv/bin/python bench/proof_faults.py

The sandbox fails 20 % of VK calls, drawn per call (probability faults, apps/sandbox/services/
faults.py): every API request meets error 6, 9 or 10, HTTP 502/503 or a timeout (the sandbox
does the work, then sleeps past the client's read timeout: HTTP_TIMEOUT_SECONDS=2 in the
cluster, ``timeout_sleep`` 3 s in the sandbox); every call inside an ``execute`` meets 6, 9 or
10; every photo upload post meets 502 or a timeout — each kind with an equal share of the 20 %.
Moderation rejects a few items (``vk_moderation.add_rule``). Runs are queued as "Sync now" does
(``request_sync``) and run by a real qcluster, one after the other, until the community shows
the catalogue (at most 5 runs, the retry policy's budget before sync pauses itself). Each run
makes up to SYNC_RETRY_PASSES more passes itself when goods failed only transiently
(docs/architecture.md, Faults within a run), so one or two runs are the norm.

Bars: converged within 5 runs; 0 duplicates and 0 orphans; every run's status says what it did
(failed items → "partial", none → "success", a run that could not go on → "failed" with a
reason) and its item errors match its failed count; ``items_created`` over the runs = items in
VK; each rejected item reported with VK's reason (SyncItemError "vk:moderation"). Once VK's
moderation accepts them and the faults stop, one more run is "success" and writes nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.proofs_common import (  # noqa: E402
    Bars,
    Bench,
    arguments,
    jobs_of,
    seeded_merchant,
    settled,
    vk_state,
    wait_until,
    wanted_products,
)

SHARE = 0.20
MAX_RUNS = 5
REJECT_REASON = "Товар нарушает правила: проверьте название"
INNER_METHODS = (
    "market.add", "market.edit", "market.get", "market.addAlbum", "market.addToAlbum",
    "market.getProductPhotoUploadServer", "market.saveProductPhotoBulk", "market.delete",
)


def inject_faults() -> None:
    """Each kind takes an equal part of the 20 %: 1 - (1 - p)^kinds = SHARE."""
    from apps.sandbox.services.world import inject_fault

    def each(kinds: int) -> float:
        return 1 - (1 - SHARE) ** (1 / kinds)

    request_kinds = [{"error_code": 6}, {"error_code": 9}, {"error_code": 10},
                     {"http_status": 502}, {"http_status": 503}, {"timeout": True}]
    for kind in request_kinds:
        inject_fault("vk", "*", count=None, probability=each(len(request_kinds)), **kind)
    for method in INNER_METHODS:
        for code in (6, 9, 10):
            inject_fault("vk", method, count=None, probability=each(3), error_code=code)
    for kind in ({"http_status": 502}, {"timeout": True}):
        inject_fault("vk", "upload", count=None, probability=each(2), **kind)


def main() -> int:
    args = arguments(__doc__)
    products, rejected_n = (100, 3) if args.quick else (500, 5)
    started = time.monotonic()
    with Bench("proof-faults", args.quick, {"HTTP_TIMEOUT_SECONDS": "2"},
               keep=args.keep) as bench:
        from apps.sandbox.models import SandboxFault
        from apps.sandbox.services import vk_moderation
        from apps.sandbox.services.faults import clear_faults, fault_shares
        from apps.sandbox.services.world import set_config
        from apps.sync.models import SyncItemError, SyncJob
        from apps.sync.tasks import request_sync

        bars = Bars("proof_faults", bench.engine, args.quick)
        user, world = seeded_merchant("faults@proof.local", products, groups=10, seed=args.seed)
        wanted = wanted_products(user)
        bench.phase("seed")
        names = {pid: payload.name for pid, payload in wanted.items()}
        chosen = [pid for pid, name in names.items()
                  if sum(name.lower() in other.lower() for other in names.values()) == 1]
        rejected = chosen[:: max(1, len(chosen) // rejected_n)][:rejected_n]
        for pid in rejected:
            vk_moderation.add_rule(names[pid], count=1, title=REJECT_REASON)
        set_config(timeout_sleep=3.0)
        inject_faults()

        cluster = bench.cluster().start()
        runs: list = []
        converged = False
        try:
            for _ in range(MAX_RUNS):
                floor = max([j.pk for j in jobs_of(user)], default=0)
                request_sync(user.pk, SyncJob.Trigger.MANUAL)
                wait_until(lambda floor=floor: SyncJob.objects.filter(
                    user=user, pk__gt=floor).exists() and settled(user), 600, every=0.5)
                runs = jobs_of(user)
                bench.phase(f"run {len(runs)}")
                state = vk_state(user, world.vk.group, wanted)
                last = runs[-1] if runs else None
                failures = set(SyncItemError.objects.filter(job=last).values_list(
                    "evotor_product_id", "code")) if last else set()
                only_moderation = {(pid, "vk:moderation") for pid in rejected}
                if (state.missing == state.duplicates == state.extra == state.wrong_price == 0
                        and last is not None and last.status != SyncJob.Status.FAILED
                        and failures == only_moderation):
                    converged = True
                    break
            # A call draws on a target's rows in order until one hits: the calls of a target
            # are its first row's draws, its failures the hits of all its rows.
            shares = fault_shares("vk")
            first: dict[str, int] = {}
            for share in shares:
                first.setdefault(share["target"], share["matched"])
            matched = sum(first.values())
            fired = sum(s["fired"] for s in shares)
            # Moderation errors of the converged run, before VK accepts the items.
            moderation = list(SyncItemError.objects.filter(job=runs[-1], code="vk:moderation"))
            fault_runs = list(runs)

            # VK's moderation accepts the items after all and the faults stop: a clean run.
            clear_faults("vk")
            from apps.sandbox.models import VkMarketItem

            for item in VkMarketItem.objects.filter(group=world.vk.group,
                                                    rejected_at__isnull=False):
                vk_moderation.accept_item(_public_item_id(item))
            floor = runs[-1].pk if runs else 0
            request_sync(user.pk, SyncJob.Trigger.MANUAL)
            wait_until(lambda: SyncJob.objects.filter(user=user, pk__gt=floor).exists()
                       and settled(user), 300, every=0.5)
            clean = jobs_of(user)[-1]
            bench.phase("clean run")
        finally:
            cluster.stop()
            SandboxFault.objects.all().delete()
            bench.phase("stop")

        state = vk_state(user, world.vk.group, wanted)
        untruthful = [_status_problem(job) for job in fault_runs]
        untruthful = [p for p in untruthful if p]
        created = sum(j.items_created for j in jobs_of(user))
        reasons_ok = {e.evotor_product_id for e in moderation
                      if REJECT_REASON in e.message} == set(rejected)
        bars.figures.update(
            products=products, wanted=len(wanted), fault_share=f"{fired}/{matched}"
            f"={fired / matched:.1%}" if matched else "0/0",
            runs=len(fault_runs), statuses="/".join(j.status for j in fault_runs),
            failed_items="/".join(str(j.items_failed) for j in fault_runs),
            created_sum=created, live_items=state.live, duplicates=state.duplicates,
            orphans=state.orphans, missing=state.missing, wrong_price=state.wrong_price,
            rejected=len(rejected), rejected_reported=len(moderation),
            clean_run=f"{clean.status}:{clean.items_created + clean.items_updated}w",
            seconds=round(time.monotonic() - started),
        )
        bars.check(f"converged within {MAX_RUNS} runs", converged)
        bars.check("0 duplicates", state.duplicates == 0, str(state.duplicates))
        bars.check("0 orphans", state.orphans == 0, str(state.orphans))
        bars.check("catalogue in VK", state.missing == 0 and state.extra == 0
                   and state.wrong_price == 0,
                   f"missing {state.missing}, extra {state.extra}, price {state.wrong_price}")
        bars.check("statuses truthful", not untruthful, "; ".join(untruthful))
        bars.check("created counts add up", created == state.live,
                   f"{created} created for {state.live} items")
        bars.check("rejected items reported with their reason", reasons_ok,
                   f"{len(moderation)} reported of {len(rejected)}")
        bars.check("a clean run is success and writes nothing",
                   clean.status == SyncJob.Status.SUCCESS and clean.items_failed == 0
                   and clean.items_created + clean.items_updated == 0,
                   f"{clean.status} {clean.items_created}+{clean.items_updated} writes")
        bars.check("faults fired", matched > 0 and abs(fired / matched - SHARE) < 0.1,
                   f"{fired}/{matched}")
    print(bars.line())
    return bars.exit_code()


def _public_item_id(item) -> int:
    from apps.sandbox.services.vk_ids import ITEM

    return ITEM.public(item.pk)


def _status_problem(job) -> str:
    """What is untrue about a run's record, or ''."""
    from apps.sync.models import SyncItemError, SyncJob

    errors = SyncItemError.objects.filter(job=job).count()
    if errors != job.items_failed:
        return f"run {job.pk}: {errors} item errors for {job.items_failed} failed"
    if job.status == SyncJob.Status.FAILED:
        return "" if job.error_code else f"run {job.pk}: failed without a reason"
    if job.status == SyncJob.Status.PARTIAL and not job.items_failed:
        return f"run {job.pk}: partial without failed items"
    if job.status == SyncJob.Status.SUCCESS and job.items_failed:
        return f"run {job.pk}: success with {job.items_failed} failed items"
    if job.status not in (SyncJob.Status.SUCCESS, SyncJob.Status.PARTIAL):
        return f"run {job.pk}: {job.status}"
    return ""


if __name__ == "__main__":
    sys.exit(main())
