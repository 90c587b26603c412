"""django-q entry points for connection health (thin: the work is in health.py).

Tasks take primary keys only, never tokens. They may run twice (the ORM broker delivers at
least once): a second check finds the state already recorded, and the incident email is claimed
with a conditional UPDATE, so nothing is logged or sent twice.
"""

from __future__ import annotations

from django_q.tasks import async_task

from apps.connections import health

CHECK_USER_TASK = "apps.connections.tasks.check_user_connections"


def check_all_connections() -> int:
    """Every 10 minutes: one check task per merchant whose connections need a look."""
    user_ids = health.merchants_to_check()
    for user_id in user_ids:
        async_task(CHECK_USER_TASK, user_id, group="connections-health")
    return len(user_ids)


def check_user_connections(user_id: int) -> str:
    return health.check_user(user_id).summary()


def prune_old_logs() -> str:
    """Daily: old health logs, webhook events, task results, sync runs and audit entries."""
    return health.prune_old_logs().summary()
