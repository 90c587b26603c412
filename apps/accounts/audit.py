"""The audit log: who (merchant, staff, Evotor, the system) changed which object's fields, when,
and from where (page, admin, webhook, command, task). Every app records through ``record``;
secrets are written as "replaced", never as values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import AuditEntry, User

REPLACED = "replaced"
MAX_VALUE = 500  # characters kept of one old/new value

# What the merchant's activity page and the admin call each action. An action without a label
# is shown by its code, so an app may record a new one before it has words here.
ACTION_LABELS = {
    "evotor.connected": _("Evotor connected"),
    "evotor.replaced": _("Evotor token replaced"),
    "evotor.linked": _("Evotor account linked"),
    "evotor.uninstalled": _("EvoSync app uninstalled in Evotor"),
    "evotor.disconnected": _("Evotor disconnected"),
    "vk.connected": _("VK connected"),
    "vk.replaced": _("VK token replaced"),
    "vk.community_changed": _("VK community changed"),
    "vk.disconnected": _("VK disconnected"),
    "account.created": _("Account created"),
    "account.changed": _("Account details changed"),
    "account.profile_changed": _("Profile changed"),
    "account.password_changed": _("Password changed"),
    "account.password_reset": _("Password set from an emailed link"),
    "account.deactivated": _("Account deactivated"),
    "account.deleted": _("Account deleted"),
    "sync.settings_changed": _("Sync settings changed"),
    "sync.filters_changed": _("Sync filters changed"),
    "sync.enabled": _("Sync enabled"),
    "sync.disabled": _("Sync disabled"),
    "sync.paused": _("Sync paused"),
    "sync.resumed": _("Sync resumed"),
    "sync.run_requested": _("Sync started by hand"),
}

# Fields that are not model fields (secrets are recorded under the name of their property).
FIELD_LABELS = {
    "password": _("password"),
    "cloud_token": _("Evotor token"),
    "access_token": _("VK access token"),
    "refresh_token": _("VK refresh token"),
    "user": _("EvoSync account"),
    "paused_reason": _("paused because"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def field_label(object_type: str, name: str) -> str:
    """The field's own verbose name when the object's model has it, else FIELD_LABELS."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    try:
        model = apps.get_model(object_type) if object_type else None
        return str(model._meta.get_field(name).verbose_name) if model else name
    except (LookupError, ValueError, FieldDoesNotExist, AttributeError):
        return name


SECRET_FIELDS = frozenset({"password", "cloud_token", "access_token", "refresh_token"})


@dataclass(frozen=True)
class Change:
    """One recorded change in words: the field's label and its old and new values, or for a
    secret only what happened to it (set, replaced, removed)."""

    label: str
    old: str
    new: str
    secret_event: str = ""


def describe(entry: AuditEntry) -> list[Change]:
    """The entry's changes for a person to read (the merchant's page, the admin)."""
    described = []
    for change in entry.changes or []:
        if not isinstance(change, dict) or "field" not in change:
            continue
        name = str(change["field"])
        old, new = change.get("old"), change.get("new")
        if name in SECRET_FIELDS:
            described.append(Change(field_label(entry.object_type, name), "", "",
                                    _secret_event(old, new)))
            continue
        described.append(Change(field_label(entry.object_type, name),
                                display_value(entry.object_type, name, old),
                                display_value(entry.object_type, name, new)))
    return described


def _secret_event(old: Any, new: Any) -> str:
    if old and new:
        return str(_("replaced"))
    return str(_("set")) if new else str(_("removed"))


def display_value(object_type: str, name: str, value: Any) -> str:
    """A stored value in words: the choice's label, yes/no, or "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    try:
        field = apps.get_model(object_type)._meta.get_field(name) if object_type else None
    except (LookupError, ValueError, FieldDoesNotExist):
        field = None
    choices = dict(getattr(field, "flatchoices", None) or ())
    return str(choices.get(value, value))


def who(entry: AuditEntry, viewer: User) -> str:
    """Who made the change, as the merchant reads it: staff are "EvoSync support", not names."""
    if entry.actor_kind == AuditEntry.ActorKind.MERCHANT:
        return str(_("You")) if entry.actor_id in (None, viewer.pk) else str(entry.actor or "")
    if entry.actor_kind == AuditEntry.ActorKind.STAFF:
        return str(_("EvoSync support"))
    if entry.actor_kind == AuditEntry.ActorKind.EVOTOR:
        return str(_("Evotor"))
    return str(_("EvoSync (automatically)"))


def fingerprint(secret: str) -> str:
    """A stand-in for a secret in a before/after snapshot: equal secrets compare equal, and
    the value itself never leaves the caller (changes_between shows it as "replaced")."""
    return hashlib.sha256(secret.encode()).hexdigest() if secret else ""


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


def by_merchant(user: User | None, path: str = "") -> dict[str, Any]:
    """Actor and source of a change the merchant made on one of the pages."""
    return {"actor": user, "actor_kind": AuditEntry.ActorKind.MERCHANT,
            "source": AuditEntry.Source.PAGE, "path": path}


def by_evotor(path: str) -> dict[str, Any]:
    """Actor and source of a change an Evotor webhook made."""
    return {"actor": None, "actor_kind": AuditEntry.ActorKind.EVOTOR,
            "source": AuditEntry.Source.WEBHOOK, "path": path}


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
    subject_email: str = "",
) -> AuditEntry:
    """Write one entry. ``subject`` is the merchant whose data changed; ``subject_email`` names
    one no longer in the database (an account just deleted: pass subject=None and its email)."""
    if subject is not None and subject.pk is None:
        subject_email, subject = subject_email or subject.email, None
    if actor is not None and actor.pk is None:
        actor = None
    return AuditEntry.objects.create(
        subject=subject,
        subject_email=(subject.email if subject is not None else subject_email)[:254],
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


def prune(now: datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _by_model = AuditEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted
