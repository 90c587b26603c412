"""Fixtures shared by every app's tests: merchants, staff, a clean cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from model_bakery import baker

PASSWORD = "correct-Horse-battery-9"


@pytest.fixture(autouse=True)
def _clean_cache():
    """Redis outlives test transactions: throttles and rate limits must not leak between tests.

    The database cache (the default without Redis) lives in the test database and is rolled
    back with each test, so it needs nothing here.
    """
    if isinstance(caches["default"], DatabaseCache):
        yield
        return
    cache.clear()
    yield
    cache.clear()


def _merchant(email: str, phone: str):
    user = baker.make(
        "accounts.User",
        email=email,
        phone=phone,
        first_name="Иван",
        last_name="Петров",
        is_email_confirmed=True,
    )
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def merchant(db):
    return _merchant("merchant@example.com", "+79161234567")


@pytest.fixture
def other_merchant(db):
    return _merchant("other@example.com", "+79167654321")


@pytest.fixture
def staff_user(db):
    return baker.make(
        "accounts.User", email="staff@example.com", is_staff=True, is_superuser=True,
        is_email_confirmed=True,
    )
