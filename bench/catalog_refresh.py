"""Benchmark: catalog refresh of 10,000 products against the sandbox over real HTTP.

    .venv/bin/python bench/catalog_refresh.py                    # SQLite (a throw-away file)
    .venv/bin/python bench/catalog_refresh.py --quick            # 2,000 products (CI)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync .venv/bin/python bench/catalog_refresh.py

Seeds the sandbox with 10,000 products in 200 groups over 2 stores, serves it from a separate
`manage.py runserver` process (as Evotor would be: its work is not counted here), runs a full
refresh, then an incremental one after 1 % of the products changed, and prints for each the
Evotor requests, SQL queries, wall time and peak memory, checked against the issue's targets.
The database is the engine and server DATABASE_URL names, under a database of its own
(`<name>_bench`, or a temporary SQLite file), created afresh each run. Exits 1 if a target is
missed. Options: --quick (2,000 products in 40 groups, as CI runs it), --products, --groups,
--stores, --changed-percent, --json PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {
    "full": {"evotor_requests": 15, "sql_queries": 60, "seconds": 15.0, "peak_mb": 250.0},
    # Per store for requests; the run below has --stores stores.
    "incremental": {"evotor_requests_per_store": 4, "sql_queries": 20, "seconds": 2.0,
                    "peak_mb": 250.0},
}


@dataclass
class Measurement:
    name: str
    evotor_requests: int
    sql_queries: int
    seconds: float
    peak_mb: float
    products_written: int
    status: str


def bench_database_url(url: str | None, workdir: Path) -> str:
    """The same engine and server as ``url``, but a database of the benchmark's own."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "evosync"
    return urlunsplit(parts._replace(path=f"/{name}_bench"))


def recreate_mysql_database(url: str) -> None:
    import MySQLdb

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
        user=parts.username or "root", passwd=parts.password or "",
    )
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox_server(environ: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    return wait_until_healthy(server, port)


def wait_until_healthy(server: subprocess.Popen, port: int) -> subprocess.Popen:
    """``server`` once its /health answers on ``port``; exit the benchmark if it never does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the sandbox server did not start")


def measure(name: str, work) -> Measurement:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tracemalloc.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        run, client = work()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measurement(
        name=name, evotor_requests=client.requests_made, sql_queries=len(queries),
        seconds=round(seconds, 2), peak_mb=round(peak / 2**20, 1),
        products_written=run.products, status=run.status,
    )


def check(measurement: Measurement, stores: int) -> list[str]:
    targets = TARGETS[measurement.name]
    limit_requests = targets.get("evotor_requests") or targets["evotor_requests_per_store"] * stores
    problems = []
    for label, value, limit in (
        ("Evotor requests", measurement.evotor_requests, limit_requests),
        ("SQL queries", measurement.sql_queries, targets["sql_queries"]),
        ("seconds", measurement.seconds, targets["seconds"]),
        ("peak MB", measurement.peak_mb, targets["peak_mb"]),
    ):
        if value > limit:
            problems.append(f"{measurement.name}: {label} {value} > {limit}")
    if measurement.status != "success":
        problems.append(f"{measurement.name}: run status {measurement.status}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2,000 products in 40 groups (CI); the same targets")
    parser.add_argument("--products", type=int)
    parser.add_argument("--groups", type=int)
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    args.products = args.products or (2_000 if args.quick else 10_000)
    args.groups = args.groups or (40 if args.quick else 200)

    workdir = Path(tempfile.mkdtemp(prefix="evosync-bench-"))
    database_url = bench_database_url(os.environ.get("DATABASE_URL"), workdir)
    if database_url.startswith("mysql"):
        recreate_mysql_database(database_url)
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    environ = {
        **os.environ, "DATABASE_URL": database_url, "SANDBOX_ENABLED": "true", "DEBUG": "true",
        "SITE_URL": site, "EVOSYNC_TESTING": "false", "DJANGO_SETTINGS_MODULE": "evosync.settings",
    }
    os.environ.update(environ)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    from apps.accounts.models import User
    from apps.catalog.services import refresh_catalog
    from apps.connections import providers
    from apps.connections.models import ConnectionState, EvotorConnection
    from apps.sandbox.services import seed as sandbox_seed

    seeded = sandbox_seed.seed(
        stores=args.stores, groups=args.groups, products=args.products, seed=42
    )
    merchant = User.objects.create_user("bench@example.com", "bench-password-1")
    connection = EvotorConnection(
        user=merchant, evotor_user_id=seeded.account.user_id, state=ConnectionState.ONLINE
    )
    connection.cloud_token = seeded.account.token
    connection.save()
    print(
        f"Seeded {seeded.products} products in {seeded.groups} groups over {args.stores} "
        f"stores; database {database_url.split('@')[-1]}"
    )

    server = start_sandbox_server(environ, port)
    try:
        def refresh(full: bool):
            client = providers.evotor_client(connection.cloud_token)
            return refresh_catalog(merchant, full=full, client=client), client

        full = measure("full", lambda: refresh(True))
        touched = sandbox_seed.touch_products(args.changed_percent, account=seeded.account, seed=7)
        incremental = measure("incremental", lambda: refresh(False))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{'run':<12}{'Evotor req':>11}{'SQL':>6}{'seconds':>9}{'peak MB':>9}{'written':>9}")
    for m in (full, incremental):
        print(f"{m.name:<12}{m.evotor_requests:>11}{m.sql_queries:>6}{m.seconds:>9}"
              f"{m.peak_mb:>9}{m.products_written:>9}")
    print(f"({touched.touched} products changed before the incremental run; "
          f"process peak RSS {rss_mb:.0f} MB)")
    problems = check(full, args.stores) + check(incremental, args.stores)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(
            {"full": asdict(full), "incremental": asdict(incremental), "rss_mb": rss_mb,
             "database": database_url.split("://")[0], "problems": problems}, indent=2
        ))
    print("\n" + ("\n".join(f"MISSED {p}" for p in problems) if problems else "All targets met."))
    shutil.rmtree(workdir, ignore_errors=True)  # the SQLite file; CI runs this on every push
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
