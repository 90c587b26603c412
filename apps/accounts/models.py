"""The merchant (and staff) account: email is the login."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_TIME_ZONE = "Europe/Moscow"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


def normalize_email_address(email: str) -> str:
    # Logins are case-insensitive: "Ivan@Mail.ru" and "ivan@mail.ru" are one account. Storing the
    # lower-cased form keeps a plain unique index correct on SQLite and MariaDB alike.
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email_address(username or ""))

    def _create(self, email: str, password: str | None, **fields: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email_address(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("is_email_confirmed", True)
        if fields["is_staff"] is not True or fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Language(models.TextChoices):
        RUSSIAN = "ru", _("Russian")
        ENGLISH = "en", _("English")

    email = models.EmailField(_("email"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    # Normalised E.164 (+7XXXXXXXXXX for Russia). Null for staff accounts made without one, so the
    # unique index only binds real numbers.
    phone = models.CharField(_("phone"), max_length=16, unique=True, null=True, blank=True)
    is_email_confirmed = models.BooleanField(_("email confirmed"), default=False)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.RUSSIAN
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email_address(self.email)

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = normalize_email_address(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_merchant(self) -> bool:
        """Staff accounts operate EvoSync; they are never synced as merchants."""
        return self.is_active and not self.is_staff


class AuditEntry(models.Model):
    """Who changed what, when and from where (apps/accounts/audit.py records them).

    Secrets never reach a row: their changes are stored as "replaced". The merchant link is
    nulled, not cascaded, when an account is deleted, so the deletion itself stays on record
    (``subject_email`` keeps whose it was); entries are pruned after AUDIT_RETENTION_DAYS.
    """

    class ActorKind(models.TextChoices):
        MERCHANT = "merchant", _("merchant")
        STAFF = "staff", _("staff")
        EVOTOR = "evotor", _("Evotor")
        SYSTEM = "system", _("system")

    class Source(models.TextChoices):
        PAGE = "page", _("web page")
        ADMIN = "admin", _("admin")
        WEBHOOK = "webhook", _("webhook")
        COMMAND = "command", _("command")
        TASK = "task", _("background task")

    subject = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="audit_entries", verbose_name=_("merchant"),
    )
    subject_email = models.CharField(_("merchant email"), max_length=254, blank=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("changed by"),
    )
    actor_kind = models.CharField(_("who"), max_length=16, choices=ActorKind.choices)
    source = models.CharField(_("from"), max_length=16, choices=Source.choices)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    # [{"field": name, "old": value, "new": value}], secrets as "replaced".
    changes = models.JSONField(_("changes"), default=list, blank=True)
    path = models.CharField(_("page or command"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}".strip()
