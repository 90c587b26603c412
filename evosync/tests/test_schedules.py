"""setup_schedules makes the Schedule rows match the declaration, however often it runs."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from evosync import schedules
from evosync.schedules import ScheduleSpec, write_schedules

pytestmark = pytest.mark.django_db

SPECS = (
    ScheduleSpec("catalog.refresh_all", "math.floor", "30 * * * *"),
    ScheduleSpec("connections.check_all", "math.ceil", "*/10 * * * *"),
)


def _rows() -> list[tuple]:
    return list(
        Schedule.objects.order_by("name").values_list(
            "name", "func", "schedule_type", "cron", "repeats", "next_run"
        )
    )


def test_running_twice_gives_the_same_rows():
    first = write_schedules(SPECS)
    rows = _rows()
    second = write_schedules(SPECS)
    assert _rows() == rows
    assert len(rows) == 2
    assert first.created == ["evosync:catalog.refresh_all", "evosync:connections.check_all"]
    assert second.created == [] and second.updated == [] and len(second.unchanged) == 2


def test_rows_are_cron_schedules_that_repeat_forever_with_a_next_run():
    write_schedules(SPECS)
    row = Schedule.objects.get(name="evosync:catalog.refresh_all")
    assert (row.schedule_type, row.cron, row.repeats) == (Schedule.CRON, "30 * * * *", -1)
    assert row.next_run.minute == 30


def test_a_changed_declaration_updates_in_place():
    write_schedules(SPECS)
    pk = Schedule.objects.get(name="evosync:catalog.refresh_all").pk
    changed = (ScheduleSpec("catalog.refresh_all", "math.floor", "45 * * * *"), SPECS[1])
    result = write_schedules(changed)
    row = Schedule.objects.get(name="evosync:catalog.refresh_all")
    assert result.updated == ["evosync:catalog.refresh_all"]
    assert (row.pk, row.cron, row.next_run.minute) == (pk, "45 * * * *", 45)


def test_stale_rows_under_our_prefix_are_removed_and_others_kept():
    write_schedules(SPECS)
    Schedule.objects.create(name="hand-made", func="math.floor", schedule_type=Schedule.DAILY)
    result = write_schedules(SPECS[:1])
    assert result.deleted == ["evosync:connections.check_all"]
    assert set(Schedule.objects.values_list("name", flat=True)) == {
        "evosync:catalog.refresh_all",
        "hand-made",
    }


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="unique"):
        write_schedules((SPECS[0], SPECS[0]))
    assert Schedule.objects.count() == 0


def test_every_declared_schedule_names_an_importable_task_and_valid_cron():
    from croniter import croniter
    from django.utils.module_loading import import_string

    for spec in schedules.SCHEDULES:
        assert callable(import_string(spec.func)), spec.func
        assert croniter.is_valid(spec.cron), spec.cron


def test_command_writes_the_declared_schedules(monkeypatch, capsys):
    monkeypatch.setattr(
        "evosync.management.commands.setup_schedules.SCHEDULES", SPECS, raising=True
    )
    call_command("setup_schedules")
    call_command("setup_schedules")
    out = capsys.readouterr().out
    assert "2 created" in out and "2 unchanged" in out
    assert Schedule.objects.filter(name__startswith="evosync:").count() == 2
