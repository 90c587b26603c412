"""Fixtures for the account tests: an unconfirmed sign-up, login helpers."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from model_bakery import baker

from conftest import PASSWORD


@pytest.fixture
def unconfirmed(db):
    user = baker.make(
        "accounts.User", email="new@example.com", phone="+79031112233", first_name="Анна",
        last_name="Смирнова", is_email_confirmed=False,
    )
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def link_in_last_email(path_prefix: str) -> str:
    """The site-relative link starting with ``path_prefix`` in the last email's text body."""
    body = mail.outbox[-1].body
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+)", body)
    assert match, body
    return match.group(1)
