"""Email confirmation links: signed, expiring, bound to the user id and the address.

No token is stored. The link carries ``{user id, email}`` signed with SECRET_KEY and a salt of
its own (so no other signed value of ours can be replayed here) plus a timestamp checked against
``EMAIL_CONFIRMATION_MAX_AGE``. Changing the address invalidates links sent to the old one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing

if TYPE_CHECKING:
    from apps.accounts.models import User

SALT = "evosync.accounts.confirm-email"


class ConfirmationTokenError(Exception):
    """The link cannot confirm anything; ``expired`` tells a stale link from a broken one."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def make_confirmation_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=SALT, compress=True)


def user_from_confirmation_token(token: str) -> User:
    """The active user the token was made for; raises ConfirmationTokenError otherwise."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE)
    except signing.SignatureExpired:
        raise ConfirmationTokenError(expired=True) from None
    except signing.BadSignature:
        raise ConfirmationTokenError(expired=False) from None
    if not isinstance(data, dict):
        raise ConfirmationTokenError(expired=False)
    user = get_user_model().objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.email != data.get("email"):
        raise ConfirmationTokenError(expired=False)
    return user
