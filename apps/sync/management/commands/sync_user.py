"""Run one merchant's sync in the foreground and print what it did (or, dry, what it would do)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User, normalize_email_address
from apps.catalog.services import RefreshSkipped, refresh_catalog
from apps.sync.core import types as core
from apps.sync.models import SyncJob
from apps.sync.services import NotReady, RunStopped, preview, quietly, run_sync

SHOWN_PER_ACTION = 20


class Command(BaseCommand):
    help = (
        "Run the sync of the merchant with this email now, in the foreground; exits 1 when the "
        "run failed. --dry-run prints the plan and writes nothing to VK."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--dry-run", action="store_true", help="print the plan only")
        parser.add_argument("--full", action="store_true", help="full catalog refresh first")

    def handle(self, *args, email: str, dry_run: bool, full: bool, **options) -> None:
        user = User.objects.filter(email=normalize_email_address(email)).first()
        if user is None:
            raise CommandError(f"No account with the email {email!r}.")
        if dry_run:
            self._refresh(user, full)
            self._dry_run(user)
            return
        job = run_sync(user, SyncJob.Trigger.COMMAND, full_refresh=full)
        # A run hands over at its time budget (a task's timeout); in the foreground we simply
        # go on until the catalogue is through.
        while job is not None and job.error_code == "continued":
            self.stdout.write(f"… {job.items_created} created so far, continuing")
            job = run_sync(user, SyncJob.Trigger.COMMAND)
        if job is None:
            raise CommandError("Another run of this merchant holds the lease; try again shortly.")
        self.stdout.write(
            f"{job.get_status_display()}: created {job.items_created}, updated "
            f"{job.items_updated}, hidden {job.items_hidden}, deleted {job.items_deleted}, "
            f"skipped {job.items_skipped}, failed {job.items_failed}; "
            f"{job.vk_requests} VK requests, {job.photos_uploaded} photo uploads"
            + (f"\nReason: {job.error_summary}" if job.error_summary else "")
        )
        if job.status in (SyncJob.Status.FAILED, SyncJob.Status.SKIPPED):
            raise CommandError(f"The run {job.status}: {job.error_code}")

    def _refresh(self, user: User, full: bool) -> None:
        """The plan is made from the catalog cache: bring it up to date first (Evotor is only
        read; nothing goes to VK)."""
        try:
            with quietly(user):  # a dry run must not start a real one
                run = refresh_catalog(user, full=full)
        except RefreshSkipped as exc:
            self.stderr.write(f"Catalog not refreshed ({exc}); planning from the cache.")
            return
        if run.status != "success":
            self.stderr.write(f"Catalog refresh failed ({run.error}); planning from the cache.")

    def _dry_run(self, user: User) -> None:
        try:
            loaded, plan = preview(user)
        except (NotReady, RunStopped) as exc:
            raise CommandError(f"Cannot plan: {exc}") from exc
        counts = plan.counts()
        self.stdout.write(
            "Plan: " + ", ".join(f"{action} {n}" for action, n in counts.items() if n)
            + f"; {len(plan.albums)} album operations; nothing was written to VK."
        )
        for action in core.Action:
            ops = plan.of(action)
            for op in ops[:SHOWN_PER_ACTION]:
                name = loaded.names.get(op.product_id, op.product_id)
                detail = f" ({', '.join(op.changes)})" if op.changes else ""
                self.stdout.write(f"  {action:<16} {name}{detail} [{op.reason}]")
            if len(ops) > SHOWN_PER_ACTION:
                self.stdout.write(f"  {action:<16} … and {len(ops) - SHOWN_PER_ACTION} more")
