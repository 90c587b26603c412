"""Scale benchmark: the hourly sync of many merchants on real qcluster workers.

    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync_load .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --quick            # 50 merchants (CI); SQLite without URL
    .venv/bin/python bench/scale.py --merchants 300    # any size

1,000 merchants (``--merchants``), 100 products each, already published (bench/sync.py's
``publish_directly``); before each pass 5 % of them change a few products in Evotor. The sandbox
(Evotor and VK, with VK's 3 requests/s per token; each merchant has its own token) is served by
gunicorn in its own process. Two passes of the hourly ``apps.sync.tasks.run_sync_all``, queued as
the schedule queues it:

1. one ``manage.py qcluster`` with Q_WORKERS=2 (2 workers);
2. two ``qcluster`` processes with Q_WORKERS=2 each (4 workers, as if on two machines).

Each pass ends when every merchant's run has finished. Reported: minutes, runs per minute, VK
requests per merchant, database queries per run (MariaDB's ``Questions`` delta over the pass
divided by the runs: everything the server answered, so it includes the broker's polling and the
sandbox's own queries; plus, measured in-process with the test tools, the queries of one
unchanged merchant's run), and the peak RSS (VmHWM) of the clusters' processes.
Bars (full size): pass 1 within 10 minutes, every run successful, the changed products in VK.
Exits 1 when a bar is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_refresh import (  # noqa: E402
    bench_database_url,
    free_port,
    recreate_mysql_database,
)
from bench.proofs_common import stop_cluster  # noqa: E402
from bench.sync import (  # noqa: E402
    merchant,
    publish_directly,
    sandbox_limits,
    seed_shop,
    start_server,
    stop,
)

PRODUCTS = 100
CHANGED_SHARE = 0.05
CHANGED_PERCENT = 3.0  # "a few": 3 of 100 products
BAR_MINUTES = 10.0
BAR_MERCHANTS = 1000


@dataclass
class Pass:
    name: str
    clusters: int
    workers: int
    seconds: float = 0.0
    runs: int = 0
    statuses: dict = field(default_factory=dict)
    vk_requests: int = 0
    items_updated: int = 0
    expected_updates: int = 0
    questions: int | None = None
    peak_rss_mb: float = 0.0
    peak_tree_mb: float = 0.0

    @property
    def line(self) -> str:
        minutes = self.seconds / 60
        per_run = f"{self.questions / self.runs:.0f}" if self.questions and self.runs else "n/a"
        return (
            f"{self.name}: {self.runs} runs in {minutes:.1f} min ({self.runs / minutes:.0f}/min), "
            f"{self.vk_requests / max(1, self.runs):.2f} VK requests per merchant, "
            f"{per_run} server queries per run, peak RSS {self.peak_rss_mb:.0f} MB per process "
            f"({self.peak_tree_mb:.0f} MB per cluster), {self.items_updated} items updated "
            f"for {self.expected_updates} changed, statuses {self.statuses}"
        )


# --- the world ------------------------------------------------------------------------------------


def fast_passwords() -> None:
    """The merchants never log in: skip PBKDF2's 0.3 s per user while seeding."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()


def _seed_range(indexes: range) -> None:
    from apps.catalog.services import refresh_catalog

    fast_passwords()
    for index in indexes:
        world = seed_shop(PRODUCTS, 5, 0.0, seed=5000 + index)
        user = merchant(f"m{index}@bench.local", world.account, world.vk)
        refresh = refresh_catalog(user, full=True)
        if refresh.status != refresh.Status.SUCCESS:
            raise SystemExit(f"refresh of merchant {index} failed: {refresh.error}")
        publish_directly(user)


def seed_merchants(count: int, processes: int) -> list[tuple]:
    """``count`` merchants with 100 products each, refreshed and published (in ``processes``
    forked processes on a server database; SQLite takes one writer at a time)."""
    import multiprocessing

    from django.core.cache import caches
    from django.db import connection, connections

    from apps.connections.models import EvotorConnection, VkConnection
    from apps.sandbox.models import EvotorAccount, VkGroup

    if connection.vendor != "mysql":
        processes = 1
    slices = [range(start, count, processes) for start in range(processes)]
    if processes == 1:
        _seed_range(slices[0])
    else:
        connections.close_all()
        for cache in caches.all():
            cache.close()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_seed_range, slices)
    from django_q.models import OrmQ

    from apps.sync.models import SyncConfig

    # Seeding's own refreshes queued runs (catalog_changed): start from an empty queue.
    SyncConfig.objects.update(task_queued_at=None, requested_at=None, requested_trigger="")
    OrmQ.objects.all().delete()
    accounts = {a.user_id: a for a in EvotorAccount.objects.all()}
    groups = {g.vk_id: g for g in VkGroup.objects.all()}
    vk = dict(VkConnection.objects.values_list("user_id", "group_id"))
    return [
        (evotor.user, accounts[evotor.evotor_user_id], groups[vk[evotor.user_id]])
        for evotor in EvotorConnection.objects.select_related("user").order_by("user_id")
    ]


def change_some(shops, share: float, seed: int) -> int:
    """A few products of ``share`` of the merchants change in Evotor (price + 1 ₽); returns
    how many of the changed products are published in VK (what the pass must update)."""
    import random

    from apps.sandbox.models import VkMarketItem
    from apps.sandbox.services.seed import touch_products

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    expected = 0
    for _user, account, group in rng.sample(shops, max(1, round(len(shops) * share))):
        touched = touch_products(CHANGED_PERCENT, account=account, seed=rng.randrange(1000))
        expected += VkMarketItem.objects.filter(
            group=group, is_removed=False, is_hidden=False, sku__in=touched.product_ids
        ).count()
    return expected


# --- measuring ------------------------------------------------------------------------------------


def questions() -> int | None:
    from django.db import connection

    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def one_run_queries(user) -> int:
    """Queries of one unchanged merchant's run, counted in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.sync.tasks import run_sync_for_user

    with CaptureQueriesContext(connection) as captured:
        run_sync_for_user(user.pk, "schedule")
    return len(captured)


def run_pass(name: str, clusters: int, environ: dict, merchants: int, expected: int,
             limit_seconds: float) -> Pass:
    from django.db.models import Count, Sum
    from django.utils import timezone
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    from apps.sync.models import SyncJob

    figures = Pass(name, clusters, 2 * clusters, expected_updates=expected)
    processes = []
    peaks: dict[int, float] = {}
    try:
        for index in range(clusters):
            processes.append(subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                env={**environ, "Q_WORKERS": "2"}, cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=open(environ["BENCH_WORKDIR"] + f"/qcluster-{name}-{index}.log", "ab"),  # noqa: SIM115
                start_new_session=True,
            ))
        time.sleep(3)  # the clusters' workers start
        since = timezone.now()
        before = questions()
        started = time.monotonic()
        # What the hourly schedule does: one task that queues a run per merchant.
        async_task("apps.sync.tasks.run_sync_all", task_name="bench-run-sync-all")
        jobs = SyncJob.objects.filter(started_at__gte=since)
        while time.monotonic() - started < limit_seconds:
            for process in processes:
                pids = tree(process.pid)
                for pid in pids:
                    peaks[pid] = max(peaks.get(pid, 0.0), vm_hwm_mb(pid))
                figures.peak_tree_mb = max(figures.peak_tree_mb,
                                           sum(vm_hwm_mb(pid) for pid in pids))
            finished = jobs.filter(finished_at__isnull=False).values("user").distinct().count()
            if finished >= merchants and not OrmQ.objects.exists():
                break
            time.sleep(1)
        figures.seconds = time.monotonic() - started
        after = questions()
    finally:
        for process in processes:
            stop_cluster(process)
    figures.questions = None if before is None or after is None else after - before
    figures.runs = jobs.count()
    figures.statuses = dict(jobs.values_list("status").annotate(n=Count("id")))
    totals = jobs.aggregate(vk=Sum("vk_requests"), updated=Sum("items_updated"))
    figures.vk_requests, figures.items_updated = totals["vk"] or 0, totals["updated"] or 0
    figures.peak_rss_mb = max(peaks.values(), default=0.0)
    return figures


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 merchants (CI)")
    parser.add_argument("--merchants", type=int, help="number of merchants (default 1,000)")
    parser.add_argument("--seeders", type=int, default=3, help="seeding processes (MariaDB)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    # A terminated benchmark still stops its servers and workers (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    merchants = args.merchants or (50 if args.quick else BAR_MERCHANTS)

    workdir = Path(tempfile.mkdtemp(prefix="evosync-scale-"))
    database_url = bench_database_url(os.environ.get("DATABASE_URL"), workdir)
    if database_url.startswith("mysql"):
        recreate_mysql_database(database_url)
    from cryptography.fernet import Fernet

    port = free_port()
    site = f"http://127.0.0.1:{port}"
    environ = {
        **os.environ, "DATABASE_URL": database_url, "SANDBOX_ENABLED": "true", "DEBUG": "true",
        "SITE_URL": site, "EVOSYNC_TESTING": "false", "DJANGO_SETTINGS_MODULE": "evosync.settings",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "BENCH_WORKDIR": str(workdir),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environ)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    fast_passwords()
    # VK's limit per token (each merchant has its own); Evotor's is not what is measured here.
    sandbox_limits(evotor_rate_limit=1_000_000, vk_user_rate=3, vk_rate_window=1.0)
    server = start_server(environ, port)
    passes: list[Pass] = []
    problems: list[str] = []
    try:
        started = time.monotonic()
        shops = seed_merchants(merchants, args.seeders)
        seeded = time.monotonic() - started
        sample = one_run_queries(shops[0][0])
        limit = 60 * (BAR_MINUTES * 2 if merchants >= BAR_MERCHANTS else max(5.0, merchants / 20))
        for name, clusters, seed in (("2 workers", 1, 1), ("4 workers", 2, 2)):
            expected = change_some(shops, CHANGED_SHARE, seed)
            passes.append(run_pass(name, clusters, environ, merchants, expected, limit))
    finally:
        stop(server)

    for figures in passes:
        finished = sum(figures.statuses.values())
        if finished < merchants or figures.runs < merchants:
            problems.append(f"{figures.name}: {finished} runs finished of {merchants}")
        bad = {k: v for k, v in figures.statuses.items() if k != "success"}
        if bad:
            problems.append(f"{figures.name}: runs not successful: {bad}")
        if figures.items_updated < figures.expected_updates:
            problems.append(f"{figures.name}: {figures.items_updated} items updated for "
                            f"{figures.expected_updates} changed")
    first = passes[0] if passes else None
    if first and merchants >= BAR_MERCHANTS and first.seconds > BAR_MINUTES * 60:
        problems.append(f"2 workers: {first.seconds / 60:.1f} min > {BAR_MINUTES:.0f} min")
    engine = database_url.split("://")[0]
    print(f"\nscale: {merchants} merchants × {PRODUCTS} products, seeded in {seeded:.0f} s, "
          f"{sample} queries per unchanged run (in-process) [{engine}]")
    for figures in passes:
        print(f"  {figures.line}")
    if len(passes) == 2 and passes[1].seconds:
        print(f"  scale-out: 4 workers {passes[0].seconds / passes[1].seconds:.2f}× as fast "
              f"as 2")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "database": engine, "merchants": merchants, "queries_per_unchanged_run": sample,
            "passes": [{**vars(p), "line": p.line} for p in passes], "problems": problems,
        }, indent=2, ensure_ascii=False, default=str))
    print("\n".join(f"MISSED {p}" for p in problems) if problems else "All bars met.")
    if not problems:  # the clusters' logs stay for a look when a bar was missed
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"qcluster logs: {workdir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
