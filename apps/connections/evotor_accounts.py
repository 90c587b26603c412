"""user/create: Evotor registers a new EvoSync account for a merchant installing the app.

The account starts unconfirmed and without a usable password: the merchant sets one through the
password-reset email we send (which also proves the address). Sent only after the transaction
commits, so a failed request never mails anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.accounts import audit
from apps.accounts.models import User, normalize_email_address
from apps.accounts.phone import normalize_phone
from apps.accounts.services import send_password_reset_email
from apps.connections.models import EvotorConnection
from apps.connections.services import CREATE_PATH, evotor_snapshot, record_evotor_change
from apps.connections.signals import evotor_connected


class InvalidField(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class AccountExists(Exception):
    """An EvoSync account already uses this email or phone."""


class EvotorUserLinked(Exception):
    """The Evotor user is linked to an EvoSync account already."""


@dataclass(frozen=True)
class NewAccount:
    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""

    def cleaned(self) -> NewAccount:
        """Normalised values; raises InvalidField naming the bad one."""
        email = normalize_email_address(self.email)
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidField("email") from None
        phone = ""
        if self.phone:
            try:
                phone = normalize_phone(self.phone)
            except ValidationError:
                raise InvalidField("phone") from None
        return NewAccount(email, self.first_name[:150], self.last_name[:150], phone)


def create_account_for_evotor(evotor_user_id: str, account: NewAccount) -> str:
    """Create the account and link the Evotor user; return the per-user token for Evotor.

    Raises InvalidField, AccountExists, EvotorUserLinked (nothing is written then).
    """
    account = account.cleaned()
    try:
        with transaction.atomic():
            user, token, created = _create(evotor_user_id, account)
    except IntegrityError:
        # A concurrent request took the email, phone or Evotor user id between our checks.
        raise AccountExists from None
    if created:
        transaction.on_commit(lambda: _send_set_password_email(user))
        connection = EvotorConnection.objects.get(user=user)
        if connection.is_usable:  # user/token came first: the catalog can be read already
            transaction.on_commit(
                lambda: evotor_connected.send(EvotorConnection, connection=connection)
            )
    return token


def _create(evotor_user_id: str, account: NewAccount) -> tuple[User, str, bool]:
    connection = (
        EvotorConnection.objects.select_for_update().filter(evotor_user_id=evotor_user_id).first()
    )
    if connection is not None and connection.user_id is not None:
        if connection.user.email == account.email:
            # Redelivery of the request that created this account: answer it again.
            return connection.user, connection.issue_webhook_token(), False
        raise EvotorUserLinked
    taken = User.objects.filter(email=account.email)
    if account.phone:
        taken = taken | User.objects.filter(phone=account.phone)
    if taken.exists():
        raise AccountExists
    user = User.objects.create_user(
        account.email,
        password=None,  # unusable until the merchant sets one from the email
        first_name=account.first_name,
        last_name=account.last_name,
        phone=account.phone or None,
    )
    origin = audit.by_evotor(CREATE_PATH)
    audit.record("account.created", subject=user, obj=user, changes=audit.changes_between(
        {}, audit.snapshot(user, ["email", "first_name", "last_name", "phone"])), **origin)
    if connection is None:
        connection = EvotorConnection(evotor_user_id=evotor_user_id)
    before = evotor_snapshot(connection)
    connection.user = user
    connection.connection_type = EvotorConnection.Type.WEBHOOK
    token = connection.issue_webhook_token()
    connection.save()
    record_evotor_change(connection, "evotor.linked", before, **origin)
    return user, token, True


def _send_set_password_email(user: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    send_password_reset_email(user, uid, default_token_generator.make_token(user))
