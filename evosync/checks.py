"""EvoSync's own system checks (evosync.E00x): invariants Django cannot know about."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility)
def check_q_cluster_retry_exceeds_timeout(app_configs=None, **kwargs) -> list[Error]:
    conf = settings.Q_CLUSTER
    timeout, retry = conf.get("timeout"), conf.get("retry")
    if not timeout or not retry or retry <= timeout:
        return [
            Error(
                f"Q_CLUSTER['retry'] ({retry}) must be greater than Q_CLUSTER['timeout'] "
                f"({timeout}).",
                hint="Otherwise the ORM broker hands a still-running task to a second worker.",
                id="evosync.E001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_q_cluster_not_sync_outside_tests(app_configs=None, **kwargs) -> list[Error]:
    if settings.Q_CLUSTER.get("sync") and not settings.TESTING:
        return [
            Error(
                "Q_CLUSTER['sync'] is true outside tests.",
                hint="Tasks would run inside web requests; run a qcluster instead.",
                id="evosync.E002",
            )
        ]
    return []


@register(Tags.security)
def check_sandbox_not_in_production(app_configs=None, **kwargs) -> list[Error]:
    if settings.SANDBOX_ENABLED and settings.PRODUCTION:
        return [
            Error(
                "SANDBOX_ENABLED is true in production (DEBUG is false).",
                hint="The sandbox hands out tokens to anyone; never mount it in production.",
                id="evosync.E003",
            )
        ]
    return []


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


@register(Tags.security)
def check_token_encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    keys = settings.TOKEN_ENCRYPTION_KEYS
    if not keys and settings.PRODUCTION:
        return [
            Error(
                "TOKEN_ENCRYPTION_KEYS is empty in production.",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="evosync.E004",
            )
        ]
    bad = [index for index, key in enumerate(keys, start=1) if not _is_fernet_key(key)]
    if bad:
        return [
            Error(
                f"TOKEN_ENCRYPTION_KEYS entries {bad} are not Fernet keys "
                "(32 url-safe base64-encoded bytes).",
                id="evosync.E005",
            )
        ]
    return []


@register(Tags.compatibility)
def check_q_cluster_bounded_attempts(app_configs=None, **kwargs) -> list[Error]:
    if settings.Q_CLUSTER.get("max_attempts", 0) < 1:
        return [
            Error(
                "Q_CLUSTER['max_attempts'] must be at least 1.",
                hint="0 means a failing task is retried forever.",
                id="evosync.E006",
            )
        ]
    return []
