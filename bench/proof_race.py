"""Proof: fifty triggers for one merchant at once make one run at a time, lose nothing, ≤ 3 runs.

    .venv/bin/python bench/proof_race.py            # 300 products, 50 triggers
    .venv/bin/python bench/proof_race.py --quick    # 100 products, 50 triggers (CI)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync_proofs .venv/bin/python bench/proof_race.py

A merchant's catalogue is published (as a first sync would leave it: bench/sync.py's
``publish_directly``). Then five processes fire fifty triggers at once: "Sync now" — POST
/sync/run with a logged-in session and its CSRF token through gunicorn when the page is mounted,
else ``request_sync(user, "manual")`` —, signed Evotor product webhooks (a price change in the
sandbox, then ``outbound.send_product_event`` to /api/v2/evotor/events through gunicorn) and the
hourly ``run_sync_all``. One process holds its webhooks back until a run is under way, so
changes certainly arrive during a run. A real qcluster (Q_WORKERS workers) runs what is queued.

Bars: the merchant's runs never overlap (SyncJob intervals); every changed product shows its
last price in VK (no trigger lost: a change that arrived during a run is applied by the
follow-up run); ≤ 3 runs in all; 0 duplicates.
"""

from __future__ import annotations

import multiprocessing
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
    overlapping_runs,
    rng,
    seeded_merchant,
    settled,
    vk_state,
    wait_until,
    wanted_products,
)

PROCESSES = 5
TRIGGERS = 50
MAX_RUNS = 3
# Per process: what it fires (the last one waits for a run to be under way).
PLAN = [
    ["now"] * 6 + ["hook"] * 4,
    ["hook"] * 6 + ["hourly"] * 4,
    ["now"] * 4 + ["hook"] * 3 + ["hourly"] * 3,
    ["hook"] * 5 + ["now"] * 5,
    ["hook"] * 10,
]


def session_for(user, site: str):
    """A logged-in browser session of the merchant (cookie + CSRF token), or None when the
    sync pages are not mounted."""
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("sync:run")
    except NoReverseMatch:
        return None
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {"url": f"{site}{path}", "session": client.cookies["sessionid"].value,
            "csrf": _get_new_csrf_string()}


def fire(index: int, kinds: list[str], user_id: int, products: list[int], site: str,
         browser: dict | None, go, running, results) -> None:
    """One process's triggers, as fast as it can once ``go`` is set (forked: Django is set up,
    and the parent closed its connections before the fork)."""
    from decimal import Decimal

    import requests

    from apps.sandbox.models import EvotorProduct
    from apps.sandbox.services import outbound
    from apps.sandbox.services.seed import change_product
    from apps.sync.models import SyncJob
    from apps.sync.tasks import request_sync, run_sync_all

    delivery = outbound.Delivery(attempts=1, sleep=lambda seconds: None, timeout=15.0)
    url = f"{site}/api/v2/evotor/events"
    http = requests.Session()
    if browser:
        http.cookies.set("sessionid", browser["session"])
        http.cookies.set("csrftoken", browser["csrf"])
    go.wait(60)
    if index == PROCESSES - 1:
        running.wait(60)
    out = []
    for n, kind in enumerate(kinds):
        if kind == "now" and browser:
            response = http.post(browser["url"], headers={"X-CSRFToken": browser["csrf"]},
                                 allow_redirects=False, timeout=30)
            out.append(("now", response.status_code, None, None))
        elif kind == "now":
            request_sync(user_id, SyncJob.Trigger.MANUAL)
            out.append(("now", 200, None, None))
        elif kind == "hourly":
            out.append(("hourly", run_sync_all(), None, None))
        else:
            # Each process changes products of its own: Evotor orders one product's versions
            # by updated_at, which two processes writing the same sandbox row at once would
            # not (a write that waited for SQLite's lock lands with the earlier stamp).
            mine = products[index::PROCESSES]
            product = EvotorProduct.objects.get(pk=mine[n % len(mine)])
            change_product(product, price=product.price + Decimal(index * 10 + n + 1))
            record = outbound.send_product_event(product, "updated", url=url, secret=HOOK_SECRET,
                                                 delivery=delivery)
            out.append(("hook", record.status_code, product.evotor_id, str(product.price)))
    results.put(out)


def main() -> int:
    args = arguments(__doc__)
    products = 100 if args.quick else 300
    started = time.monotonic()
    with Bench("proof-race", args.quick, keep=args.keep) as bench:
        from decimal import Decimal

        from django.db import connections
        from django.utils import timezone

        from apps.sandbox.models import EvotorProduct
        from apps.sync.models import SyncJob
        from bench.sync import publish_directly

        bars = Bars("proof_race", bench.engine, args.quick)
        user, world = seeded_merchant("race@proof.local", products, groups=10, seed=args.seed)
        wanted = wanted_products(user)
        publish_directly(user)
        browser = session_for(user, bench.site)
        bench.phase("seed")
        choice = rng(args.seed)
        changeable = list(EvotorProduct.objects.filter(
            store__account=world.account, evotor_id__in=list(wanted)).values_list("pk", flat=True))
        targets = choice.sample(changeable, 12)  # fewer products than hooks: some change twice

        cluster = bench.cluster().start()
        time.sleep(3)  # the workers are up before the triggers fire
        connections.close_all()  # the children open their own connections
        context = multiprocessing.get_context("fork")
        go, running, results = context.Event(), context.Event(), context.Queue()
        children = [
            context.Process(target=fire, args=(i, PLAN[i], user.pk, targets, bench.site,
                                               browser, go, running, results))
            for i in range(PROCESSES)
        ]
        fired_at = timezone.now()
        outcomes: list = []
        try:
            for child in children:
                child.start()
            time.sleep(2)  # every child has set Django up and waits
            bench.phase("cluster and children up")
            go.set()
            running_seen = wait_until(lambda: SyncJob.objects.filter(
                user=user, started_at__gte=fired_at, status=SyncJob.Status.RUNNING).exists(),
                60, every=0.05)
            running.set()
            for _ in children:
                outcomes.extend(results.get(timeout=180))
            for child in children:
                child.join(30)
            bench.phase("triggers")
            wait_until(lambda: settled(user), 300, every=0.5)
            time.sleep(4)  # a late webhook run (debounced) would show up now
            wait_until(lambda: settled(user), 120, every=0.5)
            bench.phase("settled")
        finally:
            for child in children:
                if child.is_alive():
                    child.kill()
            cluster.stop()
            bench.phase("stop")

        # The last price is Evotor's (the sandbox's) now: a product's last change, whatever
        # order its webhooks arrived in.
        changed = {product_id for kind, _status, product_id, _price in outcomes if kind == "hook"}
        last_price: dict[str, Decimal] = dict(EvotorProduct.objects.filter(
            store__account=world.account, evotor_id__in=changed).values_list("evotor_id", "price"))
        runs = [j for j in jobs_of(user) if j.started_at >= fired_at]
        state = vk_state(user, world.vk.group, wanted, prices=last_price)
        sent = {kind: sum(1 for k, *_rest in outcomes if k == kind)
                for kind in ("now", "hook", "hourly")}
        bad_http = [o for o in outcomes if o[0] in ("now", "hook") and not 200 <= o[1] < 400]
        during = _changes_during_runs(runs, world)
        bars.figures.update(
            products=products, triggers=len(outcomes), sync_now=sent["now"],
            sync_now_via="POST /sync/run" if browser else "request_sync",
            webhooks=sent["hook"], hourly=sent["hourly"], products_changed=len(last_price),
            changes_during_a_run=during, runs=len(runs),
            statuses="/".join(j.status for j in runs), overlaps=overlapping_runs(runs),
            stale_prices=state.wrong_price, duplicates=state.duplicates,
            seconds=round(time.monotonic() - started),
        )
        bars.check("50 triggers fired", len(outcomes) == TRIGGERS and not bad_http,
                   f"{len(outcomes)} fired, {len(bad_http)} refused: {bad_http[:3]}")
        bars.check("a run was under way while triggers arrived", bool(running_seen)
                   and during > 0, f"{during} changes during a run")
        bars.check("never two runs at once", bars.figures["overlaps"] == 0)
        bars.check("no trigger lost (every change in VK at its last price)",
                   state.wrong_price == 0 and state.missing == 0,
                   f"{state.wrong_price} stale, {state.missing} missing")
        bars.check(f"≤ {MAX_RUNS} runs", 0 < len(runs) <= MAX_RUNS, str(len(runs)))
        bars.check("runs succeeded", all(j.status == SyncJob.Status.SUCCESS for j in runs),
                   bars.figures["statuses"])
        bars.check("0 duplicates", state.duplicates == 0, str(state.duplicates))
    print(bars.line())
    return bars.exit_code()


def _changes_during_runs(runs, world) -> int:
    """Webhook deliveries the sandbox recorded while one of the runs was running."""
    from apps.sandbox.models import OutboundDelivery

    stamps = OutboundDelivery.objects.filter(kind__startswith="ProductEvent").values_list(
        "created_at", flat=True)
    return sum(1 for at in stamps if any(j.started_at <= at <= (j.finished_at or at)
                                         for j in runs))


if __name__ == "__main__":
    sys.exit(main())
