"""Re-encrypt stored tokens with the newest key (``manage.py rotate_token_keys``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction

from apps.connections.crypto import TokenDecryptionError, cipher
from apps.connections.models import EvotorConnection, VkConnection

ENCRYPTED_FIELDS: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (EvotorConnection, ("cloud_token_encrypted",)),
    (VkConnection, ("access_token_encrypted", "refresh_token_encrypted")),
)


@dataclass
class RotationResult:
    rotated: int = 0
    current: int = 0
    failed: int = 0


def rotate_all(batch_size: int = 500) -> RotationResult:
    """Rotate every encrypted value not made by the primary key, one batch per transaction.

    Values no configured key can read are counted as failed and left as they are (the
    connection will show as broken and the merchant reconnects); the run carries on.
    """
    result = RotationResult()
    active = cipher()
    for model, fields in ENCRYPTED_FIELDS:
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", *fields)[:batch_size]
                )
                if not rows:
                    break
                changed = [row for row in rows if _rotate_row(row, fields, active, result)]
                if changed:
                    model.objects.bulk_update(changed, fields)
            last_pk = rows[-1].pk
    return result


def _rotate_row(row, fields, active, result: RotationResult) -> bool:
    changed = False
    for field in fields:
        stored = getattr(row, field)
        if not stored:
            continue
        if not active.needs_rotation(stored):
            result.current += 1
            continue
        try:
            setattr(row, field, active.rotate(stored))
        except TokenDecryptionError:
            result.failed += 1
            continue
        result.rotated += 1
        changed = True
    return changed
