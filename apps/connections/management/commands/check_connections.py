from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User, normalize_email_address
from apps.connections import health


class Command(BaseCommand):
    help = (
        "Check merchants' Evotor and VK connections now (what the 10-minute job does, run in "
        "this process): every merchant that needs a check, or one with --email."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", help="Check only this merchant's connections.")

    def handle(self, *args, email: str | None = None, **options) -> None:
        if email:
            user = User.objects.filter(email=normalize_email_address(email)).first()
            if user is None:
                raise CommandError(f"No account with email {email}.")
            if not user.is_active or user.is_staff:
                raise CommandError(f"{email} is not an active merchant account.")
            user_ids = [user.pk]
        else:
            user_ids = health.merchants_to_check()
        for user_id in user_ids:
            self.stdout.write(health.check_user(user_id).summary())
        self.stdout.write(f"Checked {len(user_ids)} merchant(s).")
