"""Refresh one merchant's catalog cache from Evotor now, in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User, normalize_email_address
from apps.catalog.models import CatalogRefresh
from apps.catalog.services import RefreshSkipped, refresh_catalog


class Command(BaseCommand):
    help = "Refresh the Evotor catalog cache of the merchant with this email; exits 1 on failure."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--full", action="store_true", help="everything, not only changes")

    def handle(self, *args, email: str, full: bool, **options) -> None:
        user = User.objects.filter(email=normalize_email_address(email)).first()
        if user is None:
            raise CommandError(f"No account with the email {email!r}.")
        try:
            run = refresh_catalog(user, full=full)
        except RefreshSkipped as exc:
            raise CommandError(f"Skipped: {exc}") from exc
        self.stdout.write(
            f"{run.status}: {run.stores} stores, {run.groups} groups, {run.products} products "
            f"written, {run.removed} marked removed, {run.skipped} skipped, "
            f"{run.evotor_requests} Evotor requests"
        )
        if run.status != CatalogRefresh.Status.SUCCESS:
            raise CommandError(f"The refresh failed: {run.error}")
