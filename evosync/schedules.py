"""The periodic jobs, declared in code and written by ``manage.py setup_schedules``.

Each later feature adds its job to ``SCHEDULES``. Rows are keyed by name under ``PREFIX``; the
command updates them in place (keeping ``next_run`` unless the timing changed), creates missing
ones and deletes rows under the prefix that the code no longer declares. Hand-made schedules
(without the prefix) are left alone. Never run at import or in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

PREFIX = "evosync:"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    cron: str  # Evaluated in UTC (TIME_ZONE), like every time in EvoSync.

    @property
    def full_name(self) -> str:
        return f"{PREFIX}{self.name}"


# Later issues append here: sync, connection health, log pruning.
SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("sync.run_sync_all", "apps.sync.tasks.run_sync_all", "0 * * * *"),
    ScheduleSpec(
        "catalog.refresh_all_catalogs", "apps.catalog.tasks.refresh_all_catalogs", "30 * * * *"
    ),
    ScheduleSpec(
        "connections.check_all_connections",
        "apps.connections.tasks.check_all_connections",
        "*/10 * * * *",
    ),
    ScheduleSpec(
        "connections.prune_old_logs", "apps.connections.tasks.prune_old_logs", "0 3 * * *"
    ),
)


@dataclass(frozen=True)
class ScheduleChanges:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]


@transaction.atomic
def write_schedules(specs: Iterable[ScheduleSpec] = SCHEDULES) -> ScheduleChanges:
    """Make the django-q ``Schedule`` rows under ``PREFIX`` match ``specs`` exactly."""
    from django_q.models import Schedule

    specs = list(specs)
    wanted = {spec.full_name: spec for spec in specs}
    if len(wanted) != len(specs):
        raise ValueError("Schedule names must be unique.")
    existing = {row.name: row for row in Schedule.objects.filter(name__startswith=PREFIX)}
    changes = ScheduleChanges([], [], [], [])
    for name, spec in wanted.items():
        row = existing.get(name)
        if row is None:
            Schedule.objects.create(
                name=name, func=spec.func, schedule_type=Schedule.CRON, cron=spec.cron, repeats=-1
            )
            changes.created.append(name)
        elif _apply(row, spec):
            changes.updated.append(name)
        else:
            changes.unchanged.append(name)
    stale = sorted(set(existing) - set(wanted))
    Schedule.objects.filter(name__in=stale).delete()
    changes.deleted.extend(stale)
    return changes


def _apply(row, spec: ScheduleSpec) -> bool:
    from django_q.models import Schedule

    timing_changed = row.schedule_type != Schedule.CRON or row.cron != spec.cron
    if not timing_changed and row.func == spec.func and row.repeats == -1:
        return False
    row.func, row.schedule_type, row.cron, row.repeats = spec.func, Schedule.CRON, spec.cron, -1
    if timing_changed:
        row.next_run = row.calculate_next_run(next_run=None)
    row.save()
    return True
