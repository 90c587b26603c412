"""Proof: a first sync survives its worker being SIGKILLed at random moments.

    .venv/bin/python bench/proof_kill.py            # 500 products, 30 kills
    .venv/bin/python bench/proof_kill.py --quick    # 100 products, 8 kills (CI)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync_proofs .venv/bin/python bench/proof_kill.py

A merchant with sync enabled asks for a first sync (``request_sync(user, "manual")`` into the ORM
broker); a real ``manage.py qcluster`` (Q_WORKERS workers) runs it against the sandbox under
gunicorn at VK's 3 requests/s. At random moments while the run works, the whole cluster process
group gets SIGKILL and a new cluster is started. What happens next is what production does: the
dead run's lease expires by time (SYNC_LEASE_SECONDS=3 in the cluster's environment) and the
hourly job's ``request_sync(user, "schedule")`` queues a run again; a task that was queued but
never started is left to the broker, which hands it out again after ``retry`` (that wait is the
one thing the proof shortens: it moves the task's broker lock to now). The moments are counted
in VK requests (see ``requests_window``); when a sync finishes before all kills are spent, the
merchant switches to a new, empty community and the kills go on into that first sync. Then the
last sync is let finish.

Bars: 0 duplicate VK items (by sku) and 0 items with our sku that no ProductLink knows; every
product the engine wants published exactly once, at its price; no run left "running"; the runs'
``items_created`` add up to the items in VK. Ends with one line of figures; exits 1 on a miss.
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
    overlapping_runs,
    rng,
    seeded_merchant,
    settled,
    vk_state,
    wait_until,
    wanted_products,
)

# Each kill costs about one lease: short here (DEBUG allows ≥ 2 s, production ≥ 10 s; a
# run renews it at every batch, and nothing competes for it between kills).
LEASE_SECONDS = 3


def main() -> int:
    args = arguments(__doc__)
    products, kills = (100, 8) if args.quick else (500, 30)
    # The random moment: right after the k-th VK request (API call or photo upload) of the
    # restarted cluster, k uniform in 1..REQUESTS, so kills land in every phase of a run —
    # reading, photo uploads, adds, albums — and a run between kills may get nowhere or far.
    # (Seconds would not do: a run's first requests come after its catalog refresh, plan and
    # photo drawing, whose length depends on the machine.)
    requests_window = 12 if args.quick else 24
    started = time.monotonic()
    with Bench("proof-kill", args.quick, {"SYNC_LEASE_SECONDS": str(LEASE_SECONDS)},
               keep=args.keep) as bench:
        from django.utils import timezone
        from django_q.models import OrmQ

        from apps.sync.models import SyncConfig, SyncJob
        from apps.sync.tasks import request_sync

        bars = Bars("proof_kill", bench.engine, args.quick)
        user, world = seeded_merchant("kill@proof.local", products, groups=10, seed=args.seed)
        wanted = wanted_products(user)
        bench.phase("seed")
        moments = rng(args.seed)
        cluster = bench.cluster()
        request_sync(user.pk, SyncJob.Trigger.MANUAL)
        cluster.start()
        done_kills, redelivered, requeued = 0, 0, 0
        rounds = [world.vk.group]
        while done_kills < kills:
            target = bench.vk_lines() + moments.randint(1, requests_window)
            reached = wait_until(lambda target=target: bench.vk_lines() >= target
                                 or settled(user), 120, every=0.05)
            if reached is None:
                bars.check("the run makes VK requests after a restart", False, "none in 120 s")
                break
            if bench.vk_lines() < target:
                # The sync finished before this moment came: the next kills hit another first
                # sync of the same catalogue, into a new empty community.
                rounds.append(_new_community(user))
                request_sync(user.pk, SyncJob.Trigger.MANUAL)
                continue
            cluster.kill()
            done_kills += 1
            cluster.start()
            # Production: the dead holder's lease runs out by time.
            wait_until(lambda: _lease_free(SyncConfig, user, timezone.now()),
                       LEASE_SECONDS + 5)
            if not request_sync(user.pk, SyncJob.Trigger.SCHEDULE):
                # A queued task died before it started (it holds the queue slot): the broker
                # hands it out again once `retry` has passed — let that time pass.
                redelivered += OrmQ.objects.filter(lock__gt=timezone.now()).update(
                    lock=timezone.now()
                )
            else:
                requeued += 1
        bench.phase("kills")
        finish_limit = 300 if not args.quick else 150
        ok = wait_until(lambda: settled(user), finish_limit, every=0.5)
        bench.phase("finish")
        time.sleep(1)
        cluster.stop()
        bench.phase("stop")

        states = [vk_state(user, group, wanted) for group in rounds]
        state = _total(states)
        jobs = jobs_of(user)
        last = jobs[-1] if jobs else None
        running = sum(1 for j in jobs if j.status == SyncJob.Status.RUNNING)
        interrupted = sum(1 for j in jobs if j.error_code == "interrupted")
        created = sum(j.items_created for j in jobs)
        bars.figures.update(
            products=products, wanted=len(wanted), first_syncs=len(rounds), kills=done_kills,
            restarts=cluster.starts - 1,
            requeued=requeued, broker_redelivered=redelivered, runs=len(jobs),
            interrupted=interrupted, live_items=state.live, duplicates=state.duplicates,
            orphans=state.orphans, missing=state.missing, extra=state.extra,
            wrong_price=state.wrong_price, running_left=running, created_sum=created,
            overlaps=overlapping_runs([j for j in jobs if j.error_code != "interrupted"]),
            seconds=round(time.monotonic() - started),
        )
        bars.check("the sync finishes", bool(ok), f"not settled {finish_limit} s after the kills")
        bars.check("kills", done_kills == kills, f"{done_kills} of {kills}")
        bars.check("0 duplicates", state.duplicates == 0, str(state.duplicates))
        bars.check("0 orphans", state.orphans == 0, str(state.orphans))
        bars.check("every wanted product published exactly once",
                   state.missing == 0 and state.extra == 0
                   and state.live == len(wanted) * len(rounds),
                   f"missing {state.missing}, extra {state.extra}, live {state.live}")
        bars.check("prices", state.wrong_price == 0, str(state.wrong_price))
        bars.check("no run left running", running == 0, str(running))
        bars.check("the last run succeeded", bool(last and last.status == SyncJob.Status.SUCCESS
                                                  and not last.items_failed),
                   f"{last.status if last else None} {last.error_summary if last else ''}")
        bars.check("created counts add up", created == state.live,
                   f"{created} created for {state.live} items")
        # A killed run's end is known only as "before the next run found it": only the runs
        # that ended themselves are checked for overlaps (the race proof checks them all).
        bars.check("never two runs at once", bars.figures["overlaps"] == 0)
    print(bars.line())
    return bars.exit_code()


def _new_community(user):
    """An empty community for the merchant's next first sync (links are per community)."""
    from apps.connections.models import VkConnection
    from apps.sandbox.services.world import make_vk_world

    world = make_vk_world()
    connection = VkConnection.objects.get(user=user)
    connection.group_id, connection.access_token = world.group_id, world.access_token
    connection.save()
    return world.group


def _total(states):
    from bench.proofs_common import VkState

    return VkState(*(sum(getattr(s, f) for s in states) for f in
                     ("live", "duplicates", "orphans", "missing", "extra", "wrong_price")))


def _lease_free(model, user, now) -> bool:
    config = model.objects.get(user=user)
    return not config.lease_owner or (config.lease_expires_at is not None
                                      and config.lease_expires_at < now)


if __name__ == "__main__":
    sys.exit(main())
