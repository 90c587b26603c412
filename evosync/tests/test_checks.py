"""Each of EvoSync's own system checks fires on the bad value and stays quiet on the good one."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from evosync import checks

GOOD_KEY = "Jqz0o0m5gYpQbV0cQ3Yb1q3v8t1m0Q3xXr9s5pYw0a8="


def _ids(errors) -> list[str]:
    return [error.id for error in errors]


def _q(**changes):
    from django.conf import settings

    return {**settings.Q_CLUSTER, **changes}


@pytest.mark.parametrize("timeout,retry", [(600, 600), (600, 300), (None, 10)])
def test_e001_retry_must_exceed_timeout(timeout, retry):
    with override_settings(Q_CLUSTER=_q(timeout=timeout, retry=retry)):
        assert _ids(checks.check_q_cluster_retry_exceeds_timeout()) == ["evosync.E001"]


def test_e001_quiet_when_retry_exceeds_timeout():
    with override_settings(Q_CLUSTER=_q(timeout=600, retry=900)):
        assert checks.check_q_cluster_retry_exceeds_timeout() == []


def test_e002_sync_tasks_outside_tests():
    with override_settings(Q_CLUSTER=_q(sync=True), TESTING=False):
        assert _ids(checks.check_q_cluster_not_sync_outside_tests()) == ["evosync.E002"]
    with override_settings(Q_CLUSTER=_q(sync=False), TESTING=False):
        assert checks.check_q_cluster_not_sync_outside_tests() == []


def test_e003_sandbox_in_production():
    with override_settings(SANDBOX_ENABLED=True, PRODUCTION=True):
        assert _ids(checks.check_sandbox_not_in_production()) == ["evosync.E003"]
    with override_settings(SANDBOX_ENABLED=True, PRODUCTION=False):
        assert checks.check_sandbox_not_in_production() == []


def test_e004_production_needs_token_keys():
    with override_settings(TOKEN_ENCRYPTION_KEYS=[], PRODUCTION=True):
        assert _ids(checks.check_token_encryption_keys()) == ["evosync.E004"]
    with override_settings(TOKEN_ENCRYPTION_KEYS=[GOOD_KEY], PRODUCTION=True):
        assert checks.check_token_encryption_keys() == []


@pytest.mark.parametrize("bad", ["not-a-key", "c2hvcnQ=", "ключ"])
def test_e005_token_keys_must_be_fernet_keys(bad):
    with override_settings(TOKEN_ENCRYPTION_KEYS=[GOOD_KEY, bad]):
        errors = checks.check_token_encryption_keys()
    assert _ids(errors) == ["evosync.E005"]
    assert "[2]" in errors[0].msg and bad not in errors[0].msg  # never echo key material


def test_e006_attempts_must_be_bounded():
    with override_settings(Q_CLUSTER=_q(max_attempts=0)):
        assert _ids(checks.check_q_cluster_bounded_attempts()) == ["evosync.E006"]
    with override_settings(Q_CLUSTER=_q(max_attempts=3)):
        assert checks.check_q_cluster_bounded_attempts() == []


def test_the_project_passes_its_own_checks():
    call_command("check", fail_level="WARNING")
