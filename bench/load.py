"""Load benchmark: the Evotor product webhook and the catalog page under gunicorn, driven by wrk.

    .venv/bin/python bench/load.py                     # SQLite (a throw-away file)
    DATABASE_URL=mysql://root@127.0.0.1:3306/evosync_load REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/load.py                 # MariaDB (+ Redis): the bars are for this
    .venv/bin/python bench/load.py --quick             # short runs, small catalogue (CI)
    .venv/bin/python bench/load.py --only webhook      # or --only catalog

EvoSync is served as compose serves it: ``gunicorn -c gunicorn.conf.py`` (WEB_CONCURRENCY=3
workers × WEB_THREADS=2 threads, max_requests, access log) with production settings
(DEBUG=false, collected static files, X-Forwarded-Proto from the "proxy"), but bound to
127.0.0.1. The load generator is ``wrk`` (Debian's package) on loopback, bounded in connections
and seconds; its Lua scripts are written by this command. The database is the engine and server
DATABASE_URL names, in a database of the benchmark's own (``<name>_bench``, recreated).

1. webhook: merchants with their sync on; every wrk thread replays its own list of pre-signed
   ``ProductEvent`` deliveries (HMAC-SHA1 ``X-Hub-Signature`` over the exact body, a distinct
   ``X-Evotor-Delivery`` each) of which 10 % are redeliveries of an earlier one. Bars:
   ≥ 300 deliveries/s, p99 ≤ 100 ms, 0 non-2xx or socket errors, WebhookEvent rows == the
   distinct delivery ids sent (every redelivery answered "duplicate"), every event applied,
   and the syncs they trigger coalesced (queued sync tasks ≤ 1 per merchant).
2. catalog: the catalog page of a merchant with 10,000 published products, logged in, over a
   set of pages with filters, search, sort and paging. Bars: p95 ≤ 150 ms under wrk; ≤ 15 SQL
   queries per page (counted in-process with the test client).

``--quick`` enforces the exactness and query bars and reports throughput and latency without
failing on them (CI machines are shared). Ends with one line of figures per part; exits 1 when a
bar is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_refresh import (  # noqa: E402
    bench_database_url,
    free_port,
    recreate_mysql_database,
)
from bench.sync import merchant, publish_directly, seed_shop, start_server, stop  # noqa: E402

HOOK_PATH = "/api/v2/evotor/events"
HOOK_SECRET = "bench-hook-secret"  # noqa: S105 - the bench's own server
REDELIVERY_SHARE = 0.10

BARS = {
    "webhook_rps": 300.0,
    "webhook_p99_ms": 100.0,
    # Statements for one steady-state delivery (BEGIN and COMMIT included), counted in-process.
    "webhook_statements": 5,
    "catalog_p95_ms": 150.0,
    "catalog_queries": 15,
}


@dataclass
class Result:
    name: str
    line: str = ""
    figures: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def bar(self, label: str, ok: bool, enforce: bool = True) -> None:
        if not ok:
            (self.problems if enforce else self.figures.setdefault("not_enforced", [])).append(
                f"{self.name}: {label}"
            )


# --- processes ------------------------------------------------------------------------------------


def production_environ(base: dict) -> dict:
    """What compose gives the web container (DEBUG=false), minus the sandbox."""
    return {**base, "DEBUG": "false", "SANDBOX_ENABLED": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_HSTS_SECONDS": "0"}


def collect_static(environ: dict) -> None:
    """Production pages need the hashed static files the Docker build collects."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                   env=environ, cwd=ROOT, check=True, timeout=300)


def start_gunicorn(environ: dict, port: int, log: Path) -> subprocess.Popen:
    """gunicorn as compose runs it (gunicorn.conf.py), bound to loopback."""
    command = [sys.executable, "-m", "gunicorn", "evosync.wsgi:application",
               "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"]
    with log.open("ab") as sink:
        server = subprocess.Popen(command, env={**environ, "PORT": str(port)}, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise SystemExit(f"gunicorn did not answer /health: see {log}")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return found


def run_wrk(script: Path, port: int, *, threads: int, connections: int, seconds: int,
            args: list[str]) -> dict:
    """wrk's figures, plus ``wrk_cpu_s``: the CPU wrk itself used (it shares the cores)."""
    command = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout",
               "10s", "-s", str(script), f"http://127.0.0.1:{port}", "--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120,
                            check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in output.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line[6:])
            figures["wrk_cpu_s"] = (after.ru_utime + after.ru_stime
                                    - before.ru_utime - before.ru_stime)
            return figures
    raise SystemExit(f"wrk gave no figures:\n{output.stdout}\n{output.stderr}")


# --- CPU accounting (Linux /proc; figures are None elsewhere) -------------------------------------
# CPU seconds do not depend on how busy the machine is the way throughput does: they say what one
# delivery costs, whoever else shares the cores.


def _proc_stat(pid: str) -> list[str] | None:
    """/proc/<pid>/stat fields from the state on (the name in parentheses may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def tree_cpu_seconds(root: int) -> float | None:
    """CPU of ``root`` and its children: the living ones' own, the reaped ones' through the
    parent's cutime/cstime (gunicorn replaces a worker every max_requests)."""
    if not Path("/proc").is_dir():
        return None
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in Path("/proc").iterdir():
        fields = _proc_stat(entry.name) if entry.name.isdigit() else None
        if fields is None or (int(entry.name) != root and int(fields[1]) != root):
            continue
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        total += utime + stime + (cutime + cstime if int(entry.name) == root else 0)
    return total / ticks


def database_server_pid(database_url: str) -> int | None:
    """The local MariaDB/MySQL server's pid, when the benchmark's database is on this machine."""
    if not database_url.startswith("mysql") or not Path("/proc").is_dir():
        return None
    from urllib.parse import urlsplit

    if (urlsplit(database_url).hostname or "127.0.0.1") not in {"127.0.0.1", "localhost", "::1"}:
        return None
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() in {"mariadbd",
                                                                                  "mysqld"}:
                return int(entry.name)
        except OSError:
            continue
    return None


def process_cpu_seconds(pid: int | None) -> float | None:
    fields = _proc_stat(str(pid)) if pid else None
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_delivery_ms(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or not requests:
        return None
    return round((after - before) * 1000 / requests, 2)


def percentiles(figures: dict) -> dict:
    return {key: round(figures[f"{key}_us"] / 1000, 1) for key in ("p50", "p95", "p99", "max")}


# Shared by both scripts: the thread numbering and the figures line printed by done().
LUA_COMMON = r"""
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

sent, answered, bad, applied, duplicate, other = 0, 0, 0, 0, 0, 0

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    bad = bad + 1
  elseif body:find('"duplicate"', 1, true) then
    duplicate = duplicate + 1
  elseif body:find('"applied"', 1, true) then
    applied = applied + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local parts = {}
  for _, t in ipairs(threads) do
    parts[#parts + 1] = string.format(
      '{"tid":%d,"sent":%d,"answered":%d,"bad":%d,"applied":%d,"duplicate":%d,"other":%d}',
      t:get("tid"), t:get("sent"), t:get("answered"), t:get("bad"), t:get("applied"),
      t:get("duplicate"), t:get("other"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,' ..
    '"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"threads":[%s]}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(parts, ",")))
end
"""

WEBHOOK_LUA = LUA_COMMON + r"""
function init(args)
  -- wrk calls thread 0's request() once to check the script and sends nothing of it.
  skip = (tid == 0) and 1 or 0
  reqs = {}
  for line in io.lines(args[1] .. tid .. ".tsv") do
    local delivery, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", args[2], {
      ["Content-Type"] = "application/json;charset=UTF-8",
      ["User-Agent"] = "Evotor-Hookshot",
      ["X-Forwarded-Proto"] = "https",
      ["X-Evotor-Delivery"] = delivery,
      ["X-Hub-Signature"] = signature,
    }, body)
  end
end

function request()
  if skip > 0 then
    skip = skip - 1
    return reqs[1]
  end
  local r = reqs[(sent % #reqs) + 1]
  sent = sent + 1
  return r
end
"""

CATALOG_LUA = LUA_COMMON + r"""
function init(args)
  reqs = {}
  for path in io.lines(args[1]) do
    reqs[#reqs + 1] = wrk.format("GET", path, {
      ["Cookie"] = args[2],
      ["X-Forwarded-Proto"] = "https",
      ["Accept-Language"] = "ru",
    })
  end
end

function request()
  local r = reqs[((sent + tid * 7) % #reqs) + 1]
  sent = sent + 1
  return r
end
"""


# --- 1. the webhook -------------------------------------------------------------------------------


@dataclass
class Delivery:
    delivery_id: str
    signature: str
    body: bytes


def webhook_world(merchants: int, products: int) -> list[tuple]:
    """Merchants with their sync on (bench/sync.py's ``merchant``) and their sandbox products."""
    from apps.sandbox.models import EvotorProduct

    shops = []
    for index in range(merchants):
        world = seed_shop(products, 5, 0.0, seed=1000 + index)
        merchant(f"hook{index}@bench.local", world.account, world.vk)
        goods = list(EvotorProduct.objects.filter(store__account=world.account)
                     .select_related("store"))
        shops.append((world.account, goods))
    return shops


def signed_deliveries(shops, count: int, rng: random.Random) -> list[Delivery]:
    """``count`` distinct ProductEvent deliveries, each a price change a moment later."""
    from django.utils import timezone

    from apps.sandbox.services import evotor_json
    from apps.sandbox.services.outbound import sign

    start = timezone.now()
    deliveries = []
    for index in range(count):
        account, goods = shops[rng.randrange(len(shops))]
        product = goods[rng.randrange(len(goods))]
        product.price = Decimal(rng.randrange(100, 100_000)) / 100
        product.updated_at = start + timedelta(milliseconds=index)
        payload = evotor_json.product_json(product, product.store.evotor_id, account.user_id)
        envelope = {"id": str(uuid.uuid4()), "timestamp": int(time.time() * 1000),
                    "type": "ProductEvent", "action": "updated", "payload": payload}
        body = json.dumps(envelope, ensure_ascii=False).encode()
        deliveries.append(Delivery(str(uuid.uuid4()), sign(body, HOOK_SECRET), body))
    return deliveries


def thread_sequences(deliveries: list[Delivery], threads: int, rng: random.Random):
    """Each wrk thread's own order: its share of the distinct deliveries, and after every ninth
    or so a redelivery of one it sent a little earlier (exactly the same bytes)."""
    sequences: list[list[Delivery]] = [[] for _ in range(threads)]
    for index, delivery in enumerate(deliveries):
        sequence = sequences[index % threads]
        sequence.append(delivery)
        if len(sequence) > 30 and rng.random() < REDELIVERY_SHARE / (1 - REDELIVERY_SHARE):
            sequence.append(sequence[-rng.randrange(10, min(300, len(sequence)))])
    return sequences


def post(port: int, delivery: Delivery) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", HOOK_PATH, body=delivery.body, headers={
            "Content-Type": "application/json;charset=UTF-8", "X-Forwarded-Proto": "https",
            "X-Evotor-Delivery": delivery.delivery_id, "X-Hub-Signature": delivery.signature,
        })
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def delivery_statements(shops) -> tuple[int, int]:
    """SQL statements (BEGIN and COMMIT included) for one new delivery and one redelivery, sent
    in-process after the load, when every merchant already has a sync task queued: the steady
    state of a burst, which is what the load is made of."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    # Two for one merchant: the first warms this process's caches as the load did the server's.
    warm, fresh = signed_deliveries(shops[:1], 2, random.Random(99))  # noqa: S311 - bench data
    statements = []
    for delivery in (warm, fresh, fresh):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                HOOK_PATH, delivery.body, content_type="application/json;charset=UTF-8",
                HTTP_X_EVOTOR_DELIVERY=delivery.delivery_id,
                HTTP_X_HUB_SIGNATURE=delivery.signature,
            )
        if response.status_code != 200:
            raise SystemExit(f"in-process delivery answered {response.status_code}")
        statements.append(len(queries))
    return statements[1], statements[2]  # the first one warms this process's caches


def webhook_load(port: int, workdir: Path, *, quick: bool, merchants: int,
                 shops, server: subprocess.Popen, database_url: str) -> Result:
    from django_q.models import OrmQ

    from apps.connections.models import WebhookEvent
    from apps.sync.models import SyncJob

    result = Result("webhook")
    seconds, threads, connections = (5, 2, 8) if quick else (30, 2, 8)
    rng = random.Random(12)  # noqa: S311 - benchmark data
    # Enough distinct deliveries for ~1,500/s; beyond that a thread's list wraps around
    # (everything after is a redelivery, still counted exactly).
    deliveries = signed_deliveries(shops, 1500 * seconds, rng)
    sequences = thread_sequences(deliveries, threads, rng)
    prefix = workdir / "deliveries-"
    for tid, sequence in enumerate(sequences):
        with (workdir / f"deliveries-{tid}.tsv").open("wb") as out:
            for d in sequence:
                out.write(f"{d.delivery_id}\t{d.signature}\t".encode() + d.body + b"\n")
    script = workdir / "webhook.lua"
    script.write_text(WEBHOOK_LUA)
    database_pid = database_server_pid(database_url)
    load_before = os.getloadavg()
    web_before, db_before = tree_cpu_seconds(server.pid), process_cpu_seconds(database_pid)
    figures = run_wrk(script, port, threads=threads, connections=connections, seconds=seconds,
                      args=[str(prefix), HOOK_PATH])
    web_after, db_after = tree_cpu_seconds(server.pid), process_cpu_seconds(database_pid)
    load_after = os.getloadavg()

    # Requests wrk issued in the run's last moments may not have reached EvoSync when it
    # stopped: those (and only those: the last few of a thread) are delivered again, as Evotor
    # would; a delivery missing from anywhere else is a lost one.
    per_thread = {t["tid"]: t for t in figures["threads"]}
    expected: set[str] = set()
    window: dict[str, Delivery] = {}
    for tid, sequence in enumerate(sequences):
        sent = per_thread[tid]["sent"]
        issued = [sequence[i % len(sequence)] for i in range(sent)]
        expected.update(d.delivery_id for d in issued)
        window.update((d.delivery_id, d) for d in issued[-4 * connections:])
    time.sleep(1)
    events = WebhookEvent.objects.filter(source=WebhookEvent.Source.EVOTOR_HOOK)
    missing = expected - set(events.values_list("delivery_id", flat=True))
    lost = len(missing - set(window))
    resent_bad = 0
    for delivery_id in sorted(missing & set(window)):
        status, body = post(port, window[delivery_id])
        resent_bad += not (200 <= status < 300 and '"applied"' in body)
    stored = list(events.values_list("delivery_id", flat=True))
    unapplied = events.filter(processed_at__isnull=True).count()
    hook_users = set(WebhookEvent.objects.values_list("user_id", flat=True).distinct())
    queued = Counter(
        task["args"][0] for task in (q.task for q in OrmQ.objects.all())
        if task.get("func") == "apps.sync.tasks.run_sync_for_user" and task["args"][0] in hook_users
    )
    sync_tasks, most = sum(queued.values()), max(queued.values(), default=0)
    sync_jobs = SyncJob.objects.filter(user_id__in=hook_users).count()
    statements, statements_redelivered = delivery_statements(shops)

    answered = sum(t["answered"] for t in figures["threads"])
    redelivered = sum(t["duplicate"] for t in figures["threads"])
    duration = figures["duration_us"] / 1e6
    rps = figures["requests"] / duration
    lat = percentiles(figures)
    errors = (sum(t["bad"] for t in figures["threads"]) + figures["socket_errors"]
              + figures["timeouts"] + resent_bad)
    result.figures = {
        "deliveries_per_s": round(rps, 1), **{f"{k}_ms": v for k, v in lat.items()},
        "answered": answered, "distinct": len(expected), "redeliveries_answered": redelivered,
        "stored": len(stored), "stored_distinct": len(set(stored)), "unapplied": unapplied,
        "errors": errors, "lost": lost, "resent": len(missing),
        "queued_sync_tasks": sync_tasks, "sync_jobs": sync_jobs,
        "merchants": merchants, "connections": connections, "seconds": seconds,
        "statements_per_delivery": statements, "statements_per_redelivery": statements_redelivered,
        # CPU per answered request: EvoSync's gunicorn (master and workers), wrk, and the
        # database server (shared with whatever else uses it: indicative only).
        "web_cpu_ms": per_delivery_ms(web_before, web_after, figures["requests"]),
        "wrk_cpu_ms": per_delivery_ms(0, figures["wrk_cpu_s"], figures["requests"]),
        "database_cpu_ms": per_delivery_ms(db_before, db_after, figures["requests"]),
        "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
        # Workers gunicorn started (max_requests recycling included), from its error log.
        "workers_booted": (workdir / "gunicorn.log").read_text(errors="replace").count(
            "Booting worker"),
    }
    enforce = not quick
    result.bar(f"{rps:.0f} deliveries/s < {BARS['webhook_rps']:.0f}",
               rps >= BARS["webhook_rps"], enforce)
    result.bar(f"p99 {lat['p99']} ms > {BARS['webhook_p99_ms']:.0f}",
               lat["p99"] <= BARS["webhook_p99_ms"], enforce)
    result.bar(f"{errors} errors (non-2xx, socket, timeouts)", errors == 0)
    result.bar(f"{len(stored)} rows for {len(expected)} distinct deliveries",
               len(stored) == len(set(stored)) == len(expected) and set(stored) == expected)
    result.bar(f"{unapplied} events stored but not applied", unapplied == 0)
    result.bar(f"{lost} deliveries lost", lost == 0)
    result.bar(f"{sync_tasks} queued sync tasks for {merchants} merchants ({most} for one)",
               most <= 1 and sync_jobs == 0)
    result.bar(f"{statements} SQL statements per delivery > {BARS['webhook_statements']}",
               statements <= BARS["webhook_statements"])
    result.line = (
        f"webhook: {rps:.0f} deliveries/s, p50 {lat['p50']} ms, p99 {lat['p99']} ms, "
        f"{errors} errors, {answered} answered ({redelivered} redeliveries deduplicated), "
        f"{len(stored)} stored = {len(expected)} distinct, {sync_tasks} sync tasks queued for "
        f"{merchants} merchants; {statements} SQL statements per delivery; CPU per delivery: "
        f"web {result.figures['web_cpu_ms']} ms, wrk {result.figures['wrk_cpu_ms']} ms"
        + (f", database server {result.figures['database_cpu_ms']} ms (shared)"
           if result.figures["database_cpu_ms"] is not None else "")
        + f"; load average {load_before[0]:.1f} → {load_after[0]:.1f}"
    )
    return result


# --- 2. the catalog page --------------------------------------------------------------------------


def catalog_world(products: int, site_environ: dict, port: int):
    """A merchant with ``products`` goods, refreshed from the sandbox and published."""
    from apps.catalog.services import refresh_catalog

    world = seed_shop(products, 200 if products >= 5000 else 20, 0.0, seed=202)
    user = merchant("catalog@bench.local", world.account, world.vk)
    sandbox = start_server(site_environ, port)
    try:
        refresh = refresh_catalog(user, full=True)
    finally:
        stop(sandbox)
    if refresh.status != refresh.Status.SUCCESS:
        raise SystemExit(f"catalog refresh failed: {refresh.error}")
    publish_directly(user)
    return user


def catalog_paths(user) -> list[str]:
    from apps.catalog.models import Product, ProductGroup, Store

    store = Store.objects.filter(user=user).first()
    group = (ProductGroup.objects.filter(user=user, store=store, parent_evotor_id="")
             .order_by("name").first())
    word = Product.objects.filter(user=user).order_by("pk").values_list("name", flat=True)[10]
    word = quote(word.split()[0].lower())  # as a browser sends it
    sku = Product.objects.filter(user=user).order_by("-pk").values_list("evotor_id", flat=True)[0]
    base = "/catalog"
    return [
        base,
        f"{base}?page=2",
        f"{base}?page=100",
        f"{base}?sort=-price",
        f"{base}?sort=price&page=7",
        f"{base}?q={word}",
        f"{base}?q={word}&sort=-name",
        f"{base}?q={sku}",
        f"{base}?store={store.pk}",
        f"{base}?store={store.pk}&group={group.evotor_id}",
        f"{base}?store={store.pk}&group={group.evotor_id}&sort=price&page=2",
        f"{base}?removed=on&sort=-name",
    ]


def catalog_queries(user, paths: list[str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    client.get(paths[0])  # the session's first use writes its language etc.
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, paths[0])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    counts = {}
    for path in paths:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        counts[path] = len(queries)
        if os.environ.get("BENCH_VERBOSE"):
            print(f"{path}: {len(queries)} queries, "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms in-process")
        if os.environ.get("BENCH_SHOW_SQL") == path:
            for query in queries.captured_queries:
                print(query["sql"][:200])
    return counts


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def catalog_load(port: int, workdir: Path, user, products: int, *, quick: bool) -> Result:
    result = Result("catalog")
    paths = catalog_paths(user)
    counts = catalog_queries(user, paths)
    worst = max(counts.values())
    (workdir / "paths.txt").write_text("\n".join(paths) + "\n")
    script = workdir / "catalog.lua"
    script.write_text(CATALOG_LUA)
    seconds, connections = (5, 2) if quick else (20, 2)
    figures = run_wrk(script, port, threads=connections, connections=connections,
                      seconds=seconds, args=[str(workdir / "paths.txt"), session_cookie(user)])
    lat = percentiles(figures)
    rps = figures["requests"] / (figures["duration_us"] / 1e6)
    errors = (sum(t["bad"] for t in figures["threads"]) + figures["socket_errors"]
              + figures["timeouts"])
    result.figures = {"products": products, "pages_per_s": round(rps, 1),
                      "wrk_errors": {k: figures[k] for k in ("socket_errors", "status_errors",
                                                            "timeouts")},
                      "non_2xx": sum(t["bad"] for t in figures["threads"]),
                      **{f"{k}_ms": v for k, v in lat.items()}, "errors": errors,
                      "max_queries": worst, "queries": counts, "connections": connections}
    result.bar(f"p95 {lat['p95']} ms > {BARS['catalog_p95_ms']:.0f}",
               lat["p95"] <= BARS["catalog_p95_ms"], not quick)
    result.bar(f"{worst} queries on a page > {BARS['catalog_queries']}",
               worst <= BARS["catalog_queries"])
    result.bar(f"{errors} errors (non-2xx, socket, timeouts)", errors == 0)
    result.line = (
        f"catalog ({products:,} products): {rps:.0f} pages/s over {connections} connections, "
        f"p50 {lat['p50']} ms, p95 {lat['p95']} ms, {errors} errors, "
        f"≤ {worst} queries per page ({len(paths)} pages)"
    )
    return result


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, small catalogue (CI)")
    parser.add_argument("--only", choices=["webhook", "catalog"])
    parser.add_argument("--products", type=int, help="the catalog's size (10,000; quick 1,000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    # A terminated benchmark still stops its servers and workers (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    merchants, products_each = (5, 40) if args.quick else (20, 50)
    catalog_size = args.products or (1_000 if args.quick else 10_000)

    workdir = Path(tempfile.mkdtemp(prefix="evosync-load-"))
    database_url = bench_database_url(os.environ.get("DATABASE_URL"), workdir)
    if database_url.startswith("mysql"):
        recreate_mysql_database(database_url)
    from cryptography.fernet import Fernet

    sandbox_port, port = free_port(), free_port()
    base = {
        **os.environ, "DATABASE_URL": database_url, "EVOSYNC_TESTING": "false",
        "DJANGO_SETTINGS_MODULE": "evosync.settings", "EVOTOR_HOOK_SECRET": HOOK_SECRET,
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    site = f"http://127.0.0.1:{sandbox_port}"
    development = {**base, "DEBUG": "true", "SANDBOX_ENABLED": "true", "SITE_URL": site}
    production = production_environ(base)
    os.environ.update(development)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.sync import sandbox_limits

    sandbox_limits(evotor_rate_limit=1_000_000)
    results: list[Result] = []
    server = None
    try:
        shops = webhook_world(merchants, products_each) if args.only != "catalog" else None
        user = (catalog_world(catalog_size, development, sandbox_port)
                if args.only != "webhook" else None)
        collect_static(production)
        server = start_gunicorn(production, port, workdir / "gunicorn.log")
        if shops is not None:
            results.append(webhook_load(port, workdir, quick=args.quick, merchants=merchants,
                                        shops=shops, server=server, database_url=database_url))
        if user is not None:
            results.append(catalog_load(port, workdir, user, catalog_size, quick=args.quick))
    finally:
        if server is not None:
            stop(server)

    engine = database_url.split("://")[0]
    problems = [p for r in results for p in r.problems]
    for r in results:
        print(f"{r.line} [{engine}]")
        for note in r.figures.get("not_enforced", []):
            print(f"  (quick, not enforced) {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"database": engine, "quick": args.quick, "results": [
            {"name": r.name, "figures": r.figures, "problems": r.problems} for r in results
        ]}, indent=2, ensure_ascii=False))
    print("\n".join(f"MISSED {p}" for p in problems) if problems else "All bars met.")
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
