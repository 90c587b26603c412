"""Benchmark: the sync against the sandbox over real HTTP, with VK's limits enforced.

    .venv/bin/python bench/sync.py                     # SQLite (a throw-away file)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync .venv/bin/python bench/sync.py
    .venv/bin/python bench/sync.py --quick             # small sizes, for CI
    .venv/bin/python bench/sync.py --scale             # also 50,000 products, killed and resumed
    .venv/bin/python bench/sync.py --workloads big     # only the 10,000 resync and price change

The sandbox (and EvoSync's own webhook endpoint) is served by gunicorn in a separate process;
VK's 3 requests/s per token is enforced by it. The database is the engine and server
DATABASE_URL names, in a database of the benchmark's own (`<name>_bench`, recreated). Workloads:

1. first sync of 1,000 products in 20 groups, 30 % with Evotor images, into an empty community;
2. a resync with nothing changed, at 1,000 and at 10,000 products (the 10,000 are brought to
   "published" by writing what a first sync would write, to keep the benchmark short — the
   resync then proves that state is exactly what the engine wants: it must write nothing);
3. a 1 % price change on the 10,000;
4. Evotor product-change webhooks through a live qcluster: 20 changes one by one (latency from
   the webhook to VK showing the price), then 100 changes in 5 s (runs needed, time to apply);
5. with --scale: a first sync of 50,000 products in a `manage.py sync_user` process killed with
   SIGKILL half way and run again (peak RSS, duplicates).

Prints per workload VK API requests (and the lower bound the plan implies), photo uploads, SQL
queries, wall time and peak RSS; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_refresh import (  # noqa: E402
    bench_database_url,
    free_port,
    recreate_mysql_database,
    wait_until_healthy,
)

CATEGORY = 20001


@dataclass
class Figures:
    name: str
    vk_requests: int = 0
    lower_bound: int = 0
    uploads: int = 0
    vk_writes: int = 0
    sql_queries: int = 0
    seconds: float = 0.0
    rss_mb: float = 0.0
    extra: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def require(self, label: str, value: float, limit: float) -> None:
        if value > limit:
            self.problems.append(f"{self.name}: {label} {value} > {limit}")


def rss_mb() -> float:
    """Peak resident set of this process so far (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> None:
    """Start a new VmHWM measurement (Linux: writing 5 to clear_refs resets the peak)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def start_server(environ: dict, port: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "evosync.wsgi:application", "--bind",
        f"127.0.0.1:{port}", "--workers", "3", "--threads", "4", "--worker-class", "gthread",
        "--timeout", "120", "--log-level", "warning",
    ]
    server = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    return wait_until_healthy(server, port)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- the world --------------------------------------------------------------------------------


def merchant(email: str, account, vk_world):
    from apps.accounts.models import User
    from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
    from apps.sync.models import SyncConfig

    user = User.objects.create_user(email, "bench-password-1", is_email_confirmed=True)
    evotor = EvotorConnection(user=user, evotor_user_id=account.user_id,
                              state=ConnectionState.ONLINE)
    evotor.cloud_token = account.token
    evotor.save()
    vk = VkConnection(user=user, connection_type=VkConnection.Type.MANUAL,
                      group_id=vk_world.group_id, group_name=vk_world.group.name,
                      state=ConnectionState.ONLINE)
    vk.access_token = vk_world.access_token
    vk.save()
    SyncConfig.objects.create(user=user, is_enabled=True, vk_category_id=CATEGORY,
                              confirmed_at=time_now())
    return user


def time_now():
    from django.utils import timezone

    return timezone.now()


def seed_shop(products: int, groups: int, image_share: float, seed: int):
    """A sandbox Evotor account with one store and a VK community with its manager."""
    import random

    from apps.sandbox.models import EvotorProduct, EvotorProductImage
    from apps.sandbox.services import seed as sandbox_seed
    from apps.sandbox.services.world import evotor_uuid

    world = sandbox_seed.seed(stores=1, groups=groups, products=products, seed=seed)
    # The seed gives ~10 % of the goods an image; top up to the share asked for.
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    without = list(
        EvotorProduct.objects.filter(store__account=world.account, images__isnull=True)
        .exclude(type="SERVICE").values_list("pk", flat=True)
    )
    have = EvotorProductImage.objects.filter(product__store__account=world.account).count()
    wanted = max(0, int(products * image_share) - have)
    rows = [EvotorProductImage(product_id=pk, evotor_id=evotor_uuid(rng), file_size=4096)
            for pk in rng.sample(without, min(wanted, len(without)))]
    EvotorProductImage.objects.bulk_create(rows, batch_size=1000)
    return world


def sandbox_limits(**changes) -> None:
    from apps.sandbox.services.world import set_config

    set_config(**changes)


# --- measuring one run --------------------------------------------------------------------------


def measured_run(name: str, user, trigger: str = "manual", **kwargs) -> tuple[Figures, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.sync.services import run_sync

    reset_peak_rss()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        job = run_sync(user, trigger, **kwargs)
    seconds = time.perf_counter() - started
    if os.environ.get("BENCH_SHOW_SQL") == name:
        for query in queries.captured_queries:
            print(query["sql"][:160])
    figures = Figures(
        name=name,
        vk_requests=job.vk_requests - job.photos_uploaded,
        uploads=job.photos_uploaded,
        vk_writes=job.items_created + job.items_updated + job.items_hidden + job.items_deleted,
        sql_queries=len(queries),
        seconds=round(seconds, 2),
        rss_mb=round(rss_mb(), 1),
        extra={"status": job.status, "created": job.items_created,
               "updated": job.items_updated, "failed": job.items_failed,
               "reason": job.error_summary},
    )
    if job.status != "success":
        figures.problems.append(f"{name}: run {job.status} ({job.error_summary})")
    return figures, job


def lower_bound(items: int, creates: int, edits: int, albums: int) -> int:
    """Requests the plan cannot do without: the reads, then 25 calls per execute."""
    reads = 1 if items <= 200 else 1 + math.ceil((math.ceil(items / 200) - 1) / 25)
    photo_batches = math.ceil(creates / 10)
    calls = creates + edits + albums + 2 * photo_batches + (albums if creates else 0)
    return reads + math.ceil(calls / 25)


# --- workloads ----------------------------------------------------------------------------------


def first_sync(products: int, groups: int) -> tuple[Figures, object, object]:
    world = seed_shop(products, groups, 0.30, seed=101)
    user = merchant("first@bench.local", world.account, world.vk)
    figures, job = measured_run("first sync", user)
    figures.lower_bound = lower_bound(0, products, 0, groups)
    figures.require("VK API requests", figures.vk_requests, 150 * products / 1000)
    figures.require("photo uploads", figures.uploads, products)
    figures.require("seconds", figures.seconds, 90 * max(1, products / 1000))
    figures.extra["queries_per_created_item"] = round(figures.sql_queries / max(1, products), 3)
    if job.items_failed:
        figures.problems.append(f"first sync: {job.items_failed} items failed")
    return figures, user, world


def resync(name: str, user, items: int) -> Figures:
    figures, job = measured_run(name, user)
    figures.lower_bound = lower_bound(items, 0, 0, 0)
    figures.require("VK API requests", figures.vk_requests, 3)
    figures.require("VK writes", figures.vk_writes, 0)
    figures.require("seconds", figures.seconds, 10)
    figures.require("SQL queries", figures.sql_queries, 40)
    return figures


def publish_directly(user) -> int:
    """Write what a first sync would write, without drawing 10,000 photos: sandbox items in
    their albums and our links, from the engine's own plan. The measured resync then checks
    that this is exactly the state the engine wants."""
    from apps.connections.models import VkConnection
    from apps.sandbox.models import EvotorProductImage, VkAlbum, VkAlbumItem, VkGroup, VkMarketItem
    from apps.sandbox.services.vk_ids import ALBUM, ITEM
    from apps.sync.context import load, with_images
    from apps.sync.core import engine, transform
    from apps.sync.core import types as core
    from apps.sync.models import AlbumLink, ProductLink, SyncConfig

    config = SyncConfig.objects.get(user=user)
    connection = VkConnection.objects.get(user=user)
    group = VkGroup.objects.get(vk_id=connection.group_id)
    loaded = load(config, group.vk_id, vk_items=[], now=time_now())
    # A real first sync asks Evotor for each new product's image: know them the same way.
    site = os.environ["SITE_URL"]
    urls = {
        product_id: f"{site}/sandbox/evotor/images/{image_id}"
        for product_id, image_id in EvotorProductImage.objects.filter(
            product__store__account__user_id=connection_evotor_user(user)
        ).values_list("product__evotor_id", "evotor_id")
    }
    loaded.ctx = with_images(loaded.ctx, urls)
    plan = engine.plan_sync(loaded.ctx)
    albums = {}
    for op in plan.albums:
        album = VkAlbum.objects.create(group=group, title=op.title)
        albums[op.group_id] = album
        AlbumLink.objects.create(user=user, vk_group_id=group.vk_id, evotor_group_id=op.group_id,
                                 vk_album_id=ALBUM.public(album.pk), title=op.title)
    creates = plan.of(core.Action.CREATE)
    items = VkMarketItem.objects.bulk_create([
        VkMarketItem(group=group, title=op.payload.name, description=op.payload.description,
                     category_id=CATEGORY, price=int(op.payload.price * 100), sku=op.product_id,
                     stock_amount=op.payload.stock_amount)
        for op in creates
    ], batch_size=1000)
    if items and items[0].pk is None:  # MariaDB's bulk insert does not return keys
        by_sku = dict(VkMarketItem.objects.filter(group=group).values_list("sku", "pk"))
    else:
        by_sku = {item.sku: item.pk for item in items}
    VkAlbumItem.objects.bulk_create([
        VkAlbumItem(album=albums[op.payload.album_group_id], item_id=by_sku[op.product_id])
        for op in creates if op.payload.album_group_id in albums
    ], batch_size=1000)
    now = time_now()
    settings = loaded.ctx.settings
    ProductLink.objects.bulk_create([
        ProductLink(
            user=user, vk_group_id=group.vk_id, evotor_product_id=op.product_id,
            vk_item_id=ITEM.public(by_sku[op.product_id]), photo_key=op.payload.photo_key,
            album_group_id=op.payload.album_group_id or "", state="published",
            published=transform.published_record(op.payload),
            payload_hash=transform.payload_hash(op.payload, transform.managed_fields(settings)),
            image_url=urls.get(op.product_id, ""), image_checked_at=now, synced_at=now,
        )
        for op in creates
    ], batch_size=1000)
    return len(creates)


def connection_evotor_user(user) -> str:
    from apps.connections.models import EvotorConnection

    return EvotorConnection.objects.get(user=user).evotor_user_id


def price_change(user, world, percent: float, items: int) -> Figures:
    """``percent`` of the published goods get a new price in Evotor (as a cashier would)."""
    import random

    from django.db.models import F
    from django.utils import timezone

    from apps.sandbox.models import EvotorProduct, VkMarketItem

    published = list(VkMarketItem.objects.filter(
        group=world.vk.group, is_removed=False, is_hidden=False
    ).values_list("sku", flat=True))
    chosen = random.Random(5).sample(published, max(1, int(len(published) * percent / 100)))  # noqa: S311
    EvotorProduct.objects.filter(store__account=world.account, evotor_id__in=chosen).update(
        price=F("price") + 1, updated_at=timezone.now()
    )
    figures, job = measured_run("1 % price change", user)
    figures.lower_bound = lower_bound(items, 0, len(chosen), 0)
    figures.extra["changed"] = len(chosen)
    figures.require("VK API requests", figures.vk_requests, 8)
    figures.require("seconds", figures.seconds, 10)
    if job.items_updated != len(chosen):
        figures.problems.append(
            f"1 % price change: {job.items_updated} updated for {len(chosen)} changed"
        )
    return figures


def webhooks(user, world, site: str, environ: dict, one_by_one: int, burst: int) -> Figures:
    """Evotor product webhooks → our endpoint (gunicorn) → qcluster → VK."""
    from apps.sandbox.models import EvotorProduct, VkMarketItem
    from apps.sandbox.services import outbound
    from apps.sync.models import SyncJob

    figures = Figures(name="webhook → VK")
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=environ, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url, secret = f"{site}/api/v2/evotor/events", environ["EVOTOR_HOOK_SECRET"]
    delivery = outbound.Delivery(attempts=1, sleep=lambda seconds: None, timeout=15.0)
    published = set(VkMarketItem.objects.filter(group=world.vk.group, is_removed=False)
                    .values_list("sku", flat=True))
    products = list(EvotorProduct.objects.filter(store__account=world.account,
                                                 evotor_id__in=published)[: one_by_one + burst])
    try:
        time.sleep(3)  # the cluster's workers start
        latencies = []
        for product in products[:one_by_one]:
            started = time.monotonic()
            change_and_send(product, url, secret, delivery)
            latencies.append(wait_for_price(world, product, started, limit=60))
        burst_products = products[one_by_one:]
        jobs_before = SyncJob.objects.filter(user=user).count()
        started = time.monotonic()
        for product in burst_products:
            change_and_send(product, url, secret, delivery)
            time.sleep(5 / max(1, len(burst_products)))
        done = [wait_for_price(world, p, started, limit=90) for p in burst_products]
        time.sleep(1)
        runs = SyncJob.objects.filter(user=user).count() - jobs_before
    finally:
        stop(cluster)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else latencies[0]
    figures.seconds = round(max(done) if done else 0, 2)
    figures.extra = {"one_by_one": len(latencies), "p50_s": round(statistics.median(latencies), 2),
                     "p95_s": round(p95, 2), "burst": len(burst_products), "burst_runs": runs,
                     "burst_applied_s": figures.seconds}
    figures.require("p95 seconds", round(p95, 2), 15)
    figures.require("runs for the burst", runs, 3)
    figures.require("seconds to apply the burst", figures.seconds, 60)
    return figures


def change_and_send(product, url: str, secret: str, delivery) -> None:
    from apps.sandbox.services import outbound
    from apps.sandbox.services.seed import change_product

    change_product(product, price=product.price + Decimal(7))
    outbound.send_product_event(product, "updated", url=url, secret=secret, delivery=delivery)


def wait_for_price(world, product, started: float, *, limit: float) -> float:
    from apps.sandbox.models import VkMarketItem

    while time.monotonic() - started < limit:
        item = VkMarketItem.objects.filter(group=world.vk.group, sku=product.evotor_id,
                                           is_removed=False).first()
        if item is not None and item.price == int(product.price * 100):
            return time.monotonic() - started
        time.sleep(0.2)
    return float("inf")


def scale(products: int, environ: dict) -> Figures:
    """A first sync of ``products`` in its own process, SIGKILLed half way, then resumed."""
    from django.db.models import Count

    from apps.sandbox.models import VkMarketItem

    figures = Figures(name=f"scale {products:,}")
    world = seed_shop(products, 200, 0.0, seed=303)
    user = merchant("scale@bench.local", world.account, world.vk)
    from apps.catalog.services import refresh_catalog

    # As in production, the catalogue was cached when Evotor connected (its own task); the
    # sync's own refresh is then incremental.
    refresh_catalog(user, full=True)
    from apps.sync.core import types as core
    from apps.sync.services import preview

    wanted = len(preview(user)[1].of(core.Action.CREATE))
    command = [sys.executable, "manage.py", "sync_user", "scale@bench.local"]
    environ = production_environ(environ)
    started = time.monotonic()
    first = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL,
                             start_new_session=True)
    first_peak = watch(first, lambda: VkMarketItem.objects.filter(group=world.vk.group).count()
                       >= products // 2)
    from apps.sync.models import SyncConfig

    SyncConfig.objects.filter(user__email="scale@bench.local").update(lease_expires_at=None)
    second = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL,
                              start_new_session=True)
    second_peak = watch(second, lambda: False)
    peak = max(first_peak, second_peak)
    live = VkMarketItem.objects.filter(group=world.vk.group, is_removed=False)
    duplicates = live.values("sku").annotate(n=Count("id")).filter(n__gt=1).count()
    published = live.filter(is_hidden=False).values("sku").distinct().count()
    # What a further run would still write (a create not done, an item outside its album).
    left = preview(user)[1].writes
    figures.seconds = round(time.monotonic() - started, 1)
    figures.rss_mb = round(peak, 1)
    figures.extra = {"first_peak_mb": round(first_peak, 1),
                     "resumed_peak_mb": round(second_peak, 1),
                     "wanted": wanted, "published": published, "duplicates": duplicates,
                     "left_to_write": left, "first_exit": first.returncode,
                     "second_exit": second.returncode}
    figures.require("peak RSS MB", figures.rss_mb, 300)
    figures.require("duplicate skus", duplicates, 0)
    figures.require("writes left after the resumed run", left, 0)
    if first.returncode != -signal.SIGKILL:
        figures.problems.append(
            f"{figures.name}: the first process was not killed half way (exit {first.returncode})"
        )
    if second.returncode != 0:
        figures.problems.append(f"{figures.name}: the resumed process exited {second.returncode}")
    if published < wanted:
        figures.problems.append(f"{figures.name}: {published} published of {wanted} wanted")
    return figures


def production_environ(environ: dict) -> dict:
    """The sync process as production runs it: DEBUG off, no sandbox app (it reaches the
    sandbox over HTTP like any provider). With DEBUG on, Django keeps the last 9,000 statements
    of a process (tens of megabytes of SQL in a long first sync), a development aid and not the
    sync's memory. The tokens the benchmark saved were encrypted with the development key
    (apps/connections/crypto.py): production is given it."""
    return {
        **environ, "DEBUG": "false", "SANDBOX_ENABLED": "false", "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": environ.get("SECRET_KEY") or "bench-only-" + "x" * 50,
        "TOKEN_ENCRYPTION_KEYS": environ.get("TOKEN_ENCRYPTION_KEYS")
        or (ROOT / ".dev-token-key").read_text().strip(),
    }


def watch(process: subprocess.Popen, kill_when) -> float:
    """Poll a child's peak RSS until it exits, or SIGKILL it when ``kill_when()`` holds."""
    peak = 0.0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = max(peak, next(int(line.split()[1]) for line in status.splitlines()
                                  if line.startswith("VmHWM:")) / 1024)
        except (OSError, StopIteration):
            pass
        if kill_when():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            break
        time.sleep(1)
    return peak


# --- main ---------------------------------------------------------------------------------------


class _Done(Exception):
    """Only some workloads were asked for."""



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--scale", action="store_true", help="also the 50,000-product run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--scale-only", action="store_true", help="only the 50,000-product run")
    parser.add_argument("--scale-products", type=int, default=50_000)
    parser.add_argument(
        "--workloads", default="first,big,webhooks",
        help="comma-separated subset of: first (first sync and its resync), big (the 10,000 "
             "resync and the 1 %% price change), webhooks (needs first)",
    )
    args = parser.parse_args()
    chosen = set(args.workloads.split(","))
    if "webhooks" in chosen:
        chosen.add("first")
    first_n, big_n = (200, 1000) if args.quick else (1000, 10_000)
    one_by_one, burst = (5, 20) if args.quick else (20, 100)

    workdir = Path(tempfile.mkdtemp(prefix="evosync-bench-"))
    database_url = bench_database_url(os.environ.get("DATABASE_URL"), workdir)
    if database_url.startswith("mysql"):
        recreate_mysql_database(database_url)
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    environ = {
        **os.environ, "DATABASE_URL": database_url, "SANDBOX_ENABLED": "true", "DEBUG": "true",
        "SITE_URL": site, "EVOSYNC_TESTING": "false", "DJANGO_SETTINGS_MODULE": "evosync.settings",
        "EVOTOR_HOOK_SECRET": "bench-hook-secret", "Q_WORKERS": "2",
        "SYNC_DEBOUNCE_MS": "1500",
    }
    environ.pop("REDIS_URL", None) if "REDIS_URL" not in os.environ else None
    os.environ.update(environ)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    sandbox_limits(evotor_rate_limit=1_000_000, vk_user_rate=3, vk_rate_window=1.0)
    server = start_server(environ, port)
    results: list[Figures] = []
    try:
        if args.scale_only:
            sandbox_limits(vk_user_rate=10_000)
            results.append(scale(args.scale_products, environ))
            raise _Done
        if "first" in chosen:
            first, user, world = first_sync(first_n, 20)
            results.append(first)
            results.append(resync(f"resync {first_n:,}", user, first_n))
        if "big" in chosen:
            big_world = seed_shop(big_n, 200, 0.0, seed=202)
            big_user = merchant("big@bench.local", big_world.account, big_world.vk)
            from apps.catalog.services import refresh_catalog

            refresh_catalog(big_user, full=True)
            publish_directly(big_user)
            results.append(resync(f"resync {big_n:,}", big_user, big_n))
            results.append(price_change(big_user, big_world, 1.0, big_n))
        if "webhooks" in chosen:
            results.append(webhooks(user, world, site, environ, one_by_one, burst))
        if args.scale:
            sandbox_limits(vk_user_rate=10_000)
            results.append(scale(args.scale_products, environ))
    except _Done:
        pass
    finally:
        stop(server)

    print(f"\n{'workload':<22}{'VK req':>7}{'bound':>7}{'uploads':>8}{'writes':>7}{'SQL':>6}"
          f"{'seconds':>9}{'RSS MB':>8}")
    for f in results:
        extra = json.dumps(f.extra, ensure_ascii=False)
        print(f"{f.name:<22}{f.vk_requests:>7}{f.lower_bound:>7}{f.uploads:>8}{f.vk_writes:>7}"
              f"{f.sql_queries:>6}{f.seconds:>9}{f.rss_mb:>8}  {extra}")
    problems = [p for f in results for p in f.problems]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"database": database_url.split("://")[0],
                                         "results": [asdict(f) for f in results]}, indent=2,
                                        ensure_ascii=False))
    print("\n" + ("\n".join(f"MISSED {p}" for p in problems) if problems else "All targets met."))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
