"""Account operations shared by views, the admin and (later) commands and other apps."""

from __future__ import annotations

import logging
import math
import smtplib
import time
from typing import TYPE_CHECKING

from axes.models import AccessFailureLog, AccessLog
from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import ngettext

from apps.accounts.emails import absolute_url, send_email
from apps.accounts.signals import account_deleting
from apps.accounts.tokens import make_confirmation_token, user_from_confirmation_token

if TYPE_CHECKING:
    from apps.accounts.models import User

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 60 * 60
# What a mail backend raises when the server is unreachable or refuses the message.
MAIL_ERRORS = (smtplib.SMTPException, OSError)


class SendThrottled(Exception):
    """Too many emails of one kind for one user; ``message`` says when to try again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def throttle_keys(kind: str, user: User) -> tuple[str, str]:
    """Cache keys of the per-interval slot and the daily count."""
    prefix = f"accounts:email:{kind}:{user.pk}"
    return f"{prefix}:slot", f"{prefix}:day"


def claim_email_slot(kind: str, user: User) -> None:
    """Allow one email of ``kind`` per interval and a few per day per user, or raise SendThrottled.

    Counters live in the shared cache (Redis or the database cache), so every web process sees
    them. The interval is claimed with ``add``, which is atomic on both backends; the daily count
    may overshoot by one under a race, which is harmless.
    """
    slot_key, day_key = throttle_keys(kind, user)
    daily_limit = settings.EMAIL_RESEND_DAILY_LIMIT
    if cache.get(day_key, 0) >= daily_limit:
        raise SendThrottled(_daily_limit_message(daily_limit))
    now = time.time()
    interval = settings.EMAIL_RESEND_INTERVAL_SECONDS
    if not cache.add(slot_key, now + interval, interval):
        wait = max(1, math.ceil(cache.get(slot_key, now + 1) - now))
        raise SendThrottled(_interval_message(wait))
    if not cache.add(day_key, 1, DAY_SECONDS):
        try:
            cache.incr(day_key)
        except ValueError:  # expired between add() and incr()
            cache.set(day_key, 1, DAY_SECONDS)


def _daily_limit_message(limit: int) -> str:
    return ngettext(
        "This email was already sent %(count)d time in the last 24 hours. "
        "Please try again tomorrow.",
        "This email was already sent %(count)d times in the last 24 hours. "
        "Please try again tomorrow.",
        limit,
    ) % {"count": limit}


def _interval_message(seconds: int) -> str:
    return ngettext(
        "The email was sent a moment ago. You can ask for another one in %(seconds)d second.",
        "The email was sent a moment ago. You can ask for another one in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


# --- Email confirmation -------------------------------------------------------------------------


def send_confirmation_email(user: User) -> None:
    """Send the confirmation link (throttled); raises SendThrottled or the mail backend's error."""
    claim_email_slot("confirm", user)
    url = absolute_url(reverse("confirm_email", args=[make_confirmation_token(user)]))
    days = settings.EMAIL_CONFIRMATION_MAX_AGE.days
    send_email(user, "confirm_email", {"confirm_url": url, "valid_days": days})


def send_confirmation_email_safely(user: User) -> bool:
    """For sign-up: a mail server hiccup must not lose the new account (resend exists)."""
    try:
        send_confirmation_email(user)
    except MAIL_ERRORS:
        log.exception("Could not send the confirmation email to user %s", user.pk)
        return False
    return True


def confirm_email(token: str) -> tuple[User, bool]:
    """Mark the token's user confirmed; returns (user, newly confirmed).

    Raises tokens.ConfirmationTokenError for an expired, tampered or outdated link.
    """
    user = user_from_confirmation_token(token)
    if user.is_email_confirmed:
        return user, False
    user.is_email_confirmed = True
    user.save(update_fields=["is_email_confirmed", "updated_at"])
    return user, True


# --- Password reset ----------------------------------------------------------------------------


def send_password_reset_email(user: User, uidb64: str, token: str) -> None:
    """Send the reset link unless throttled; silent either way (the page says the same thing)."""
    try:
        claim_email_slot("reset", user)
    except SendThrottled:
        log.info("Password reset email to user %s throttled", user.pk)
        return
    url = absolute_url(reverse("password_reset_confirm", args=[uidb64, token]))
    try:
        send_email(user, "password_reset", {"reset_url": url})
    except MAIL_ERRORS:
        log.exception("Could not send the password reset email to user %s", user.pk)


def finish_password_reset(user: User) -> None:
    """After a new password was set through an emailed link.

    The link reached the address (Django's reset token covers the email), so the address is
    confirmed; and whoever locked the account by guessing is no longer a reason to keep its owner
    out, so the address's login failures are cleared.
    """
    if not user.is_email_confirmed:
        user.is_email_confirmed = True
        user.save(update_fields=["is_email_confirmed", "updated_at"])
    reset_login_failures(username=user.email)


# --- Administration and deletion ----------------------------------------------------------------


def deactivate_users(users: QuerySet[User]) -> int:
    """Block logins; existing sessions end at their next request (inactive users are rejected)."""
    return users.filter(is_active=True).update(is_active=False)


def delete_account(user: User) -> None:
    """Remove the user and everything they own, after letting other apps clean up.

    ``account_deleting`` runs first, in the same transaction, so a receiver that fails leaves the
    account intact. The caller logs the user out (a view) or reports it (the admin).
    """
    email, pk = user.email, user.pk
    with transaction.atomic():
        account_deleting.send(sender=type(user), user=user)
        user.delete()
        # Login records name the person by address; they go with the account.
        AccessLog.objects.filter(username=email).delete()
        AccessFailureLog.objects.filter(username=email).delete()
    log.info("Deleted account %s", pk)
