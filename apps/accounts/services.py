"""Account operations shared by views, the admin and (later) commands and other apps."""

from __future__ import annotations

import hashlib
import logging
import math
import smtplib
import time
from typing import TYPE_CHECKING, Any

from axes.models import AccessFailureLog, AccessLog
from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import ngettext
from django_q.tasks import async_task

from apps.accounts.emails import absolute_url, send_email
from apps.accounts.signals import account_deleting
from apps.accounts.tokens import make_confirmation_token, user_from_confirmation_token

if TYPE_CHECKING:
    from apps.accounts.models import User

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 60 * 60
HOUR_SECONDS = 60 * 60
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
    now = time.time()
    sent_today, day_ends = _day_count(cache.get(day_key), now)
    if sent_today >= daily_limit:
        raise SendThrottled(_daily_limit_message(daily_limit))
    interval = settings.EMAIL_RESEND_INTERVAL_SECONDS
    if not cache.add(slot_key, now + interval, interval):
        wait = max(1, math.ceil(cache.get(slot_key, now + 1) - now))
        raise SendThrottled(_interval_message(wait))
    # The count carries its own end: incr() on the database cache re-stores the value with the
    # default timeout (5 minutes), which quietly reset the daily limit.
    cache.set(day_key, (sent_today + 1, day_ends), max(1, math.ceil(day_ends - now)))


def _day_count(value: object, now: float) -> tuple[int, float]:
    """(emails sent, end of the 24 hours that started with the first one) from the cache."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[1] > now:
        return int(value[0]), float(value[1])
    if isinstance(value, int):  # written by an older version: keep counting, restart the day
        return value, now + DAY_SECONDS
    return 0, now + DAY_SECONDS


def count_hit(key: str, window: int) -> int:
    """Count one event in the current ``window``-second bucket; returns the bucket's count.

    Atomic on Redis (incr); on the database cache incr() is a get and a set, so a race may lose
    a hit, which a rate limit tolerates. The bucket is part of the key, and touch() restores the
    expiry that the database cache's incr() replaces with its default.
    """
    bucket_key = f"{key}:{int(time.time() // window)}"
    if cache.add(bucket_key, 1, window):
        return 1
    try:
        count = cache.incr(bucket_key)
    except ValueError:  # expired between add() and incr()
        cache.set(bucket_key, 1, window)
        return 1
    cache.touch(bucket_key, window)
    return count


def _digest(value: str) -> str:
    # Cache keys stay short and ASCII whatever was typed (the database cache's key column holds
    # 255 characters; an email may have 254 of its own, in any script).
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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


CONFIRMATION_TASK = "apps.accounts.tasks.send_confirmation_email"
RESET_EMAIL_TASK = "apps.accounts.tasks.send_password_reset_email"
SIGNUP_NOTICE_TASK = "apps.accounts.tasks.send_signup_attempt_notice"
PHONE_TAKEN_TASK = "apps.accounts.tasks.send_phone_taken_notice"


def deliver_confirmation_email(user: User) -> None:
    """Build a fresh link and send it, unthrottled; raises the mail backend's error."""
    url = absolute_url(reverse("confirm_email", args=[make_confirmation_token(user)]))
    days = settings.EMAIL_CONFIRMATION_MAX_AGE.days
    send_email(user, "confirm_email", {"confirm_url": url, "valid_days": days})


def send_confirmation_email(user: User) -> None:
    """Send the confirmation link now (throttled); raises SendThrottled or the mail error.

    For the admin action, whose operator wants to know at once. Pages queue it instead
    (queue_confirmation_email) so no request waits on the mail server.
    """
    claim_email_slot("confirm", user)
    deliver_confirmation_email(user)


def queue_confirmation_email(user: User) -> None:
    """Claim the throttle slot now (raises SendThrottled for the page to show) and let a task
    send the link."""
    claim_email_slot("confirm", user)
    async_task(CONFIRMATION_TASK, user.pk, claim=False, group="accounts-email")


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


def request_password_reset(user: User | None) -> None:
    """Queue the reset email for ``user``, or a task that finds nothing to do for None.

    The reset form answers every address alike, and so does the work behind it: one lookup,
    one queued task. Whether an email goes out, and the throttle, are decided in the task,
    out of the request, so the response time says nothing about the address either.
    """
    async_task(RESET_EMAIL_TASK, user.pk if user else None, group="accounts-email")


def send_password_reset_email(
    user: User, uidb64: str | None = None, token: str | None = None
) -> None:
    """Queue the reset (or set-a-password) email for ``user``.

    ``uidb64`` and ``token`` are accepted for existing callers and ignored: tasks take primary
    keys only, and the task makes its own link (Django's reset tokens are stateless, so the one
    it makes is as good as the caller's).
    """
    request_password_reset(user)


def deliver_password_reset_email(user: User) -> bool:
    """Send the reset link unless throttled (silently); True when an email went out."""
    try:
        claim_email_slot("reset", user)
    except SendThrottled:
        log.info("Password reset email to user %s throttled", user.pk)
        return False
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = absolute_url(reverse("password_reset_confirm", args=[uidb64, token]))
    send_email(user, "password_reset", {"reset_url": url})
    return True


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


# --- Sign-up ------------------------------------------------------------------------------------

# Sign-ups that pass the form, per client address and per email address, in one hour. Read
# through getattr so a deployment can set SIGNUP_LIMIT_PER_IP / SIGNUP_LIMIT_PER_EMAIL in
# settings; tests that exercise the limit set them explicitly. An office or a mobile carrier's
# NAT shares one address among many people, hence a per-address limit well above one person's.
SIGNUP_LIMIT_PER_IP = 20
SIGNUP_LIMIT_PER_EMAIL = 5
SIGNUP_WINDOW_SECONDS = HOUR_SECONDS


def claim_signup(ip_address: str | None, email: str) -> bool:
    """Count one sign-up attempt; False once this address or this email is over its limit."""
    per_ip = getattr(settings, "SIGNUP_LIMIT_PER_IP", SIGNUP_LIMIT_PER_IP)
    per_email = getattr(settings, "SIGNUP_LIMIT_PER_EMAIL", SIGNUP_LIMIT_PER_EMAIL)
    ip_hits = count_hit(f"accounts:signup:ip:{_digest(ip_address or '?')}",
                        SIGNUP_WINDOW_SECONDS)
    email_hits = count_hit(f"accounts:signup:email:{_digest(email)}", SIGNUP_WINDOW_SECONDS)
    return ip_hits <= per_ip and email_hits <= per_email


def sign_up(form: Any, language: str) -> User | None:
    """Create the account of a valid RegisterForm, or tell the owner of what it collides with.

    The page answers every outcome alike ("check your inbox"), so it cannot be used to learn
    whether an address or a phone number has an account:

    - new email and phone: the account is created (not logged in) and a task sends the
      confirmation link;
    - the email has an account: nothing is created; a task tells that account's owner that
      someone tried to sign up with their address, with the ways back in (log in, reset);
    - only the phone has an account (phones stay unique): nothing is created; a task tells the
      address that was typed that the number belongs to another account. Only
      whoever reads that mailbox learns it, one email at a time, within the sign-up limits.

    Each path hashes the password once and queues one task, so timing tells the paths apart no
    better than the page does. Returns the new user, or None.
    """
    data = form.cleaned_data
    email, phone = data["email"], data["phone"]
    users = get_user_model().objects
    taken = list(users.filter(Q(email=email) | Q(phone=phone)).values_list("pk", "email"))
    if not taken:
        form.instance.language = language
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # Two sign-ups with one email or phone at the same instant: the unique index decided.
            taken = list(users.filter(Q(email=email) | Q(phone=phone)).values_list("pk", "email"))
        else:
            async_task(CONFIRMATION_TASK, user.pk, group="accounts-email")
            return user
    make_password(data["password1"])  # the work form.save() does on the other path
    owner = next((pk for pk, owner_email in taken if owner_email == email), None)
    if owner is not None:
        async_task(SIGNUP_NOTICE_TASK, owner, group="accounts-email")
    else:
        async_task(PHONE_TAKEN_TASK, email, data["first_name"], language, group="accounts-email")
    return None


def send_signup_attempt_notice(user: User) -> bool:
    """Tell an account's owner that their address was used to sign up again (throttled)."""
    try:
        claim_email_slot("signup-attempt", user)
    except SendThrottled:
        log.info("Sign-up attempt notice to user %s throttled", user.pk)
        return False
    send_email(user, "signup_attempt", {
        "login_url": absolute_url(reverse("login")),
        "reset_url": absolute_url(reverse("password_reset")),
    })
    return True


def send_phone_taken_notice(email: str, first_name: str, language: str) -> None:
    """Tell whoever typed ``email`` that the phone they gave belongs to another account."""
    recipient = get_user_model()(email=email, first_name=first_name, language=language)
    send_email(recipient, "signup_phone_taken", {
        "login_url": absolute_url(reverse("login")),
        "reset_url": absolute_url(reverse("password_reset")),
        "register_url": absolute_url(reverse("register")),
    })


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
