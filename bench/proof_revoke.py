"""Proof: a VK token revoked in the middle of a run stops it at once and for good, with one e-mail.

    .venv/bin/python bench/proof_revoke.py            # a first sync of 300 products
    .venv/bin/python bench/proof_revoke.py --quick    # 100 products (CI)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync_proofs .venv/bin/python bench/proof_revoke.py

A first sync runs in a real qcluster. Once the community shows its first items, the merchant's
VK token is revoked in the sandbox (``faults.revoke_vk_token``: VK answers error 5 from then on)
and a mark is written to gunicorn's access log, the sandbox's record of requests in the order
they were answered. What the product does next is counted there, and in the database:

* the run stops within one request: VK API requests answered after the revocation ≤ 2 — the one
  that may have been in flight when the token was revoked (the run is sequential) and the one VK
  refused; photo posts to the upload host (which the token does not authorise) are reported;
* the VK connection is marked revoked, the run failed with ``vk_auth``;
* exactly one e-mail, after the connection check the scheduler runs every 10 minutes has run
  twice (``health.check_user``; e-mails are files: EMAIL_URL=filemail://…);
* sync blocked: the hourly job leaves the merchant out, "Sync now", a product webhook and
  ``request_sync`` make only runs skipped with ``vk_not_connected``, and 0 VK requests;
* after the merchant reconnects (a new token), a run publishes the rest, without duplicates.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.proofs_common import (  # noqa: E402
    HOOK_SECRET,
    Bars,
    Bench,
    arguments,
    jobs_of,
    mails,
    seeded_merchant,
    settled,
    vk_state,
    wait_until,
    wanted_products,
)

FIRST_ITEMS = 25  # revoke once VK shows this many items (one add batch)


def main() -> int:
    args = arguments(__doc__)
    products = 100 if args.quick else 300
    started = time.monotonic()
    with Bench("proof-revoke", args.quick, keep=args.keep) as bench:
        from apps.connections import health
        from apps.connections.models import ConnectionState, VkConnection
        from apps.sandbox.models import EvotorProduct, VkMarketItem
        from apps.sandbox.services import faults, outbound
        from apps.sandbox.services.seed import change_product
        from apps.sandbox.services.world import make_vk_token
        from apps.sync.models import SyncJob
        from apps.sync.tasks import eligible_user_ids, request_sync, run_sync_all

        bars = Bars("proof_revoke", bench.engine, args.quick)
        user, world = seeded_merchant("revoke@proof.local", products, groups=10, seed=args.seed)
        wanted = wanted_products(user)
        group = world.vk.group
        bench.phase("seed")
        cluster = bench.cluster().start()
        try:
            request_sync(user.pk, SyncJob.Trigger.MANUAL)
            some = wait_until(lambda: VkMarketItem.objects.filter(group=group).count()
                              >= FIRST_ITEMS, 300, every=0.05)
            faults.revoke_vk_token(world.vk.access_token)
            bench.mark("revoked")
            items_at_revoke = VkMarketItem.objects.filter(group=group).count()
            bench.phase("first items")
            wait_until(lambda: settled(user), 120, every=0.2)
            time.sleep(1)
            after_revoke = bench.vk_requests_after("revoked")
            stopped = jobs_of(user)[-1]
            connection = VkConnection.objects.get(user=user)
            revoked_state = connection.state
            bench.phase("stopped run")

            # The scheduler's connection check (every 10 minutes), twice.
            for _ in range(2):
                health.check_user(user.pk)

            # Every way a run is asked for, while the token stays revoked.
            bench.mark("blocked")
            floor = stopped.pk
            request_sync(user.pk, SyncJob.Trigger.MANUAL)
            hourly = run_sync_all()
            product = EvotorProduct.objects.filter(store__account=world.account).first()
            change_product(product, price=product.price + 1)
            outbound.send_product_event(
                product, "updated", url=f"{bench.site}/api/v2/evotor/events", secret=HOOK_SECRET,
                delivery=outbound.Delivery(attempts=1, sleep=lambda seconds: None))
            wait_until(lambda: settled(user) and SyncJob.objects.filter(
                user=user, pk__gt=floor).exists(), 60, every=0.3)
            time.sleep(3)
            wait_until(lambda: settled(user), 60, every=0.3)
            blocked_runs = list(SyncJob.objects.filter(user=user, pk__gt=floor))
            still_eligible = user.pk in eligible_user_ids()
            blocked_requests = bench.vk_requests_after("blocked")
            emails = mails(bench)
            bench.phase("blocked")

            # The merchant reconnects: a new token for the same community.
            token = make_vk_token(user=world.vk.user)
            from apps.connections.services import set_state

            connection.access_token = token.token
            connection.save()
            set_state(connection, ConnectionState.ONLINE)
            floor = max(j.pk for j in jobs_of(user))
            request_sync(user.pk, SyncJob.Trigger.MANUAL)
            wait_until(lambda: SyncJob.objects.filter(user=user, pk__gt=floor).exists()
                       and settled(user), 300, every=0.5)
            resumed = jobs_of(user)[-1]
            bench.phase("resumed")
        finally:
            cluster.stop()
            bench.phase("stop")

        state = vk_state(user, group, wanted)
        skipped = [j for j in blocked_runs if j.status == SyncJob.Status.SKIPPED
                   and j.error_code == "vk_not_connected"]
        bars.figures.update(
            products=products, items_at_revoke=items_at_revoke,
            api_requests_after_revoke=after_revoke["api"],
            upload_posts_after_revoke=after_revoke["upload"],
            stopped_run=f"{stopped.status}:{stopped.error_code}",
            connection=revoked_state, emails=len(emails),
            eligible_hourly=hourly, blocked_runs=len(blocked_runs),
            blocked_skipped=len(skipped), vk_requests_while_blocked=sum(blocked_requests.values()),
            resumed_run=f"{resumed.status}:+{resumed.items_created}", live_items=state.live,
            duplicates=state.duplicates, missing=state.missing,
            seconds=round(time.monotonic() - started),
        )
        bars.check("items existed when the token was revoked", bool(some) and items_at_revoke > 0)
        bars.check("the run stops within one request", after_revoke["api"] <= 2,
                   f"{after_revoke['api']} API requests after the revocation")
        bars.check("the run failed as vk_auth", stopped.status == SyncJob.Status.FAILED
                   and stopped.error_code == "vk_auth", f"{stopped.status} {stopped.error_code}")
        bars.check("the connection is marked revoked", revoked_state == ConnectionState.REVOKED,
                   revoked_state)
        bars.check("exactly one e-mail", len(emails) == 1, " | ".join(emails) or "none")
        bars.check("sync blocked", not still_eligible and hourly == 0
                   and len(blocked_runs) >= 1 and len(skipped) == len(blocked_runs),
                   "/".join(f"{j.status}:{j.error_code}" for j in blocked_runs))
        bars.check("0 VK calls until the merchant reconnects", sum(blocked_requests.values()) == 0,
                   str(blocked_requests))
        bars.check("after reconnecting the catalogue is published once",
                   state.missing == 0 and state.duplicates == 0 and state.orphans == 0
                   and resumed.status == SyncJob.Status.SUCCESS,
                   f"{resumed.status}, missing {state.missing}, duplicates {state.duplicates}")
    print(bars.line())
    return bars.exit_code()


if __name__ == "__main__":
    sys.exit(main())
