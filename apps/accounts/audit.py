"""The audit log: who (merchant, staff, Evotor, the system) changed which object's fields, when,
and from where (page, admin, webhook, command, task). Every app records through ``record``;
secrets are written as "replaced", never as values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import HttpRequest

from apps.accounts.models import AuditEntry, User

REPLACED = "replaced"
MAX_VALUE = 500  # characters kept of one old/new value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` (call before and after a change)."""
    return {name: getattr(obj, name) for name in fields}


def changes_between(
    before: Mapping[str, Any], after: Mapping[str, Any], *, secret: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """``[{"field", "old", "new"}]`` for the keys whose value differs; secrets masked."""
    hidden = set(secret)
    changed = []
    for name in after:
        old, new = before.get(name), after[name]
        if old == new:
            continue
        if name in hidden:
            old, new = (REPLACED if old else ""), (REPLACED if new else "")
        changed.append({"field": name, "old": _plain(old), "new": _plain(new)})
    return changed


def _plain(value: Any) -> Any:
    """A JSON-safe, bounded form of a field value."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)[:MAX_VALUE]
    return str(value)[:MAX_VALUE]


def from_request(request: HttpRequest) -> dict[str, Any]:
    """Actor and source of a change made through a page or the admin."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    admin = request.path.startswith("/admin/")
    kind = AuditEntry.ActorKind.STAFF if actor is not None and actor.is_staff else (
        AuditEntry.ActorKind.MERCHANT
    )
    return {
        "actor": actor,
        "actor_kind": kind,
        "source": AuditEntry.Source.ADMIN if admin else AuditEntry.Source.PAGE,
        "path": request.path[:255],
    }


def record(
    action: str,
    *,
    subject: User | None,
    actor: User | None = None,
    actor_kind: str = AuditEntry.ActorKind.SYSTEM,
    source: str = AuditEntry.Source.TASK,
    obj: models.Model | None = None,
    changes: list[dict[str, Any]] | None = None,
    path: str = "",
) -> AuditEntry:
    """Write one entry. ``subject`` is the merchant whose data changed."""
    return AuditEntry.objects.create(
        subject=subject,
        subject_email=(subject.email if subject is not None else "")[:254],
        actor=actor,
        actor_kind=actor_kind,
        source=source,
        action=action[:64],
        object_type=(obj._meta.label if obj is not None else "")[:64],
        object_id=str(obj.pk if obj is not None and obj.pk is not None else "")[:64],
        object_repr=(str(obj) if obj is not None else "")[:255],
        changes=changes or [],
        path=path[:255],
    )


def record_request(
    request: HttpRequest,
    action: str,
    *,
    subject: User | None,
    obj: models.Model | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> AuditEntry:
    """``record`` for a change made on a page or in the admin by ``request.user``."""
    return record(action, subject=subject, obj=obj, changes=changes, **from_request(request))
