"""What the four proofs (bench/proof_*.py) share: a bench database, the sandbox and EvoSync's own
endpoints under gunicorn, real ``manage.py qcluster`` workers, a seeded merchant, the checks of
the community's items and the one line of figures each proof ends with.

The database, server and seeding helpers are bench/sync.py's and bench/catalog_refresh.py's; the
database is the engine and server DATABASE_URL names, in a database of the proof's own
(``<name>_bench``, recreated; a throw-away SQLite file without DATABASE_URL).

gunicorn writes an access log (GUNICORN_CMD_ARGS, read after gunicorn.conf.py): it is the
sandbox's record of the requests that reached "VK", in the order they were answered.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_refresh import (  # noqa: E402
    bench_database_url,
    free_port,
    recreate_mysql_database,
)
from bench.sync import merchant, sandbox_limits, seed_shop, start_server, stop  # noqa: E402

HOOK_SECRET = "proof-hook-secret"  # noqa: S105 - the sandbox's webhook secret
VK_API_PATH = "/sandbox/vk/method/"
VK_UPLOAD_PATH = "/sandbox/vk/upload"
MARK_PATH = "/health?proof-mark="


def arguments(doc: str, **defaults) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the smaller version CI runs")
    parser.add_argument("--seed", type=int, default=defaults.get("seed", 12),
                        help="the random moments and the fault draws' order")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return parser.parse_args()


class Cluster:
    """``manage.py qcluster`` in a process group of its own, so a SIGKILL reaches every worker."""

    def __init__(self, environ: dict, log: Path) -> None:
        self.environ, self.log = environ, log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Cluster:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], env=self.environ, cwd=ROOT,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL to the whole group: sentinel, pusher, monitor and workers die at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_cluster(self.process)
            self.process = None


def stop_cluster(process: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a ``qcluster`` as its supervisor would: SIGTERM to the main process only, which
    stops its workers and waits for them (a SIGTERM to the whole group leaves it waiting
    forever for children that are already gone); SIGKILL to the group if it does not end
    within ``grace`` seconds, and to any process of the group left behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            print(f"qcluster {process.pid} ignored SIGTERM for {grace:.0f} s: SIGKILL",
                  file=sys.stderr)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@dataclass
class Bench:
    """The running world of one proof; ``with Bench(...) as bench:`` stops every process."""

    name: str
    quick: bool
    cluster_env: dict = field(default_factory=dict)
    keep: bool = False

    def __post_init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"evosync-{self.name}-"))
        self.database_url = bench_database_url(os.environ.get("DATABASE_URL"), self.workdir)
        self.engine = "mariadb" if self.database_url.startswith("mysql") else "sqlite"
        self.port = free_port()
        self.site = f"http://127.0.0.1:{self.port}"
        self.access_log = self.workdir / "access.log"
        self.mail_dir = self.workdir / "mail"
        self.mail_dir.mkdir()
        self.environ = {
            **os.environ, "DATABASE_URL": self.database_url, "SANDBOX_ENABLED": "true",
            "DEBUG": "true", "SITE_URL": self.site, "EVOSYNC_TESTING": "false",
            "DJANGO_SETTINGS_MODULE": "evosync.settings", "EVOTOR_HOOK_SECRET": HOOK_SECRET,
            "Q_WORKERS": os.environ.get("Q_WORKERS", "2"), "SYNC_DEBOUNCE_MS": "1000",
            "EMAIL_URL": f"filemail:///{self.mail_dir}",  # absolute: four slashes
            "CSRF_TRUSTED_ORIGINS": self.site,
        }
        if "REDIS_URL" not in os.environ:
            self.environ.pop("REDIS_URL", None)
        self.server: subprocess.Popen | None = None
        self.clusters: list[Cluster] = []
        self.phases: list[tuple[str, float]] = [("start", time.monotonic())]

    def phase(self, label: str) -> None:
        """Mark the end of a phase; the phases' lengths go to stderr when the proof ends (what
        a quick mode spends its minutes on)."""
        self.phases.append((label, time.monotonic()))

    def __enter__(self) -> Bench:
        # A stopped proof (timeout, Ctrl-C, SIGTERM) still stops its server and clusters.
        signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
        if self.database_url.startswith("mysql"):
            recreate_mysql_database(self.database_url)
        os.environ.update(self.environ)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        sandbox_limits(evotor_rate_limit=1_000_000, vk_user_rate=3, vk_rate_window=1.0)
        server_env = {**self.environ,
                      "GUNICORN_CMD_ARGS": f"--access-logfile {self.access_log}"}
        self.server = start_server(server_env, self.port)
        self.phase("setup")
        return self

    def __exit__(self, *exc) -> None:
        for cluster in self.clusters:
            cluster.kill()
        if self.server is not None:
            stop(self.server)
        self.phase("teardown")
        spans = [f"{label} {end - begin:.1f}" for (_l, begin), (label, end)
                 in zip(self.phases, self.phases[1:], strict=False)]
        print(f"{self.name} phases (s): " + ", ".join(spans), file=sys.stderr)
        if not self.keep and exc[0] is None:
            import shutil

            shutil.rmtree(self.workdir, ignore_errors=True)
        elif exc[0] is not None or self.keep:
            print(f"work directory kept: {self.workdir}", file=sys.stderr)

    def cluster(self, **env: str) -> Cluster:
        environ = {**self.environ, **self.cluster_env, **{k: str(v) for k, v in env.items()}}
        cluster = Cluster(environ, self.workdir / f"qcluster-{len(self.clusters)}.log")
        self.clusters.append(cluster)
        return cluster

    # --- the sandbox's request log ----------------------------------------------------------

    def mark(self, label: str) -> None:
        """A line in the access log: requests logged after it were answered after this moment."""
        import urllib.request

        with urllib.request.urlopen(f"{self.site}{MARK_PATH}{label}", timeout=10):  # noqa: S310
            pass

    def vk_lines(self) -> int:
        """VK requests (API and uploads) answered so far."""
        if not self.access_log.exists():
            return 0
        text = self.access_log.read_text()
        return text.count(VK_API_PATH) + text.count(VK_UPLOAD_PATH)

    def vk_requests_after(self, label: str) -> dict[str, int]:
        """VK API requests and upload posts the access log shows after the mark ``label``."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        after = False
        counts = {"api": 0, "upload": 0}
        for line in lines:
            if f"{MARK_PATH}{label}" in line:
                after = True
            elif after and VK_API_PATH in line:
                counts["api"] += 1
            elif after and VK_UPLOAD_PATH in line:
                counts["upload"] += 1
        return counts


# --- the merchant and what should be in VK ---------------------------------------------------


def seeded_merchant(email: str, products: int, *, groups: int = 10, images: float = 0.2,
                    seed: int = 7):
    """A sandbox Evotor catalogue, an empty community and a merchant with sync enabled."""
    world = seed_shop(products, groups, images, seed=seed)
    return merchant(email, world.account, world.vk), world


def wanted_products(user) -> dict[str, object]:
    """What a first sync must publish: the engine's CREATEs from an empty community, after a
    full catalog refresh (product id → payload)."""
    from django.utils import timezone

    from apps.catalog.services import refresh_catalog
    from apps.connections.models import VkConnection
    from apps.sync.context import load
    from apps.sync.core import engine
    from apps.sync.core import types as core
    from apps.sync.models import SyncConfig

    refresh_catalog(user, full=True)
    config = SyncConfig.objects.get(user=user)
    group_id = VkConnection.objects.get(user=user).group_id
    loaded = load(config, group_id, vk_items=[], now=timezone.now())
    plan = engine.plan_sync(loaded.ctx)
    return {op.product_id: op.payload for op in plan.of(core.Action.CREATE)}


@dataclass
class VkState:
    live: int
    duplicates: int  # live items beyond the first of each sku
    orphans: int  # live items with a sku that no ProductLink knows by id
    missing: int  # wanted products without a live item
    extra: int  # live items of skus nobody wants
    wrong_price: int  # wanted products whose item shows another price


def vk_state(user, group, wanted: dict[str, object],
             prices: dict[str, object] | None = None) -> VkState:
    """The community's live items against ``wanted`` (prices: product id → expected price)."""
    from apps.sandbox.models import VkMarketItem
    from apps.sandbox.services.vk_ids import ITEM
    from apps.sync.models import ProductLink

    live = list(VkMarketItem.objects.filter(group=group, is_removed=False)
                .values_list("pk", "sku", "price"))
    skus = Counter(sku for _pk, sku, _price in live)
    known = set(ProductLink.objects.filter(user=user, vk_group_id=group.vk_id,
                                           vk_item_id__isnull=False)
                .values_list("vk_item_id", flat=True))
    orphans = sum(1 for pk, sku, _price in live if sku and ITEM.public(pk) not in known)
    expected = prices or {pid: payload.price for pid, payload in wanted.items()}
    shown = {sku: price for _pk, sku, price in live}
    wrong = sum(1 for pid, price in expected.items()
                if pid in shown and shown[pid] != int(round(price * 100)))
    return VkState(
        live=len(live),
        duplicates=sum(n - 1 for n in skus.values() if n > 1),
        orphans=orphans,
        missing=sum(1 for pid in wanted if pid not in skus),
        extra=sum(1 for sku in skus if sku not in wanted),
        wrong_price=wrong,
    )


# --- waiting and reporting -------------------------------------------------------------------


def wait_until(check: Callable[[], object], limit: float, every: float = 0.2):
    """``check()``'s first truthy value within ``limit`` seconds, else None."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return None


def settled(user) -> bool:
    """No run holds the lease or is queued, nothing is pending, and the merchant's last run
    finished (and did not hand over to a continuation)."""
    from django.utils import timezone
    from django_q.models import OrmQ

    from apps.sync.models import SyncConfig, SyncJob

    config = SyncConfig.objects.get(user=user)
    if config.requested_at is not None or config.task_queued_at is not None:
        return False
    if config.lease_owner and config.lease_expires_at and config.lease_expires_at > timezone.now():
        return False
    if OrmQ.objects.filter(lock__lte=timezone.now()).exists():
        return False
    last = SyncJob.objects.filter(user=user).order_by("-pk").first()
    return bool(last and last.finished_at and last.error_code != "continued")


def jobs_of(user) -> list:
    from apps.sync.models import SyncJob

    return list(SyncJob.objects.filter(user=user).order_by("pk"))


def overlapping_runs(jobs) -> int:
    """Pairs of runs of one merchant whose [started, finished] intervals overlap."""
    spans = sorted((j.started_at, j.finished_at) for j in jobs if j.finished_at)
    return sum(1 for (_s1, end), (start, _e2) in zip(spans, spans[1:], strict=False)
               if start < end)


def mails(bench: Bench) -> list[str]:
    """The subjects of the e-mails the processes wrote (EMAIL_URL=filemail://…)."""
    import email
    from email.header import decode_header, make_header

    subjects = []
    for path in sorted(bench.mail_dir.glob("*.log")):
        for chunk in path.read_text(errors="replace").split("-" * 79):
            if "Subject:" not in chunk:
                continue
            message = email.message_from_string(chunk.strip())
            subjects.append(str(make_header(decode_header(message.get("Subject", "")))))
    return subjects


class Bars:
    """The bars of one proof: each ``check`` records a miss; ``line`` is the one line of
    figures, ``exit_code`` 1 when a bar was missed."""

    def __init__(self, name: str, engine: str, quick: bool) -> None:
        self.name, self.engine, self.quick = name, engine, quick
        self.figures: dict[str, object] = {}
        self.missed: list[str] = []

    def check(self, label: str, ok: bool, detail: str = "") -> bool:
        if not ok:
            self.missed.append(label + (f" ({detail})" if detail else ""))
        return ok

    def line(self) -> str:
        mode = "quick" if self.quick else "full"
        figures = " ".join(f"{key}={value}" for key, value in self.figures.items())
        verdict = "all bars met" if not self.missed else "MISSED: " + "; ".join(self.missed)
        return f"{self.name} [{self.engine}, {mode}] {figures} — {verdict}"

    def exit_code(self) -> int:
        return 1 if self.missed else 0


def rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - the proof's random moments, repeatable
