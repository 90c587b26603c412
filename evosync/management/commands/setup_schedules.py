from django.core.management.base import BaseCommand

from evosync.schedules import SCHEDULES, write_schedules


class Command(BaseCommand):
    help = (
        "Write the periodic jobs declared in evosync/schedules.py (idempotent; run after migrate)."
    )

    def handle(self, *args, **options) -> None:
        changes = write_schedules(SCHEDULES)
        for label, names in (
            ("created", changes.created),
            ("updated", changes.updated),
            ("deleted", changes.deleted),
        ):
            for name in names:
                self.stdout.write(f"{label}: {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Schedules: {len(changes.created)} created, {len(changes.updated)} updated, "
                f"{len(changes.unchanged)} unchanged, {len(changes.deleted)} deleted."
            )
        )
