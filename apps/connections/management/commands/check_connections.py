import logging

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User, normalize_email_address
from apps.connections import health

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Check merchants' Evotor and VK connections now (what the 10-minute job does, run in "
        "this process): every merchant that needs a check, or one with --email. Exits non-zero "
        "after checking everyone if any check could not be made."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", help="Check only this merchant's connections.")

    def handle(self, *args, email: str | None = None, **options) -> None:
        user_ids = [self._merchant(email)] if email else health.merchants_to_check()
        failed = [user_id for user_id in user_ids if not self._check(user_id)]
        self.stdout.write(f"Checked {len(user_ids)} merchant(s).")
        if failed:
            raise CommandError(
                f"{len(failed)} merchant(s) could not be checked (see the log): "
                f"{', '.join(map(str, failed))}."
            )

    def _merchant(self, email: str) -> int:
        user = User.objects.filter(email=normalize_email_address(email)).first()
        if user is None:
            raise CommandError(f"No account with email {email}.")
        if not user.is_active or user.is_staff:
            raise CommandError(f"{email} is not an active merchant account.")
        return user.pk

    def _check(self, user_id: int) -> bool:
        """Check one merchant; a failure is reported and the loop goes on to the next one."""
        try:
            result = health.check_user(user_id)
        except Exception:  # e.g. the database: the next merchant may still be checkable
            log.exception("Health check of user %s failed", user_id)
            self.stderr.write(f"user {user_id}: check failed")
            return False
        self.stdout.write(result.summary())
        return result.ok
