from django.core.management.base import BaseCommand

from apps.connections import health


class Command(BaseCommand):
    help = (
        "Delete connection health logs, webhook events and django-q task results older than "
        "30 days (what the daily 03:00 job does)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(health.prune_old_logs().summary().capitalize() + ".")
