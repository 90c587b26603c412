"""django-q entry points for account emails (thin: the work is in services.py).

Pages queue these instead of talking to the mail server, so a request never waits on SMTP and
its timing says nothing about whether an address has an account. Tasks take primary keys only,
never tokens: links are made here, when the email is built. A task may run twice (the ORM broker
delivers at least once); the throttles in services.claim_email_slot keep a repeat from reaching
the inbox. Mail errors are logged and end the task: the pages offer "send again".
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from apps.accounts import services

log = logging.getLogger(__name__)


def _active_user(user_id: int | None):  # -> User | None
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def send_confirmation_email(user_id: int, claim: bool = True) -> str:
    """The confirmation link; ``claim=False`` when the page already claimed the throttle slot."""
    user = _active_user(user_id)
    if user is None:
        return f"skipped: no active user {user_id}"
    if user.is_email_confirmed:
        return "skipped: already confirmed"
    if claim:
        try:
            services.claim_email_slot("confirm", user)
        except services.SendThrottled:
            return "skipped: throttled"
    try:
        services.deliver_confirmation_email(user)
    except services.MAIL_ERRORS:
        log.exception("Could not send the confirmation email to user %s", user_id)
        return "failed: mail server"
    return "sent"


def send_password_reset_email(user_id: int | None) -> str:
    """The reset link, built here from the user. ``None``: the address matched no account."""
    user = _active_user(user_id)
    if user is None:
        return "skipped: no account"
    try:
        sent = services.deliver_password_reset_email(user)
    except services.MAIL_ERRORS:
        log.exception("Could not send the password reset email to user %s", user_id)
        return "failed: mail server"
    return "sent" if sent else "skipped: throttled"


def send_signup_attempt_notice(user_id: int) -> str:
    user = _active_user(user_id)
    if user is None:
        return f"skipped: no active user {user_id}"
    try:
        sent = services.send_signup_attempt_notice(user)
    except services.MAIL_ERRORS:
        log.exception("Could not send the sign-up attempt notice to user %s", user_id)
        return "failed: mail server"
    return "sent" if sent else "skipped: throttled"


def send_phone_taken_notice(email: str, first_name: str, language: str) -> str:
    """The one task without a primary key: there is no account at the typed address."""
    try:
        services.send_phone_taken_notice(email, first_name, language)
    except services.MAIL_ERRORS:
        log.exception("Could not send the phone-taken notice")
        return "failed: mail server"
    return "sent"
