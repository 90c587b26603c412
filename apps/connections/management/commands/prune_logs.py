from django.core.management.base import BaseCommand

from apps.connections import health


class Command(BaseCommand):
    help = (
        "Delete connection health logs, webhook events and django-q task results older than "
        "30 days, sync runs (and their item errors) older than SYNC_JOB_RETENTION_DAYS but "
        "each merchant's last run, and audit log entries older than AUDIT_RETENTION_DAYS "
        "(what the daily 03:00 job does)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(health.prune_old_logs().summary().capitalize() + ".")
